"""Simulating a flow's draft on a record: the path with the conditions' values, who gets each
task, decisions played in order, time limits running out, the problems a decision meets — and
nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.kernel.models import AuditEntry, FlowInstance, Job, Record, Task
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World, build_world
from tests.platform.test_flows import PLAN

URL = "/api/v1/apps/svc/flows/handling/simulate"


def flow(**analyse: Any) -> dict[str, Any]:
    """Analyse (the initiator, escalated after an hour), then a review by everyone of line_a
    when the cost is above 1,000, a copy to the desk, the end."""
    return {
        "key": "handling",
        "label": {"zh-CN": "处理"},
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "analyse",
                "type": "fill",
                "assignees": {"initiator": True},
                "permissions": {"cost": "editable"},
                "timeout": {"minutes": 60, "action": "escalate"},
                **analyse,
            },
            {"id": "big", "type": "exclusive"},
            {
                "id": "review",
                "type": "approval",
                "mode": "all",
                "assignees": {"group": "line_a"},
                "reject_to": ["previous"],
            },
            {"id": "copy", "type": "cc", "assignees": {"group": "desk"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "analyse"},
            {"from": "analyse", "to": "big"},
            {"from": "big", "to": "review", "condition": {">": [{"var": "cost"}, 1000]}},
            {"from": "big", "to": "copy", "default": True},
            {"from": "review", "to": "copy"},
            {"from": "copy", "to": "end"},
        ],
    }


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", PLAN)
    w.publish("flow", flow())
    return w


def counts(platform: Platform) -> tuple[int, ...]:
    with platform.unit_of_work(write=False) as uow:
        return tuple(
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (AuditEntry, FlowInstance, Task, Job, Record)
        )


def simulate(client: ApiClient, **body: Any) -> dict[str, Any]:
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.get_json()
    out: dict[str, Any] = response.get_json()
    return out


def test_a_record_plays_through_the_draft_with_its_values_and_people(
    platform: Platform, world: World, admin_client: ApiClient
) -> None:
    record = world.create({"title": "pump", "cost": 5000}, form="plan")
    before = counts(platform)
    me = admin_client.get("/api/v1/me").get_json()["id"]
    # nothing decided yet: the initiator's task waits, with what it allows
    out = simulate(admin_client, record=record.id, initiator=world.users["ann"])
    assert out["status"] == "running"
    assert out["path"] == ["start", "analyse"]
    assert out["edges"] == [["start", "analyse"]]
    (task,) = out["open"]
    assert (task["node"], task["user"]) == ("analyse", world.users["ann"])
    assert task["actions"] == ["submit", "return", "timeout"]
    assert task["timeout"] == "escalate"
    assert task["due"]
    assert out["users"][str(world.users["ann"])] == "Ann"
    entered = [s for s in out["steps"] if s["kind"] == "enter"]
    assert entered[-1]["tasks"][0]["user"] == world.users["ann"]
    # submit: the condition reads cost = 5000 and holds; line_a's three people get the review
    out = simulate(
        admin_client,
        record=record.id,
        initiator=world.users["ann"],
        decisions=[{"action": "approve", "node": "analyse"}],
    )
    (condition,) = [s for s in out["steps"] if s["kind"] == "condition"]
    assert condition == {
        "kind": "condition",
        "source": "big",
        "target": "review",
        "holds": True,
        "values": {"cost": 5000},
    }
    assert out["steps"][-len(entered) - 2]["kind"] == "decision"
    assert out["path"] == ["start", "analyse", "big", "review"]
    reviewers = {t["user"] for t in out["open"]}
    assert reviewers == {world.users[n] for n in ("ann", "bob", "cat")}
    assert out["open"][0]["actions"] == ["approve", "reject"]
    assert out["open"][0]["reject_to"] == ["previous"]
    # bob rejects: back to analyse; ann lowers the cost and submits; the default branch runs
    out = simulate(
        admin_client,
        record=record.id,
        initiator=world.users["ann"],
        decisions=[
            {"action": "submit", "node": "analyse"},
            {
                "action": "reject",
                "node": "review",
                "user": world.users["bob"],
                "opinion": "too dear",
            },
            {"action": "submit", "node": "analyse", "values": {"cost": 10}},
        ],
    )
    assert out["status"] == "completed"
    assert out["played"] == 3
    assert out["path"] == [
        "start",
        "analyse",
        "big",
        "review",
        "analyse",
        "big",
        "copy",
        "end",
    ]
    assert ["review", "analyse"] in out["edges"]  # the way back is part of the path
    decisions = [s for s in out["steps"] if s["kind"] == "decision"]
    assert [d["action"] for d in decisions] == ["submit", "reject", "submit"]
    assert decisions[1]["user"] == world.users["bob"]
    assert decisions[1]["opinion"] == "too dear"
    assert decisions[2]["values"] == {"cost": 10}
    last = [s for s in out["steps"] if s["kind"] == "condition"][-1]
    assert (last["holds"], last["values"]) == (False, {"cost": 10})
    (cc,) = [s for s in out["steps"] if s.get("node") == "copy" and s["kind"] == "enter"]
    assert cc["cc"] == [world.users["dan"]]
    assert out["steps"][-1] == {"kind": "ended", "status": "completed"}
    assert out["open"] == []
    assert out["problem"] is None
    # the caller starts it when nobody is named; nothing was written by any of it
    assert simulate(admin_client, record=record.id)["open"][0]["user"] == me
    assert counts(platform) == before
    with platform.unit_of_work(write=False) as uow:
        stored = uow.session.get(Record, record.id)
        assert stored is not None
        assert stored.data["cost"] == 5000


def test_sample_values_time_limits_and_a_body_not_saved(
    platform: Platform, world: World, admin_client: ApiClient
) -> None:
    before = counts(platform)
    out = simulate(
        admin_client,
        values={"cost": 2000},
        decisions=[{"action": "timeout", "node": "analyse"}],
    )
    assert out["record"] is None
    (decision,) = [s for s in out["steps"] if s["kind"] == "decision"]
    assert decision["action"] == "timeout"
    assert decision["outcome"] == "escalate"
    assert decision["notify"][0]["kind"] == "escalation"
    assert decision["at"] > out["steps"][0]["at"]  # the clock moved to the limit
    assert out["open"][0]["node"] == "analyse"  # escalating leaves the task where it is
    # a body sent with the request is played instead of the draft: a timeout that approves
    body = flow(timeout={"minutes": 30, "action": "approve"})
    out = simulate(
        admin_client,
        body=body,
        values={"cost": 1},
        decisions=[{"action": "timeout"}],
    )
    assert out["status"] == "completed"
    assert out["path"][-3:] == ["big", "copy", "end"]
    assert counts(platform) == before


def test_a_timer_that_ends_on_a_condition_ends_when_a_decision_meets_it(
    platform: Platform, world: World, admin_client: ApiClient
) -> None:
    """Beside the analysis, a day's wait that ends once the cost is above 1,000: the decision
    that writes such a cost ends the wait too, as the platform's recheck after the write does."""
    body = {
        "key": "handling",
        "label": {"zh-CN": "处理"},
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel_split"},
            {
                "id": "analyse",
                "type": "fill",
                "assignees": {"initiator": True},
                "permissions": {"cost": "editable"},
            },
            {
                "id": "wait",
                "type": "timer",
                "minutes": 1440,
                "ends_when": {">": [{"var": "cost"}, 1000]},
            },
            {"id": "join", "type": "parallel_join"},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "analyse"},
            {"from": "split", "to": "wait"},
            {"from": "analyse", "to": "join"},
            {"from": "wait", "to": "join"},
            {"from": "join", "to": "end"},
        ],
    }
    before = counts(platform)
    small = simulate(
        admin_client,
        body=body,
        values={"cost": 1},
        decisions=[{"action": "submit", "values": {"cost": 500}}],
    )
    assert small["status"] == "running"  # the wait goes on
    assert "end" not in small["path"]
    big = simulate(
        admin_client,
        body=body,
        values={"cost": 1},
        decisions=[{"action": "submit", "values": {"cost": 2000}}],
    )
    assert big["status"] == "completed"
    assert big["path"][-2:] == ["join", "end"]
    assert counts(platform) == before


def test_decisions_that_cannot_be_played_stop_the_simulation_there(
    world: World, admin_client: ApiClient
) -> None:
    out = simulate(
        admin_client,
        values={"cost": 2000},
        decisions=[
            {"action": "submit"},
            {"action": "approve", "node": "analyse"},
            {"action": "approve"},
        ],
    )
    assert out["status"] == "stopped"
    assert out["played"] == 1
    assert out["problem"]["decision"] == 1
    assert out["problem"]["code"] == "simulation.no_task"
    assert "analyse" in out["problem"]["message"]
    assert out["open"][0]["node"] == "review"  # what waited when it stopped
    refused = simulate(
        admin_client,
        values={"cost": 2000},
        decisions=[
            {"action": "submit"},
            {"action": "reject", "node": "review", "target": "start"},
        ],
    )
    assert refused["problem"]["code"] == "flow.reject_target"
    assert (
        simulate(admin_client, decisions=[{"action": "continue", "node": "analyse"}])["problem"][
            "code"
        ]
        == "simulation.not_waiting"
    )
    ended = simulate(
        admin_client, values={"cost": 1}, decisions=[{"action": "submit"}, {"action": "submit"}]
    )
    assert ended["problem"]["code"] == "simulation.ended"


def test_bad_requests_get_clear_answers(
    platform: Platform, app: Flask, world: World, admin_client: ApiClient
) -> None:
    body = assert_problem(
        admin_client.post(URL, json={"values": {"colour": "red"}}), 422, "simulation.field"
    )
    assert list(body["errors"]) == ["values/colour"]
    body = assert_problem(
        admin_client.post(URL, json={"decisions": [{"action": "submit", "values": {"nope": 1}}]}),
        422,
        "simulation.field",
    )
    assert list(body["errors"]) == ["decisions/0/values/nope"]
    broken = flow()
    broken["edges"] = broken["edges"][:1]
    body = assert_problem(admin_client.post(URL, json={"body": broken}), 422, "definition.invalid")
    assert body["diagnostics"]
    other = flow() | {"key": "other"}
    assert_problem(admin_client.post(URL, json={"body": other}), 422, "simulation.invalid")
    assert_problem(admin_client.post(URL, json={"decisions": [{"action": "dance"}]}), 422)
    assert_problem(admin_client.post(URL, json={"record": 999999}), 404)
    assert_problem(admin_client.post(URL, json={"initiator": 999999}), 404, "user.not_found")
    assert_problem(admin_client.post("/api/v1/apps/svc/flows/nothing/simulate", json={}), 404)
    too_many = [{"action": "submit"}] * 201
    assert_problem(admin_client.post(URL, json={"decisions": too_many}), 422)
    # people who may not design the app are refused
    with platform.unit_of_work() as uow:
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": "ann-password-1"}, lock_version=ann.lock_version
        )
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    assert_problem(client.post(URL, json={}), 403, "permission.design")
