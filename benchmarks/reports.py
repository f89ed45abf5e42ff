"""Report speed: the after-sales cockpit on N tickets, beside hand-written SQL, in the same run.

The platform publishes a ticket form, eight KPIs (open, overdue, first response median, MTTR, FCR,
CSAT, escalation rate, SLA compliance), five reports (issue-type distribution, weekly trend, MTTR
by product line, Pareto by model, SLA compliance by group) and the cockpit dashboard over them,
with a "last 365 days" date range. N generated tickets (two years of them, two models holding over
40% of the problems) are written to the platform's documents and projection table, and the same
values to a plain table with real typed columns and the indexes a DBA would add.

Each widget is measured through the platform (compiled dataset, viewer's scope, dashboard filters;
the result cache emptied before every run) and by hand-written SQL over the plain table, best of
``--repeat`` runs; the numbers of both must be equal. Then the whole cockpit. SQLite always;
PostgreSQL too when ``--pg`` (or ``TANGRAM_TEST_DATABASE_URL``) names a reachable server — the
run works in a schema of its own and drops it afterwards.

    .venv/bin/python benchmarks/reports.py [--n 1000000] [--repeat 3] [--pg URL] [--no-pg] [--no-sqlite]

Targets (issue): each widget within 1.5x of the hand-written SQL; one widget <= 200 ms on SQLite
and <= 120 ms on PostgreSQL at 1M tickets; the whole cockpit under 1 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import temporary_platform
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import Connection

from tangram.config import Settings
from tangram.engines.reports import Period, resolve_period
from tangram.platform import metadata, records, reports
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record
from tangram.platform.kernel.models.base import UTCDateTime
from tangram.platform.records import projections
from tangram.platform.reports import dashboards, kpis
from tangram.platform.worker import Worker

SYSTEM = Actor.system("bench")
ZONE = "Asia/Shanghai"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PERIOD = "last_365_days"
CHUNK = 20_000
OPEN = ["new", "assigned", "in_progress", "waiting"]
STATUSES = [*OPEN, "resolved", "closed"]
STATUS_WEIGHTS = [5, 8, 10, 2, 5, 70]
ISSUES = ["hardware_fault", "software_bug", "installation", "usage", "logistics", "complaint"]
LINES = ["A", "B", "C", "D", "E"]
MODELS = [f"M{i:02d}" for i in range(40)]
GROUPS = ["north", "south", "east", "west", "central", "vip_desk", "field", "remote"]


def text_of(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def select(key: str, values: list[str]) -> dict[str, Any]:
    return {
        "key": key,
        "type": "select",
        "label": text_of(key, key),
        "indexed": True,
        "options": [{"value": v, "label": text_of(v, v)} for v in values],
    }


def plain(key: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": text_of(key, key), **more}


TICKET = {
    "key": "ticket",
    "label": text_of("工单", "Ticket"),
    "fields": [
        select("issue_type", ISSUES),
        select("product_line", LINES),
        select("product_model", MODELS),
        select("status", STATUSES),
        select("assigned_group", GROUPS),
        plain("first_response_at", "datetime"),
        plain("resolved_at", "datetime", indexed=True),
        plain("reopen_count", "integer"),
        plain("escalation_level", "integer"),
        plain("sla_breached", "checkbox"),
        plain("csat", "integer", min=1, max=5),
    ],
}


def kpi(key: str, measure: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"key": key, "label": text_of(key, key), "form": "ticket", "measure": measure, **more}


IS_OPEN = {"in": [{"var": "status"}, OPEN]}
RESOLVED = {"!!": {"var": "resolved_at"}}
KPIS = [
    kpi("open_tickets", {"type": "count"}, filter=IS_OPEN, decimals=0, direction="lower"),
    kpi(
        "overdue",
        {"type": "count"},
        filter={"and": [IS_OPEN, {"==": [{"var": "sla_breached"}, True]}]},
        decimals=0,
        direction="lower",
    ),
    kpi(
        "frt",
        {
            "type": "duration",
            "from": "_created_at",
            "to": "first_response_at",
            "unit": "minutes",
            "aggregate": "median",
        },
        direction="lower",
        unit="min",
    ),
    kpi(
        "mttr",
        {"type": "duration", "from": "_created_at", "to": "resolved_at", "unit": "hours"},
        filter=RESOLVED,
        period_field="resolved_at",
        direction="lower",
        unit="h",
    ),
    kpi(
        "fcr",
        {
            "type": "ratio",
            "numerator": {"==": [{"var": "reopen_count"}, 0]},
            "denominator": {"==": [{"var": "status"}, "closed"]},
        },
        unit="%",
    ),
    kpi(
        "csat",
        {
            "type": "ratio",
            "numerator": {">=": [{"var": "csat"}, 4]},
            "denominator": {"!!": {"var": "csat"}},
        },
        unit="%",
    ),
    kpi(
        "escalation_rate",
        {"type": "ratio", "numerator": {">": [{"var": "escalation_level"}, 0]}},
        direction="lower",
        unit="%",
    ),
    kpi(
        "sla_compliance",
        {
            "type": "ratio",
            "numerator": {"==": [{"var": "sla_breached"}, False]},
            "denominator": RESOLVED,
        },
        period_field="resolved_at",
        unit="%",
    ),
]


def report(key: str, dimension: dict[str, Any], measure: dict[str, Any], **widget: Any) -> dict:
    return {
        "key": key,
        "label": text_of(key, key),
        "dataset": {"form": "ticket", "dimensions": [dimension], "measures": [measure]},
        "widget": widget,
    }


COUNT = {"key": "tickets", "type": "count"}
REPORTS = [
    report("by_issue_type", {"key": "issue", "field": "issue_type"}, COUNT, type="pie"),
    report("weekly", {"key": "week", "field": "_created_at", "bucket": "week"}, COUNT, type="line"),
    report(
        "mttr_by_line",
        {"key": "line", "field": "product_line"},
        {"key": "mttr", "type": "kpi", "kpi": "mttr"},
        type="bar",
    ),
    report(
        "pareto_model",
        {"key": "model", "field": "product_model"},
        COUNT,
        type="pareto",
        x="model",
        y="tickets",
        top=10,
    ),
    report(
        "sla_by_group",
        {"key": "group", "field": "assigned_group"},
        {"key": "sla", "type": "kpi", "kpi": "sla_compliance"},
        type="bar",
    ),
]
COCKPIT = {
    "key": "cockpit",
    "label": text_of("售后问题分析驾驶舱", "After-sales cockpit"),
    "filters": [
        {"key": "period", "type": "date_range", "field": "_created_at", "default": PERIOD},
        {"key": "line", "type": "select", "field": "product_line"},
    ],
    "widgets": [{"id": k["key"], "kpi": k["key"]} for k in KPIS]
    + [{"id": r["key"], "report": r["key"]} for r in REPORTS],
}


# --- data -----------------------------------------------------------------------------------


def tickets(n: int) -> Iterator[dict[str, Any]]:
    """N tickets over the two years before NOW; two models hold over 40% of the problems."""
    rng = random.Random(7)
    weights = [18, 16] + [66 / 38] * 38
    span = 730 * 86400
    for _ in range(n):
        created = NOW - timedelta(seconds=rng.random() * span)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        first = None
        if status != "new":
            first = created + timedelta(minutes=rng.expovariate(1 / 45))
        resolved = None
        if status in ("resolved", "closed"):
            resolved = created + timedelta(hours=rng.lognormvariate(2.5, 0.9))
            if resolved > NOW:
                resolved = None
                status = "in_progress"
        csat = (
            rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
            if status == "closed" and rng.random() < 0.6
            else None
        )
        yield {
            "_created_at": created,
            "issue_type": rng.choice(ISSUES),
            "product_line": rng.choice(LINES),
            "product_model": rng.choices(MODELS, weights)[0],
            "status": status,
            "assigned_group": rng.choice(GROUPS),
            "first_response_at": first,
            "resolved_at": resolved,
            "reopen_count": rng.choices([0, 1, 2], [85, 12, 3])[0],
            "escalation_level": rng.choices([0, 1, 2], [80, 15, 5])[0],
            "sla_breached": rng.random() < 0.15,
            "csat": csat,
        }


FIELDS = [f["key"] for f in TICKET["fields"]]
NEW_TICKET = {
    "issue_type": "usage",
    "product_line": "A",
    "product_model": "M01",
    "status": "new",
    "assigned_group": "north",
}


def plain_table() -> Table:
    """The baseline: one typed table, no documents, the indexes a DBA would add."""
    from sqlalchemy import Index

    meta = MetaData()
    t = Table(
        "bench_tickets",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("issue_type", String(64)),
        Column("product_line", String(64)),
        Column("product_model", String(64)),
        Column("status", String(64)),
        Column("assigned_group", String(64)),
        Column("first_response_at", UTCDateTime()),
        Column("resolved_at", UTCDateTime()),
        Column("reopen_count", Integer),
        Column("escalation_level", Integer),
        Column("sla_breached", Boolean),
        Column("csat", Integer),
    )
    for name in (
        "created_at",
        "resolved_at",
        "status",
        "issue_type",
        "product_line",
        "product_model",
        "assigned_group",
    ):
        Index(f"ix_bench_{name}", t.c[name])
    return t


def load(platform: Platform, n: int) -> Table:
    """Publish the definitions, then write N tickets to the platform and to the plain table."""
    with platform.unit_of_work() as uow:
        app = metadata.create_app(uow, SYSTEM, key="bench", name=text_of("基准", "Bench"))
        for kind, bodies in (
            ("form", [TICKET]),
            ("kpi", KPIS),
            ("report", REPORTS),
            ("dashboard", [COCKPIT]),
        ):
            for body in bodies:
                metadata.create_definition(uow, SYSTEM, "bench", kind, body)
                metadata.publish(uow, SYSTEM, "bench", kind, body["key"])
        uow.commit()
        app_id = app.id
    with platform.unit_of_work(write=False) as uow:
        from tangram.platform.metadata import compiled

        version, form = compiled.form(uow, "bench", "ticket")
        t = projections.ready(uow, app_id, "ticket", form)
    baseline = plain_table()
    baseline.metadata.create_all(platform.engine)
    started = time.perf_counter()
    rows = tickets(n)
    written = 0
    while written < n:
        batch = [next(rows) for _ in range(min(CHUNK, n - written))]
        documents, projected, flat = [], [], []
        for i, row in enumerate(batch, written + 1):
            created = row["_created_at"]
            data = {
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in row.items()
                if k != "_created_at" and v is not None
            }
            documents.append(
                {
                    "id": i,
                    "app_id": app_id,
                    "form_key": "ticket",
                    "form_version": version,
                    "data": data,
                    "created_at": created,
                    "updated_at": created,
                    "lock_version": 1,
                }
            )
            projected.append(
                {
                    "_id": i,
                    "_form_version": version,
                    "_owner": None,
                    "_group": None,
                    "_created_at": created,
                    "_updated_at": created,
                    "_deleted_at": None,
                    **form.projection.row(data),
                }
            )
            flat.append({"id": i, "created_at": created, **{k: row[k] for k in FIELDS}})
        with platform.engine.begin() as connection:
            connection.execute(insert(Record.__table__), documents)
            connection.execute(insert(t.main), projected)
            connection.execute(insert(baseline), flat)
        written += len(batch)
        rate = written / (time.perf_counter() - started)
        print(f"\r  {written:>9,} / {n:,} tickets written ({rate:,.0f}/s)", end="", flush=True)
    print()
    with platform.engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # the ids were given: move the sequence on
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('records', 'id'), :n)"), {"n": n}
            )
        connection.execute(text("ANALYZE"))
    return baseline


# --- hand-written SQL -------------------------------------------------------------------------


def handwritten(dialect: str, current: Period, previous: Period) -> dict[str, tuple[str, dict]]:
    """The same numbers as a DBA would query them from the plain table."""
    pg = dialect == "postgresql"

    def secs(a: str, b: str) -> str:
        if pg:
            return f"EXTRACT(EPOCH FROM ({b} - {a}))"
        return f"round((julianday({b}) - julianday({a})) * 86400.0, 3)"

    def ts(value: datetime) -> Any:
        return value if pg else value.astimezone(UTC).replace(tzinfo=None)

    span = {
        "cs": ts(current.start),
        "ce": ts(current.end),
        "ps": ts(previous.start),
        "pe": ts(previous.end),
    }
    open_list = ", ".join(f"'{s}'" for s in OPEN)
    cur_created = "created_at >= :cs AND created_at < :ce"

    def card(agg: Callable[[str], str], condition: str = "1 = 1", field: str = "created_at") -> str:
        now_in = f"{field} >= :cs AND {field} < :ce"
        before = f"{field} >= :ps AND {field} < :pe"
        return (
            f"SELECT {agg(now_in)}, {agg(before)} FROM bench_tickets "
            f"WHERE ({condition}) AND (({now_in}) OR ({before}))"
        )

    def count(within: str) -> str:
        return f"count(CASE WHEN {within} THEN 1 END)"

    def ratio(top: str, bottom: str = "1 = 1") -> Callable[[str], str]:
        return lambda within: (
            f"CAST(sum(CASE WHEN {within} AND ({top}) AND ({bottom}) THEN 1 ELSE 0 END) AS REAL)"
            f" * 100.0 / nullif(sum(CASE WHEN {within} AND ({bottom}) THEN 1 ELSE 0 END), 0)"
        )

    def frt(within: str) -> str:
        minutes = secs("created_at", "first_response_at") + " / 60"
        if pg:
            return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN {within} THEN {minutes} END)"
        # SQLite has no median: rank the values with window functions
        return (
            "(SELECT avg(v) FROM (SELECT v, row_number() OVER (ORDER BY v) AS r, count(*) OVER () AS c"
            f" FROM (SELECT {minutes} AS v FROM bench_tickets WHERE {within}"
            " AND first_response_at IS NOT NULL)) WHERE r IN ((c + 1) / 2, (c + 2) / 2))"
        )

    mttr_hours = secs("created_at", "resolved_at") + " / 3600"
    bool_true = "true" if pg else "1"
    bool_false = "false" if pg else "0"
    if pg:
        week = "to_char(date_trunc('week', timezone('Asia/Shanghai', created_at)), 'YYYY-MM-DD')"
    else:
        week = "date(created_at, '+480 minutes', '-6 days', 'weekday 1')"
    frt_card = (
        f"SELECT {frt('created_at >= :cs AND created_at < :ce')},"
        f" {frt('created_at >= :ps AND created_at < :pe')}"
        + ("" if not pg else " FROM bench_tickets WHERE (created_at >= :ps AND created_at < :ce)")
    )
    return {
        "open_tickets": (card(count, f"status IN ({open_list})"), span),
        "overdue": (
            card(count, f"status IN ({open_list}) AND sla_breached = {bool_true}"),
            span,
        ),
        "frt": (frt_card, span),
        "mttr": (
            card(
                lambda w: f"CAST(avg(CASE WHEN {w} THEN {mttr_hours} END) AS REAL)",
                "resolved_at IS NOT NULL",
                "resolved_at",
            ),
            span,
        ),
        "fcr": (card(ratio("reopen_count = 0", "status = 'closed'")), span),
        "csat": (card(ratio("csat >= 4", "csat IS NOT NULL")), span),
        "escalation_rate": (card(ratio("escalation_level > 0")), span),
        "sla_compliance": (
            card(
                ratio(f"sla_breached = {bool_false}", "resolved_at IS NOT NULL"),
                field="resolved_at",
            ),
            span,
        ),
        "by_issue_type": (
            f"SELECT issue_type, count(*) FROM bench_tickets WHERE {cur_created}"
            " GROUP BY issue_type ORDER BY issue_type",
            span,
        ),
        "weekly": (
            f"SELECT {week} AS w, count(*) FROM bench_tickets WHERE {cur_created}"
            " GROUP BY w ORDER BY w",
            span,
        ),
        "mttr_by_line": (
            f"SELECT product_line, CAST(avg(CASE WHEN resolved_at IS NOT NULL THEN {mttr_hours} END)"
            f" AS REAL) FROM bench_tickets WHERE {cur_created}"
            " GROUP BY product_line ORDER BY product_line",
            span,
        ),
        "pareto_model": (
            f"SELECT product_model, count(*) AS n FROM bench_tickets WHERE {cur_created}"
            " GROUP BY product_model ORDER BY n DESC, product_model",
            span,
        ),
        "sla_by_group": (
            "SELECT assigned_group, CAST(sum(CASE WHEN resolved_at IS NOT NULL AND"
            f" sla_breached = {bool_false} THEN 1 ELSE 0 END) AS REAL) * 100.0 /"
            " nullif(sum(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END), 0)"
            f" FROM bench_tickets WHERE {cur_created}"
            " GROUP BY assigned_group ORDER BY assigned_group",
            span,
        ),
    }


# --- measuring ------------------------------------------------------------------------------


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs, in milliseconds, and the last value."""
    times = []
    value = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = work()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)
    return a == b


def numbers(widget: str, data: dict[str, Any]) -> Any:
    """The platform's numbers in the hand-written queries' shape."""
    if "value" in data:  # a KPI card
        return [data["value"], data["previous"]]
    rows = data["rows"]
    if widget == "pareto_model":
        return [r[:2] for r in rows[:-1]]  # the top ten (the baseline's first ten rows)
    return [list(r) for r in rows]


def measure(
    platform: Platform, baseline_conn: Callable[[], AbstractContextManager[Connection]], repeat: int
) -> list[str]:
    zone = ZoneInfo(ZONE)
    current = resolve_period(PERIOD, now=NOW, zone=zone)
    queries = handwritten(platform.engine.dialect.name, current, current.previous)
    lines = []
    failures = []

    def fresh(uow: Any) -> None:
        uow.caches.report_results.clear()

    def as_the_api(uow: Any) -> dict[str, Any]:
        """The whole cockpit as the API computes it (queries four at a time)."""
        return dashboards.run_dashboard(
            uow,
            SYSTEM,
            "bench",
            "cockpit",
            open_unit=lambda: platform.unit_of_work(write=False),
        )

    with platform.unit_of_work(write=False) as uow:
        started = time.perf_counter()
        as_the_api(uow)  # answered by the queries; asks the worker for the rollups
        first_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    summary = Worker(platform, name="bench").run_due()
    lines.append(
        f"  first cockpit {first_ms:.0f} ms (by the queries, four at a time); then the worker"
        f" built {summary.done} rollups in {time.perf_counter() - started:.1f} s (once:"
        " record writes keep them current)"
    )
    with platform.unit_of_work(write=False) as uow:  # a unit that sees the rollups built
        applied = dashboards._applied(COCKPIT, {}, uow, zone)
        for widget in COCKPIT["widgets"]:
            key = widget["id"]

            def ours(widget: dict[str, Any] = widget, key: str = key) -> Any:
                fresh(uow)
                if "kpi" in widget:
                    return kpi_raw(uow, key, applied)
                return reports.run(
                    uow,
                    SYSTEM,
                    "bench",
                    key,
                    extra=applied.conditions,
                    sliced=applied.sliced,
                ).as_dict()

            sql, params = queries[key]

            def theirs(sql: str = sql, params: dict[str, Any] = params) -> Any:
                with baseline_conn() as connection:
                    return [list(r) for r in connection.execute(text(sql), params)]

            mine_ms, mine = best(repeat, ours)
            base_ms, base = best(repeat, theirs)
            got = numbers(key, mine)
            expected = base[0] if "kpi" in widget else base
            if "kpi" in widget:  # the card rounds to the KPI's decimals
                decimals = next(k for k in KPIS if k["key"] == key).get("decimals", 1)
                expected = [None if v is None else round(float(v), decimals) for v in expected]
            if key == "pareto_model":
                expected = expected[:10]
            ok = same(got, expected)
            if not ok:
                failures.append(f"{key}: platform {got!r:.200} != hand-written {expected!r:.200}")
            lines.append(
                f"  {key:<16} {mine_ms:>9.1f} {base_ms:>9.1f} {mine_ms / base_ms:>7.2f}x"
                f"  {'equal' if ok else 'DIFFERENT':<9} {'rollup' if mine['rollup'] else 'query'}"
            )

        def whole() -> dict[str, Any]:
            fresh(uow)
            return dashboards.run_dashboard(uow, SYSTEM, "bench", "cockpit")

        whole_ms, board = best(repeat, whole)
        errors = [w["id"] for w in board["widgets"] if "error" in w]

        def parallel() -> dict[str, Any]:
            fresh(uow)
            return as_the_api(uow)

        parallel_ms, _ = best(repeat, parallel)

        def cold() -> dict[str, Any]:  # as a process that just started: no month merged yet
            platform.caches.rollup_months.clear()
            return parallel()

        cold_ms, _ = best(repeat, cold)
        cached_ms, _ = best(
            repeat,
            lambda: dashboards.run_dashboard(uow, SYSTEM, "bench", "cockpit"),
        )
    # a ticket written through the records service: the cache is stale and today's rollup days
    # are computed again on the next read
    after_write = []
    for _ in range(repeat):
        with platform.unit_of_work() as writer:
            records.create_record(writer, SYSTEM, "bench", "ticket", NEW_TICKET)
            writer.commit()
        with platform.unit_of_work(write=False) as uow:
            started = time.perf_counter()
            as_the_api(uow)
            after_write.append((time.perf_counter() - started) * 1000)
    lines.append(
        f"  whole cockpit    {whole_ms:>9.1f} ms ({len(board['widgets'])} widgets one after the"
        f" other{', errors: ' + ', '.join(errors) if errors else ''}); {parallel_ms:.1f} ms four at"
        f" a time (as the API runs it); from the cache {cached_ms:.1f} ms"
    )
    lines.append(
        f"  whole cockpit in a new process (the months of the rollups merged again) {cold_ms:.1f}"
        " ms, four at a time"
    )
    lines.append(
        f"  whole cockpit after a ticket write {min(after_write):.1f} ms, four at a time"
        " (the cache is stale; the rollups compute the day written again)"
    )
    lines += [f"  MISMATCH {f}" for f in failures]
    return lines


def kpi_raw(uow: Any, key: str, applied: dashboards.Applied) -> dict[str, Any]:
    """A KPI card as the cockpit shows it."""
    return kpis.kpi_card(
        uow,
        SYSTEM,
        "bench",
        key,
        period=applied.period or resolve_period(PERIOD, now=NOW, zone=ZoneInfo(ZONE)),
        extra=applied.conditions,
        sliced=applied.sliced,
    )


def run_on(label: str, platform: Platform, n: int, repeat: int) -> None:
    print(f"\n{label}: generating {n:,} tickets")
    load(platform, n)

    @contextmanager
    def connect() -> Iterator[Connection]:
        with platform.engine.connect() as connection:
            yield connection

    print(
        f"  {'widget':<16} {'platform':>9} {'hand SQL':>9} {'ratio':>8}"
        f"   {'numbers':<9} source (ms, best of {repeat})"
    )
    for line in measure(platform, connect, repeat):
        print(line)


@contextmanager
def postgres_platform(url: str) -> Iterator[Platform]:
    schema = f"tangram_bench_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in url else "?"
    settings = Settings(
        database_url=f"{url}{joiner}options=-csearch_path%3D{schema}",
        secret_key="bench",  # noqa: S106 - a throwaway schema
        embedded_worker=False,
        time_zone=ZONE,
    )
    platform = Platform.from_settings(settings, clock=FrozenClock(NOW))
    try:
        migrate.upgrade(platform.engine)
        yield platform
    finally:
        platform.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("TANGRAM_TEST_DATABASE_URL"))
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    if not args.no_sqlite:
        with temporary_platform(clock=FrozenClock(NOW)) as platform:
            run_on("SQLite", platform, args.n, args.repeat)
    if args.pg and not args.no_pg:
        with postgres_platform(args.pg) as platform:
            run_on("PostgreSQL", platform, args.n, args.repeat)
    else:
        print(
            "\nPostgreSQL: skipped (no --pg URL and no TANGRAM_TEST_DATABASE_URL)", file=sys.stderr
        )


if __name__ == "__main__":
    main()
