"""Fields a role hides: its holders neither read nor write them anywhere — records, lists,
filters and the search box, sorting, exports, timelines, a stale write's answer, the form they
draw, tasks and reports — and the form designer's permission matrix that sets them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tangram.platform import flows
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.kernel.models import Grant, Record, Task
from tests.api.test_report_access import APP, _world
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World

PASSWORD = "viewer-password-1"


def _holder(
    platform: Platform,
    app: Flask,
    world: World,
    name: str,
    rules: dict[str, str],
    actions: tuple[str, ...] = ("read", "update"),
) -> ApiClient:
    """Sign ``name`` in holding only a grant on the case form with ``rules``, and read on
    customers."""
    world.revoke_staff(name)
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key=f"{name}_desk", name=f"{name} desk")
        roles.add_grant(
            uow,
            SYSTEM,
            role.id,
            app_key="svc",
            form_key="case",
            actions=list(actions),
            field_rules=rules,
        )
        roles.add_grant(uow, SYSTEM, role.id, app_key="svc", form_key="customer", actions=["read"])
        user = users.get_user(uow, world.users[name])
        users.update_user(
            uow, SYSTEM, user.id, {"password": PASSWORD}, lock_version=user.lock_version
        )
        users.assign_role(uow, SYSTEM, role_id=role.id, user_id=user.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login(name, PASSWORD).status_code == 200
    return client


def _a_case(platform: Platform) -> Record:
    with platform.unit_of_work(write=False) as uow:
        record = uow.session.query(Record).filter(Record.form_key == "case").first()
        assert record is not None
        return record


def test_a_hidden_field_is_left_out_of_what_its_holder_reads(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = _world(platform)
    ann = _holder(platform, app, world, "ann", {"cost": "hidden", "score": "read_only"})
    case = _a_case(platform)
    cost = case.data["cost"]
    assert admin_client.get(f"{APP}/records/case/{case.id}").get_json()["data"]["cost"] == cost

    one = ann.get(f"{APP}/records/case/{case.id}")
    assert one.status_code == 200
    assert "cost" not in one.get_json()["data"]
    assert one.get_json()["data"]["score"] == case.data["score"]  # read-only still reads
    listed = ann.get(f"{APP}/records/case?limit=50").get_json()["items"]
    assert len(listed) == 12
    assert all("cost" not in r["data"] and "issue" in r["data"] for r in listed)

    # neither filtered, sorted nor searched on: the answers would tell the values
    assert_problem(ann.get(f"{APP}/records/case?cost__gt=50"), 422, "query.invalid")
    assert_problem(ann.get(f"{APP}/records/case?sort=-cost"), 422, "query.invalid")
    assert admin_client.get(f"{APP}/records/case?cost__gt=50").status_code == 200

    export = ann.get(f"{APP}/records/case/export?format=csv&lang=en")
    assert export.status_code == 200
    header = export.data.decode("utf-8-sig").splitlines()[0]
    assert "issue" in header
    assert "score" in header
    assert "cost" not in header

    schema = ann.get(f"{APP}/forms/case/schema").get_json()
    assert "cost" not in schema["json_schema"]["properties"]
    assert "cost" not in schema["ui_schema"]["ui:order"]
    assert [f["key"] for f in schema["fields"]].count("cost") == 0
    assert "cost" not in schema["create_fields"]
    assert (
        "cost"
        in admin_client.get(f"{APP}/forms/case/schema").get_json()["json_schema"]["properties"]
    )


def test_a_hidden_field_is_not_written_and_keeps_its_value(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = _world(platform)
    ann = _holder(platform, app, world, "ann", {"cost": "hidden"})
    case = _a_case(platform)
    url = f"{APP}/records/case/{case.id}"
    refused = ann.patch(url, json={"data": {"cost": 1.0}, "lock_version": case.lock_version})
    problem = assert_problem(refused, 422, "record.invalid")
    assert list(problem["errors"]) == ["cost"]
    changed = ann.patch(url, json={"data": {"score": 7}, "lock_version": case.lock_version})
    assert changed.status_code == 200, changed.get_json()
    assert "cost" not in changed.get_json()["data"]
    stored = admin_client.get(url).get_json()
    assert stored["data"]["cost"] == case.data["cost"]
    assert stored["data"]["score"] == 7

    # a stale write's answer shows the current record as the holder may read it
    stale = ann.patch(url, json={"data": {"score": 8}, "lock_version": case.lock_version})
    body = assert_problem(stale, 409, "lock_version.stale")
    assert "cost" not in body["current"]["data"]
    assert body["current"]["data"]["score"] == 7

    # the timeline tells what changed, without the hidden field's values
    admin_client.patch(url, json={"data": {"cost": 999.5}, "lock_version": stored["lock_version"]})
    timeline = ann.get(f"{url}/timeline").get_json()
    assert [e["action"] for e in timeline] == ["record.created", "record.updated", "record.updated"]
    assert all("cost" not in (e["payload"].get("changes") or {}) for e in timeline)
    assert b"999.5" not in ann.get(f"{url}/timeline").data
    assert "cost" in admin_client.get(f"{url}/timeline").get_json()[2]["payload"]["changes"]


def test_one_grant_that_shows_a_field_is_enough(platform: Platform, app: Flask) -> None:
    world = _world(platform)
    ann = _holder(platform, app, world, "ann", {"cost": "hidden"})
    with platform.unit_of_work() as uow:
        wider = roles.create_role(uow, SYSTEM, key="auditor", name="Auditor")
        roles.add_grant(uow, SYSTEM, wider.id, app_key="svc", form_key="case", actions=["read"])
        users.assign_role(uow, SYSTEM, role_id=wider.id, user_id=world.users["ann"])
        uow.commit()
    case = _a_case(platform)
    assert ann.get(f"{APP}/records/case/{case.id}").get_json()["data"]["cost"] == case.data["cost"]


@pytest.mark.parametrize(
    "path",
    [
        "/reports/vip_cost/data",
        "/reports/vip_cost/data?format=csv",
        "/reports/vip_cost/records?at.issue=hw",
    ],
)
def test_a_report_reading_a_hidden_field_is_refused(
    platform: Platform, app: Flask, path: str
) -> None:
    world = _world(platform)
    ann = _holder(platform, app, world, "ann", {"cost": "hidden"})
    problem = assert_problem(ann.get(f"{APP}{path}"), 403, "permission.field")
    assert "case.cost" in problem["detail"]
    plain = ann.get(f"{APP}/reports/by_issue/data")  # what does not read it still answers
    assert plain.status_code == 200
    assert sum(r[1] for r in plain.get_json()["rows"]) == 12
    # nor can a report's drill-down filter on it
    assert_problem(
        ann.get(f"{APP}/reports/by_issue/records?at.issue=hw&cost__gt=50"), 422, "query.invalid"
    )


def test_a_task_hides_what_the_holders_roles_hide_unless_the_step_asks_for_it(
    platform: Platform, app: Flask
) -> None:
    world = _world(platform)
    world.publish(
        "flow",
        {
            "key": "review",
            "label": {"zh-CN": "复核", "en": "Review"},
            "form": "case",
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "check",
                    "type": "fill",
                    "assignees": {"users": [world.users["ann"]]},
                    "permissions": {"score": "editable"},
                    "others": "read_only",
                },
                {"id": "end", "type": "end"},
            ],
            "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
        },
    )
    ann = _holder(platform, app, world, "ann", {"cost": "hidden", "score": "hidden"})
    case = _a_case(platform)
    with platform.unit_of_work() as uow:
        flows.start(uow, platform.settings, SYSTEM, "svc", "review", case.id)
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        task = uow.session.query(Task).filter(Task.status == "open").one()
    view = ann.get(f"/api/v1/tasks/{task.id}").get_json()
    assert view["permissions"]["cost"] == "hidden"
    assert "cost" not in view["record"]["data"]
    assert view["permissions"]["score"] == "editable"  # the step asks her to write it


def _designer(platform: Platform, app: Flask, world: World) -> ApiClient:
    world.revoke_staff("dan")
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key="builder", name="Builder")
        roles.add_grant(uow, SYSTEM, role.id, app_key="svc", actions=["design"])
        user = users.get_user(uow, world.users["dan"])
        users.update_user(
            uow, SYSTEM, user.id, {"password": PASSWORD}, lock_version=user.lock_version
        )
        users.assign_role(uow, SYSTEM, role_id=role.id, user_id=user.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("dan", PASSWORD).status_code == 200
    return client


def _rules(platform: Platform, grant_id: int) -> dict[str, Any]:
    with platform.unit_of_work(write=False) as uow:
        grant = uow.session.get(Grant, grant_id)
        assert grant is not None
        return dict(grant.field_rules)


def test_the_designers_matrix_reads_and_sets_the_roles_field_rules(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = _world(platform)
    ann = _holder(platform, app, world, "ann", {"score": "read_only"})
    dan = _designer(platform, app, world)
    url = f"{APP}/forms/case/access"

    seen = dan.get(url)
    assert seen.status_code == 200, seen.get_json()
    body = seen.get_json()
    assert body["editable"] is False
    assert body["levels"] == ["read_only", "hidden"]
    by_key = {r["key"]: r for r in body["roles"]}
    desk = by_key["ann_desk"]
    assert desk["field_rules"] == {"score": "read_only"}
    assert desk["settable"] is True
    assert by_key["staff"]["form_key"] == "*"
    assert by_key["staff"]["settable"] is False
    assert "builder" not in by_key  # design alone reads no record
    grant = desk["grant_id"]
    wanted = {"roles": [{"grant_id": grant, "field_rules": {"cost": "hidden"}}]}
    assert_problem(dan.put(url, json=wanted), 403, "permission.admin_required")
    assert_problem(ann.get(url), 403, "permission.design")

    # all or nothing: one bad entry and no grant changes
    bad = {
        "roles": [
            {"grant_id": grant, "field_rules": {"cost": "hidden"}},
            {"grant_id": by_key["staff"]["grant_id"], "field_rules": {"cost": "hidden"}},
            {"grant_id": grant, "field_rules": {"nothing_here": "hidden"}},
        ]
    }
    problem = assert_problem(admin_client.put(url, json=bad), 422)
    assert sorted(problem["errors"]) == [
        f"roles/{by_key['staff']['grant_id']}",
        f"roles/{grant}/nothing_here",
    ]
    assert _rules(platform, grant) == {"score": "read_only"}

    done = admin_client.put(url, json=wanted)
    assert done.status_code == 200, done.get_json()
    assert {r["key"]: r for r in done.get_json()["roles"]}["ann_desk"]["field_rules"] == {
        "cost": "hidden"
    }
    assert _rules(platform, grant) == {"cost": "hidden"}
    case = _a_case(platform)
    assert "cost" not in ann.get(f"{APP}/records/case/{case.id}").get_json()["data"]
    role_id = by_key["ann_desk"]["role_id"]
    audit = admin_client.get(f"/api/v1/audit?object_type=role&object_id={role_id}").get_json()
    assert [
        (e["payload"]["before"], e["payload"]["after"])
        for e in audit["items"]
        if e["action"] == "role.field_rules_set"
    ] == [({"score": "read_only"}, {"cost": "hidden"})]
