"""Search speed: the list's search box through the full-text index beside the ILIKE scan it
replaced, on N demo-like tickets, in the same run.

A ticket form (number, title, rich-text description, issue type, contact, a measures sub-table)
gets N tickets written through the records service (so their search rows are written as in
production), with titles and descriptions drawn from after-sales phrases. Each query is then run
as a viewer's list page with ``count=true`` twice: by ``_q`` (the index: every word, as a
prefix, in a field the viewer reads) and by the former condition (the words as one substring,
ILIKE over every text column), best of ``--repeat`` runs each; the counts of both are printed
too (they differ where a substring is not a word, or words are not adjacent).

SQLite always; PostgreSQL too when ``--pg URL`` names a reachable server (the run works in a
schema of its own, ``bench_search``, and drops it afterwards).

    .venv/bin/python benchmarks/search.py [--n 5000] [--repeat 5] [--pg URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, create_engine, or_, text

from tangram.config import Settings
from tangram.engines.forms import ColumnKind
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.records import search
from tangram.platform.records.listing import Filter

SYSTEM = Actor.system("bench")
SUBJECTS = ["设备", "主机", "显示器", "打印机", "空调", "路由器", "服务器", "扫描仪", "投影仪"]
FAULTS = [
    "开机后屏幕黑屏",
    "按电源键无响应",
    "运行时风扇噪音很大",
    "打印时卡纸",
    "制冷效果差",
    "网络频繁中断",
    "系统升级后无法登录",
    "外壳破损漏水",
    "自检报错代码 E203",
    "遥控器失灵",
]
ASIDES = [
    "客户要求尽快上门维修",
    "已远程指导重启，问题依旧",
    "用户反馈上周已出现过一次",
    "保修期内，需更换配件",
    "现场工程师已确认故障",
    "Customer asked for a callback",
]
#: Common words (a third of the tickets hold each), then rare ones (a model code one ticket in
#: a thousand holds, a customer's name, one ticket's whole number and its sequence part).
QUERIES = [
    "黑屏",
    "无响应 黑屏",
    "风扇噪音",
    "上门维修",
    "E203",
    "callback",
    "漏水 打印机",
    "XR-7731",
    "欧阳娜娜",
    "SV-*-00042",
    "00042",
]


def field(key: str, type_: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key}, **more}


TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "售后工单"},
    "options": {"title_field": "title"},
    "fields": [
        field("number", "serial", serial="SV-{date:%Y%m%d}-{seq:5}"),
        field("title", "text"),
        field("description", "rich_text"),
        field(
            "issue",
            "select",
            options=[
                {"value": "hardware", "label": {"zh-CN": "硬件故障", "en": "Hardware fault"}},
                {"value": "software", "label": {"zh-CN": "软件缺陷", "en": "Software bug"}},
            ],
        ),
        field("contact", "text"),
        field("measures", "sub_table", fields=[field("what", "text")]),
    ],
}


def ticket(rng: random.Random) -> dict[str, Any]:
    subject, fault = rng.choice(SUBJECTS), rng.choice(FAULTS)
    body = "".join(
        f"<p>{rng.choice(SUBJECTS)}{rng.choice(FAULTS)}，{rng.choice(ASIDES)}。</p>"
        for _ in range(rng.randint(1, 4))
    )
    if rng.random() < 0.001:
        body += "<p>型号 XR-7731 批次问题</p>"
    return {
        "title": f"{subject}{fault}",
        "description": body,
        "issue": rng.choice(["hardware", "software"]),
        "contact": "欧阳娜娜"
        if rng.random() < 0.001
        else rng.choice(["张伟", "李娜", "王芳", "Chen Jie"]),
        "measures": [{"what": rng.choice(ASIDES)} for _ in range(rng.randint(0, 2))],
    }


@contextmanager
def sqlite_platform() -> Iterator[Platform]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            instance_path=Path(tmp),
            secret_key="bench",  # noqa: S106 - a throwaway database
            embedded_worker=False,
        )
        yield from _platform(settings)


@contextmanager
def pg_platform(url: str) -> Iterator[Platform]:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS bench_search CASCADE"))
        connection.execute(text("CREATE SCHEMA bench_search"))
    joiner = "&" if "?" in url else "?"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                database_url=f"{url}{joiner}options=-csearch_path%3Dbench_search",
                instance_path=Path(tmp),
                secret_key="bench",  # noqa: S106 - a throwaway schema
                embedded_worker=False,
            )
            yield from _platform(settings)
    finally:
        with admin.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS bench_search CASCADE"))
        admin.dispose()


def _platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform.from_settings(settings)
    migrate.upgrade(platform.engine)
    try:
        yield platform
    finally:
        platform.dispose()


def load(platform: Platform, n: int) -> float:
    """Write ``n`` tickets through the records service; the seconds it took."""
    rng = random.Random(25)
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, SYSTEM, key="bench", name={"zh-CN": "基准"})
        metadata.create_definition(uow, SYSTEM, "bench", "form", TICKET)
        metadata.publish(uow, SYSTEM, "bench", "form", "ticket")
        uow.commit()
    started = time.perf_counter()
    for start in range(0, n, 500):
        with platform.unit_of_work() as uow:
            for _ in range(min(500, n - start)):
                records.create_record(uow, SYSTEM, "bench", "ticket", ticket(rng))
            uow.commit()
    seconds = time.perf_counter() - started
    with platform.engine.begin() as connection:  # what autovacuum (or a DBA) does after a load
        connection.exec_driver_sql("ANALYZE")
    return seconds


def best(repeat: int, work: Callable[[], int]) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = work()
        times.append(time.perf_counter() - started)
    return min(times), found


def run(platform: Platform, label: str, n: int, repeat: int) -> None:
    seconds = load(platform, n)
    with platform.unit_of_work(write=False) as uow:
        form = records.list_records(uow, SYSTEM, "bench", "ticket", limit=1).form
    texts = [c.key for c in form.projection.columns if c.kind is ColumnKind.TEXT]
    print(f"\n{label}: {n} tickets written in {seconds:.1f} s ({n / seconds:.0f}/s)")
    print(f"{'query':<14}{'index ms':>10}{'found':>7}{'ILIKE ms':>10}{'found':>7}{'ratio':>8}")

    def by_index(words: str) -> int:
        with platform.unit_of_work(write=False) as uow:
            page = records.list_records(
                uow, SYSTEM, "bench", "ticket", filters=[Filter("_q", "eq", words)], count=True
            )
            return page.total or 0

    def by_scan(words: str) -> int:
        def within(main: Table) -> ColumnElement[bool]:  # the former _q: one substring
            return or_(*(main.c[k].icontains(words, autoescape=True) for k in texts))

        with platform.unit_of_work(write=False) as uow:
            page = records.list_records(uow, SYSTEM, "bench", "ticket", within=within, count=True)
            return page.total or 0

    search.segmenter()  # the dictionary's load is not a query's
    with platform.unit_of_work(write=False) as uow:
        page = records.list_records(uow, SYSTEM, "bench", "ticket", sort=[], limit=1)
        number = str(page.items[0].data["number"]) if page.items else "SV-0-00042"
    prefix = number.rsplit("-", 1)[0]
    for words in (q.replace("SV-*", prefix) for q in QUERIES):
        fast, hits = best(repeat, lambda w=words: by_index(w))
        slow, scanned = best(repeat, lambda w=words: by_scan(w))
        print(
            f"{words:<14}{fast * 1000:>10.1f}{hits:>7}{slow * 1000:>10.1f}{scanned:>7}"
            f"{slow / fast:>7.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", help="a PostgreSQL URL (postgresql+psycopg://...)")
    args = parser.parse_args()
    with sqlite_platform() as platform:
        run(platform, "SQLite", args.n, args.repeat)
    if args.pg:
        with pg_platform(args.pg) as platform:
            run(platform, "PostgreSQL", args.n, args.repeat)


if __name__ == "__main__":
    main()
