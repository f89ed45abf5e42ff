"""The records service: writes validated, computed, audited and announced; scopes; soft delete."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel import audit
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.uow import UnitOfWork
from tests.conftest import make_user

CUSTOMER = {
    "key": "customer",
    "label": {"zh-CN": "客户"},
    "fields": [{"key": "name", "type": "text", "label": {"zh-CN": "名称"}, "required": True}],
}
TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单"},
    "fields": [
        {
            "key": "ticket_no",
            "type": "serial",
            "label": {"zh-CN": "工单号"},
            "serial": "SV-{date:%Y%m%d}-{seq:4}",
        },
        {"key": "title", "type": "text", "label": {"zh-CN": "标题"}, "required": True},
        {"key": "description", "type": "rich_text", "label": {"zh-CN": "描述"}},
        {
            "key": "urgency",
            "type": "select",
            "label": {"zh-CN": "紧急度"},
            "default": "P3",
            "options": [{"value": v} for v in ("P1", "P2", "P3", "P4")],
        },
        {
            "key": "customer",
            "type": "reference",
            "label": {"zh-CN": "客户"},
            "reference": {"form": "customer", "display": "name"},
        },
        {"key": "hours", "type": "number", "label": {"zh-CN": "工时"}},
        {"key": "cost", "type": "money", "label": {"zh-CN": "费用"}},
        {
            "key": "rate",
            "type": "formula",
            "label": {"zh-CN": "时薪"},
            "formula": {"/": [{"var": "cost"}, {"var": "hours"}]},
        },
    ],
}


@pytest.fixture
def app(platform: Platform, system: Actor) -> str:
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, system, key="aftersales", name={"zh-CN": "售后"})
        for body in (CUSTOMER, TICKET):
            metadata.create_definition(uow, system, "aftersales", "form", body)
            metadata.publish(uow, system, "aftersales", "form", body["key"])
        uow.commit()
    return "aftersales"


def create(platform: Platform, actor: Actor, form: str, data: dict[str, Any]) -> records.Written:
    with platform.unit_of_work() as uow:
        written = records.create_record(uow, actor, "aftersales", form, data, lang="en")
        uow.commit()
    return written


def test_create_computes_validates_stores_audits_and_announces(
    platform: Platform, system: Actor, app: str
) -> None:
    seen: list[Event] = []
    platform.events.subscribe("record.created", lambda _uow, event: seen.append(event))
    customer = create(platform, system, "customer", {"name": "ACME"}).record
    written = create(
        platform,
        system,
        "ticket",
        {
            "title": "设备噪音超标",
            "description": '<p onclick="x()">吵<script>alert(1)</script></p>',
            "customer": customer.id,
            "cost": 300,
            "hours": 4,
        },
    )
    data = written.record.data
    assert data["ticket_no"] == "SV-20261122-0001"  # 09:00 in Asia/Shanghai on the test clock's day
    assert data["urgency"] == "P3"
    assert data["rate"] == 75
    assert data["description"] == "<p>吵</p>"
    assert written.record.form_version == 1
    assert [e.name for e in seen] == ["record.created", "record.created"]
    assert seen[1].payload["changes"]["title"] == [None, "设备噪音超标"]
    with platform.unit_of_work(write=False) as uow:
        entries = records.timeline(uow, system, app, "ticket", written.record.id)
        assert audit.verify(uow.session).ok
    assert [e.action for e in entries] == ["record.created"]


def test_invalid_record_is_refused_with_every_problem_and_nothing_stored(
    platform: Platform, system: Actor, app: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(
            platform,
            system,
            "ticket",
            {
                "urgency": "P9",
                "customer": 999,
                "ticket_no": "X-1",
                "bogus": 1,
                "cost": 10,
                "hours": 0,
            },
        )
    assert {(e["path"], e["code"]) for e in caught.value.errors} == {("ticket_no", "computed")}
    with pytest.raises(ValidationFailed) as caught:
        create(
            platform,
            system,
            "ticket",
            {"urgency": "P9", "customer": 999, "bogus": 1, "cost": 10, "hours": 0},
        )
    assert {(e["path"], e["code"]) for e in caught.value.errors} == {
        ("title", "required"),
        ("urgency", "enum"),
        ("bogus", "unknown"),
        ("customer", "reference.missing"),
        ("rate", "formula"),
    }
    with platform.unit_of_work(write=False) as uow:
        assert records.list_records(uow, system, app, "ticket").items == []


def test_update_records_changed_fields_and_refuses_a_stale_version(
    platform: Platform, system: Actor, app: str
) -> None:
    record = create(platform, system, "ticket", {"title": "a", "cost": 100, "hours": 2}).record
    with platform.unit_of_work() as uow:
        written = records.update_record(
            uow, system, app, "ticket", record.id, {"hours": 4, "urgency": None}, lock_version=1
        )
        uow.commit()
    assert written.changes == {"hours": [2, 4], "rate": [50, 25], "urgency": ["P3", None]}
    assert written.record.lock_version == 2
    with platform.unit_of_work() as uow, pytest.raises(StaleVersion) as caught:
        records.update_record(uow, system, app, "ticket", record.id, {"hours": 5}, lock_version=1)
    assert caught.value.extra["current"]["data"]["hours"] == 4
    with platform.unit_of_work() as uow:
        unchanged = records.update_record(
            uow, system, app, "ticket", record.id, {"hours": 4}, lock_version=2
        )
        uow.commit()
    assert unchanged.changes == {}
    assert unchanged.record.lock_version == 2


def test_soft_deleted_record_disappears_until_an_admin_restores_it(
    platform: Platform, system: Actor, app: str
) -> None:
    record = create(platform, system, "ticket", {"title": "a"}).record
    with platform.unit_of_work() as uow:
        records.delete_record(uow, system, app, "ticket", record.id, lock_version=1)
        uow.commit()
    with platform.unit_of_work() as uow:
        with pytest.raises(NotFound):
            records.get_record(uow, system, app, "ticket", record.id)
        records.restore_record(uow, system, app, "ticket", record.id)
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        assert records.get_record(uow, system, app, "ticket", record.id).data["title"] == "a"
        actions = [e.action for e in records.timeline(uow, system, app, "ticket", record.id)]
    assert actions == ["record.created", "record.deleted", "record.restored"]


def test_scopes_decide_which_records_a_user_sees_and_changes(
    platform: Platform, system: Actor, app: str
) -> None:
    alice, bob = make_user(platform, "alice"), make_user(platform, "bob")
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, system, key="agent", name="Agent")
        roles.add_grant(
            uow,
            system,
            role.id,
            app_key=app,
            form_key="ticket",
            actions=["create", "read", "update"],
            scope="own",
        )
        for user in (alice, bob):
            users.assign_role(uow, system, user_id=user.id, role_id=role.id)
        uow.commit()
    with platform.unit_of_work() as uow:
        actors = {u.username: load_actor(uow.session, u, via="session") for u in (alice, bob)}
    mine = create(platform, actors["alice"], "ticket", {"title": "alice's"}).record
    create(platform, actors["bob"], "ticket", {"title": "bob's"})
    with platform.unit_of_work() as uow:
        assert [
            r.data["title"] for r in records.list_records(uow, actors["alice"], app, "ticket").items
        ] == ["alice's"]
        with pytest.raises(NotFound):
            records.get_record(uow, actors["bob"], app, "ticket", mine.id)
        with pytest.raises(PermissionDenied):
            records.delete_record(uow, actors["alice"], app, "ticket", mine.id, lock_version=1)
        with pytest.raises(PermissionDenied):
            records.create_record(uow, actors["alice"], app, "customer", {"name": "x"})


def test_a_record_belongs_to_the_group_its_group_field_holds(
    platform: Platform, system: Actor
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, system, key="desk", name={"zh-CN": "服务台"})
        intake = groups.create_group(uow, system, key="intake", name="Intake")
        line = groups.create_group(uow, system, key="line", name="Line")
        body = {
            "key": "case",
            "label": {"zh-CN": "案件"},
            "fields": [
                {"key": "title", "type": "text", "label": {"zh-CN": "标题"}},
                {"key": "team", "type": "group", "label": {"zh-CN": "处理组"}},
            ],
            "options": {"group_field": "team"},
        }
        metadata.create_definition(uow, system, "desk", "form", body)
        metadata.publish(uow, system, "desk", "form", "case")
        uow.commit()
    clerk = make_user(platform, "clerk")
    with platform.unit_of_work() as uow:
        groups.add_member(uow, system, group_id=intake.id, user_id=clerk.id)
        uow.commit()
    with platform.unit_of_work() as uow:
        actor = load_actor(uow.session, clerk, via="session")
    actor = Actor(user_id=actor.user_id, username="clerk", is_admin=True, group_ids=actor.group_ids)
    with platform.unit_of_work() as uow:
        written = records.create_record(uow, actor, "desk", "case", {"title": "a"}).record
        assert written.group_id == intake.id  # no team yet: the creator's group
        moved = records.update_record(
            uow, actor, "desk", "case", written.id, {"team": line.id}, lock_version=1
        ).record
        assert moved.group_id == line.id
        with pytest.raises(ValidationFailed) as refused:
            records.update_record(
                uow, actor, "desk", "case", written.id, {"team": 99_999}, lock_version=2
            )
        assert [e["path"] for e in refused.value.errors] == ["team"]
        direct = records.create_record(uow, actor, "desk", "case", {"title": "b", "team": line.id})
        assert direct.record.group_id == line.id
        uow.commit()


def test_records_of_an_unpublished_form_cannot_be_written(
    platform: Platform, system: Actor, app: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app, "form", {**CUSTOMER, "key": "draft_only"})
        uow.commit()
    with platform.unit_of_work() as uow, pytest.raises(NotFound, match="no published form"):
        records.create_record(uow, system, app, "draft_only", {"name": "x"})


def test_event_handler_failure_rolls_back_the_write(
    platform: Platform, system: Actor, app: str
) -> None:
    def explode(_uow: UnitOfWork, _event: Event) -> None:
        raise RuntimeError("rule failed")

    platform.events.subscribe("record.created", explode)
    with pytest.raises(RuntimeError):
        create(platform, system, "ticket", {"title": "x"})
    with platform.unit_of_work(write=False) as uow:
        assert records.list_records(uow, system, app, "ticket").items == []


def test_formulas_and_conditions_read_the_clock_and_the_writer(
    platform: Platform, system: Actor, app: str
) -> None:
    body = {
        "key": "visit",
        "label": {"zh-CN": "拜访"},
        "fields": [
            {"key": "note", "type": "text", "label": {"zh-CN": "备注"}},
            {
                "key": "stamped",
                "type": "formula",
                "result": "text",
                "label": {"zh-CN": "登记时间"},
                "formula": {"now": []},
            },
            {
                "key": "site",
                "type": "text",
                "label": {"zh-CN": "现场"},
                # only the field team must name the site
                "required_when": {"in_group": ["field"]},
            },
            {"key": "when", "type": "text", "label": {"zh-CN": "何时"}},
            {
                "key": "reason",
                "type": "text",
                "label": {"zh-CN": "原因"},
                # a condition that cannot be evaluated on a malformed date
                "required_when": {"<": [{"date_diff": [{"var": "when"}, "2026-01-01", "days"]}, 0]},
            },
        ],
    }
    alice = make_user(platform, "alice")
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app, "form", body)
        metadata.publish(uow, system, app, "form", "visit")
        field_team = groups.create_group(uow, system, key="field", name="Field")
        groups.add_member(uow, system, group_id=field_team.id, user_id=alice.id)
        role = roles.create_role(uow, system, key="visitor", name="Visitor")
        roles.add_grant(uow, system, role.id, app_key=app, form_key="visit", actions=["create"])
        users.assign_role(uow, system, user_id=alice.id, role_id=role.id)
        uow.commit()
        actor = load_actor(uow.session, alice, via="session")
    stamped = create(platform, system, "visit", {"note": "x"}).record
    assert stamped.data["stamped"].startswith("20")  # the clock, not a formula error
    with pytest.raises(ValidationFailed) as refused:
        create(platform, actor, "visit", {"note": "x"})
    assert [(e["path"], e["code"]) for e in refused.value.errors] == [("site", "required")]
    with pytest.raises(ValidationFailed) as refused:  # a field error, not a crash
        create(platform, system, "visit", {"when": "not a date"})
    assert [(e["path"], e["code"]) for e in refused.value.errors] == [("reason", "condition")]
