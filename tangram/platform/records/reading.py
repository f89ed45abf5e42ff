"""Reading records: pages of a form's records with filters, sorting and keyset cursors on its
projection (the viewer's scope applied in SQL), a record's timeline and its SLA targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select

from tangram.engines.forms import Form
from tangram.platform.identity.perms import Action, Actor, group_subtree, hidden_fields
from tangram.platform.kernel.models import (
    AuditEntry,
    Record,
    Scope,
    SlaStatus,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import app_ref, compiled
from tangram.platform.records import listing, projections
from tangram.platform.records.listing import Filter, SortKey
from tangram.platform.records.service import get_record, require_scope, shown


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a record list: the records, the cursor of the next page, the total if asked."""

    items: list[Record]
    next_cursor: str | None
    total: int | None
    form: Form
    #: Fields the viewer may not read (left out of every record's values shown).
    hidden: frozenset[str] = frozenset()


def list_records(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    *,
    filters: Sequence[Filter] = (),
    sort: Sequence[SortKey] = (),
    cursor: str | None = None,
    limit: int = 50,
    count: bool = False,
    within: Callable[[Table], ColumnElement[bool]] | None = None,
) -> Page:
    """Live records the actor may read, filtered and sorted on the projection (keyset paging).

    One query for the page (two with ``count``), whatever the page size. The default order is
    newest first. ``within`` adds a condition on the form's main projection table (a report's
    drill-down: the records behind one data point).
    """
    app = app_ref(uow, actor, app_key)
    scope = require_scope(actor, Action.READ, app_key, form_key)
    _, form = compiled.form(uow, app_key, form_key)
    t = projections.ready(uow, app.id, form_key, form)
    main = t.main
    hidden = hidden_fields(actor, app_key, form_key)
    where = [
        main.c._deleted_at.is_(None),
        *listing.conditions(t, filters, time_zone=uow.settings.time_zone, hidden=hidden),
        *visible(uow, actor, main, scope),
        *([within(main)] if within is not None else []),
    ]
    order = listing.ordering(t, sort or [SortKey("_id", descending=True)], hidden)
    page_where = list(where)
    if cursor:
        page_where.append(order.after(main, order.decode(cursor)))
    sort_columns = [main.c[name] for name, *_ in order.keys]
    rows = uow.session.execute(
        select(Record, *sort_columns)
        .join(main, main.c._id == Record.id)
        .where(*page_where)
        .order_by(*order.order_by(main))
        .limit(limit + 1)
    ).all()
    items = [row[0] for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = order.encode(list(rows[limit - 1][1:]))
    total = None
    if count:
        total = int(uow.session.scalar(select(func.count()).select_from(main).where(*where)) or 0)
    return Page(items, next_cursor, total, form, hidden)


def visible(uow: UnitOfWork, actor: Actor, main: Any, scope: Scope) -> list[Any]:
    """The row-level condition of a read ``scope`` on a projection's main table (none for all)."""
    if scope is Scope.OWN:
        return [main.c._owner == actor.user_id]
    if scope is Scope.GROUP:
        groups = group_subtree(uow.session, actor.group_ids)
        return [
            or_(
                main.c._owner == actor.user_id,
                and_(main.c._group.is_not(None), main.c._group.in_(groups)),
            )
        ]
    return []


#: The payload keys of a record's audit entries that hold values by field (or field keys).
_VALUE_KEYS = ("changes", "read", "set", "before", "after", "data", "values")


def _without(payload: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    out = dict(payload)
    for key in _VALUE_KEYS:
        if isinstance(out.get(key), Mapping):
            out[key] = shown(out[key], hidden)
    if isinstance(out.get("changed"), list):
        out["changed"] = [k for k in out["changed"] if k not in hidden]
    return out


def timeline(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> list[AuditEntry]:
    """The record's audit entries (creation, changes old → new, deletion, restoration), without
    the values of fields the actor may not read."""
    get_record(uow, actor, app_key, form_key, record_id)
    entries = list(
        uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "record", AuditEntry.object_id == str(record_id))
            .order_by(AuditEntry.id)
        )
    )
    hidden = hidden_fields(actor, app_key, form_key)
    if not hidden:
        return entries
    copies = []
    for e in entries:  # detached copies: the log itself is never changed
        copy = AuditEntry(**{c.key: getattr(e, c.key) for c in AuditEntry.__table__.columns})
        copy.payload = _without(e.payload, hidden)
        copies.append(copy)
    return copies


def sla_of(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> list[SlaStatus]:
    """The record's SLA targets (kept by the rules), by policy and target."""
    get_record(uow, actor, app_key, form_key, record_id)
    return list(
        uow.session.scalars(
            select(SlaStatus)
            .where(SlaStatus.record_id == record_id)
            .order_by(SlaStatus.policy, SlaStatus.target)
        )
    )


def overdue(uow: UnitOfWork, ids: Iterable[int]) -> set[int]:
    """Which of the records have an SLA target past due and not met: breached, or running (or
    warned) with its due time gone."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return {int(i) for i in uow.read(_OVERDUE, {"ids": wanted, "now": uow.now}).scalars()}


#: Built once: every page of a list with an SLA asks it.
_OVERDUE = (
    select(SlaStatus.record_id)
    .where(
        SlaStatus.record_id.in_(bindparam("ids", expanding=True)),
        or_(
            SlaStatus.state == "breached",
            and_(
                SlaStatus.state.in_(("running", "warned")),
                SlaStatus.due_at <= bindparam("now"),
            ),
        ),
    )
    .distinct()
)
