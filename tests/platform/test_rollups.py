"""Rollups: reports and KPI cards from daily partial aggregates give the numbers their queries
give, stay current through every kind of record write, and step aside where they cannot."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import text as sql

from tangram.engines.reports import resolve_period
from tangram.platform import records, reports
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel.models import Record, Rollup, RollupDay, RollupMark
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records.listing import Filter
from tangram.platform.reports import dashboards, kpis, rollups
from tangram.platform.worker import Worker
from tests.conftest import START
from tests.platform.rules_fixtures import SYSTEM, World, build_world, field, options, text
from tests.platform.test_report_datasets import CASE, CUSTOMER, rows

ZONE = "Asia/Shanghai"


def report(key: str, dataset: dict[str, Any], widget: str = "table") -> dict[str, Any]:
    return {
        "key": key,
        "label": text(key),
        "dataset": {"form": "case", **dataset},
        "widget": {"type": widget},
    }


ADDITIVE = [
    {"key": "n", "type": "count"},
    {"key": "cost", "type": "sum", "field": "cost"},
    {"key": "avg_cost", "type": "avg", "field": "cost"},
    {"key": "low", "type": "min", "field": "score"},
    {"key": "high", "type": "max", "field": "cost"},
    {"key": "closed", "type": "count", "filter": {"==": [{"var": "status"}, "closed"]}},
    {
        "key": "closed_share",
        "type": "ratio",
        "numerator": {"==": [{"var": "status"}, "closed"]},
    },
    {"key": "nps", "type": "nps", "field": "score"},
    {
        "key": "ttr",
        "type": "duration",
        "from": "opened_at",
        "to": "resolved_at",
        "unit": "hours",
    },
    {
        "key": "ttr_sum",
        "type": "duration",
        "from": "opened_at",
        "to": "resolved_at",
        "unit": "minutes",
        "aggregate": "sum",
    },
    {"key": "per_case", "type": "calculated", "expression": {"/": [{"var": "cost"}, {"var": "n"}]}},
]
REPORTS = [
    report(
        "by_issue_week",
        {
            "dimensions": [
                {"key": "issue", "field": "issue"},
                {"key": "week", "field": "_created_at", "bucket": "week"},
            ],
            "measures": ADDITIVE,
        },
    ),
    report(
        "opened_months",
        {
            "filter": {"!=": [{"var": "line"}, "B"]},
            "dimensions": [
                {"key": "month", "field": "opened_at", "bucket": "month"},
                {"key": "quarter", "field": "day", "bucket": "quarter"},
                {"key": "year", "field": "_created_at", "bucket": "year"},
                {"key": "score", "field": "score"},
            ],
            "measures": [{"key": "n", "type": "count"}],
        },
    ),
    report(
        "parts",
        {
            "dimensions": [{"key": "part", "field": "parts.part"}],
            "measures": [
                {"key": "qty", "type": "sum", "field": "parts.qty"},
                {"key": "rows", "type": "count"},
            ],
        },
        "pareto",
    ),
    report(
        "days",
        {
            "dimensions": [{"key": "day", "field": "day", "bucket": "day"}],
            "measures": [{"key": "n", "type": "count"}],
        },
        "line",
    ),
    report(
        "medians",
        {
            "dimensions": [{"key": "issue", "field": "issue"}],
            "measures": [
                {"key": "m", "type": "median", "field": "cost"},
                {"key": "p90", "type": "percentile", "percent": 90, "field": "score"},
                {
                    "key": "ttr_p75",
                    "type": "duration",
                    "from": "opened_at",
                    "to": "resolved_at",
                    "unit": "minutes",
                    "aggregate": "percentile",
                    "percent": 75,
                },
            ],
        },
    ),
]
#: Reports a rollup cannot answer: a distinct count, a field of another form.
QUERIED = [
    report(
        "distinct",
        {"measures": [{"key": "lines", "type": "count_distinct", "field": "line"}]},
    ),
    report(
        "tiers",
        {
            "dimensions": [{"key": "tier", "field": "customer.tier"}],
            "measures": [{"key": "n", "type": "count"}],
        },
    ),
]
MTTR = {
    "key": "mttr",
    "label": text("mttr"),
    "form": "case",
    "filter": {"!!": {"var": "resolved_at"}},
    "measure": {"type": "duration", "from": "opened_at", "to": "resolved_at", "unit": "hours"},
    "period_field": "resolved_at",
}
OPEN = {
    "key": "open",
    "label": text("open"),
    "form": "case",
    "measure": {"type": "count", "filter": {"==": [{"var": "status"}, "open"]}},
    "decimals": 0,
}
BOARD = {
    "key": "board",
    "label": text("board"),
    "filters": [
        {"key": "period", "type": "date_range", "field": "opened_at", "default": "last_30_days"},
        {"key": "line", "type": "select", "field": "line"},
        {"key": "issue", "type": "select", "field": "issue"},
    ],
    "widgets": [{"id": "mttr", "kpi": "mttr"}, {"id": "open", "kpi": "open"}]
    + [{"id": r["key"], "report": r["key"]} for r in REPORTS + QUERIED],
}


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", CUSTOMER)
    w.publish("form", CASE)
    for body in REPORTS + QUERIED:
        w.publish("report", body)
    w.publish("kpi", MTTR)
    w.publish("kpi", OPEN)
    w.publish("dashboard", BOARD)
    vip = w.create({"name": "Acme", "tier": "vip"}, form="customer")
    for i, data in enumerate(rows()):
        platform.clock.advance(timedelta(hours=17))  # type: ignore[attr-defined]
        w.create({**data, "customer": vip.id if i % 2 else None}, form="case")
    return w


@contextmanager
def unit(world: World, *, on: bool = True, zone: str = ZONE) -> Iterator[UnitOfWork]:
    settings = world.platform.settings
    world.platform.settings = replace(settings, report_rollups=on, time_zone=zone)
    with world.platform.unit_of_work(write=False) as uow:
        uow.caches.report_results.clear()
        yield uow
    world.platform.settings = settings


def close(a: Any, b: Any) -> bool:
    """Equal, with floats equal to the last few bits (sums added in another order)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def report_rows(world: World, key: str, *, on: bool, actor: Actor = SYSTEM) -> tuple[Any, bool]:
    with unit(world, on=on) as uow:
        result = reports.run(uow, actor, "svc", key)
        return result.rows, result.rollup


def board(world: World, *, on: bool, **values: list[str]) -> dict[str, Any]:
    with unit(world, on=on) as uow:
        data = dashboards.run_dashboard(uow, SYSTEM, "svc", "board", values=values)
    return {w["id"]: w["data"] for w in data["widgets"]}


def built(world: World, **values: list[str]) -> None:
    """Ask for every rollup once, and let the job worker build the ones asked for."""
    for body in REPORTS:
        report_rows(world, body["key"], on=True)
    board(world, on=True, **values)
    Worker(world.platform, name="test").run_due()


def same_everywhere(world: World, **values: list[str]) -> dict[str, Any]:
    """Every report and the dashboard give the same numbers from rollups as from their queries;
    the rolled-up widgets' data (what was answered by a rollup)."""
    built(world, **values)
    for body in REPORTS:
        rolled, used = report_rows(world, body["key"], on=True)
        queried, _ = report_rows(world, body["key"], on=False)
        assert used, body["key"]
        assert close(rolled, queried), (body["key"], rolled, queried)
    with_rollups, without = board(world, on=True, **values), board(world, on=False, **values)
    for key, data in with_rollups.items():
        other = without[key]
        if "value" in data:
            assert close([data["value"], data["previous"]], [other["value"], other["previous"]])
        else:
            assert close(data["rows"], other["rows"]), (key, data["rows"], other["rows"])
        assert other["rollup"] is False
    return with_rollups


def test_rollups_give_the_numbers_of_the_queries(world: World) -> None:
    data = same_everywhere(world)
    assert {k for k, d in data.items() if d["rollup"]} == {"mttr", "open"} | {
        r["key"] for r in REPORTS
    }
    assert data["by_issue_week"]["rows"], "the default period holds cases"
    filtered = same_everywhere(
        world, line=["A"], issue=["hw", "sw"], period=["2026-11-01..2026-11-30"]
    )
    assert filtered["by_issue_week"]["rows"] != data["by_issue_week"]["rows"]
    issues = {r[0] for r in filtered["by_issue_week"]["rows"]}
    assert issues <= {"hw", "sw"}
    for body in QUERIED:  # answered by their queries, with their numbers
        assert report_rows(world, body["key"], on=True) == (
            report_rows(world, body["key"], on=False)[0],
            False,
        )


def test_a_kpi_card_measures_both_periods_from_the_rollup(world: World) -> None:
    period = resolve_period("2026-11-01..2026-11-30", now=START, zone=world_zone())
    with unit(world) as uow:
        first = kpis.kpi_card(uow, SYSTEM, "svc", "mttr", period=period)
    assert first["rollup"] is False  # asked for: the query answers until a worker built it
    assert Worker(world.platform, name="test").run_due().done == 1
    with unit(world) as uow:
        card = kpis.kpi_card(uow, SYSTEM, "svc", "mttr", period=period)
    with unit(world, on=False) as uow:
        plain = kpis.kpi_card(uow, SYSTEM, "svc", "mttr", period=period)
    assert card["rollup"] is True
    assert plain["rollup"] is False
    assert card["value"] is not None
    assert (card["value"], card["previous"]) == (plain["value"], plain["previous"])
    assert (first["value"], first["previous"]) == (plain["value"], plain["previous"])


def world_zone() -> ZoneInfo:
    return ZoneInfo(ZONE)


def check(world: World) -> None:
    """The same numbers over the dashboard's default period and over whole months (merged)."""
    same_everywhere(world)
    same_everywhere(world, period=["2026-10-01..2026-12-31"])


def test_rollups_follow_updates_deletions_and_restorations(world: World) -> None:
    check(world)
    with world.platform.unit_of_work(write=False) as uow:
        ids = uow.session.scalars(
            select(Record.id).where(Record.form_key == "case").order_by(Record.id)
        ).all()
    # a change of the day field itself moves a case from one day (and week) to another
    world.update(ids[0], {"opened_at": "2026-11-20T03:00:00+00:00", "cost": 999.0})
    world.update(ids[1], {"status": "open", "issue": "usage"})
    world.update(ids[2], {"parts": [{"part": "gear", "qty": 7}]})
    check(world)
    with world.platform.unit_of_work() as uow:
        lock = world.get(ids[3]).lock_version
        records.delete_record(uow, SYSTEM, "svc", "case", ids[3], lock_version=lock)
        uow.commit()
    check(world)
    with world.platform.unit_of_work() as uow:
        records.restore_record(uow, SYSTEM, "svc", "case", ids[3])
        uow.commit()
    check(world)
    world.platform.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    world.create({"issue": "hw", "line": "A", "status": "open", "cost": 5.0}, form="case")
    check(world)


def test_only_the_days_a_write_touched_are_computed_again(world: World) -> None:
    built(world)
    written: list[int] = []

    def count(
        _c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        if statement.startswith("INSERT INTO rollup_days"):
            written.append(len(parameters) if many else 1)

    event.listen(world.platform.engine, "before_cursor_execute", count)
    try:
        assert report_rows(world, "by_issue_week", on=True)[1]
        assert written == []  # nothing changed: nothing computed
        with world.platform.unit_of_work(write=False) as uow:
            first = uow.session.scalar(select(func.min(Record.id)).where(Record.form_key == "case"))
        world.update(int(first or 0), {"cost": 1.5})
        assert report_rows(world, "by_issue_week", on=True)[1]
        # the record's UTC creation day overlaps two local days (UTC+8): at most those two
        assert 1 <= sum(written) <= 2
    finally:
        event.remove(world.platform.engine, "before_cursor_execute", count)


@contextmanager
def stored_days(world: World) -> Iterator[list[Any]]:
    """The days the rollups' ``INSERT``s store while the block runs."""
    days: list[Any] = []

    def stored(_c: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: bool) -> None:
        if statement.startswith("INSERT INTO rollup_days"):
            days.extend(str(p["day"]) for p in context.compiled_parameters)

    event.listen(world.platform.engine, "before_cursor_execute", stored)
    try:
        yield days
    finally:
        event.remove(world.platform.engine, "before_cursor_execute", stored)


def same_as_query(world: World, key: str) -> None:
    rolled, used = report_rows(world, key, on=True)
    assert used
    assert close(rolled, report_rows(world, key, on=False)[0])


def test_the_days_writes_made_now_mark_are_read_live_and_stored_once_their_utc_day_is_over(
    world: World,
) -> None:
    """A registration marks today (and, UTC+8, the local day that shares today's UTC day):
    stored, those days would be stale again at the next registration, so a read computes them
    from their rows at each request; an older day a write touched is stored at once, and the
    present days once their UTC day is over."""
    built(world)
    clock = world.platform.clock
    zone = world_zone()
    with world.platform.unit_of_work(write=False) as uow:
        first = uow.session.scalar(select(func.min(Record.id)).where(Record.form_key == "case"))
        created = uow.session.scalar(select(Record.created_at).where(Record.id == first))
    assert created is not None
    clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    now = clock.now()
    today = now.astimezone(zone).date()
    present = {str(now.astimezone(UTC).date() + timedelta(days=d)) for d in (0, 1)}
    with stored_days(world) as days:
        world.create({"issue": "hw", "line": "A", "status": "open", "cost": 5.0}, form="case")
        same_as_query(world, "by_issue_week")
        same_as_query(world, "by_issue_week")  # computed again: nothing was stored
        assert days == []
        world.update(int(first or 0), {"cost": 1.5})  # created days ago
        same_as_query(world, "by_issue_week")
        older = {str(created.astimezone(zone).date() + timedelta(days=d)) for d in (-1, 0, 1)}
        assert days
        assert set(days) <= older
        assert not set(days) & present
        del days[:]
        clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
        same_as_query(world, "by_issue_week")
        assert str(today) in days  # its UTC day is over: stored
        del days[:]
        same_as_query(world, "by_issue_week")
        assert days == []


def test_the_days_of_a_date_field_are_read_live_too(world: World) -> None:
    """A board filtered by a date field keeps its rollups by that field's days; a write's day
    is computed from the rows at each read, alone or beside an older day."""
    by_day = {
        **BOARD,
        "key": "by_day",
        "filters": [
            {"key": "period", "type": "date_range", "field": "day", "default": "last_30_days"}
        ],
    }
    world.publish("dashboard", by_day)

    def read(on: bool) -> dict[str, Any]:
        with unit(world, on=on) as uow:
            data = dashboards.run_dashboard(uow, SYSTEM, "svc", "by_day", values={})
        return {w["id"]: w for w in data["widgets"]}

    read(True)
    Worker(world.platform, name="test").run_due()
    today = world.platform.clock.now().astimezone(world_zone()).date()
    for days_ago in (0, 3):  # today's day alone, then today's beside an older one
        world.create(
            {
                "issue": "hw",
                "line": "A",
                "status": "open",
                "cost": 2.0,
                "day": str(today - timedelta(days=days_ago)),
            },
            form="case",
        )
        rolled, queried = read(True), read(False)
        assert [k for k, w in rolled.items() if w["data"]["rollup"]]
        for key, widget in rolled.items():
            if "rows" in widget["data"]:
                assert close(widget["data"]["rows"], queried[key]["data"]["rows"]), key


@pytest.mark.parametrize(
    ("zone", "instant", "days"),
    [
        ("Asia/Shanghai", "2026-12-06T23:30:00+00:00", ["2026-12-06", "2026-12-07"]),
        ("Asia/Shanghai", "2026-12-06T02:00:00+00:00", ["2026-12-06", "2026-12-07"]),
        ("America/New_York", "2026-12-06T23:30:00+00:00", ["2026-12-05", "2026-12-06"]),
        ("UTC", "2026-12-06T23:30:00+00:00", ["2026-12-06"]),
    ],
)
def test_the_days_a_write_made_now_marks(zone: str, instant: str, days: list[str]) -> None:
    now = datetime.fromisoformat(instant)
    found = rollups._marked_now(now, ZoneInfo(zone), day_is_date=False)
    assert sorted(str(d) for d in found) == days
    local = now.astimezone(ZoneInfo(zone)).date()
    assert rollups._marked_now(now, ZoneInfo(zone), day_is_date=True) == {local}


def test_a_dashboard_reads_each_rollup_with_its_stamps_and_each_span_of_marks_once(
    world: World,
) -> None:
    built(world)
    world.create({"issue": "hw", "line": "A", "status": "open", "cost": 5.0}, form="case")
    marks: list[tuple[Any, ...]] = []
    rollups_read: list[str] = []

    def count(_c: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: bool) -> None:
        if "FROM rollup_marks" in statement:
            marks.append(
                tuple(sorted((k, str(v)) for k, v in context.compiled_parameters[0].items()))
            )
        elif "FROM rollups" in statement or "FROM rollup_days" in statement:
            rollups_read.append(statement.split("FROM")[1].split()[0])

    event.listen(world.platform.engine, "before_cursor_execute", count)
    try:
        widgets = board(world, on=True)
    finally:
        event.remove(world.platform.engine, "before_cursor_execute", count)
    rolled = [key for key, data in widgets.items() if data["rollup"]]
    assert len(rolled) > len(set(marks)) > 0  # widgets share the marks of a span
    assert len(marks) == len(set(marks))
    # a rolled-up widget reads its rollup and the stamps of its days in one statement; the
    # payloads of the days not merged in memory yet come in one more
    assert rollups_read.count("rollups") == len(rolled)
    assert rollups_read.count("rollup_days") <= len(rolled)


def test_scoped_viewers_and_list_filters_are_answered_by_the_query(world: World) -> None:
    with unit(world) as uow:
        filtered = reports.run(
            uow,
            SYSTEM,
            "svc",
            "by_issue_week",
            filters=[Filter("line", "eq", "A")],
        )
    assert filtered.rollup is False
    assert filtered.rows
    world.revoke_staff("ann")  # ann reads only what the role below grants
    with world.platform.unit_of_work() as uow:  # a viewer who reads their own cases only
        role = roles.create_role(uow, SYSTEM, key="own_reader", name="own reader")
        roles.add_grant(
            uow, SYSTEM, role.id, app_key="svc", form_key="case", actions=["read"], scope="own"
        )
        users.assign_role(uow, SYSTEM, role_key="own_reader", user_id=world.users["ann"])
        uow.commit()
    with world.platform.unit_of_work(write=False) as uow:
        ann = load_actor(uow.session, users.get_user(uow, world.users["ann"]), via="test")
    rows_of_ann, used = report_rows(world, "by_issue_week", on=True, actor=ann)
    assert used is False
    assert rows_of_ann == []  # ann owns no case


def test_a_new_projection_forgets_the_rollups_of_its_form(world: World) -> None:
    same_everywhere(world)
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Rollup)) > 0
    world.publish(
        "form",
        {**CASE, "fields": [*CASE["fields"], field("channel", "select", options=options("web"))]},
    )
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Rollup)) == 0
        assert uow.session.scalar(select(func.count()).select_from(RollupDay)) == 0
    same_everywhere(world)  # built again, from the new tables


def test_days_in_a_zone_with_daylight_saving_time(world: World) -> None:
    """PostgreSQL buckets by the zone's rules and rolls up; SQLite shifts by a fixed offset, so it
    leaves such zones to the query. The numbers are the query's either way."""
    zone = "America/New_York"
    with unit(world, zone=zone) as uow:
        reports.run(uow, SYSTEM, "svc", "days")
    Worker(world.platform, name="test").run_due()
    for on in (True, False):
        with unit(world, on=on, zone=zone) as uow:
            result = reports.run(uow, SYSTEM, "svc", "days")
            if on:
                rolled = result
            else:
                queried = result
    assert rolled.rows == queried.rows
    assert rolled.rollup is (world.platform.engine.dialect.name == "postgresql")


def test_rules_read_kpis_from_rollups_inside_their_write(world: World) -> None:
    span = resolve_period("2026-11-01..2026-11-30", now=START, zone=world_zone())
    for _ in range(2):  # the first asks for the rollup in the writer's transaction
        world.platform.caches.report_results.clear()
        with world.platform.unit_of_work() as uow:
            card = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)
            uow.commit()
        Worker(world.platform, name="test").run_due()
    assert card["rollup"] is True
    world.platform.caches.report_results.clear()
    with world.platform.unit_of_work() as uow:  # a write unit: stale days are computed in it
        world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        records.create_record(uow, SYSTEM, "svc", "case", {"issue": "hw", "status": "open"})
        card = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)
        uow.commit()
    assert card["rollup"] is True
    with unit(world, on=False) as uow:
        plain = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)
    assert card["value"] == plain["value"] > 0
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(RollupDay)) > 0


def test_what_a_write_unit_measures_is_not_kept_for_others(world: World) -> None:
    """A rule reads a KPI after its unit wrote (or while a what-if rehearses): the value counts
    writes nobody else sees yet, and may never see. It is not cached for the next reader."""
    span = resolve_period("2026-11-01..2026-11-30", now=START, zone=world_zone())
    world.platform.caches.report_results.clear()
    with world.platform.unit_of_work(write=False) as uow:
        before = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)["value"]
    with world.platform.unit_of_work() as uow:  # never committed
        records.create_record(uow, SYSTEM, "svc", "case", {"issue": "hw", "status": "open"})
        inside = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)["value"]
    assert inside == before + 1
    with world.platform.unit_of_work(write=False) as uow:
        after = kpis.kpi_card(uow, SYSTEM, "svc", "open", period=span)
    assert (after["value"], after["cached"]) == (before, True)


def test_a_write_marks_its_days_as_it_commits_so_the_days_writers_do_not_wait(
    world: World,
) -> None:
    """Every registration of a day bumps that day's mark: bumped early, the row would stay
    locked (PostgreSQL) through the rest of the write, and the day's writers would take turns."""

    def stamps(uow: UnitOfWork) -> int:
        return int(
            uow.session.scalar(
                select(func.sum(RollupMark.stamp)).where(RollupMark.form_key == "case")
            )
        )

    with world.platform.unit_of_work(write=False) as uow:
        before = stamps(uow)
    with world.platform.unit_of_work() as first:
        records.create_record(first, SYSTEM, "svc", "case", {"issue": "hw", "status": "open"})
        assert stamps(first) == before  # gathered, not written yet
        if world.platform.side_engine is not None:  # PostgreSQL: a second writer meanwhile
            with world.platform.unit_of_work() as second:
                second.session.execute(sql("SET LOCAL lock_timeout = '1s'"))
                records.create_record(second, SYSTEM, "svc", "case", {"issue": "hw"})
                second.commit()
        first.commit()
    with world.platform.unit_of_work(write=False) as uow:
        after = stamps(uow)
    writes = 1 if world.platform.side_engine is None else 2
    assert after - before == writes  # each marks its creation day once


def test_forms_no_report_measures_are_not_marked(world: World) -> None:
    world.publish("form", {"key": "note", "label": text("note"), "fields": [field("body", "text")]})
    with world.platform.unit_of_work(write=False) as uow:
        before = uow.session.scalar(select(func.count()).select_from(RollupMark))
    world.create({"body": "hello"}, form="note")
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(RollupMark)) == before
        marked = uow.session.scalar(
            select(func.count()).select_from(RollupMark).where(RollupMark.form_key == "case")
        )
    assert marked > 0


def test_a_dashboard_answers_from_rollups_first_and_runs_its_queries_apart(world: World) -> None:
    """Widgets held for long ones (``apart_ms=0``: every one) are answered from their rollups
    in the request's unit; those that need their query run in units of their own, and every
    widget shows what it shows when all run in the request's unit."""
    built(world)
    platform = world.platform
    answers = []
    opened: list[int] = []

    def opener() -> Any:
        opened.append(1)
        return platform.unit_of_work(write=False)

    for open_unit in (None, opener):
        with unit(world) as uow:
            answers.append(
                dashboards.run_dashboard(
                    uow, SYSTEM, "svc", "board", open_unit=open_unit, workers=4, apart_ms=0
                )["widgets"]
            )
    alone, apart = answers
    assert len(opened) == len(QUERIED)
    assert [w["id"] for w in apart] == [w["id"] for w in alone]
    for one, other in zip(alone, apart, strict=True):
        assert {k: v for k, v in one["data"].items() if k not in ("elapsed_ms",)} == {
            k: v for k, v in other["data"].items() if k not in ("elapsed_ms",)
        }
    assert {w["id"] for w in apart if not w["data"]["rollup"]} == {r["key"] for r in QUERIED}


def test_only_widgets_that_took_long_run_in_units_of_their_own(world: World) -> None:
    """A unit of its own costs more than a short query: a dashboard whose widgets answer fast
    runs them all in the request's unit; two that took 50 ms or more the last time run apart,
    and one alone does not."""
    built(world)
    platform = world.platform
    opened: list[int] = []

    def opener() -> Any:
        opened.append(1)
        return platform.unit_of_work(write=False)

    def shown() -> list[dict[str, Any]]:
        with unit(world) as uow:
            return dashboards.run_dashboard(uow, SYSTEM, "svc", "board", open_unit=opener)[
                "widgets"
            ]

    first = shown()
    assert opened == []
    took = platform.caches.widget_queries
    assert {k[2] for k in took._store} == {w["id"] for w in first}
    queried = [r["key"] for r in QUERIED]
    took.put(("svc", "board", queried[0]), 80.0)
    shown()
    assert opened == []  # one long widget alone: nothing beside it to overlap
    took.put(("svc", "board", queried[0]), 80.0)
    took.put(("svc", "board", queried[1]), 50.0)
    again = shown()
    assert len(opened) == 2
    assert [w.get("data", {}).get("rows") for w in again] == [
        w.get("data", {}).get("rows") for w in first
    ]
    # each widget's time is measured again, in whichever unit it ran
    assert took.get(("svc", "board", queried[0])) != 80.0
