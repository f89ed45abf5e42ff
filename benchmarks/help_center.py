"""Help center speed: the public help center's calls on N knowledge articles of the after-sales
package, each beside a baseline measured in the same run: the bare query of the newest 20 shown
articles' ids from the projection table (what any list of the page costs at least).

Articles are written through the records service (so their search rows are written as in
production), 80% published, with titles, symptoms and solutions drawn from a small after-sales
vocabulary — its words are common on purpose, the unkind case for a word index. Each call is
timed as the web API makes it (its own read-only unit of work); medians of ``--repeat`` runs.

SQLite always; PostgreSQL too when ``--pg URL`` names a reachable database (its ``public``
schema is rebuilt: use a database of its own).

    .venv/bin/python benchmarks/help_center.py [--n 2000] [--repeat 15] [--pg URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import emptied
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.public import help as centers
from tangram.platform.records import projections, service

SYSTEM = Actor.system("bench")
PACKAGE = Path(__file__).resolve().parents[1] / "apps" / "aftersales"
APP, FORM = "aftersales", "knowledge_article"
WORDS = [
    "设备",
    "开机",
    "无响应",
    "噪音",
    "漏水",
    "固件",
    "升级",
    "失败",
    "联网",
    "网络",
    "安装",
    "发票",
    "报警",
    "指示灯",
    "同步",
    "延迟",
    "配件",
    "缺失",
    "电源",
    "风扇",
    "轴承",
    "温度",
    "压力",
    "密封圈",
    "传感器",
    "屏幕",
    "黑屏",
    "重启",
    "死机",
    "卡顿",
]
TYPED = "客户反映设备开机后黑屏，重启以后仍然死机，风扇噪音很大"


def write(platform: Platform, n: int) -> float:
    rng = random.Random(1)
    started = time.perf_counter()
    for start in range(0, n, 200):
        with platform.unit_of_work() as uow:
            for i in range(start, min(n, start + 200)):
                service.create_record(
                    uow,
                    SYSTEM,
                    APP,
                    FORM,
                    {
                        "title": "".join(rng.sample(WORDS, 3)) + f"处理方法{i}",
                        "symptoms": "，".join(rng.sample(WORDS, 6)),
                        "solution": "<p>" + "，".join(rng.sample(WORDS, 12)) + "</p>",
                        "product_line": rng.choice("ABCDE"),
                        "issue_type": rng.choice(
                            ["hardware_fault", "software_bug", "installation"]
                        ),
                        "status": "published" if rng.random() < 0.8 else "draft",
                    },
                )
            uow.commit()
    return time.perf_counter() - started


def median_ms(platform: Platform, call: Callable[[UnitOfWork], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with platform.unit_of_work(write=False) as uow:
            call(uow)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def baseline(uow: UnitOfWork) -> list[int]:
    c = centers.center(uow, APP, FORM)
    main = projections.ready(uow, c.app.id, FORM, c.form).main
    return list(
        uow.session.scalars(
            select(main.c._id)
            .where(main.c._deleted_at.is_(None), main.c.status == "published")
            .order_by(main.c._updated_at.desc(), main.c._id.desc())
            .limit(20)
        )
    )


def run(url: str, instance: Path, n: int, repeat: int) -> None:
    platform = Platform.from_settings(
        Settings(
            database_url=url,
            instance_path=instance,
            secret_key="bench",  # noqa: S106 - a throwaway database
            embedded_worker=False,
        )
    )
    try:
        migrate.upgrade(platform.engine)
        with platform.unit_of_work() as uow:
            packages.install(uow, SYSTEM, packages.read(PACKAGE))
            uow.commit()
        seconds = write(platform, n)
        name = platform.engine.dialect.name
        print(f"\n{name}: {n} articles written through the service in {seconds:.1f} s")
        base = median_ms(platform, baseline, repeat)
        calls: list[tuple[str, Callable[[UnitOfWork], Any]]] = [
            ("centers (facets, counts)", lambda u: centers.centers(u, APP, lang="zh-CN")),
            ("articles, newest", lambda u: centers.articles(u, APP, FORM, lang="zh-CN")),
            (
                "articles q=黑屏",
                lambda u: centers.articles(u, APP, FORM, query="黑屏", lang="zh-CN"),
            ),
            (
                "articles q=设备 漏水, line A",
                lambda u: centers.articles(
                    u, APP, FORM, query="设备 漏水", facets={"product_line": "A"}, lang="zh-CN"
                ),
            ),
            (
                "suggestions (12 words)",
                lambda u: centers.suggestions(u, APP, FORM, TYPED, lang="zh-CN"),
            ),
            ("one article", lambda u: centers.article(u, APP, FORM, 5, lang="zh-CN")),
        ]
        print(f"{'call':<30} {'median ms':>10} {'/ baseline':>11}")
        print(f"{'baseline: newest 20 ids':<30} {base:>10.1f} {1:>10.1f}x")
        for label, call in calls:
            took = median_ms(platform, call, repeat)
            print(f"{label:<30} {took:>10.1f} {took / base:>10.1f}x")
    finally:
        platform.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pg", help="a PostgreSQL URL of a database of its own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args.n, args.repeat)
        if args.pg:
            emptied(args.pg)
            run(args.pg, Path(tmp), args.n, args.repeat)


if __name__ == "__main__":
    main()
