"""Sign-in sessions, kept on the server so that they can be ended.

A browser that signs in gets a random secret in its (signed) session cookie; only the secret's
SHA-256 is stored, in ``user_sessions``. A cookie is honoured while its session is live: not
ended (logout, a password change, deactivation, the user or an administrator ended it), younger
than ``session_hours`` and seen within ``session_idle_minutes``. Checking a cookie costs one
indexed lookup; the last-seen time is written at most once a minute.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy import ColumnElement, and_, bindparam, delete, select, update

from tangram.config import Settings
from tangram.platform.identity.credentials import secret_hash
from tangram.platform.identity.perms import (
    Actor,
    Authenticated,
    actor_of,
    require_admin,
    with_actor,
)
from tangram.platform.kernel.errors import NotFound, Unauthenticated
from tangram.platform.kernel.models import SessionEnd, User, UserSession
from tangram.platform.kernel.uow import UnitOfWork

ENDED = "Your session has ended. Please sign in again."
#: Last-seen times are written at most this often (a request a second must not mean a write a
#: second); the idle timeout is therefore exact to within this.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A new session: ``secret`` goes into the cookie and exists nowhere else."""

    session: UserSession
    secret: str


def idle_limit(settings: Settings) -> timedelta | None:
    """How long a session may go unused (``None``: no idle timeout)."""
    minutes = settings.session_idle_minutes
    return timedelta(minutes=minutes) if minutes > 0 else None


def _live(settings: Settings, now: datetime) -> ColumnElement[bool]:
    """SQL: the session is live at ``now``."""
    conditions = [UserSession.ended_at.is_(None), UserSession.expires_at > now]
    idle = idle_limit(settings)
    if idle is not None:
        conditions.append(UserSession.last_seen_at > now - idle)
    return and_(*conditions)


class SessionTimes(Protocol):
    """What tells whether a session is live: a :class:`UserSession`, or a row of its columns."""

    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...


def is_live(settings: Settings, row: SessionTimes, now: datetime) -> bool:
    """Whether ``row`` is live at ``now`` (the same test as :func:`_live`, in Python)."""
    idle = idle_limit(settings)
    return (
        row.ended_at is None
        and row.expires_at > now
        and (idle is None or row.last_seen_at > now - idle)
    )


def idle_expires_at(settings: Settings, row: UserSession) -> datetime | None:
    """When ``row`` times out unless used before (``None``: no idle timeout)."""
    idle = idle_limit(settings)
    return None if idle is None else min(row.last_seen_at + idle, row.expires_at)


def open_session(
    uow: UnitOfWork,
    user: User,
    *,
    remote_addr: str,
    user_agent: str = "",
    replacing: str | None = None,
) -> OpenedSession:
    """Start a session for ``user`` (just signed in). ``replacing``: the secret of the session
    the browser had until now, which ends. The user's dead sessions are cleared away."""
    if replacing:
        end_by_secret(uow, replacing, SessionEnd.REPLACED)
    uow.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, ~_live(uow.settings, uow.now)),
        execution_options={"synchronize_session": False},
    )
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=secret_hash(secret),
        created_at=uow.now,
        last_seen_at=uow.now,
        expires_at=uow.now + timedelta(hours=uow.settings.session_hours),
        remote_addr=remote_addr[:64],
        user_agent=user_agent[:256],
    )
    uow.session.add(row)
    uow.flush()
    return OpenedSession(row, secret)


#: A session with its user's actor (roles, grants, groups) by the secret's hash: on every
#: request, so one statement, built once.
_SESSION_ACTOR = with_actor(
    select(
        UserSession.id,
        UserSession.last_seen_at,
        UserSession.expires_at,
        UserSession.ended_at,
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("hash"))
)


def session_actor(uow: UnitOfWork, secret: str) -> Authenticated:
    """The actor of a session cookie's secret; an unknown, ended or expired session, or a
    deactivated account, is refused (401 ``auth.expired``). The last-seen time is due to be
    written (:func:`touch`) once a minute."""
    rows = uow.read(_SESSION_ACTOR, {"hash": secret_hash(secret)}).all()
    if not rows:
        raise Unauthenticated(ENDED, code="auth.expired")
    row = rows[0]
    if not row.actor_active or not is_live(uow.settings, row, uow.now):
        raise Unauthenticated(ENDED, code="auth.expired")
    idle = idle_limit(uow.settings)
    every = TOUCH_EVERY if idle is None else min(TOUCH_EVERY, idle / 2)
    actor = actor_of(rows, via="session", session_id=row.id)
    due = uow.now - row.last_seen_at >= every
    return Authenticated(actor, partial(touch, session_id=row.id) if due else None)


def touch(uow: UnitOfWork, session_id: int) -> None:
    """Note that the session was used now (a plain UPDATE: no read, no lock version)."""
    uow.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=uow.now),
        execution_options={"synchronize_session": False},
    )


def require_live(uow: UnitOfWork, actor: Actor) -> None:
    """Refuse unless ``actor`` came with a session cookie whose session is still live now."""
    row = uow.session.get(UserSession, actor.session_id) if actor.session_id else None
    if row is None or row.user_id != actor.user_id or not is_live(uow.settings, row, uow.now):
        raise Unauthenticated(ENDED, code="auth.expired")


def end_by_secret(uow: UnitOfWork, secret: str, reason: SessionEnd) -> UserSession | None:
    """End the session a cookie names (logout); ``None`` when it names none that is live."""
    row = uow.session.scalar(
        select(UserSession).where(UserSession.token_hash == secret_hash(secret))
    )
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.end_reason = uow.now, reason.value
    return row


def sign_out(uow: UnitOfWork, secret: str) -> None:
    """Logout: end the session a cookie names, audited (nothing when it names none that is
    live)."""
    row = end_by_secret(uow, secret, SessionEnd.LOGOUT)
    if row is not None:
        name = uow.session.scalar(select(User.username).where(User.id == row.user_id))
        uow.audit(row.user_id, name or str(row.user_id), "auth.logout", "user", row.user_id)


def end_user_sessions(
    uow: UnitOfWork, user_id: int, reason: SessionEnd, *, keep: int | None = None
) -> int:
    """End every live session of a user but ``keep``; how many ended."""
    query = update(UserSession).where(UserSession.user_id == user_id, _live(uow.settings, uow.now))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result = uow.session.execute(
        query.values(ended_at=uow.now, end_reason=reason.value),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _check_reach(uow: UnitOfWork, actor: Actor, user_id: int) -> None:
    """One's own sessions, or (administrators) anyone's."""
    if actor.user_id != user_id:
        require_admin(actor, "see or end other users' sessions")
        if uow.session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} does not exist.", code="user.not_found")


def list_sessions(uow: UnitOfWork, actor: Actor, user_id: int) -> list[UserSession]:
    """The live sessions of a user, most recently used first."""
    _check_reach(uow, actor, user_id)
    return list(
        uow.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, _live(uow.settings, uow.now))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_session(uow: UnitOfWork, actor: Actor, user_id: int, session_id: int) -> UserSession:
    """End one live session of a user (their own, or an administrator ending anyone's)."""
    _check_reach(uow, actor, user_id)
    row = uow.session.get(UserSession, session_id)
    if row is None or row.user_id != user_id or not is_live(uow.settings, row, uow.now):
        raise NotFound(f"Session {session_id} does not exist.", code="session.not_found")
    reason = SessionEnd.BY_USER if actor.user_id == user_id else SessionEnd.BY_ADMIN
    row.ended_at, row.end_reason = uow.now, reason.value
    uow.audit(actor.user_id, actor.label, "session.ended", "user", user_id, {"session_id": row.id})
    return row


def end_sessions(uow: UnitOfWork, actor: Actor, user_id: int) -> int:
    """End every session of a user but the caller's own; how many ended."""
    _check_reach(uow, actor, user_id)
    reason = SessionEnd.BY_USER if actor.user_id == user_id else SessionEnd.BY_ADMIN
    count = end_user_sessions(uow, user_id, reason, keep=actor.session_id)
    uow.audit(actor.user_id, actor.label, "user.sessions_ended", "user", user_id, {"count": count})
    return count
