"""Flows over HTTP: start, inbox with counts, task view and commands, 409 on a second action."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.kernel.models import AuditEntry, FlowInstance, Record
from tests.conftest import ApiClient, assert_problem, count_queries
from tests.platform.rules_fixtures import SYSTEM, World, build_world
from tests.platform.test_flows import PLAN, flow_body

PASSWORD = "ann-password-1"


def test_start_inbox_act_and_conflict(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body(mode="any"))
    with platform.unit_of_work() as uow:
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": PASSWORD}, lock_version=ann.lock_version
        )
        uow.commit()
    record = world.create({"title": "noise"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}/flows"
    started = admin_client.post(base, json={"flow": "handling"})
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["version"] == 1
    assert_problem(admin_client.post(base, json={"flow": "handling"}), 409, "flow.running")
    inbox = admin_client.get("/api/v1/tasks?box=todo").get_json()
    assert inbox["counts"]["todo"] == 1
    assert inbox["counts"]["started"] == 1
    (analyse,) = inbox["items"]
    assert analyse["node"] == "analyse"
    # what a person reads: labels (the node has none: its id) and the record's title
    assert (analyse["label"], analyse["flow_label"], analyse["form_label"]) == (
        "analyse",
        "handling",
        "plan",
    )
    started_box = admin_client.get("/api/v1/tasks?box=started&lang=en").get_json()
    assert started_box["items"][0]["label"] == "handling"
    view = admin_client.get(f"/api/v1/tasks/{analyse['id']}").get_json()
    assert view["actions"][0] == "submit"
    assert set(view["nodes"]) >= {"analyse", "review"}  # labels for history and reject targets
    assert view["flow_label"] == "handling"
    version = view["record"]["lock_version"]
    refused = admin_client.post(
        f"/api/v1/tasks/{analyse['id']}/submit",
        json={"data": {"verdict": "x"}, "lock_version": version},
    )
    body = assert_problem(refused, 422, "record.invalid")
    assert "verdict" in body["errors"]
    done = admin_client.post(
        f"/api/v1/tasks/{analyse['id']}/submit",
        json={"data": {"cost": 5}, "opinion": "ok", "lock_version": version},
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["task"]["status"] == "done"
    assert_problem(admin_client.post(f"/api/v1/tasks/{analyse['id']}/submit", json={}), 409)
    client = ApiClient(app.test_client())
    assert client.login("ann", PASSWORD).status_code == 200
    mine = client.get("/api/v1/tasks").get_json()
    assert mine["counts"]["todo"] == 1
    (review,) = mine["items"]
    rejected = client.post(
        f"/api/v1/tasks/{review['id']}/reject",
        json={"opinion": "no root cause", "target": "nowhere"},
    )
    assert_problem(rejected, 422, "flow.reject_target")
    approved = client.post(f"/api/v1/tasks/{review['id']}/approve", json={"opinion": "fine"})
    assert approved.status_code == 200, approved.get_json()
    assert client.get("/api/v1/tasks?box=done").get_json()["counts"]["done"] == 1
    assert client.get("/api/v1/tasks?box=done&flow=handling").get_json()["counts"]["done"] == 1
    assert client.get("/api/v1/tasks?box=done&app=other").get_json()["counts"]["done"] == 0
    flows_now = admin_client.get(base).get_json()
    (instance,) = flows_now
    assert instance["status"] == "completed"  # no measures: execution skipped, cc, end
    assert instance["initiator"] == admin_client.get("/api/v1/me").get_json()["id"]
    assert instance["nodes"]["review"] == view["nodes"]["review"]
    assert instance["label"] == "handling"
    assert [h["action"] for h in instance["history"]][:2] == ["started", "submitted"]
    assert_problem(client.get("/api/v1/tasks?box=nope"), 422)
    assert_problem(client.post("/api/v1/tasks/999999/approve", json={}), 404, "task.not_found")


def test_an_administrator_cancels_a_task_over_http(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body(mode="single"))
    with platform.unit_of_work() as uow:
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": PASSWORD}, lock_version=ann.lock_version
        )
        uow.commit()
    record = world.create({"title": "noise"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}/flows"
    assert admin_client.post(base, json={"flow": "handling"}).status_code == 201
    (analyse,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    client = ApiClient(app.test_client())
    assert client.login("ann", PASSWORD).status_code == 200
    url = f"/api/v1/tasks/{analyse['id']}/cancel"
    assert_problem(client.post(url, json={"opinion": "mine"}), 403, "permission.admin_required")
    assert_problem(admin_client.post(url, json={}), 422)
    assert_problem(admin_client.post(url, json={"opinion": "  "}), 422)
    cancelled = admin_client.post(url, json={"opinion": "filed twice"})
    assert cancelled.status_code == 200, cancelled.get_json()
    view = cancelled.get_json()
    assert (view["task"]["status"], view["task"]["opinion"]) == ("cancelled", "filed twice")
    assert view["actions"] == ["comment"]
    steps = [(h["action"], h["node"]) for h in view["history"]]
    assert ("task_cancelled", "analyse") in steps
    assert ("completed", "analyse") in steps  # the only task: the flow moved on
    assert_problem(admin_client.post(url, json={"opinion": "again"}), 409, "task.conflict")
    (instance,) = admin_client.get(base).get_json()
    assert instance["current"] == ["review"]
    assert_problem(
        admin_client.post("/api/v1/tasks/999999/cancel", json={"opinion": "x"}),
        404,
        "task.not_found",
    )


def test_migration_preview_over_http(platform: Platform, admin_client: ApiClient) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body())
    world.publish("flow", flow_body(mode="any"))
    url = "/api/v1/apps/svc/flows/handling/migrate"
    preview = admin_client.post(url, json={"from": 1, "to": 2})
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json() == {
        "flow": "handling",
        "source": 1,
        "target": 2,
        "applied": False,
        "instances": [],
    }
    assert_problem(admin_client.post(url, json={"from": 1, "to": 9}), 404)
    assert_problem(admin_client.post(url, json={"from": 0, "to": 2}), 422)


def titled_plans(platform: Platform) -> World:
    """A world with the plan form (titled by its ``title``) and its handling flow."""
    world = build_world(platform)
    world.publish("form", {**PLAN, "options": {"title_field": "title"}})
    world.publish("flow", flow_body(mode="any"))
    return world


def started_on(world: World, client: ApiClient, title: str) -> Record:
    """A plan titled ``title``, its handling flow started over HTTP."""
    record = world.create({"title": title}, form="plan")
    started = client.post(
        f"/api/v1/apps/svc/records/plan/{record.id}/flows", json={"flow": "handling"}
    )
    assert started.status_code == 201, started.get_json()
    return record


def test_a_box_costs_the_same_queries_whatever_its_length(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = titled_plans(platform)

    def start_one(title: str) -> None:
        started_on(world, admin_client, title)

    def read(box: str) -> tuple[int, list[dict[str, Any]]]:
        with count_queries(platform.engine) as statements:
            page = admin_client.get(f"/api/v1/tasks?box={box}&lang=en").get_json()
        return len(statements), page["items"]

    start_one("first")
    few = {box: read(box) for box in ("todo", "started")}
    for title in ("second", "third", "fourth"):
        start_one(title)
    many = {box: read(box) for box in ("todo", "started")}
    for box in ("todo", "started"):
        assert len(many[box][1]) == 4 * len(few[box][1]) > 0
        assert many[box][0] == few[box][0], box
    assert {item["title"] for item in many["todo"][1]} == {"first", "second", "third", "fourth"}


def desk_flow() -> dict[str, Any]:
    return {
        "key": "desk_check",
        "label": {"zh-CN": "前台核对"},
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "check",
                "type": "fill",
                "assignees": {"group": "desk"},
                "permissions": {"verdict": "editable"},
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
    }


def test_tasks_go_only_to_people_who_may_act(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body())
    world.publish("flow", desk_flow())
    world.revoke_staff("ann")  # ann no longer works the app: the review skips her
    record = world.create({"title": "noise"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}/flows"
    assert admin_client.post(base, json={"flow": "handling"}).status_code == 201
    (analyse,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    version = admin_client.get(f"/api/v1/tasks/{analyse['id']}").get_json()["record"]
    submitted = admin_client.post(
        f"/api/v1/tasks/{analyse['id']}/submit", json={"lock_version": version["lock_version"]}
    )
    assert submitted.status_code == 200, submitted.get_json()
    (instance,) = admin_client.get(base).get_json()
    holders = sorted(h["assignee"] for h in instance["holders"])
    assert holders == sorted([world.users["bob"], world.users["cat"]])
    assert instance["history"][-1]["action"] == "not_eligible"
    assert instance["history"][-1]["users"] == [world.users["ann"]]
    # a task is never handed to someone who cannot act on it
    review = instance["holders"][0]["task"]
    refused = admin_client.post(
        f"/api/v1/tasks/{review}/transfer", json={"user": world.users["ann"]}
    )
    assert_problem(refused, 422, "task.user")

    # the desk's only member cannot act: its manager gets the task; without them, nobody does
    world.revoke_staff("dan")

    def desk_check(title: str) -> dict[str, Any]:
        url = (
            f"/api/v1/apps/svc/records/plan/{world.create({'title': title}, form='plan').id}/flows"
        )
        started = admin_client.post(url, json={"flow": "desk_check"})
        assert started.status_code == 201, started.get_json()
        (holder,) = admin_client.get(url).get_json()[0]["holders"]
        return dict(holder)

    assert desk_check("fan")["assignee"] == world.users["meg"]
    world.revoke_staff("meg")
    dead = desk_check("belt")
    assert dead["assignee"] is None
    incidents = admin_client.get("/api/v1/tasks?box=incidents").get_json()
    assert [t["id"] for t in incidents["items"]] == [dead["task"]]
    assert incidents["counts"]["incidents"] == 1
    told = admin_client.get("/api/v1/me/notifications").get_json()["items"]
    assert any(n["kind"] == "incident" for n in told)
    with platform.unit_of_work() as uow:
        bob = users.get_user(uow, world.users["bob"])
        users.update_user(
            uow, SYSTEM, bob.id, {"password": PASSWORD}, lock_version=bob.lock_version
        )
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("bob", PASSWORD).status_code == 200
    assert_problem(client.get("/api/v1/tasks?box=incidents"), 403, "permission.admin_required")
    assert "incidents" not in client.get("/api/v1/tasks").get_json()["counts"]
    # an administrator hands it to someone who may act
    handed = admin_client.post(
        f"/api/v1/tasks/{dead['task']}/transfer", json={"user": world.users["bob"]}
    )
    assert handed.status_code == 200, handed.get_json()
    assert admin_client.get("/api/v1/tasks?box=incidents").get_json()["items"] == []


def test_publishing_warns_of_assignees_who_cannot_act(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.revoke_staff("ann")
    body = flow_body()
    body["nodes"][2]["fallback"] = {"group": "ghosts"}
    created = admin_client.post("/api/v1/apps/svc/flows", json={"body": body})
    assert created.status_code == 201, created.get_json()
    published = admin_client.post("/api/v1/apps/svc/flows/handling/publish", json={})
    assert published.status_code == 201, published.get_json()
    warnings = {w["path"]: w for w in published.get_json()["warnings"]}
    assert set(warnings) == {"/nodes/2/assignees", "/nodes/2/fallback"}
    assert warnings["/nodes/2/assignees"]["code"] == "flow.assignee_cannot_act"
    assert "ann" in warnings["/nodes/2/assignees"]["message"]
    assert "'update'" in warnings["/nodes/2/assignees"]["message"]  # the review edits a field
    assert warnings["/nodes/2/fallback"]["code"] == "flow.assignee_unresolved"
    with platform.unit_of_work() as uow:  # a second version: everyone named may act again
        staff = roles.role_by_key(uow, "staff")
        users.assign_role(uow, SYSTEM, role_id=staff.id, user_id=world.users["ann"])
        uow.commit()
    draft = admin_client.get("/api/v1/apps/svc/flows/handling").get_json()
    body["nodes"][2].pop("fallback")
    saved = admin_client.put(
        "/api/v1/apps/svc/flows/handling",
        json={"body": body, "lock_version": draft["lock_version"]},
    )
    assert saved.status_code == 200, saved.get_json()
    again = admin_client.post("/api/v1/apps/svc/flows/handling/publish", json={})
    assert again.get_json()["warnings"] == []


def test_deleting_a_record_cancels_its_flows_and_their_tasks(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body())
    record = world.create({"title": "noise"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}"
    assert admin_client.post(f"{base}/flows", json={"flow": "handling"}).status_code == 201
    (analyse,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    version = admin_client.get(base).get_json()["lock_version"]
    assert admin_client.delete(f"{base}?lock_version={version}").status_code == 204
    assert admin_client.get("/api/v1/tasks?box=todo").get_json()["items"] == []
    acted = admin_client.post(f"/api/v1/tasks/{analyse['id']}/submit", json={})
    assert_problem(acted, 409, "task.conflict")
    with platform.unit_of_work(write=False) as uow:
        (instance,) = uow.session.scalars(
            select(FlowInstance).where(FlowInstance.record_id == record.id)
        ).all()
        assert instance.status == "cancelled"
        assert instance.state["history"][-1]["opinion"] == "the record was deleted"


def test_a_branch_condition_that_fails_refuses_the_command_and_tells_the_administrators(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    broken = {"<": [{"date_diff": [{"var": "title"}, "2026-01-01", "days"]}, 0]}
    world.publish(
        "flow",
        {
            "key": "branchy",
            "label": {"zh-CN": "分支"},
            "form": "plan",
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "analyse",
                    "type": "fill",
                    "assignees": {"initiator": True},
                    "permissions": {"cost": "editable"},
                },
                {"id": "which", "type": "exclusive"},
                {"id": "early", "type": "end"},
                {"id": "late", "type": "end"},
            ],
            "edges": [
                {"from": "start", "to": "analyse"},
                {"from": "analyse", "to": "which"},
                {"from": "which", "to": "early", "condition": broken},
                {"from": "which", "to": "late", "default": True},
            ],
        },
    )
    record = world.create({"title": "not a date"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}/flows"
    assert admin_client.post(base, json={"flow": "branchy"}).status_code == 201
    (analyse,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    for _ in range(2):
        refused = admin_client.post(f"/api/v1/tasks/{analyse['id']}/submit", json={})
        problem = assert_problem(refused, 422, "flow.condition")
        assert "which → early" in problem["detail"]
    assert admin_client.get(f"/api/v1/tasks/{analyse['id']}").get_json()["task"]["status"] == "open"
    told = [
        n
        for n in admin_client.get("/api/v1/me/notifications").get_json()["items"]
        if n["kind"] == "incident"
    ]
    assert len(told) == 1  # once while unread, however often it is tried
    with platform.unit_of_work(write=False) as uow:
        stuck = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "task.stuck")
        ).all()
    assert len(stuck) == 2


def test_an_instance_diagram_shows_the_path_taken_and_who_holds_it_since_when(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = build_world(platform)
    world.publish("form", PLAN)
    world.publish("flow", flow_body(mode="all"))
    record = world.create({"title": "noise"}, form="plan")
    base = f"/api/v1/apps/svc/records/plan/{record.id}/flows"
    instance = admin_client.post(base, json={"flow": "handling"}).get_json()
    url = f"/api/v1/flows/{instance['id']}/diagram"
    drawn = admin_client.get(url).get_json()
    assert drawn["path"] == [["start", "analyse"]]
    assert [n["id"] for n in drawn["definition"]["nodes"]][:2] == ["start", "analyse"]
    assert drawn["definition"]["form"] == "plan"
    (waiting,) = drawn["waiting"]
    assert (waiting["node"], waiting["kind"]) == ("analyse", "task")
    (holder,) = waiting["holders"]
    assert holder["name"] == "Administrator"
    assert holder["since"]
    (analyse,) = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"]
    lock = admin_client.get(f"/api/v1/tasks/{analyse['id']}").get_json()["record"]["lock_version"]
    done = admin_client.post(
        f"/api/v1/tasks/{analyse['id']}/submit", json={"data": {}, "lock_version": lock}
    )
    assert done.status_code == 200, done.get_json()
    drawn = admin_client.get(url).get_json()
    assert drawn["path"] == [["start", "analyse"], ["analyse", "review"]]
    assert drawn["visited"] == ["start", "analyse", "review"]
    (waiting,) = drawn["waiting"]
    # the countersign: everyone of line_a holds a task at the review
    assert sorted(h["name"] for h in waiting["holders"]) == ["Ann", "Bob", "Cat"]
    # somebody who may not read the record learns nothing, not even that it exists
    with platform.unit_of_work() as uow:
        user = users.create_user(uow, SYSTEM, username="zed", password=PASSWORD)
        uow.commit()
    stranger = ApiClient(app.test_client())
    assert stranger.login("zed", PASSWORD).status_code == 200
    assert user.id
    assert_problem(stranger.get(url), 404)
    assert_problem(admin_client.get("/api/v1/flows/999999/diagram"), 404, "flow.not_found")


def test_a_task_view_reads_its_task_instance_record_and_app_tag_in_one_statement(
    platform: Platform, admin_client: ApiClient
) -> None:
    record = started_on(titled_plans(platform), admin_client, "first")
    task = admin_client.get("/api/v1/tasks?box=todo").get_json()["items"][0]
    with count_queries(platform.engine) as statements:
        view = admin_client.get(f"/api/v1/tasks/{task['id']}")
    assert view.status_code == 200, view.get_json()
    assert view.get_json()["record"]["id"] == record.id
    reading = [" ".join(s.split()) for s in statements if "FROM tasks" in s]
    assert len(reading) == 1
    assert "JOIN flow_instances" in reading[0]
    assert "JOIN records" in reading[0]
    assert "JOIN apps" in reading[0]
    alone = [
        s
        for s in statements
        if any(f"FROM {t} " in s for t in ("flow_instances", "records", "apps"))
    ]
    assert alone == []
