"""Credentials: Argon2 passwords, login with rate limiting, bearer API tokens.

Sign-in is limited per (user name, address), per address, and per user name from everywhere
(:mod:`lockout`). Tokens look like ``tgm_<prefix>_<secret>``; only the SHA-256 of the whole token
is stored (see :mod:`credentials`) and it is shown once, at creation, to a live browser session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select, update

from tangram.config import Settings
from tangram.platform.identity import lockout, sessions
from tangram.platform.identity.credentials import new_secret, secret_hash, secret_prefix
from tangram.platform.identity.lockout import UNKNOWN_CLIENT, normalize_username
from tangram.platform.identity.perms import Actor, Authenticated, actor_of, with_actor
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from tangram.platform.kernel.models import ApiToken, LoginAttempt, SessionEnd, User
from tangram.platform.kernel.uow import UnitOfWork

TOKEN_PREFIX = "tgm"  # noqa: S105 - a token marker, not a secret
MIN_PASSWORD_LENGTH = 10
WRONG_CREDENTIALS = "The user name or password is wrong."


def _hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib
    )


def hash_password(uow: UnitOfWork, password: str) -> str:
    """Argon2id hash of ``password`` (at the installation's cost) after checking the password
    policy."""
    check_password_policy(password)
    return _hasher(uow.settings).hash(password)


def check_password_policy(password: str, path: str = "password") -> None:
    """Refuse passwords that are too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "The password is too short.",
            code="password.too_short",
            errors=[{"path": path, "message": f"use at least {MIN_PASSWORD_LENGTH} characters"}],
        )
    if len(password) > 1024:
        raise ValidationFailed(
            "The password is too long.",
            code="password.too_long",
            errors=[{"path": path, "message": "use at most 1024 characters"}],
        )


def verify_password(uow: UnitOfWork, password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; unknown or unusable hashes never match. Without a hash, a
    dummy one is verified, so timing does not reveal which user names exist."""
    hasher = _hasher(uow.settings)
    if password_hash is None and uow.caches.password_dummy is None:
        uow.caches.password_dummy = hasher.hash(secrets.token_urlsafe(16))
    try:
        found = hasher.verify(password_hash or uow.caches.password_dummy or "", password)
    except (VerificationError, InvalidHashError):
        return False
    return found and password_hash is not None


def generate_password() -> str:
    """A random password that satisfies the policy (for the first admin)."""
    return secrets.token_urlsafe(15)


def login(
    uow: UnitOfWork,
    settings: Settings,
    *,
    username: str,
    password: str,
    remote_addr: str,
    device: str | None = None,
) -> User:
    """Check credentials and record the attempt.

    Raises :class:`RateLimited` when too many recent attempts failed for this user name from this
    address (or from this address in all), or while the name is locked after failures from
    everywhere (:mod:`lockout`; ``device``, the id of a browser that signed in to this name
    before, counts on its own and is not held back by the name's lock), and
    :class:`Unauthenticated` with one generic message for an unknown user, a wrong password or a
    deactivated account. The attempt is committed in every case, so failures count even though
    the caller sees an error.
    """
    name = normalize_username(username)
    addr = remote_addr[:64]
    _check_address_limits(uow, settings, name, addr)
    client = device[:64] if device else UNKNOWN_CLIENT
    user = uow.session.scalar(select(User).where(func.lower(User.username) == name))
    lockout.count_attempt(uow, name, client)  # commits: no transaction is open while hashing
    ok = verify_password(uow, user.password_hash if user else None, password)
    if user is not None and ok and user.is_active:
        if _hasher(uow.settings).check_needs_rehash(user.password_hash or ""):
            user.password_hash = _hasher(uow.settings).hash(password)
        # Bookkeeping, not an edit: a Core UPDATE leaves the optimistic lock version alone, so a
        # sign-in never makes an administrator's pending change to the account stale.
        uow.session.execute(
            update(User).where(User.id == user.id).values(last_login_at=uow.now),
            execution_options={"synchronize_session": False},
        )
        lockout.signed_in(uow, name, client)
        uow.session.add(LoginAttempt(username=name, remote_addr=addr, at=uow.now, succeeded=True))
        uow.audit(user.id, user.username, "auth.login", "user", user.id, {"address": addr})
        uow.commit()
        return user
    uow.session.add(LoginAttempt(username=name, remote_addr=addr, at=uow.now, succeeded=False))
    uow.audit(None, name, "auth.login_failed", "user", name, {"address": addr})
    uow.commit()
    raise Unauthenticated(WRONG_CREDENTIALS, code="auth.wrong_credentials")


def _check_address_limits(uow: UnitOfWork, settings: Settings, name: str, addr: str) -> None:
    """Refuse while too many recent attempts failed for the name from this address, or from
    this address in all."""
    window_start = uow.now - timedelta(seconds=settings.login_window_seconds)
    failures_for_name = _failures(
        uow, window_start, LoginAttempt.username == name, LoginAttempt.remote_addr == addr
    )
    failures_for_addr = _failures(uow, window_start, LoginAttempt.remote_addr == addr)
    if (
        failures_for_name >= settings.login_max_failures
        or failures_for_addr >= settings.login_max_failures * 4
    ):
        raise RateLimited(
            "Too many failed logins. Wait a while before trying again.",
            retry_after=settings.login_window_seconds,
        )


def _failures(uow: UnitOfWork, since: datetime, *conditions: object) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False), *conditions)  # type: ignore[arg-type]
    )
    return int(uow.session.scalar(query) or 0)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``secret`` is the only time the plain token exists."""

    token: ApiToken
    secret: str


def create_token(
    uow: UnitOfWork, actor: Actor, *, name: str, expires_at: datetime | None = None
) -> IssuedToken:
    """Issue a bearer token for the actor's own account; only from a live sign-in session."""
    if actor.user_id is None:
        raise ValidationFailed("Only user accounts can hold API tokens.", code="token.no_user")
    if actor.via != "session":
        raise PermissionDenied(
            "API tokens are created from a signed-in browser session, not with another token.",
            code="token.session_required",
        )
    sessions.require_live(uow, actor)
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "A token needs a name.", errors=[{"path": "name", "message": "must not be empty"}]
        )
    if expires_at is not None and expires_at <= uow.now:
        raise ValidationFailed(
            "The expiry lies in the past.",
            errors=[{"path": "expires_at", "message": "must be in the future"}],
        )
    prefix, secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        user_id=actor.user_id,
        name=name,
        prefix=prefix,
        token_hash=secret_hash(secret),
        created_at=uow.now,
        expires_at=expires_at,
    )
    uow.session.add(token)
    uow.flush()
    uow.audit(actor.user_id, actor.label, "token.created", "api_token", token.id, {"name": name})
    return IssuedToken(token, secret)


#: A token with its user's actor by the token's prefix: on every call with a bearer token, so
#: one statement, built once.
_TOKEN_ACTOR = with_actor(
    select(
        ApiToken.id.label("token_id"),
        ApiToken.token_hash,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.prefix == bindparam("prefix"))
)


def token_check(uow: UnitOfWork, raw: str) -> Authenticated:
    """The actor a bearer token stands for; revoked, expired or unknown tokens are refused. Its
    last use is due to be written (:func:`touch_token`) once a minute."""
    prefix = secret_prefix(raw.strip(), TOKEN_PREFIX)
    if prefix is None:
        raise Unauthenticated("The API token is malformed.", code="auth.token_invalid")
    rows = uow.read(_TOKEN_ACTOR, {"prefix": prefix}).all()
    if not rows or not hmac.compare_digest(rows[0].token_hash, secret_hash(raw.strip())):
        raise Unauthenticated("The API token is not valid.", code="auth.token_invalid")
    token = rows[0]
    if token.revoked_at is not None:
        raise Unauthenticated("The API token was revoked.", code="auth.token_revoked")
    if token.expires_at is not None and token.expires_at <= uow.now:
        raise Unauthenticated("The API token has expired.", code="auth.token_expired")
    actor = actor_of(rows, via="token", token_id=token.token_id)
    due = token.last_used_at is None or uow.now - token.last_used_at > timedelta(minutes=1)
    return Authenticated(actor, partial(touch_token, token_id=token.token_id) if due else None)


def touch_token(uow: UnitOfWork, token_id: int) -> None:
    """Note that the token was used now (a plain UPDATE: no read, no lock version)."""
    uow.session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=uow.now),
        execution_options={"synchronize_session": False},
    )


def list_tokens(uow: UnitOfWork, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (hashes are never returned by the API)."""
    return list(
        uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (administrators may revoke anyone's)."""
    token = uow.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"API token {token_id} does not exist.", code="token.not_found")
    if token.revoked_at is None:
        token.revoked_at = uow.now
        uow.audit(actor.user_id, actor.label, "token.revoked", "api_token", token.id, {})
    return token


def change_password(uow: UnitOfWork, actor: Actor, *, current: str, new: str) -> User:
    """Change the actor's own password; every other session of the account ends."""
    user = uow.session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("The account does not exist.", code="user.not_found")
    if not verify_password(uow, user.password_hash, current):
        raise ValidationFailed(
            "The current password is wrong.",
            code="password.wrong",
            errors=[{"path": "current_password", "message": "does not match"}],
        )
    user.password_hash = hash_password(uow, new)
    user.updated_at = uow.now
    sessions.end_user_sessions(uow, user.id, SessionEnd.PASSWORD_CHANGED, keep=actor.session_id)
    uow.audit(user.id, user.username, "user.password_changed", "user", user.id, {})
    return user
