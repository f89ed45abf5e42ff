"""Reading records: pages of a form's records with filters, sorting and keyset cursors on its
projection (the viewer's scope applied in SQL), a record's timeline and its SLA targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select

from tangram.engines.forms import Form
from tangram.platform.identity.perms import Action, Actor, group_subtree
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
from tangram.platform.records.service import get_record, require_scope


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a record list: the records, the cursor of the next page, the total if asked."""

    items: list[Record]
    next_cursor: str | None
    total: int | None
    form: Form


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
    where = [
        main.c._deleted_at.is_(None),
        *listing.conditions(t, filters, time_zone=uow.settings.time_zone),
        *visible(uow, actor, main, scope),
        *([within(main)] if within is not None else []),
    ]
    order = listing.ordering(t, sort or [SortKey("_id", descending=True)])
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
    return Page(items, next_cursor, total, form)


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


def timeline(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> list[AuditEntry]:
    """The record's audit entries (creation, changes old → new, deletion, restoration)."""
    get_record(uow, actor, app_key, form_key, record_id)
    return list(
        uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "record", AuditEntry.object_id == str(record_id))
            .order_by(AuditEntry.id)
        )
    )


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
    late = or_(
        SlaStatus.state == "breached",
        and_(SlaStatus.state.in_(("running", "warned")), SlaStatus.due_at <= uow.now),
    )
    return {
        int(i)
        for i in uow.session.scalars(
            select(SlaStatus.record_id).where(SlaStatus.record_id.in_(wanted), late).distinct()
        )
    }
