"""Users, groups (a tree with managers), memberships, roles, grants and role assignments.

Every change is checked (administrators only), validated, audited and optimistic-locked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tangram.platform.identity.auth import hash_password
from tangram.platform.identity.perms import ACTIONS, ADMIN_ROLE, Actor, require_admin
from tangram.platform.kernel.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from tangram.platform.kernel.models import (
    Grant,
    Group,
    Membership,
    Role,
    RoleAssignment,
    Scope,
    User,
)
from tangram.platform.kernel.uow import UnitOfWork

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LOCALES = ("zh-CN", "en")


def _invalid(path: str, message: str, detail: str | None = None) -> ValidationFailed:
    return ValidationFailed(
        detail or f"{path}: {message}", errors=[{"path": path, "message": message}]
    )


def check_lock(
    obj: Any, lock_version: int | None, current: Mapping[str, Any] | None = None
) -> None:
    """Refuse a write based on a lock version that is no longer current."""
    if lock_version is not None and lock_version != obj.lock_version:
        raise StaleVersion(
            f"Someone else changed this {type(obj).__name__.lower()} (your version "
            f"{lock_version}, current {obj.lock_version}). Reload and apply your change again.",
            current=current,
            current_version=obj.lock_version,
        )


# --- users -------------------------------------------------------------------------------------


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
    wanted_users, wanted_groups = set(users), set(groups)
    user_names: dict[int, str] = {}
    if wanted_users:
        query = select(User.id, User.display_name).where(User.id.in_(wanted_users))
        user_names = {int(i): str(n) for i, n in uow.session.execute(query)}
    group_names: dict[int, str] = {}
    if wanted_groups:
        query = select(Group.id, Group.name).where(Group.id.in_(wanted_groups))
        group_names = {int(i): str(n) for i, n in uow.session.execute(query)}
    return user_names, group_names


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
        raise _invalid(
            "username",
            "use 2–64 lowercase letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
            "The user name is not valid.",
        )
    if locale not in LOCALES:
        raise _invalid("locale", f"must be one of {', '.join(LOCALES)}")
    if find_user(uow, name) is not None:
        raise Conflict(f"A user named {name!r} already exists.", code="user.duplicate")
    user = User(
        username=name,
        display_name=(display_name or name).strip() or name,
        email=email,
        password_hash=hash_password(password) if password is not None else None,
        locale=locale,
        is_active=True,
        session_epoch=0,
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
    oneself for display name, e-mail and locale)."""
    user = get_user(uow, user_id)
    own_fields = {"display_name", "email", "locale"}
    if not (actor.is_admin or (actor.user_id == user_id and set(changes) <= own_fields)):
        require_admin(actor, "change other users, passwords or activity")
    check_lock(user, lock_version)
    if "locale" in changes and changes["locale"] not in LOCALES:
        raise _invalid("locale", f"must be one of {', '.join(LOCALES)}")
    for field in ("display_name", "email", "locale"):
        if field in changes:
            setattr(user, field, changes[field])
    if "is_active" in changes and bool(changes["is_active"]) != user.is_active:
        if actor.user_id == user.id and not changes["is_active"]:
            raise _invalid("is_active", "you cannot deactivate your own account")
        user.is_active = bool(changes["is_active"])
        user.session_epoch += 1
    if "skills" in changes:
        user.skills = sorted(set(changes["skills"]))
    if changes.get("password") is not None:
        user.password_hash = hash_password(changes["password"])
        user.session_epoch += 1
    user.updated_at = uow.now
    audited = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        audited["password"] = "(changed)"  # noqa: S105 - a marker, never the password
    uow.audit(actor.user_id, actor.label, "user.updated", "user", user.id, audited)
    uow.flush()
    return user


# --- groups ------------------------------------------------------------------------------------


def get_group(uow: UnitOfWork, group_id: int) -> Group:
    """A group by id."""
    group = uow.session.get(Group, group_id)
    if group is None:
        raise NotFound(f"Group {group_id} does not exist.", code="group.not_found")
    return group


def list_groups(uow: UnitOfWork) -> list[Group]:
    """Every group (the tree is small enough to send whole)."""
    return list(uow.session.scalars(select(Group).order_by(Group.id)))


def _check_parent(uow: UnitOfWork, group_id: int | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = uow.session.get(Group, parent_id)
    if parent is None:
        raise _invalid("parent_id", f"group {parent_id} does not exist")
    seen: set[int] = set()
    cursor: Group | None = parent
    while cursor is not None:
        if cursor.id == group_id:
            raise _invalid("parent_id", "a group cannot be placed under itself or its own subgroup")
        if cursor.id in seen:
            break
        seen.add(cursor.id)
        cursor = uow.session.get(Group, cursor.parent_id) if cursor.parent_id else None


def _check_manager(uow: UnitOfWork, manager_id: int | None) -> None:
    if manager_id is not None and uow.session.get(User, manager_id) is None:
        raise _invalid("manager_id", f"user {manager_id} does not exist")


def create_group(
    uow: UnitOfWork,
    actor: Actor,
    *,
    key: str,
    name: str,
    parent_id: int | None = None,
    manager_id: int | None = None,
) -> Group:
    """Create an org unit under ``parent_id`` (administrators only)."""
    require_admin(actor, "create groups")
    if not KEY.match(key):
        raise _invalid("key", "use a lowercase letter, then lowercase letters, digits or '_'")
    if uow.session.scalar(select(Group.id).where(Group.key == key)) is not None:
        raise Conflict(f"A group with key {key!r} already exists.", code="group.duplicate")
    _check_parent(uow, None, parent_id)
    _check_manager(uow, manager_id)
    group = Group(
        key=key,
        name=name,
        parent_id=parent_id,
        manager_id=manager_id,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(group)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "group.created",
        "group",
        group.id,
        {"key": key, "name": name, "parent_id": parent_id, "manager_id": manager_id},
    )
    return group


def update_group(
    uow: UnitOfWork, actor: Actor, group_id: int, changes: Mapping[str, Any], *, lock_version: int
) -> Group:
    """Rename, move (no cycles) or change the manager of a group."""
    require_admin(actor, "change groups")
    group = get_group(uow, group_id)
    check_lock(group, lock_version)
    if "parent_id" in changes:
        _check_parent(uow, group.id, changes["parent_id"])
        group.parent_id = changes["parent_id"]
    if "manager_id" in changes:
        _check_manager(uow, changes["manager_id"])
        group.manager_id = changes["manager_id"]
    if "name" in changes:
        group.name = changes["name"]
    group.updated_at = uow.now
    uow.audit(actor.user_id, actor.label, "group.updated", "group", group.id, dict(changes))
    uow.flush()
    return group


def delete_group(uow: UnitOfWork, actor: Actor, group_id: int, *, lock_version: int) -> None:
    """Delete an empty leaf group."""
    require_admin(actor, "delete groups")
    group = get_group(uow, group_id)
    check_lock(group, lock_version)
    if uow.session.scalar(select(Group.id).where(Group.parent_id == group_id).limit(1)):
        raise Conflict(
            "The group has subgroups: move or delete them first.", code="group.not_empty"
        )
    uow.session.execute(delete(Membership).where(Membership.group_id == group_id))
    uow.session.delete(group)
    try:
        uow.flush()
    except IntegrityError as exc:
        raise Conflict("The group is still referenced.", code="group.in_use") from exc
    uow.audit(actor.user_id, actor.label, "group.deleted", "group", group_id, {"key": group.key})


def group_members(uow: UnitOfWork, group_id: int) -> list[User]:
    """Members of one group."""
    get_group(uow, group_id)
    return list(
        uow.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id)
            .order_by(User.id)
        )
    )


def add_member(uow: UnitOfWork, actor: Actor, *, group_id: int, user_id: int) -> bool:
    """Put a user in a group; returns ``False`` when they already were."""
    require_admin(actor, "change group membership")
    get_group(uow, group_id)
    get_user(uow, user_id)
    if uow.session.get(Membership, (group_id, user_id)) is not None:
        return False
    uow.session.add(Membership(group_id=group_id, user_id=user_id, created_at=uow.now))
    uow.audit(
        actor.user_id, actor.label, "group.member_added", "group", group_id, {"user_id": user_id}
    )
    return True


def remove_member(uow: UnitOfWork, actor: Actor, *, group_id: int, user_id: int) -> None:
    """Take a user out of a group."""
    require_admin(actor, "change group membership")
    membership = uow.session.get(Membership, (group_id, user_id))
    if membership is None:
        raise NotFound(
            f"User {user_id} is not a member of group {group_id}.", code="membership.not_found"
        )
    uow.session.delete(membership)
    uow.audit(
        actor.user_id, actor.label, "group.member_removed", "group", group_id, {"user_id": user_id}
    )


# --- roles and grants ----------------------------------------------------------------------


def get_role(uow: UnitOfWork, role_id: int) -> Role:
    """A role by id."""
    role = uow.session.get(Role, role_id)
    if role is None:
        raise NotFound(f"Role {role_id} does not exist.", code="role.not_found")
    return role


def role_by_key(uow: UnitOfWork, key: str) -> Role:
    """A role by key."""
    role = uow.session.scalar(select(Role).where(Role.key == key))
    if role is None:
        raise NotFound(f"Role {key!r} does not exist.", code="role.not_found")
    return role


def list_roles(uow: UnitOfWork) -> list[Role]:
    """Every role."""
    return list(uow.session.scalars(select(Role).order_by(Role.id)))


def create_role(
    uow: UnitOfWork, actor: Actor, *, key: str, name: str, description: str = ""
) -> Role:
    """Create a role (administrators only)."""
    require_admin(actor, "create roles")
    if not KEY.match(key):
        raise _invalid("key", "use a lowercase letter, then lowercase letters, digits or '_'")
    if uow.session.scalar(select(Role.id).where(Role.key == key)) is not None:
        raise Conflict(f"A role with key {key!r} already exists.", code="role.duplicate")
    role = Role(
        key=key,
        name=name,
        description=description,
        is_system=False,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(role)
    uow.flush()
    uow.audit(actor.user_id, actor.label, "role.created", "role", role.id, {"key": key})
    return role


def update_role(
    uow: UnitOfWork, actor: Actor, role_id: int, changes: Mapping[str, Any], *, lock_version: int
) -> Role:
    """Rename or describe a role."""
    require_admin(actor, "change roles")
    role = get_role(uow, role_id)
    check_lock(role, lock_version)
    for field in ("name", "description"):
        if field in changes:
            setattr(role, field, changes[field])
    role.updated_at = uow.now
    uow.audit(actor.user_id, actor.label, "role.updated", "role", role.id, dict(changes))
    uow.flush()
    return role


def delete_role(uow: UnitOfWork, actor: Actor, role_id: int, *, lock_version: int) -> None:
    """Delete a role with its grants and assignments; system roles stay."""
    require_admin(actor, "delete roles")
    role = get_role(uow, role_id)
    check_lock(role, lock_version)
    if role.is_system:
        raise Conflict(f"The system role {role.key!r} cannot be deleted.", code="role.system")
    uow.session.execute(delete(Grant).where(Grant.role_id == role_id))
    uow.session.execute(delete(RoleAssignment).where(RoleAssignment.role_id == role_id))
    uow.session.delete(role)
    uow.audit(actor.user_id, actor.label, "role.deleted", "role", role_id, {"key": role.key})


def role_grants(uow: UnitOfWork, role_id: int) -> list[Grant]:
    """The grants of one role."""
    get_role(uow, role_id)
    return list(
        uow.session.scalars(select(Grant).where(Grant.role_id == role_id).order_by(Grant.id))
    )


def add_grant(
    uow: UnitOfWork,
    actor: Actor,
    role_id: int,
    *,
    app_key: str = "*",
    form_key: str = "*",
    actions: Iterable[str],
    scope: str = Scope.ALL.value,
) -> Grant:
    """Let a role do ``actions`` on an app's forms (``*`` for any) within ``scope``."""
    require_admin(actor, "change grants")
    role = get_role(uow, role_id)
    acts = sorted(set(actions))
    errors = []
    if not acts:
        errors.append({"path": "actions", "message": "name at least one action"})
    unknown = [a for a in acts if a not in ACTIONS]
    if unknown:
        errors.append(
            {
                "path": "actions",
                "message": f"unknown {', '.join(unknown)}; use {', '.join(ACTIONS)}",
            }
        )
    if scope not in {s.value for s in Scope}:
        errors.append({"path": "scope", "message": "must be own, group or all"})
    for path, value in (("app_key", app_key), ("form_key", form_key)):
        if value != "*" and not KEY.match(value):
            errors.append({"path": path, "message": "must be '*' or a snake_case key"})
    if errors:
        raise ValidationFailed("The grant is not valid.", errors=errors)
    if (
        uow.session.scalar(
            select(Grant.id).where(
                Grant.role_id == role_id, Grant.app_key == app_key, Grant.form_key == form_key
            )
        )
        is not None
    ):
        raise Conflict(
            f"Role {role.key!r} already has a grant on {app_key}/{form_key}; delete it first.",
            code="grant.duplicate",
        )
    grant = Grant(
        role_id=role_id,
        app_key=app_key,
        form_key=form_key,
        actions=acts,
        scope=scope,
        created_at=uow.now,
    )
    uow.session.add(grant)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "role.grant_added",
        "role",
        role_id,
        {
            "grant_id": grant.id,
            "app_key": app_key,
            "form_key": form_key,
            "actions": acts,
            "scope": scope,
        },
    )
    return grant


def remove_grant(uow: UnitOfWork, actor: Actor, role_id: int, grant_id: int) -> None:
    """Delete one grant of a role."""
    require_admin(actor, "change grants")
    grant = uow.session.get(Grant, grant_id)
    if grant is None or grant.role_id != role_id:
        raise NotFound(f"Role {role_id} has no grant {grant_id}.", code="grant.not_found")
    uow.session.delete(grant)
    uow.audit(
        actor.user_id, actor.label, "role.grant_removed", "role", role_id, {"grant_id": grant_id}
    )


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
        admins = uow.session.scalar(
            select(func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.role_id == role_id)
        )
        if (admins or 0) <= 1:
            raise Conflict(
                "This is the last administrator; appoint another one first.", code="role.last_admin"
            )
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
