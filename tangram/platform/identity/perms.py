"""Who is acting and what they may do: actors, grants and the checks every service calls.

Permission checks live here, in the platform, so the API, the CLI and jobs all obey the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

from sqlalchemy import Row, Select, String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from tangram.platform.kernel.errors import PermissionDenied, Unauthenticated
from tangram.platform.kernel.models import (
    Grant,
    Group,
    Membership,
    Role,
    RoleAssignment,
    Scope,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork, read_columns

ADMIN_ROLE = "admin"
#: A select of any columns.
AnySelect = Select[*tuple[Any, ...]]


class Action(StrEnum):
    """What a grant allows: the record verbs, plus ``design`` (edit the app's definitions)."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    DESIGN = "design"


ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)
_SCOPE_RANK = {Scope.OWN: 1, Scope.GROUP: 2, Scope.ALL: 3}


@dataclass(frozen=True, slots=True)
class GrantRule:
    """One grant as the checks see it."""

    app_key: str
    form_key: str
    actions: frozenset[str]
    scope: Scope
    #: Fields of the form the grant limits (field → ``read_only``: not written; ``hidden``: neither
    #: read nor written).
    field_rules: tuple[tuple[str, str], ...] = ()

    def matches(self, action: str, app_key: str, form_key: str | None) -> bool:
        """Whether this grant covers ``action`` on the app (and form, when given)."""
        if action not in self.actions or self.app_key not in {"*", app_key}:
            return False
        return form_key is None or self.form_key in {"*", form_key}


@dataclass(frozen=True, slots=True)
class Actor:
    """The user (or system) on whose behalf a service runs."""

    user_id: int | None
    username: str
    is_admin: bool = False
    group_ids: frozenset[int] = frozenset()
    grants: tuple[GrantRule, ...] = ()
    #: How the actor authenticated: session, token, cli or system.
    via: str = "session"
    token_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    #: The sign-in session of a cookie-authenticated actor.
    session_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The platform itself (jobs, migrations, package import from the CLI)."""
        return cls(user_id=None, username=name, is_admin=True, via="system")

    @property
    def label(self) -> str:
        """How the audit log names this actor."""
        return self.username


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The actor a credential (a session cookie, a bearer token) gives, and the write noting the
    credential's use when one is due — at most once a minute, as a request a second must not
    mean a write a second — to run in a write unit of its own."""

    actor: Actor
    note_use: Callable[[UnitOfWork], None] | None = None


class StoredGrant(Protocol):
    """What a grant's rule is made of: a :class:`Grant`, or a row of its columns."""

    @property
    def app_key(self) -> str: ...
    @property
    def form_key(self) -> str: ...
    @property
    def actions(self) -> Sequence[Any]: ...
    @property
    def scope(self) -> str: ...
    @property
    def field_rules(self) -> Mapping[str, Any] | None: ...


def grant_rule(grant: StoredGrant) -> GrantRule:
    """A stored grant as the checks see it."""
    return GrantRule(
        grant.app_key,
        grant.form_key,
        frozenset(grant.actions),
        Scope(grant.scope),
        tuple(sorted((grant.field_rules or {}).items())),
    )


def with_actor(statement: AnySelect, *, groups: bool = True) -> AnySelect:
    """``statement`` (which selects from ``users`` or joins it) with the columns
    :func:`actor_of` builds an actor from, in the same round trip: the user's, then one row per
    grant of each of the user's roles (a role without any: one row without a grant; no role at
    all: one row without either), and with ``groups`` the ids of the user's groups as one
    comma-separated string (the same on every row)."""
    columns: list[Any] = [
        User.id.label("actor_id"),
        User.username.label("actor_name"),
        User.is_active.label("actor_active"),
        Role.key.label("role_key"),
        Grant.id.label("grant_id"),
        Grant.app_key,
        Grant.form_key,
        Grant.actions,
        Grant.scope,
        Grant.field_rules,
    ]
    if groups:
        columns.append(
            select(func.aggregate_strings(cast(Membership.group_id, String), ","))
            .where(Membership.user_id == User.id)
            .scalar_subquery()
            .label("actor_groups")
        )
    return (
        statement.add_columns(*columns)
        .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
        .outerjoin(Role, Role.id == RoleAssignment.role_id)
        .outerjoin(Grant, Grant.role_id == Role.id)
    )


def actor_of(
    rows: Sequence[Row[Any]],
    *,
    via: str,
    token_id: int | None = None,
    session_id: int | None = None,
) -> Actor:
    """The actor of the rows of a :func:`with_actor` statement (at least one) of an active
    user."""
    first = rows[0]
    if not first.actor_active:
        raise Unauthenticated("this account is deactivated", code="auth.inactive")
    roles = frozenset(row.role_key for row in rows if row.role_key is not None)
    listed = getattr(first, "actor_groups", None)
    return Actor(
        user_id=int(first.actor_id),
        username=first.actor_name,
        is_admin=ADMIN_ROLE in roles,
        group_ids=frozenset(int(i) for i in listed.split(",")) if listed else frozenset(),
        grants=tuple(grant_rule(row) for row in rows if row.grant_id is not None),
        via=via,
        token_id=token_id,
        session_id=session_id,
        roles=roles,
    )


#: The statements of :func:`load_actor`, built once (building a statement and its cache key
#: costs several times what the database takes to answer it): columns, as loading ORM objects
#: into the session costs more.
_USER = select().select_from(User).where(User.id == bindparam("user"))
_ACTOR = with_actor(_USER)
_ACTOR_WITHOUT_GROUPS = with_actor(_USER, groups=False)


def load_actor(
    session: Session,
    user: User,
    *,
    via: str,
    token_id: int | None = None,
    session_id: int | None = None,
    groups: bool = True,
) -> Actor:
    """Build the actor of an active user: roles, grants and group memberships (with ``groups``
    false, none: an actor only asked what its grants allow), in one query."""
    if not user.is_active:
        raise Unauthenticated("this account is deactivated", code="auth.inactive")
    statement = _ACTOR if groups else _ACTOR_WITHOUT_GROUPS
    rows = read_columns(session, statement, {"user": user.id}).all()
    if not rows:  # deleted meanwhile
        raise Unauthenticated("this account is deactivated", code="auth.inactive")
    return actor_of(rows, via=via, token_id=token_id, session_id=session_id)


def administrator_ids(session: Session) -> list[int]:
    """The active administrators, by id."""
    return [
        int(i)
        for i in session.scalars(
            select(User.id)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(Role, Role.id == RoleAssignment.role_id)
            .where(Role.key == ADMIN_ROLE, User.is_active.is_(True))
            .order_by(User.id)
        )
    ]


def require_admin(actor: Actor, what: str) -> None:
    """Refuse unless the actor is an administrator."""
    if not actor.is_admin:
        raise PermissionDenied(f"only administrators may {what}", code="permission.admin_required")


def scope_for(actor: Actor, action: str, app_key: str, form_key: str | None = None) -> Scope | None:
    """The widest scope the actor's grants give for ``action``; ``None`` when nothing is granted."""
    if actor.is_admin:
        return Scope.ALL
    best: Scope | None = None
    for grant in actor.grants:
        if grant.matches(action, app_key, form_key) and (
            best is None or _SCOPE_RANK[grant.scope] > _SCOPE_RANK[best]
        ):
            best = grant.scope
    return best


FIELD_LEVELS: tuple[str, ...] = ("read_only", "hidden")


def field_permissions(
    actor: Actor, action: str, app_key: str, form_key: str
) -> dict[str, Literal["read_only"]]:
    """The fields the actor may not write with ``action`` on the form: those every grant that
    allows the action marks ``read_only`` or ``hidden`` (one grant that leaves a field writable is
    enough)."""
    return dict.fromkeys(
        sorted(_limited(actor, action, app_key, form_key, FIELD_LEVELS)), "read_only"
    )


def hidden_fields(actor: Actor, app_key: str, form_key: str) -> frozenset[str]:
    """The fields of the form the actor may not read: those every grant that lets them read the
    form marks ``hidden`` (one grant that shows a field is enough). Administrators see all."""
    return _limited(actor, Action.READ.value, app_key, form_key, ("hidden",))


def _limited(
    actor: Actor, action: str, app_key: str, form_key: str, levels: Iterable[str]
) -> frozenset[str]:
    if actor.is_admin:
        return frozenset()
    wanted = frozenset(levels)
    rules = [
        {k for k, level in g.field_rules if level in wanted}
        for g in actor.grants
        if g.matches(action, app_key, form_key)
    ]
    if not rules:
        return frozenset()
    return frozenset(rules[0].intersection(*rules[1:]))


def can_read_app(actor: Actor, app_key: str) -> bool:
    """Whether the actor holds any grant on the app (enough to see it and its definitions)."""
    return actor.is_admin or any(g.app_key in {"*", app_key} for g in actor.grants)


def require_design(actor: Actor, app_key: str) -> None:
    """Refuse unless the actor may change the app's definitions."""
    if scope_for(actor, Action.DESIGN, app_key) is None:
        raise PermissionDenied(
            f"you may not change the definitions of app {app_key!r}", code="permission.design"
        )


def group_subtree(session: Session, roots: Iterable[int]) -> frozenset[int]:
    """``roots`` and every group below them in the tree."""
    children: dict[int | None, list[int]] = {}
    for gid, parent in session.execute(select(Group.id, Group.parent_id)):
        children.setdefault(parent, []).append(gid)
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        gid = stack.pop()
        if gid in seen:
            continue
        seen.add(gid)
        stack.extend(children.get(gid, ()))
    return frozenset(seen)


def check_record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    app_key: str,
    form_key: str,
    owner_id: int | None,
    group_id: int | None,
) -> None:
    """Refuse unless the actor's grants reach this record for ``action``.

    Scope ``own`` reaches records the actor owns; ``group`` also reaches records filed under one of
    the actor's groups or a group below them; ``all`` reaches every record of the form.
    """
    scope = scope_for(actor, action, app_key, form_key)
    if scope is Scope.ALL:
        return
    if scope is not None:
        if owner_id is not None and owner_id == actor.user_id:
            return
        if (
            scope is Scope.GROUP
            and group_id is not None
            and group_id in group_subtree(session, actor.group_ids)
        ):
            return
    raise PermissionDenied(
        f"you may not {action} this record of form {form_key!r}", code="permission.record"
    )
