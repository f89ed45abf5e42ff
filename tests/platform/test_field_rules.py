"""Who may write which fields: flow-only fields (only flows and rules write them) and roles'
field rules (fields a grant does not let its holders write)."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.platform import flows, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.identity.perms import Actor, GrantRule, field_permissions, load_actor
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import Record, Scope, Task, User
from tangram.platform.records.listing import Filter
from tests.platform.rules_fixtures import SYSTEM, World, build_world, field, rule, text

CASE = {
    "key": "case",
    "label": text("case"),
    "fields": [
        field("title", "text"),
        field("note", "text"),
        field("status", "text", flow_only=True, default="open"),
        field("csat", "integer", flow_only=True),
    ],
}
CLOSING = {
    "key": "closing",
    "label": text("closing"),
    "form": "case",
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "callback",
            "type": "fill",
            "assignees": {"initiator": True},
            "permissions": {"csat": "editable"},
        },
        {"id": "end", "type": "end"},
    ],
    "edges": [{"from": "start", "to": "callback"}, {"from": "callback", "to": "end"}],
}
UPDATER = GrantRule("svc", "case", frozenset({"create", "read", "update"}), Scope.ALL)


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", CASE)
    return w


def agent(world: World, *grants: GrantRule) -> Actor:
    return Actor(user_id=world.users["ann"], username="ann", grants=grants or (UPDATER,))


def patch(world: World, who: Actor, record: Record, changes: dict[str, Any]) -> Record:
    with world.platform.unit_of_work() as uow:
        current = uow.session.get(Record, record.id)
        assert current is not None
        written = records.update_record(
            uow, who, "svc", "case", record.id, changes, lock_version=current.lock_version
        )
        uow.commit()
    return written.record


def test_flow_only_fields_are_written_by_flows_and_rules_not_by_a_plain_write(
    world: World,
) -> None:
    ann = agent(world)
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as caught:
        records.create_record(uow, ann, "svc", "case", {"title": "t", "status": "closed"})
    assert [(e["path"], e["code"]) for e in caught.value.errors] == [
        ("status", "permission.flow_only")
    ]
    record = world.create({"title": "noise"}, form="case")  # SYSTEM: the status defaults
    assert record.data["status"] == "open"
    with pytest.raises(ValidationFailed) as caught:
        patch(world, ann, record, {"status": "closed", "csat": 5, "note": "done"})
    assert sorted(e["path"] for e in caught.value.errors) == ["csat", "status"]
    assert patch(world, ann, record, {"note": "called back"}).data["note"] == "called back"
    admin = Actor(user_id=world.users["meg"], username="meg", is_admin=True)
    assert patch(world, admin, record, {"status": "checked"}).data["status"] == "checked"
    # a rule writes it
    world.publish(
        "rule",
        rule(
            "close",
            form="case",
            trigger="record_updated",
            condition={"==": [{"var": "note"}, "resolved"]},
            actions=[{"type": "set_fields", "values": {"status": "closed"}}],
        ),
    )
    assert world.get(patch(world, ann, record, {"note": "resolved"}).id).data["status"] == "closed"


def test_a_flow_task_writes_the_flow_only_fields_its_node_permits(world: World) -> None:
    world.publish("flow", CLOSING)
    record = world.create({"title": "noise"}, form="case")
    meg = Actor(user_id=world.users["meg"], username="meg", is_admin=True)
    with world.platform.unit_of_work() as uow:
        flows.start(uow, world.platform.settings, meg, "svc", "closing", record.id)
        uow.commit()
    with world.platform.unit_of_work() as uow:
        task = uow.session.query(Task).filter(Task.status == "open").one()
        flows.act(
            uow,
            world.platform.settings,
            Actor(user_id=world.users["meg"], username="meg", grants=(UPDATER,)),
            task.id,
            flows.TaskCommand("submit", data={"csat": 5}, lock_version=record.lock_version),
        )
        uow.commit()
    assert world.get(record.id).data["csat"] == 5


def test_a_roles_field_rules_keep_its_holders_from_writing_those_fields(
    world: World, platform: Platform
) -> None:
    world.revoke_staff("bob")  # the world's wider role would lift the rule
    with platform.unit_of_work() as uow:
        desk = roles.create_role(uow, SYSTEM, key="desk", name="Desk")
        roles.add_grant(
            uow,
            SYSTEM,
            desk.id,
            app_key="svc",
            form_key="case",
            actions=["read", "update"],
            field_rules={"note": "read_only"},
        )
        users.assign_role(uow, SYSTEM, role_id=desk.id, user_id=world.users["bob"])
        bob = load_actor(uow.session, uow.session.get(User, world.users["bob"]), via="test")
        uow.commit()
    assert field_permissions(bob, "update", "svc", "case") == {"note": "read_only"}
    record = world.create({"title": "noise"}, form="case")
    with pytest.raises(ValidationFailed) as caught:
        patch(world, bob, record, {"note": "mine"})
    assert caught.value.errors[0]["code"] == "permission.read_only"
    assert patch(world, bob, record, {"title": "loud"}).data["title"] == "loud"
    # one grant that leaves the field writable is enough
    wider = GrantRule("svc", "*", frozenset({"update"}), Scope.ALL)
    assert (
        field_permissions(Actor(1, "x", grants=(*bob.grants, wider)), "update", "svc", "case") == {}
    )


def test_field_rules_are_checked(world: World, platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        desk = roles.create_role(uow, SYSTEM, key="desk", name="Desk")
        with pytest.raises(ValidationFailed) as caught:
            roles.add_grant(
                uow,
                SYSTEM,
                desk.id,
                app_key="svc",
                form_key="*",
                actions=["update"],
                field_rules={"Note": "read_only", "title": "secret", "note": "hidden"},
            )
    assert sorted(e["path"] for e in caught.value.errors) == [
        "field_rules",
        "field_rules/Note",
        "field_rules/title",
    ]


def test_a_hidden_field_is_not_searched_for_its_holders(world: World, platform: Platform) -> None:
    world.revoke_staff("bob")
    with platform.unit_of_work() as uow:
        desk = roles.create_role(uow, SYSTEM, key="desk", name="Desk")
        roles.add_grant(
            uow,
            SYSTEM,
            desk.id,
            app_key="svc",
            form_key="case",
            actions=["read"],
            field_rules={"note": "hidden"},
        )
        users.assign_role(uow, SYSTEM, role_id=desk.id, user_id=world.users["bob"])
        bob = load_actor(uow.session, uow.session.get(User, world.users["bob"]), via="test")
        uow.commit()
    world.create({"title": "fan noise", "note": "secret supplier"}, form="case")

    def found(who: Actor, words: str) -> int:
        with platform.unit_of_work(write=False) as uow:
            page = records.list_records(
                uow, who, "svc", "case", filters=[Filter.parse("_q", [words])]
            )
            return len(page.items)

    assert found(bob, "fan") == 1
    assert found(bob, "supplier") == 0  # the search box would tell the hidden value
    assert found(SYSTEM, "supplier") == 1
