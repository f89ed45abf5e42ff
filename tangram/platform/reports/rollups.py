"""Rollups at run time: reports and KPI cards answered from partial aggregates per local day.

A report or KPI card over a form with many records reads them all for every request the result
cache cannot answer (a record changed since). A rollup keeps the dataset's partial aggregates per
local day of one date field instead (see :mod:`tangram.engines.reports.rollup`), so a year of
tickets is 365 small payloads, whatever the number of tickets.

**Building.** The first request a rollup could answer asks the job worker to build it (job
``rollup.build``) and is answered by the query meanwhile. The worker reads the rows in a read
transaction of its own and then stores the days: writers are not held up while it reads.

**Keeping them current.** Every record write of a form that a published report or KPI measures
bumps a *mark* per UTC day of each of the record's date fields, old and new values alike, in the
write's own transaction (gathered, and written just before it commits). A rollup day remembers
the sum of the marks it was computed under; when a request finds the marks of a day moved, it
computes that day again (an index range on the day field) before answering, and stores it;
except, for a read request, the days that writes made now mark (today, and the neighbour local
day that shares today's UTC day): stored, they would be stale again at the next registration,
so they are computed at each request until their UTC day is over. Marks are read before the
rows, so a write that commits meanwhile leaves its day marked again for the next request:
nothing is missed, at worst computed twice. A request reads the marks of a field over a span
once, for all its widgets. A rollup is forgotten when its form's projection changes or is
rebuilt (publication, ``tangram records reindex``), and replaced when its definition changes.

**Reading.** The payloads of the days of a month are merged once and kept in the platform's
memory while the stamps of those days are unchanged, so a year is about thirteen payloads and a
write costs the merge of its own month only. Requests that find their days current only read:
the rollup, the marks and the stamps of the period, and the payloads not merged yet.

**When they answer.** A rollup answers for viewers who read every record of the form, without
record-list filters; dashboards' select filters and date ranges are kept by it. Distinct counts,
joined fields of referenced forms, pivot and before/after widgets and other viewers are answered
by the dataset's query, as before, with the same numbers. On SQLite only zones without daylight
saving time are rolled up (SQLite's day buckets shift by the zone's standard offset). A database
error while keeping a rollup falls back to the query too. ``TANGRAM_REPORT_ROLLUPS=false`` turns
them off (marks are still kept, so that turning them on again needs no rebuild).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from tangram.config import Settings
from tangram.engines.reports import Source
from tangram.engines.reports.rollup import NotRollable, Plan, compile_rollup
from tangram.platform.kernel.db import IMMEDIATE, READ_ONLY
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import Job, JobStatus, Rollup, RollupDay, RollupMark
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.reports.marks import RECORD_EVENTS, _on_record, write_marks
from tangram.platform.reports.sources import sources_of

log = logging.getLogger(__name__)


#: Bumped when payloads change shape: rollups of an older shape are built again.
FORMAT = 1


#: The job kind that builds a rollup.
BUILD_JOB = "rollup.build"


#: A rollup asked for and not built after this long is asked for again (its job was lost).
BUILD_PATIENCE = timedelta(hours=1)


@dataclass(frozen=True)
class Slice:
    """What a dashboard applies to a widget, as a rollup can keep it: a date range on a field,
    chosen values of select fields, and every select field of the dashboard (the rollup holds
    them all, so that one rollup serves any choice)."""

    period_field: str | None = None
    first: date | None = None
    last: date | None = None
    selects: tuple[tuple[str, tuple[str, ...]], ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ask:
    """One question for a rollup: a dataset (checked already) by a day field."""

    app_key: str
    app_id: int
    #: What it serves, without the definition: ``report:by_type``.
    owner: str
    #: What the result depends on beyond the dataset: definition versions, form digests.
    version: str
    definition: Mapping[str, Any]
    sources: Mapping[str, Source]
    day_field: str
    keys: tuple[str, ...]
    time_zone: str


def rollable_zone(dialect: str, time_zone: str) -> bool:
    """Whether days in ``time_zone`` are bucketed exactly on this database (SQLite shifts by the
    standard offset, exact only for zones without daylight saving time)."""
    if dialect != "sqlite":
        return True
    zone = ZoneInfo(time_zone)
    return zone.utcoffset(datetime(2026, 1, 15)) == zone.utcoffset(datetime(2026, 7, 15))


def plan_of(uow: UnitOfWork, ask: Ask) -> tuple[str, Plan] | None:
    """The rollup's fingerprint and plan, or ``None`` when the dataset does not add up."""
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                FORMAT,
                ask.owner,
                ask.version,
                ask.definition,
                ask.day_field,
                ask.keys,
                ask.time_zone,
                ask.sources[str(ask.definition.get("form"))].form.projection.digest,
            ],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    plans = uow.caches.rollup_plans
    if fingerprint not in plans:
        try:
            found: Plan | None = compile_rollup(
                ask.definition,
                ask.sources,
                day_field=ask.day_field,
                keys=ask.keys,
                time_zone=ask.time_zone,
            )
        except NotRollable as exc:
            log.debug("%s is answered by its query: %s", ask.owner, exc)
            found = None
        plan = plans.put(fingerprint, found)
    else:
        plan = plans.get(fingerprint)
    return None if plan is None else (fingerprint, plan)


class _Gone(Exception):
    """The rollup's days went while they were being read."""


Range = tuple[date, date] | None  # local days, both included; None: every day


def serve(
    uow: UnitOfWork,
    ask: Ask,
    ranges: Sequence[Range],
    selects: Mapping[str, Collection[str]] = {},
) -> list[list[list[Any]]] | None:
    """The dataset's rows over each range of local days, from its rollup (its stale days computed
    again first), or ``None`` when a rollup cannot answer: the caller runs the query. A rollup not
    built yet is asked of the job worker and answers once it is."""
    if not uow.settings.report_rollups:
        return None
    dialect = uow.session.connection().dialect.name
    if not rollable_zone(dialect, ask.time_zone):
        return None
    planned = plan_of(uow, ask)
    if planned is None:
        return None
    name, plan = planned
    zone = ZoneInfo(ask.time_zone)
    if uow.write:  # the unit's own writes, not marked yet, count
        write_marks(uow)
    try:
        if uow.write:  # a failure must not spoil the caller's transaction
            with uow.session.begin_nested():
                found = _current(uow, ask, name, plan, ranges, zone)
        else:
            found = _current(uow, ask, name, plan, ranges, zone)
    except DBAPIError as exc:  # a rollup dropped or asked for meanwhile: the query answers
        log.warning("rollup %s of %s not used: %s", name[:12], ask.owner, exc.orig)
        return None
    except _Gone:
        return None
    if found is None:
        return None
    nulls_first = dialect == "sqlite"
    return [plan.rows(payloads, selects, nulls_first=nulls_first) for payloads in found]


@contextmanager
def _writing(uow: UnitOfWork) -> Iterator[Connection]:
    """A transaction to write in: the unit's own for a write unit (it commits with its work),
    else one of its own, committed at once (not read-only, as a read unit's are on
    PostgreSQL: options set on the connection come after the engine's)."""
    if uow.write:
        yield uow.session.connection()
        return
    with _engine(uow).connect() as connection:
        connection.execution_options(**{IMMEDIATE: True, READ_ONLY: False})
        with connection.begin():
            yield connection


def _engine(uow: UnitOfWork) -> Engine:
    bind = uow.session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _span(ranges: Sequence[Range]) -> Range:
    if any(r is None for r in ranges) or not ranges:
        return None
    return min(r[0] for r in ranges if r), max(r[1] for r in ranges if r)


def _utc_days(day: date, zone: ZoneInfo) -> list[date]:
    """The UTC days a local day overlaps."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    last = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=i) for i in range((last - start.date()).days + 1)]


def _marked_now(now: datetime, zone: ZoneInfo, day_is_date: bool) -> set[date]:
    """The local days a write made at ``now`` marks when it sets a date to today: today for a
    date field; for a time field every local day that overlaps today's UTC day (marks are kept
    per UTC day)."""
    if day_is_date:
        return {now.astimezone(zone).date()}
    start = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    first = start.astimezone(zone).date()
    last = (start + timedelta(days=1, microseconds=-1)).astimezone(zone).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _instants(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants local days ``first`` to ``last`` span: the first's start (included), the
    last's end (excluded)."""
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC),
    )


Payloads = list[tuple[str, list[list[Any]]]]


def _rollup_days(between: bool) -> Select[int, datetime | None, datetime, date, int]:
    """The rollup named ``name`` with the stamps of its days (of those from ``first`` to
    ``last``): a row per day, one with no day for a rollup without days, none for no rollup."""
    days = RollupDay.rollup_id == Rollup.id
    if between:
        days &= (RollupDay.day >= bindparam("first")) & (RollupDay.day <= bindparam("last"))
    return (
        select(Rollup.id, Rollup.built_at, Rollup.created_at, RollupDay.day, RollupDay.stamp)
        .outerjoin(RollupDay, days)
        .where(Rollup.app_id == bindparam("app"), Rollup.name == bindparam("name"))
    )


#: Statements of every served rollup, built once (building one costs more than running it).
_ROLLUP = {False: _rollup_days(False), True: _rollup_days(True)}
_MARKS = select(RollupMark.day, RollupMark.stamp).where(
    RollupMark.app_id == bindparam("app"),
    RollupMark.form_key == bindparam("form"),
    RollupMark.field == bindparam("field"),
)
_MARKS_BETWEEN = _MARKS.where(
    RollupMark.day >= bindparam("first"), RollupMark.day <= bindparam("last")
)


def _current(
    uow: UnitOfWork, ask: Ask, name: str, plan: Plan, ranges: Sequence[Range], zone: ZoneInfo
) -> list[Payloads] | None:
    """The payloads of each range (days, and whole months merged), the days whose marks moved
    computed again first; ``None`` while the rollup is not built.

    A write unit computes and stores them in its own transaction (they include its own writes,
    and commit with them). A read unit computes them from the rows it reads, and stores them in
    a transaction of its own, except the days that writes made now mark (today, and the
    neighbour day that shares today's UTC day): a stored day of those would be stale again at
    the next registration, so they are read live at each request until their UTC day is over,
    as time-series databases answer the newest interval of a continuous aggregate from the raw
    rows.
    """
    span = _span(ranges)
    connection = uow.session.connection()  # it reads as of the unit's snapshot
    where = {"app": ask.app_id, "name": name}
    if span is not None:
        where.update(first=span[0], last=span[1])
    rows = connection.execute(_ROLLUP[span is not None], where).all()
    found = rows[0] if rows else None
    if found is None or found.built_at is None:
        if found is None or _abandoned(uow, found.created_at):
            with _writing(uow) as writing:
                _ask_build(uow, writing, ask, name, plan)
        return None
    stamps = {row.day: int(row.stamp) for row in rows if row.day is not None}
    marks = _marks(uow, connection, ask, plan, span, zone)
    stale = sorted(
        day
        for day in {*stamps, *marks}
        if (span is None or span[0] <= day <= span[1]) and marks.get(day, 0) != stamps.get(day, 0)
    )
    if not stale:
        return _gather(uow, connection, found.id, plan, ranges, stamps)
    computed = _day_payloads(connection, plan, stale, zone)  # after the marks: see the doc
    present = set() if uow.write else _marked_now(uow.now, zone, plan.day_is_date)
    settled = [day for day in stale if day not in present]
    if settled:
        with _writing(uow) as writing:
            _save(writing, found.id, settled, marks, computed)
    live = {day: computed.get(day.isoformat(), []) for day in stale}
    return _gather(uow, connection, found.id, plan, ranges, stamps, live)


def _abandoned(uow: UnitOfWork, asked_at: datetime) -> bool:
    """A build asked for long ago and still not done: its job was lost (no worker ran it)."""
    return (uow.now - asked_at) > BUILD_PATIENCE


def _gather(
    uow: UnitOfWork,
    connection: Connection,
    rollup_id: int,
    plan: Plan,
    ranges: Sequence[Range],
    stamps: Mapping[date, int],
    live: Mapping[date, list[list[Any]]] = {},
) -> list[Payloads]:
    """Each range's payloads. For a plan whose days of a month may merge, the range's days come
    merged month by month (the first and last months as far as the range goes), from the
    platform's memory while the stamps of their days are unchanged: a year is about thirteen
    payloads, and after a write only the month written is merged again. The ``live`` days
    (computed by this request) come apart, as they are, beside their month's other days."""
    merged_store = uow.caches.rollup_months  # by rollup, first day and the days' stamps
    ordered = sorted({*stamps, *live})
    wanted: set[date] = set()
    laid_out: list[list[tuple[date, tuple[Any, ...] | None]]] = []
    for r in ranges:
        first, last = (
            r if r is not None else (ordered[0], ordered[-1]) if ordered else (date.min, date.min)
        )
        held = ordered[bisect.bisect_left(ordered, first) : bisect.bisect_right(ordered, last)]
        kept = [d for d in held if d not in live]
        parts: list[tuple[date, tuple[Any, ...] | None]]
        if not plan.monthly:
            parts = [(d, None) for d in held]
            wanted.update(kept)
        else:
            parts = [(d, None) for d in held if d in live]
            for month, days in itertools.groupby(kept, key=lambda d: (d.year, d.month)):
                segment = list(days)
                start = max(first, date(month[0], month[1], 1))
                key = (rollup_id, start, tuple((d, stamps[d]) for d in segment))
                if key not in merged_store:
                    wanted.update(segment)
                parts.append((start, key))
            parts.sort(key=lambda part: part[0])  # in the order of their days
        laid_out.append(parts)
    stored = _payloads(connection, rollup_id, sorted(wanted))
    if len(stored) < len(wanted):
        raise _Gone  # rebuilt or forgotten between two reads
    out: list[Payloads] = []
    for parts in laid_out:
        payloads: Payloads = []
        for day, signature in parts:
            if signature is None:
                payloads.append((day.isoformat(), live[day] if day in live else stored[day]))
                continue
            merged = merged_store.get(signature)
            if merged is None:
                merged = merged_store.put(
                    signature, plan.merge(stored[d] for d, _ in signature[2] if d in stored)
                )
            payloads.append((day.isoformat(), merged))
        out.append(payloads)
    return out


def _marks(
    uow: UnitOfWork | None,
    connection: Connection,
    ask: Ask,
    plan: Plan,
    span: Range,
    zone: ZoneInfo,
) -> dict[date, int]:
    """Local day → the sum of the marks of the UTC days it overlaps (days with marks only).
    A read unit reads the marks of a form's field over a span once (the dashboard's widgets
    share them); a write unit reads them each time: its own writes move them."""
    key = (ask.app_id, plan.form, plan.day_field, span, ask.time_zone)
    kept = None if uow is None or uow.write else uow.memo.rollup_marks_read
    if kept is not None and key in kept:
        return kept[key]
    found = _marks_read(connection, ask, plan, span, zone)
    if kept is not None:
        kept[key] = found
    return found


def _marks_read(
    connection: Connection, ask: Ask, plan: Plan, span: Range, zone: ZoneInfo
) -> dict[date, int]:
    where = {"app": ask.app_id, "form": plan.form, "field": plan.day_field}
    if span is None:
        found = connection.execute(_MARKS, where)
    else:
        one = timedelta(days=1)
        found = connection.execute(
            _MARKS_BETWEEN, {**where, "first": span[0] - one, "last": span[1] + one}
        )
    by_utc = {day: int(stamp) for day, stamp in found.all()}
    if plan.day_is_date:
        return by_utc
    out: dict[date, int] = {}
    for utc_day in by_utc:
        for local in (utc_day - timedelta(days=1), utc_day, utc_day + timedelta(days=1)):
            if local not in out:
                total = sum(by_utc.get(u, 0) for u in _utc_days(local, zone))
                if total:
                    out[local] = total
    return out


def _payloads(
    connection: Connection, rollup_id: int, days: Sequence[date]
) -> dict[date, list[list[Any]]]:
    """The stored tuples of some days (read by runs of consecutive days)."""
    if not days:
        return {}
    runs = [RollupDay.day.between(first, last) for first, last in _runs(days)]
    query = select(RollupDay.day, RollupDay.payload).where(
        RollupDay.rollup_id == rollup_id, or_(*runs)
    )
    wanted = set(days)
    # all rows at once (psycopg's row-by-row fetching costs more than the rows), decoded by
    # orjson: a new process decodes every day of its first cockpit's months
    rows = connection.execute(query).all()
    return {day: orjson.loads(text) for day, text in rows if day in wanted}


def _day_upsert(insert_of: Any) -> Any:
    statement = insert_of(RollupDay)
    return statement.on_conflict_do_update(
        index_elements=[RollupDay.rollup_id, RollupDay.day],
        set_={"stamp": statement.excluded.stamp, "payload": statement.excluded.payload},
    )


_SAVE_DAY = {"postgresql": _day_upsert(postgresql.insert), "sqlite": _day_upsert(sqlite.insert)}


def _save(
    connection: Connection,
    rollup_id: int,
    days: Collection[date],
    marks: Mapping[date, int],
    payloads: Mapping[str, list[list[Any]]],
) -> None:
    """Store the days computed (a day without rows is stored empty: its marks are known). Two
    requests computing the same day store it one after the other, the later one's winning."""
    if not days:
        return
    connection.execute(
        _SAVE_DAY[connection.dialect.name],
        [
            {
                "rollup_id": rollup_id,
                "day": day,
                "stamp": marks.get(day, 0),
                "payload": orjson.dumps(payloads.get(day.isoformat(), [])).decode(),
            }
            for day in sorted(days)
        ],
    )


def _day_payloads(
    connection: Connection, plan: Plan, days: Sequence[date], zone: ZoneInfo
) -> dict[str, list[list[Any]]]:
    """The payloads of some days (sorted), from the rows of each local day, by ISO day (days
    without rows are left out). The days a read computes are mostly one run (today, and the
    neighbour day that shares today's UTC day): its statement is the plan's, built once."""
    if plan.day_is_date:
        rows = connection.execute(plan.days_query, {"rollup_days": list(days)})
        return plan.payloads(rows)
    runs = [_instants(first, last, zone) for first, last in _runs(days)]
    if len(runs) == 1:
        start, end = runs[0]
        bounds = {"rollup_from": start, "rollup_to": end}
        return plan.payloads(connection.execute(plan.days_query, bounds))
    column = plan.day_column  # one index range per run of consecutive days
    ranges = [(column >= start) & (column < end) for start, end in runs]
    return plan.payloads(connection.execute(plan.query(where=[or_(*ranges)])))


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _owner(ask: Ask) -> str:
    return f"{ask.owner}@{ask.day_field}|{','.join(ask.keys)}"[:300]


def _ask_build(uow: UnitOfWork, connection: Connection, ask: Ask, name: str, plan: Plan) -> None:
    """Register a new rollup (replacing the ones of the same shape) and ask a worker to build it."""
    connection.execute(
        delete(Rollup).where(
            Rollup.app_id == ask.app_id, or_(Rollup.owner == _owner(ask), Rollup.name == name)
        )
    )
    rollup_id = connection.execute(
        insert(Rollup)
        .values(
            app_id=ask.app_id,
            form_key=plan.form,
            owner=_owner(ask),
            name=name,
            day_field=plan.day_field,
            created_at=uow.now,
        )
        .returning(Rollup.id)
    ).scalar_one()
    payload = {
        "rollup": int(rollup_id),
        "app": ask.app_key,
        "app_id": ask.app_id,
        "owner": ask.owner,
        "version": ask.version,
        "definition": ask.definition,
        "day_field": ask.day_field,
        "keys": list(ask.keys),
        "time_zone": ask.time_zone,
    }
    now = uow.now
    connection.execute(
        insert(Job).values(
            kind=BUILD_JOB,
            payload=payload,
            run_at=now,
            status=JobStatus.PENDING.value,
            attempts=0,
            max_attempts=3,
            created_at=now,
            updated_at=now,
        )
    )


def build(uow: UnitOfWork, job: JobContext) -> None:
    """The job: compute every day of a rollup. The rows are read in a read transaction of their
    own before the job's transaction writes anything, so writers wait only while the payloads
    are stored (SQLite has one writer at a time)."""
    p = job.payload
    rollup_id = int(p["rollup"])
    reading = UnitOfWork(
        sessionmaker(_engine(uow).execution_options(**{IMMEDIATE: False})),
        uow.clock,
        settings=uow.settings,
        write=False,
        caches=uow.caches,
    )
    with reading:
        reader = reading.session.connection()
        name = reader.execute(select(Rollup.name).where(Rollup.id == rollup_id)).scalar()
        if name is None:
            return  # replaced or forgotten meanwhile
        ask = Ask(
            app_key=str(p["app"]),
            app_id=int(p["app_id"]),
            owner=str(p["owner"]),
            version=str(p["version"]),
            definition=p["definition"],
            sources=sources_of(reading, str(p["app"]), str(p["definition"].get("form"))),
            day_field=str(p["day_field"]),
            keys=tuple(p["keys"]),
            time_zone=str(p["time_zone"]),
        )
        planned = plan_of(reading, ask)
        if planned is not None and planned[0] == name:
            plan = planned[1]
            zone = ZoneInfo(ask.time_zone)
            marks = _marks(None, reader, ask, plan, None, zone)  # before the rows: see the doc
            payloads = plan.payloads(reader.execute(plan.query()))
    connection = uow.session.connection()
    if planned is None or planned[0] != name:  # its form changed since: it serves nothing
        connection.execute(delete(Rollup).where(Rollup.id == rollup_id))
        return
    if connection.execute(select(Rollup.id).where(Rollup.id == rollup_id)).first() is None:
        return
    days = {date.fromisoformat(d) for d in payloads} | set(marks)
    _save(connection, rollup_id, days, marks, payloads)
    connection.execute(update(Rollup).where(Rollup.id == rollup_id).values(built_at=uow.now))


def install(hooks: Hooks, _settings: Settings) -> None:
    """Register the job that builds rollups; mark the days record writes touch."""
    hooks.jobs.register(BUILD_JOB, build)
    for name in RECORD_EVENTS:
        hooks.events.subscribe(name, _on_record)
