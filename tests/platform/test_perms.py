"""Grants resolve to scopes, and record checks honour own / group (with subgroups) / all."""

from __future__ import annotations

import pytest

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import (
    Actor,
    GrantRule,
    can_read_app,
    check_record,
    load_actor,
    require_design,
    scope_for,
)
from tangram.platform.kernel.errors import PermissionDenied
from tangram.platform.kernel.models import Scope, User
from tests.conftest import make_user


def _actor(*grants: GrantRule, groups: frozenset[int] = frozenset()) -> Actor:
    return Actor(user_id=7, username="u", grants=grants, group_ids=groups)


def test_scope_is_the_widest_matching_grant() -> None:
    actor = _actor(
        GrantRule("aftersales", "ticket", frozenset({"read"}), Scope.OWN),
        GrantRule("aftersales", "*", frozenset({"read"}), Scope.GROUP),
        GrantRule("crm", "*", frozenset({"read"}), Scope.ALL),
    )
    assert scope_for(actor, "read", "aftersales", "ticket") is Scope.GROUP
    assert scope_for(actor, "read", "crm", "lead") is Scope.ALL
    assert scope_for(actor, "update", "aftersales", "ticket") is None
    assert scope_for(actor, "read", "hr", "leave") is None


def test_wildcard_app_grant_covers_every_app() -> None:
    actor = _actor(GrantRule("*", "*", frozenset({"read", "design"}), Scope.ALL))
    assert scope_for(actor, "read", "anything", "form") is Scope.ALL
    assert can_read_app(actor, "anything")
    require_design(actor, "anything")


def test_design_is_refused_when_only_read_is_granted() -> None:
    actor = _actor(GrantRule("aftersales", "*", frozenset({"read"}), Scope.ALL))
    assert can_read_app(actor, "aftersales")
    assert not can_read_app(actor, "crm")
    with pytest.raises(PermissionDenied):
        require_design(actor, "aftersales")


def test_admin_has_every_scope_without_grants() -> None:
    admin = Actor(user_id=1, username="admin", is_admin=True)
    assert scope_for(admin, "delete", "aftersales", "ticket") is Scope.ALL


def test_record_check_follows_scope_when_owner_and_group_vary(
    platform: Platform, system: Actor
) -> None:
    with platform.unit_of_work() as uow:
        service = groups.create_group(uow, system, key="service", name="Service")
        line_a = groups.create_group(uow, system, key="line_a", name="A", parent_id=service.id)
        other = groups.create_group(uow, system, key="sales", name="Sales")
        uow.commit()
    own = _actor(
        GrantRule("app", "ticket", frozenset({"read"}), Scope.OWN), groups=frozenset({service.id})
    )
    grp = _actor(
        GrantRule("app", "ticket", frozenset({"read"}), Scope.GROUP), groups=frozenset({service.id})
    )
    with platform.unit_of_work(write=False) as uow:

        def allowed(actor: Actor, owner: int | None, group: int | None) -> bool:
            try:
                check_record(
                    uow.session,
                    actor,
                    "read",
                    app_key="app",
                    form_key="ticket",
                    owner_id=owner,
                    group_id=group,
                )
            except PermissionDenied:
                return False
            return True

        assert allowed(own, 7, None)
        assert not allowed(own, 8, service.id)
        assert allowed(grp, 8, service.id)
        assert allowed(grp, 8, line_a.id)  # a subgroup of the actor's group
        assert not allowed(grp, 8, other.id)
        assert not allowed(grp, 8, None)
        assert not allowed(_actor(), 7, service.id)  # no grant at all, not even on own records


def test_loaded_actor_carries_roles_grants_and_groups(platform: Platform, system: Actor) -> None:
    user: User = make_user(platform, "mia")
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, system, key="agent", name="Agent")
        roles.add_grant(
            uow,
            system,
            role.id,
            app_key="aftersales",
            form_key="ticket",
            actions=["read", "update"],
            scope="group",
        )
        users.assign_role(uow, system, user_id=user.id, role_id=role.id)
        group = groups.create_group(uow, system, key="desk", name="Desk")
        groups.add_member(uow, system, group_id=group.id, user_id=user.id)
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        fresh = uow.session.get(User, user.id)
        assert fresh is not None
        actor = load_actor(uow.session, fresh, via="session")
    assert actor.roles == frozenset({"agent"})
    assert not actor.is_admin
    assert actor.group_ids == frozenset({group.id})
    assert scope_for(actor, "update", "aftersales", "ticket") is Scope.GROUP
    assert scope_for(actor, "delete", "aftersales", "ticket") is None


def test_non_admin_services_are_refused_for_plain_users(platform: Platform) -> None:
    plain = Actor(user_id=99, username="plain")
    with platform.unit_of_work() as uow, pytest.raises(PermissionDenied):
        roles.create_role(uow, plain, key="x", name="X")
