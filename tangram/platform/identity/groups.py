"""Groups: the organisation tree with managers, and its memberships.

Every change is checked (administrators only), validated, audited and optimistic-locked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.identity.users import get_user
from tangram.platform.kernel.errors import Conflict, NotFound, ValidationFailed, check_lock
from tangram.platform.kernel.models import (
    Group,
    Membership,
    User,
)
from tangram.platform.kernel.names import KEY, KEY_HINT
from tangram.platform.kernel.uow import UnitOfWork


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
        raise ValidationFailed.at("parent_id", f"group {parent_id} does not exist")
    seen: set[int] = set()
    cursor: Group | None = parent
    while cursor is not None:
        if cursor.id == group_id:
            raise ValidationFailed.at(
                "parent_id", "a group cannot be placed under itself or its own subgroup"
            )
        if cursor.id in seen:
            break
        seen.add(cursor.id)
        cursor = uow.session.get(Group, cursor.parent_id) if cursor.parent_id else None


def _check_manager(uow: UnitOfWork, manager_id: int | None) -> None:
    if manager_id is not None and uow.session.get(User, manager_id) is None:
        raise ValidationFailed.at("manager_id", f"user {manager_id} does not exist")


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
        raise ValidationFailed.at("key", KEY_HINT)
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
