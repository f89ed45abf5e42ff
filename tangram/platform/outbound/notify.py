"""In-app notifications: write, list one's own, count the unread, mark one or all read. (Mail and
webhooks are jobs.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update

from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.models import Notification
from tangram.platform.kernel.uow import UnitOfWork

_INSERT = insert(cast(Table, Notification.__table__)).returning(Notification.__table__.c.id)


def notify(
    uow: UnitOfWork,
    user_id: int,
    *,
    kind: str,
    title: str,
    body: str = "",
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Write a notification for ``user_id`` in the caller's transaction; its id. (A Core insert:
    nothing reads a notification back in the writing transaction, and the ORM's flush would cost
    more than the statement.)"""
    values = {
        "user_id": user_id,
        "kind": kind,
        "title": title[:500],
        "body": body,
        "payload": dict(payload or {}),
        "created_at": uow.now,
        "read_at": None,
    }
    return int(uow.session.connection().execute(_INSERT, values).scalar_one())


def list_for(
    uow: UnitOfWork,
    actor: Actor,
    *,
    unread: bool = False,
    after: int = 0,
    limit: int = 50,
    newest_first: bool = False,
    before: int | None = None,
) -> list[Notification]:
    """The actor's own notifications: oldest first after ``after``, or with ``newest_first``
    newest first before ``before`` (keyset paging either way; a bell lists the newest)."""
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if newest_first:
        if before is not None:
            query = query.where(Notification.id < before)
        query = query.order_by(Notification.id.desc())
    else:
        query = query.where(Notification.id > after).order_by(Notification.id)
    return list(uow.session.scalars(query.limit(limit)))


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many of the actor's notifications are unread (the bell's number)."""
    query = select(func.count()).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    return int(uow.session.scalar(query) or 0)


def mark_all_read(uow: UnitOfWork, actor: Actor, *, up_to: int | None = None) -> int:
    """Mark every unread notification of the actor read, or those up to the id ``up_to`` (the
    newest one the reader was shown: one arriving meanwhile stays unread); how many."""
    query = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    if up_to is not None:
        query = query.where(Notification.id <= up_to)
    result = uow.session.execute(
        query.values(read_at=uow.now), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_read(uow: UnitOfWork, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read; anyone else's does not exist for them."""
    note = uow.session.get(Notification, notification_id)
    if note is None or note.user_id != actor.user_id:
        raise NotFound(
            f"Notification {notification_id} does not exist.", code="notification.not_found"
        )
    if note.read_at is None:
        note.read_at = uow.now
    return note
