"""Roles: their grants on apps and forms, and who holds them.

Every change is checked (administrators only), validated, audited and optimistic-locked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, select

from tangram.platform.identity.perms import (
    ACTIONS,
    ADMIN_ROLE,
    FIELD_LEVELS,
    Actor,
    grant_rule,
    require_admin,
)
from tangram.platform.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    check_lock,
)
from tangram.platform.kernel.models import (
    Grant,
    Role,
    RoleAssignment,
    Scope,
)
from tangram.platform.kernel.names import KEY, KEY_HINT
from tangram.platform.kernel.uow import UnitOfWork


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


def acting_as(uow: UnitOfWork, actor: Actor, role_key: str) -> Actor:
    """``actor`` seen through one role only, to preview what its holders see: the role's grants,
    the actor's own user and groups (so "own" and "group" scopes mean theirs), administrator
    rights only for the administrators' role. Administrators may act as any role; anyone else
    only as a role they hold, so a preview never shows them more than they may read."""
    role = role_by_key(uow, role_key)
    if not actor.is_admin and role_key not in actor.roles:
        raise PermissionDenied(
            f"Only administrators preview as a role they do not hold ({role_key!r}).",
            code="permission.role",
        )
    grants = tuple(grant_rule(g) for g in role_grants(uow, role.id))
    return replace(
        actor, is_admin=role_key == ADMIN_ROLE, grants=grants, roles=frozenset({role_key})
    )


def list_roles(uow: UnitOfWork) -> list[Role]:
    """Every role."""
    return list(uow.session.scalars(select(Role).order_by(Role.id)))


def create_role(
    uow: UnitOfWork, actor: Actor, *, key: str, name: str, description: str = ""
) -> Role:
    """Create a role (administrators only)."""
    require_admin(actor, "create roles")
    if not KEY.match(key):
        raise ValidationFailed.at("key", KEY_HINT)
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
    field_rules: Mapping[str, str] | None = None,
) -> Grant:
    """Let a role do ``actions`` on an app's forms (``*`` for any) within ``scope``;
    ``field_rules`` names fields of the form its holders may not write (``read_only``) or may
    neither read nor write (``hidden``)."""
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
    rules = dict(field_rules or {})
    errors += _rule_problems(rules, form_key)
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
        field_rules=rules,
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
            **({"field_rules": rules} if rules else {}),
        },
    )
    return grant


def _rule_problems(rules: Mapping[str, str], form_key: str) -> list[dict[str, str]]:
    errors = []
    for key, level in rules.items():
        if not KEY.match(key):
            errors.append({"path": f"field_rules/{key}", "message": "must be a field key"})
        elif level not in FIELD_LEVELS:
            errors.append(
                {"path": f"field_rules/{key}", "message": f"must be {' or '.join(FIELD_LEVELS)}"}
            )
    if rules and form_key == "*":
        errors.append({"path": "field_rules", "message": "name the form the fields belong to"})
    return errors


def set_field_rules(
    uow: UnitOfWork, actor: Actor, role_id: int, grant_id: int, field_rules: Mapping[str, str]
) -> Grant:
    """Replace the field rules of one grant of a role (its actions and scope stay)."""
    require_admin(actor, "change grants")
    grant = uow.session.get(Grant, grant_id)
    if grant is None or grant.role_id != role_id:
        raise NotFound(f"Role {role_id} has no grant {grant_id}.", code="grant.not_found")
    rules = dict(sorted(field_rules.items()))
    errors = _rule_problems(rules, grant.form_key)
    if errors:
        raise ValidationFailed("The field rules are not valid.", errors=errors)
    before = dict(grant.field_rules or {})
    if before == rules:
        return grant
    grant.field_rules = rules
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "role.field_rules_set",
        "role",
        role_id,
        {"grant_id": grant.id, "form_key": grant.form_key, "before": before, "after": rules},
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
