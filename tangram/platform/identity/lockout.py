"""Account lock-out: failed sign-ins per user name across every address, with a short lock.

The per (name, address) limit of :mod:`auth` cannot see a guesser that spreads over many
addresses; this one counts per name. Each attempt is counted *before* its password is checked,
in a short transaction of its own (an upsert that row-locks the name on PostgreSQL; SQLite
serialises writers), so concurrent guesses cannot slip past the limit: at most
``login_account_max_failures`` passwords are checked per window. The attempt that reaches the
limit locks the name for ``login_lock_minutes``, each lock in a row twice as long as the one
before, up to ``login_lock_max_minutes``; a successful sign-in clears the count and the lock.

So that a guesser cannot lock the real user out, browsers that signed in to the name before (a
known device, proved by a signed cookie the web layer reads) count on a row of their own: the
name's lock does not hold them back, only their own failures do. Names are counted whether or
not such a user exists, with the same answers, so the lock reveals no user names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tangram.config import Settings
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import NotFound, RateLimited
from tangram.platform.kernel.models import LoginAttempt, LoginLock, User
from tangram.platform.kernel.uow import UnitOfWork

#: The client of browsers that never signed in to the name.
UNKNOWN_CLIENT = ""
#: A lock this long past is forgotten: the next one starts short again.
LOCK_MEMORY = timedelta(days=1)
LOCKED = (
    "Too many failed sign-ins for this user name. Wait a while, or sign in from a browser you "
    "used before."
)


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """How many failures a window allows, and how long the locks last."""

    max_failures: int
    window: timedelta
    first_lock: timedelta
    longest_lock: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LockPolicy:
        """The installation's policy."""
        return cls(
            max_failures=max(1, settings.login_account_max_failures),
            window=timedelta(seconds=settings.login_window_seconds),
            first_lock=timedelta(minutes=max(1, settings.login_lock_minutes)),
            longest_lock=timedelta(
                minutes=max(settings.login_lock_minutes, settings.login_lock_max_minutes, 1)
            ),
        )

    def lock_length(self, lockouts: int) -> timedelta:
        """How long the ``lockouts``-th lock in a row lasts (1, 2, 4 … times the first)."""
        doubled: timedelta = self.first_lock * (1 << min(max(lockouts - 1, 0), 20))
        return min(doubled, self.longest_lock)


@dataclass(frozen=True, slots=True)
class LockState:
    """One name's (or known device's) count and lock."""

    failures: int
    window_started_at: datetime
    locked_until: datetime | None
    lockouts: int


def admit(state: LockState, now: datetime, policy: LockPolicy) -> tuple[LockState, int | None]:
    """Count one more attempt: the new state, and the seconds to wait when it is refused.

    An attempt is refused while the lock holds. Otherwise it counts; the one that reaches the
    limit is still checked, and locks the name meanwhile (its success lifts the lock again).
    """
    if state.locked_until is not None and state.locked_until > now:
        return state, max(1, math.ceil((state.locked_until - now).total_seconds()))
    failures, started = state.failures, state.window_started_at
    if now - started >= policy.window:
        failures, started = 0, now
    failures += 1
    if failures < policy.max_failures:
        return replace(state, failures=failures, window_started_at=started), None
    recent = state.locked_until is not None and now - state.locked_until < LOCK_MEMORY
    lockouts = (state.lockouts if recent else 0) + 1
    return LockState(0, now, now + policy.lock_length(lockouts), lockouts), None


def _upsert(insert: Any) -> Any:
    statement = insert(LoginLock).values(
        username=bindparam("username"),
        client=bindparam("client"),
        failures=0,
        window_started_at=bindparam("now"),
        locked_until=None,
        lockouts=0,
        updated_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=[LoginLock.username, LoginLock.client],
        set_={"updated_at": bindparam("now")},
    ).returning(
        LoginLock.failures, LoginLock.window_started_at, LoginLock.locked_until, LoginLock.lockouts
    )


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def count_attempt(uow: UnitOfWork, username: str, client: str) -> None:
    """Count an attempt on ``username`` from ``client`` and commit it at once, or raise
    :class:`RateLimited` (``auth.locked``, the same for every name) while the lock holds."""
    connection = uow.session.connection()
    params = {"username": username, "client": client, "now": uow.now}
    row = connection.execute(_UPSERT[connection.dialect.name], params).one()
    state = LockState(row.failures, row.window_started_at, row.locked_until, row.lockouts)
    new, retry_after = admit(state, uow.now, LockPolicy.from_settings(uow.settings))
    if retry_after is not None:
        uow.commit()
        raise RateLimited(LOCKED, retry_after=retry_after, code="auth.locked")
    connection.execute(
        update(LoginLock)
        .where(LoginLock.username == username, LoginLock.client == client)
        .values(
            failures=new.failures,
            window_started_at=new.window_started_at,
            locked_until=new.locked_until,
            lockouts=new.lockouts,
        )
    )
    uow.commit()


def signed_in(uow: UnitOfWork, username: str, client: str) -> None:
    """A sign-in succeeded: forget the client's count and lock, and every name's rows that have
    nothing left to say."""
    policy = LockPolicy.from_settings(uow.settings)
    stale = uow.now - (LOCK_MEMORY + policy.longest_lock + policy.window)
    uow.session.execute(
        delete(LoginLock).where(LoginLock.username == username, LoginLock.client == client)
    )
    uow.session.execute(delete(LoginLock).where(LoginLock.updated_at < stale))


@dataclass(frozen=True, slots=True)
class LockStatus:
    """What an administrator sees of a user's lock (browsers that never signed in to it)."""

    locked_until: datetime | None
    failures: int
    lockouts: int


def lock_status(uow: UnitOfWork, actor: Actor, user_id: int) -> LockStatus:
    """The lock on a user's name (administrators)."""
    name = _username(uow, actor, user_id)
    row = uow.session.get(LoginLock, (name, UNKNOWN_CLIENT))
    if row is None:
        return LockStatus(None, 0, 0)
    locked = row.locked_until if row.locked_until and row.locked_until > uow.now else None
    window_open = uow.now - row.window_started_at < LockPolicy.from_settings(uow.settings).window
    return LockStatus(locked, row.failures if window_open else 0, row.lockouts)


def clear_lock(uow: UnitOfWork, actor: Actor, user_id: int) -> None:
    """Lift every lock on a user's name (administrators): the name's lock, its known devices'
    and the failures counted per address in the current window. The audit log keeps them."""
    name = _username(uow, actor, user_id)
    since = uow.now - timedelta(seconds=uow.settings.login_window_seconds)
    uow.session.execute(delete(LoginLock).where(LoginLock.username == name))
    uow.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == name,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= since,
        )
    )
    uow.audit(actor.user_id, actor.label, "user.login_unlocked", "user", user_id, {})


def _username(uow: UnitOfWork, actor: Actor, user_id: int) -> str:
    require_admin(actor, "see or lift sign-in locks")
    name = uow.session.scalar(select(User.username).where(User.id == user_id))
    if name is None:
        raise NotFound(f"User {user_id} does not exist.", code="user.not_found")
    return normalize_username(name)


def normalize_username(username: str) -> str:
    """The form a user name is counted and looked up in."""
    return username.strip().lower()[:64]
