"""Users, groups (a tree, each with a manager), memberships, roles, grants, tokens, sign-in sessions,
login attempts and account locks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tangram.platform.kernel.models.base import Base, JSONDoc, Locked


class User(Locked, Base):
    """A person or integration account that signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    #: Skill tags for assignment by skill (e.g. "hardware", "line_a").
    skills: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class Group(Locked, Base):
    """An org unit; ``parent_id`` makes the tree, ``manager_id`` names its manager."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Membership(Base):
    """A user belongs to a group."""

    __tablename__ = "memberships"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]


class Role(Locked, Base):
    """A named bundle of grants; the system role ``admin`` may do everything."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    is_system: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RoleAssignment(Base):
    """A user holds a role."""

    __tablename__ = "role_assignments"

    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]


class Scope(StrEnum):
    """Which records a grant reaches."""

    OWN = "own"
    GROUP = "group"
    ALL = "all"


class Grant(Base):
    """What a role may do on an app (``*``: every app) and form (``*``: every form of the app)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("role_id", "app_key", "form_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    app_key: Mapped[str] = mapped_column(String(64), default="*")
    form_key: Mapped[str] = mapped_column(String(64), default="*")
    #: Subset of create, read, update, delete, design.
    actions: Mapped[list[Any]]
    scope: Mapped[str] = mapped_column(String(16), default=Scope.ALL.value)
    #: Fields of the form the role may not write: ``{"csat": "read_only"}``.
    field_rules: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One login attempt, kept for rate limiting (durable, so it holds across processes)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class SessionEnd(StrEnum):
    """Why a sign-in session ended before its time ran out."""

    LOGOUT = "logout"
    #: The same browser signed in again (the new session replaces the old one).
    REPLACED = "replaced"
    #: The user ended it from their list of sessions.
    BY_USER = "by_user"
    #: An administrator ended it.
    BY_ADMIN = "by_admin"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    DEACTIVATED = "deactivated"


class UserSession(Base):
    """A browser's sign-in: the session cookie carries a random secret, the row only its SHA-256.

    A session is live while it has not ended, its absolute expiry lies ahead and it was last seen
    within the idle timeout; every cookie request looks it up by ``token_hash``.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    #: A :class:`SessionEnd` once ended.
    end_reason: Mapped[str | None] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(256), default="")


class LoginLock(Base):
    """Failed sign-ins of one user name across all addresses, and its temporary lock.

    ``client`` is empty for browsers the name never signed in from, or the id of a known device
    (a signed cookie), which has its own count, so failures elsewhere never lock it out. Rows
    exist for any name tried, whether or not such a user exists.
    """

    __tablename__ = "login_locks"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Attempts counted in the current window (an attempt counts before its password is checked).
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    #: Locks in a row: each one lasts twice as long as the one before, up to the cap.
    lockouts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(index=True)
