"""In-app notifications: write, list one's own, mark read. (Mail and webhooks are jobs.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, insert, select

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
    uow: UnitOfWork, actor: Actor, *, unread: bool = False, after: int = 0, limit: int = 50
) -> list[Notification]:
    """The actor's own notifications, oldest first after ``after`` (keyset paging)."""
    query = select(Notification).where(
        Notification.user_id == actor.user_id, Notification.id > after
    )
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(uow.session.scalars(query.order_by(Notification.id).limit(limit)))


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
