"""Users: accounts, their profiles and the first administrator.

Every change is checked (administrators only), validated, audited and optimistic-locked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select

from tangram.platform.identity.auth import hash_password
from tangram.platform.identity.perms import ADMIN_ROLE, Actor, require_admin
from tangram.platform.identity.roles import get_role, role_by_key
from tangram.platform.identity.sessions import end_user_sessions
from tangram.platform.kernel.errors import Conflict, NotFound, ValidationFailed, check_lock
from tangram.platform.kernel.models import (
    Group,
    Membership,
    Role,
    RoleAssignment,
    SessionEnd,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


LOCALES = ("zh-CN", "en")


def get_user(uow: UnitOfWork, user_id: int) -> User:
    """A user by id."""
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.", code="user.not_found")
    return user


def find_user(uow: UnitOfWork, username: str) -> User | None:
    """A user by name (case-insensitive)."""
    return uow.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def list_users(
    uow: UnitOfWork, *, after: int = 0, limit: int = 100, q: str | None = None
) -> list[User]:
    """Users by id (keyset paging), optionally matching ``q`` in name or display name."""
    query = select(User).where(User.id > after)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            func.lower(User.username).like(like) | func.lower(User.display_name).like(like)
        )
    return list(uow.session.scalars(query.order_by(User.id).limit(limit)))


def users_by_ids(uow: UnitOfWork, ids: Sequence[int]) -> list[User]:
    """The users with these ids (one query; none for no ids)."""
    if not ids:
        return []
    return list(uow.session.scalars(select(User).where(User.id.in_(list(ids))).order_by(User.id)))


def names_of(
    uow: UnitOfWork, *, users: Iterable[int] = (), groups: Iterable[int] = ()
) -> tuple[dict[int, str], dict[int, str]]:
    """Users' display names and groups' names by id (a query for each kind asked for), for
    reports and exports that show people instead of ids."""
    wanted_users, wanted_groups = sorted(set(users)), sorted(set(groups))
    user_names: dict[int, str] = {}
    if wanted_users:
        found = uow.session.execute(_USER_NAMES, {"ids": wanted_users})
        user_names = {int(i): str(n) for i, n in found}
    group_names: dict[int, str] = {}
    if wanted_groups:
        found = uow.session.execute(_GROUP_NAMES, {"ids": wanted_groups})
        group_names = {int(i): str(n) for i, n in found}
    return user_names, group_names


#: Built once: a dashboard names the people of several widgets at every request.
_USER_NAMES = select(User.id, User.display_name).where(
    User.id.in_(bindparam("ids", expanding=True))
)
_GROUP_NAMES = select(Group.id, Group.name).where(Group.id.in_(bindparam("ids", expanding=True)))


def create_user(
    uow: UnitOfWork,
    actor: Actor,
    *,
    username: str,
    display_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
    locale: str = "zh-CN",
    roles: Iterable[str] = (),
) -> User:
    """Create an account (administrators only)."""
    require_admin(actor, "create users")
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise ValidationFailed.at(
            "username",
            "use 2–64 lowercase letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
            "The user name is not valid.",
        )
    if locale not in LOCALES:
        raise ValidationFailed.at("locale", f"must be one of {', '.join(LOCALES)}")
    if find_user(uow, name) is not None:
        raise Conflict(f"A user named {name!r} already exists.", code="user.duplicate")
    user = User(
        username=name,
        display_name=(display_name or name).strip() or name,
        email=email,
        password_hash=hash_password(uow, password) if password is not None else None,
        locale=locale,
        is_active=True,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(user)
    uow.flush()
    for role_key in roles:
        assign_role(uow, actor, role_key=role_key, user_id=user.id)
    uow.audit(
        actor.user_id,
        actor.label,
        "user.created",
        "user",
        user.id,
        {"username": name, "roles": sorted(roles)},
    )
    return user


def update_user(
    uow: UnitOfWork, actor: Actor, user_id: int, changes: Mapping[str, Any], *, lock_version: int
) -> User:
    """Change display name, e-mail, locale, skills, activity or password (administrators, or
    oneself for display name, e-mail and locale). Deactivating the account or setting its
    password ends all its sessions."""
    user = get_user(uow, user_id)
    own_fields = {"display_name", "email", "locale"}
    if not (actor.is_admin or (actor.user_id == user_id and set(changes) <= own_fields)):
        require_admin(actor, "change other users, passwords or activity")
    check_lock(user, lock_version)
    if "locale" in changes and changes["locale"] not in LOCALES:
        raise ValidationFailed.at("locale", f"must be one of {', '.join(LOCALES)}")
    for field in ("display_name", "email", "locale"):
        if field in changes:
            setattr(user, field, changes[field])
    if "is_active" in changes and bool(changes["is_active"]) != user.is_active:
        if actor.user_id == user.id and not changes["is_active"]:
            raise ValidationFailed.at("is_active", "you cannot deactivate your own account")
        if not changes["is_active"]:
            _keep_an_active_admin(uow, losing=user.id)
        user.is_active = bool(changes["is_active"])
        if not user.is_active:
            end_user_sessions(uow, user.id, SessionEnd.DEACTIVATED)
    if "skills" in changes:
        user.skills = sorted(set(changes["skills"]))
    if changes.get("password") is not None:
        user.password_hash = hash_password(uow, changes["password"])
        own = actor.session_id if actor.user_id == user.id else None
        end_user_sessions(uow, user.id, SessionEnd.PASSWORD_CHANGED, keep=own)
    user.updated_at = uow.now
    audited = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        audited["password"] = "(changed)"  # noqa: S105 - a marker, never the password
    uow.audit(actor.user_id, actor.label, "user.updated", "user", user.id, audited)
    uow.flush()
    return user


def memberships(uow: UnitOfWork, user_id: int) -> tuple[list[int], list[int]]:
    """The ids of the roles a user holds and of the groups they belong to."""
    get_user(uow, user_id)
    roles = uow.session.scalars(
        select(RoleAssignment.role_id).where(RoleAssignment.user_id == user_id)
    )
    groups = uow.session.scalars(select(Membership.group_id).where(Membership.user_id == user_id))
    return sorted(roles), sorted(groups)


def role_members(uow: UnitOfWork, role_id: int) -> list[User]:
    """Users holding one role."""
    get_role(uow, role_id)
    return list(
        uow.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role_id == role_id)
            .order_by(User.id)
        )
    )


def assign_role(
    uow: UnitOfWork,
    actor: Actor,
    *,
    user_id: int,
    role_id: int | None = None,
    role_key: str | None = None,
) -> bool:
    """Give a user a role (by id or key); ``False`` when they already held it."""
    require_admin(actor, "assign roles")
    role = get_role(uow, role_id) if role_id is not None else role_by_key(uow, role_key or "")
    get_user(uow, user_id)
    if uow.session.get(RoleAssignment, (role.id, user_id)) is not None:
        return False
    uow.session.add(RoleAssignment(role_id=role.id, user_id=user_id, created_at=uow.now))
    uow.audit(actor.user_id, actor.label, "role.assigned", "role", role.id, {"user_id": user_id})
    return True


def _keep_an_active_admin(uow: UnitOfWork, *, losing: int) -> None:
    """Refuse a change that would leave no active administrator: ``losing`` is about to lose the
    role or be deactivated. The administrator role's row is locked first, so two such changes at
    once are decided one after the other (PostgreSQL; SQLite runs one writer at a time)."""
    admin = uow.session.scalar(select(Role).where(Role.key == ADMIN_ROLE).with_for_update())
    if admin is None:
        return
    holds = uow.session.get(RoleAssignment, (admin.id, losing)) is not None
    if not holds:
        return
    others = uow.session.scalar(
        select(func.count())
        .select_from(RoleAssignment)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role_id == admin.id, User.is_active, User.id != losing)
    )
    if not others:
        raise Conflict(
            "This is the last active administrator; appoint or reactivate another one first.",
            code="role.last_admin",
        )


def unassign_role(uow: UnitOfWork, actor: Actor, *, role_id: int, user_id: int) -> None:
    """Take a role from a user; the last administrator keeps theirs."""
    require_admin(actor, "assign roles")
    role = get_role(uow, role_id)
    assignment = uow.session.get(RoleAssignment, (role_id, user_id))
    if assignment is None:
        raise NotFound(
            f"User {user_id} does not hold role {role.key!r}.", code="role_assignment.not_found"
        )
    if role.key == ADMIN_ROLE:
        _keep_an_active_admin(uow, losing=user_id)
    uow.session.delete(assignment)
    uow.audit(actor.user_id, actor.label, "role.unassigned", "role", role_id, {"user_id": user_id})


def ensure_admin(uow: UnitOfWork, *, username: str, password: str) -> tuple[User, bool]:
    """Create the first administrator unless ``username`` exists; returns (user, created)."""
    system = Actor.system("setup")
    existing = find_user(uow, username)
    if existing is not None:
        return existing, False
    try:
        role_by_key(uow, ADMIN_ROLE)
    except NotFound:
        uow.session.add(
            Role(
                key=ADMIN_ROLE,
                name="Administrator",
                is_system=True,
                description="May do everything, in every app.",
                created_at=uow.now,
                updated_at=uow.now,
            )
        )
        uow.flush()
    user = create_user(
        uow,
        system,
        username=username,
        display_name="Administrator",
        password=password,
        roles=[ADMIN_ROLE],
    )
    return user, True
