"""Marks: the record writes' side of rollups. A write of a form that a published report or KPI
measures bumps a mark per UTC day of each of its date fields, before and after, in the writing
transaction; a rollup computes again the days whose marks moved. The marks follow the record
events, which carry the documents before and after the write.

A unit gathers its marks and writes them in one statement just before its commit (or before it
reads a rollup itself): every registration of a day bumps that day's row, and a row bumped early
would stay locked on PostgreSQL through the rest of the unit (rules, dispatch, flow start),
making the day's writers wait for one another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    bindparam,
)
from sqlalchemy.dialects import postgresql, sqlite

from tangram.engines.forms import ColumnKind, Form
from tangram.platform import metadata
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import Record, RollupMark
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled


def measured_forms(uow: UnitOfWork, app_key: str, app_id: int) -> frozenset[str]:
    """The forms a published report or KPI of the app measures (cached by metadata tag)."""
    tag = metadata.app_tag(uow, app_key)
    cache = uow.caches.measured_forms
    found = cache.get((app_id, tag))
    if found is None:
        forms = set()
        for (kind, _key), (_version, body) in metadata.published_all(uow, app_id).items():
            if kind == "kpi":
                forms.add(str(body.get("form")))
            elif kind == "report":
                forms.add(str((body.get("dataset") or {}).get("form")))
        found = cache.put((app_id, tag), frozenset(forms))
    return found


def _utc_day(value: Any) -> date | None:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return None


def _mark_upsert(insert_of: Any) -> Any:
    statement = insert_of(RollupMark).values(
        app_id=bindparam("app_id"),
        form_key=bindparam("form_key"),
        field=bindparam("field"),
        day=bindparam("day"),
        stamp=1,
    )
    return statement.on_conflict_do_update(
        index_elements=[RollupMark.app_id, RollupMark.form_key, RollupMark.field, RollupMark.day],
        set_={"stamp": RollupMark.stamp + 1},
    )


_MARK = {"postgresql": _mark_upsert(postgresql.insert), "sqlite": _mark_upsert(sqlite.insert)}


def touch(
    uow: UnitOfWork,
    app_key: str,
    app_id: int,
    form: Form,
    states: Sequence[tuple[datetime, Mapping[str, Any]]],
) -> None:
    """Mark the days of a record's date fields in each of ``states`` (its creation instant and
    document before and after the write) for the rollups of its form; nothing when no report or
    KPI measures the form."""
    if form.key not in measured_forms(uow, app_key, app_id):
        return
    temporal = [
        c for c in form.projection.columns if c.kind in (ColumnKind.DATE, ColumnKind.DATETIME)
    ]
    days = set()
    for created_at, data in states:
        days.add(("_created_at", _utc_day(created_at)))
        for c in temporal:
            days.add((c.key, _utc_day(c.value(data.get(c.key)))))
    uow.memo.rollup_marks.update(
        (app_id, form.key, name, day) for name, day in days if day is not None
    )
    uow.before_commit("rollup marks", write_marks)


def write_marks(uow: UnitOfWork) -> None:
    """Write the marks the unit gathered (one statement), and forget them."""
    gathered = uow.memo.rollup_marks
    if not gathered:
        return
    connection = uow.session.connection()
    connection.execute(
        _MARK[connection.dialect.name],
        [  # in one order for every writer: no deadlocks between them
            {"app_id": app_id, "form_key": form_key, "field": name, "day": day}
            for app_id, form_key, name, day in sorted(gathered)
        ],
    )
    gathered.clear()


#: The record events whose documents (before and after the write) mark days of rollups.
RECORD_EVENTS = ("record.created", "record.updated", "record.deleted", "record.restored")


def _on_record(uow: UnitOfWork, event: Event) -> None:
    record = uow.session.get(Record, event.object_id)
    if record is None:
        return
    states = [
        (record.created_at, document)
        for document in (event.payload.get("before"), event.payload.get("after"))
        if document is not None
    ]
    _, form = compiled.form(uow, event.app, event.subject)
    touch(uow, event.app, record.app_id, form, states)
