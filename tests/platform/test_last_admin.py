"""There is always an active administrator: removing the role from, or deactivating, the last
active one is refused, whoever asks and however the other administrators' accounts stand."""

from __future__ import annotations

import pytest

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import ADMIN_ROLE, Actor
from tangram.platform.identity.roles import role_by_key
from tangram.platform.kernel.errors import Conflict
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD

SYSTEM = Actor.system("test")


def admins(platform: Platform, *names: str) -> dict[str, int]:
    """Administrators ``names`` (the first one created by ensure_admin), by name."""
    ids = {}
    with platform.unit_of_work() as uow:
        first, _ = users.ensure_admin(uow, username=names[0], password=ADMIN_PASSWORD)
        ids[names[0]] = first.id
        for name in names[1:]:
            user = users.create_user(
                uow, SYSTEM, username=name, password=ADMIN_PASSWORD, roles=[ADMIN_ROLE]
            )
            ids[name] = user.id
        uow.commit()
    return ids


def deactivate(platform: Platform, user_id: int) -> None:
    with platform.unit_of_work() as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        users.update_user(
            uow, SYSTEM, user_id, {"is_active": False}, lock_version=user.lock_version
        )
        uow.commit()


def unassign(platform: Platform, user_id: int) -> None:
    with platform.unit_of_work() as uow:
        role = role_by_key(uow, ADMIN_ROLE)
        users.unassign_role(uow, SYSTEM, role_id=role.id, user_id=user_id)
        uow.commit()


def test_the_role_stays_with_the_last_active_administrator(platform: Platform) -> None:
    ids = admins(platform, "ada", "bob")
    deactivate(platform, ids["bob"])
    # two holders of the role, but bob's account is inactive: ada is the last active one
    with pytest.raises(Conflict) as refused:
        unassign(platform, ids["ada"])
    assert refused.value.code == "role.last_admin"
    # an inactive administrator may lose the role
    unassign(platform, ids["bob"])


def test_the_last_active_administrator_cannot_be_deactivated(platform: Platform) -> None:
    ids = admins(platform, "ada", "bob")
    deactivate(platform, ids["bob"])
    with pytest.raises(Conflict) as refused:
        deactivate(platform, ids["ada"])
    assert refused.value.code == "role.last_admin"
    with platform.unit_of_work(write=False) as uow:
        ada = uow.session.get(User, ids["ada"])
        assert ada is not None
        assert ada.is_active


def test_with_another_active_administrator_either_change_is_allowed(platform: Platform) -> None:
    ids = admins(platform, "ada", "bob", "cy")
    deactivate(platform, ids["cy"])
    unassign(platform, ids["bob"])
    # ada is now the only active administrator; cy (inactive) cannot stand in
    with pytest.raises(Conflict):
        deactivate(platform, ids["ada"])
