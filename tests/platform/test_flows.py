"""Flows on records: instances pinned to versions, tasks and the inbox, permissions, timers,
sub-processes, concurrency and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tangram.platform import flows, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tangram.platform.kernel.models import FlowInstance, Job, Notification, Record, Task
from tangram.platform.worker import Worker
from tests.platform.rules_fixtures import SYSTEM, World, build_world, field, rule, text

PLAN = {
    "key": "plan",
    "label": text("plan"),
    "fields": [
        field("title", "text"),
        field("cost", "number"),
        field("verdict", "text"),
        field("secret", "text"),
        field("received", "text", read_only=True),
        field(
            "measures",
            "sub_table",
            fields=[field("what", "text"), field("owner", "user")],
        ),
    ],
}


def flow_body(**review: Any) -> dict[str, Any]:
    return {
        "key": "handling",
        "label": text("handling"),
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "analyse",
                "type": "fill",
                "assignees": {"initiator": True},
                "permissions": {"title": "editable", "cost": "editable", "measures": "editable"},
            },
            {
                "id": "review",
                "type": "approval",
                "mode": "all",
                "assignees": {"group": "line_a"},
                "permissions": {"verdict": "editable", "secret": "hidden"},
                "reject_to": ["previous"],
                **review,
            },
            {
                "id": "execute",
                "type": "fill",
                "multi": {"over": "measures", "assignee_field": "owner"},
            },
            {"id": "copy", "type": "cc", "assignees": {"group": "desk"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "analyse"},
            {"from": "analyse", "to": "review"},
            {"from": "review", "to": "execute"},
            {"from": "execute", "to": "copy"},
            {"from": "copy", "to": "end"},
        ],
    }


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", PLAN)
    return w


def actor(world: World, name: str) -> Actor:
    return Actor(user_id=world.users[name], username=name, is_admin=False, via="session")


def boss(world: World, name: str) -> Actor:
    """A user with full rights on the app (the tests' stand-in for a role grant)."""
    return Actor(user_id=world.users[name], username=name, is_admin=True, via="session")


def start(world: World, data: dict[str, Any]) -> tuple[Record, FlowInstance]:
    record = world.create(data, form="plan")
    with world.platform.unit_of_work() as uow:
        instance = flows.start(
            uow, world.platform.settings, boss(world, "meg"), "svc", "handling", record.id
        )
        uow.commit()
    return record, instance


def open_tasks(world: World, node: str | None = None) -> list[Task]:
    with world.platform.unit_of_work(write=False) as uow:
        query = select(Task).where(Task.status == "open").order_by(Task.id)
        if node:
            query = query.where(Task.node == node)
        return list(uow.session.scalars(query))


def act(world: World, who: Actor, task: Task, action: str, **kw: Any) -> None:
    with world.platform.unit_of_work() as uow:
        if "data" in kw:  # based on the record as the task shows it now
            kw.setdefault(
                "lock_version", flows.task_view(uow, who, task.id)["record"]["lock_version"]
            )
        flows.act(uow, world.platform.settings, who, task.id, flows.TaskCommand(action, **kw))
        uow.commit()


def test_a_flow_runs_on_a_record_with_node_permissions_and_multi_instance(world: World) -> None:
    world.publish("flow", flow_body())
    u = world.users
    record, instance = start(world, {"title": "noise", "cost": 10})
    assert instance.version == 1
    (analyse,) = open_tasks(world, "analyse")
    assert analyse.assignee_id == u["meg"]  # the initiator
    meg = boss(world, "meg")
    rows = [{"what": "replace fan", "owner": u["ann"]}, {"what": "retest", "owner": u["bob"]}]
    # the node lets the analyst edit these fields, not the verdict
    with pytest.raises(ValidationFailed) as caught:
        act(world, actor(world, "meg"), analyse, "submit", data={"verdict": "ok"})
    assert caught.value.errors[0]["path"] == "verdict"
    act(world, meg, analyse, "submit", data={"cost": 99, "measures": rows}, opinion="done")
    review = open_tasks(world, "review")
    assert sorted(t.assignee_id for t in review) == sorted([u["ann"], u["bob"], u["cat"]])
    with world.platform.unit_of_work(write=False) as uow:
        view = flows.task_view(uow, actor(world, "ann"), review[0].id)
        assert "secret" not in view["record"]["data"]
        assert view["permissions"]["verdict"] == "editable"
        assert view["permissions"]["title"] == "read_only"
        assert view["actions"][:2] == ["approve", "reject"]
    for task in review:
        who = next(n for n, i in u.items() if i == task.assignee_id)
        act(world, actor(world, who), task, "approve")
    execute = open_tasks(world, "execute")
    assert [t.assignee_id for t in execute] == [u["ann"], u["bob"]]  # one per measure owner
    for task in execute:
        who = next(n for n, i in u.items() if i == task.assignee_id)
        act(world, actor(world, who), task, "submit")
    with world.platform.unit_of_work(write=False) as uow:
        done = uow.session.get(FlowInstance, instance.id)
        assert done is not None
        assert done.status == "completed"
        assert done.ended_at is not None
        stored = uow.session.get(Record, record.id)
        assert stored is not None
        assert stored.data["cost"] == 99
        cc = flows.inbox(uow, actor(world, "dan"), "cc")
        assert len(cc[0]) == 1
        timeline = records.timeline(uow, SYSTEM, "svc", "plan", record.id)
    flow_entries = [e for e in timeline if e.action.startswith("flow.")]
    actions = [e.action for e in flow_entries]
    assert actions[:2] == ["flow.started", "flow.submitted"]
    assert actions.count("flow.approved") == 3  # one audit entry per command
    assert flow_entries[1].payload["opinion"] == "done"
    last = [step["action"] for step in flow_entries[-1].payload["steps"]]
    assert last[0] == "submitted"
    assert "cc" in last
    assert last[-1] == "completed"


def test_reject_returns_to_the_previous_node_and_the_inbox_counts(world: World) -> None:
    world.publish("flow", flow_body(mode="any"))
    start(world, {"title": "noise"})
    meg = boss(world, "meg")
    (analyse,) = open_tasks(world, "analyse")
    act(world, meg, analyse, "submit")
    review = open_tasks(world, "review")
    with world.platform.unit_of_work(write=False) as uow:
        _items, counts = flows.inbox(uow, actor(world, "ann"), "todo")
    assert counts == {"todo": 1, "done": 0, "cc": 0, "started": 0}
    ann_task = next(t for t in review if t.assignee_id == world.users["ann"])
    act(world, actor(world, "ann"), ann_task, "reject", opinion="missing root cause")
    (again,) = open_tasks(world, "analyse")
    assert again.assignee_id == world.users["meg"]
    assert open_tasks(world, "review") == []
    with world.platform.unit_of_work(write=False) as uow:
        _, counts = flows.inbox(uow, actor(world, "ann"), "done")
        _, started = flows.inbox(uow, actor(world, "meg"), "started")
    assert counts["done"] == 1
    assert started["started"] == 1


def test_a_step_s_required_fields_must_be_filled_in_to_submit(world: World) -> None:
    body = flow_body(mode="any")
    body["nodes"][1]["required"] = ["cost"]
    world.publish("flow", body)
    record, _ = start(world, {"title": "noise"})
    meg = boss(world, "meg")
    (analyse,) = open_tasks(world, "analyse")
    for data in ({}, {"title": "still noise"}):
        with pytest.raises(ValidationFailed) as caught:
            act(world, meg, analyse, "submit", **({"data": data} if data else {}))
        assert caught.value.code == "task.required"
        assert [e["path"] for e in caught.value.errors] == ["cost"]
    # nothing of the refused submission was written, the task is still open
    with world.platform.unit_of_work(write=False) as uow:
        stored = uow.session.get(Record, record.id)
        assert stored is not None
        assert stored.data["title"] == "noise"
    assert [t.id for t in open_tasks(world, "analyse")] == [analyse.id]
    act(world, meg, analyse, "submit", data={"cost": 12})
    assert len(open_tasks(world, "review")) == 3


def test_a_required_field_must_be_editable_at_its_node(world: World) -> None:
    body = flow_body()
    body["nodes"][2]["required"] = ["verdict", "title", "nothing"]
    with pytest.raises(ValidationFailed) as caught:
        world.publish("flow", body)
    problems = {(e["path"], e.get("code")) for e in caught.value.errors}
    assert ("/nodes/2/required/1", "flow.required") in problems
    assert ("/nodes/2/required/2", "flow.field") in problems
    assert not any(path == "/nodes/2/required/0" for path, _ in problems)


def test_sending_work_back_needs_a_reason_and_the_task_shows_it(world: World) -> None:
    world.publish("flow", flow_body(mode="any"))
    start(world, {"title": "noise", "cost": 7, "measures": []})
    meg = boss(world, "meg")
    (analyse,) = open_tasks(world, "analyse")
    with world.platform.unit_of_work(write=False) as uow:
        first = flows.task_view(uow, meg, analyse.id)
    assert first["returned"] is None
    act(world, meg, analyse, "submit", data={"cost": 8})
    review = open_tasks(world, "review")
    ann = actor(world, "ann")
    ann_task = next(t for t in review if t.assignee_id == world.users["ann"])
    with world.platform.unit_of_work(write=False) as uow:
        view = flows.task_view(uow, ann, ann_task.id)
    # what is to be decided: what the analysis filled in, the fields with values first
    assert view["summary"][:2] == ["title", "cost"]
    assert set(view["summary"]) == {"title", "cost", "measures"}
    for opinion in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            act(world, ann, ann_task, "reject", opinion=opinion)
        assert caught.value.code == "task.opinion"
    assert len(open_tasks(world, "review")) == 3
    act(world, ann, ann_task, "reject", opinion="missing root cause")
    (again,) = open_tasks(world, "analyse")
    with world.platform.unit_of_work(write=False) as uow:
        view = flows.task_view(uow, meg, again.id)
    returned = view["returned"]
    assert returned is not None
    assert (returned["by"], returned["node"], returned["action"], returned["opinion"]) == (
        world.users["ann"],
        "review",
        "rejected",
        "missing root cause",
    )
    assert returned["at"]
    # submitted again, the next return is the only one told
    act(world, meg, again, "submit")
    with world.platform.unit_of_work(write=False) as uow:
        later = open_tasks(world, "review")[0]
        assert flows.task_view(uow, boss(world, "meg"), later.id)["returned"] is None


def test_back_at_the_start_the_initiator_revises_the_record(world: World) -> None:
    body = flow_body(mode="any", reject_to=["start"])
    body["nodes"][0]["permissions"] = {"title": "editable", "secret": "read_only"}
    world.publish("flow", body)
    record, _ = start(world, {"title": "noise", "secret": "s1"})
    meg = boss(world, "meg")
    (analyse,) = open_tasks(world, "analyse")
    act(world, meg, analyse, "submit")
    ann_task = next(t for t in open_tasks(world, "review") if t.assignee_id == world.users["ann"])
    act(world, actor(world, "ann"), ann_task, "reject", target="start", opinion="which noise?")
    (revise,) = open_tasks(world, "start")
    assert revise.assignee_id == world.users["meg"]
    with world.platform.unit_of_work(write=False) as uow:
        view = flows.task_view(uow, meg, revise.id)
    assert view["permissions"]["title"] == "editable"  # what the start names editable ...
    assert view["permissions"]["secret"] == "read_only"  # ... and nothing else:
    assert view["permissions"]["cost"] == "read_only"  # not the fields it does not name
    assert view["permissions"]["received"] == "read_only"  # nor the form's read-only ones
    assert view["actions"][0] == "submit"
    with pytest.raises(ValidationFailed) as caught:
        act(world, meg, revise, "submit", data={"secret": "s2"})
    assert caught.value.errors[0]["path"] == "secret"
    act(world, meg, revise, "submit", data={"title": "noise at night"}, opinion="revised")
    with world.platform.unit_of_work(write=False) as uow:
        stored = uow.session.get(Record, record.id)
        assert stored is not None
        assert (stored.data["title"], stored.data["secret"]) == ("noise at night", "s1")
    (again,) = open_tasks(world, "analyse")
    assert again.assignee_id == world.users["meg"]


def test_a_task_acts_once_and_only_for_its_assignee(world: World) -> None:
    world.publish("flow", flow_body(mode="any"))
    start(world, {"title": "noise"})
    (analyse,) = open_tasks(world, "analyse")
    with pytest.raises(NotFound):
        act(world, actor(world, "ann"), analyse, "submit")  # not hers: it does not exist for her
    act(world, boss(world, "meg"), analyse, "submit")
    with pytest.raises(Conflict) as caught:
        act(world, boss(world, "meg"), analyse, "submit")
    assert caught.value.code == "task.conflict"
    review = open_tasks(world, "review")
    act(
        world,
        actor(world, "ann"),
        next(t for t in review if t.assignee_id == world.users["ann"]),
        "approve",
    )
    bob_task = next(t for t in review if t.assignee_id == world.users["bob"])
    with pytest.raises(Conflict):
        act(world, actor(world, "bob"), bob_task, "approve")  # any-of: decided by Ann already


def test_an_administrator_cancels_one_task_and_the_node_goes_on_with_the_rest(
    world: World,
) -> None:
    world.publish("flow", flow_body())  # review: all of ann, bob and cat
    start(world, {"title": "noise"})
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    review = {t.assignee_id: t for t in open_tasks(world, "review")}
    u = world.users
    with world.platform.unit_of_work() as uow, pytest.raises(PermissionDenied) as caught:
        flows.cancel_task(
            uow, world.platform.settings, actor(world, "ann"), review[u["ann"]].id, opinion="no"
        )
    assert caught.value.code == "permission.admin_required"
    with world.platform.unit_of_work() as uow:
        flows.cancel_task(
            uow, world.platform.settings, boss(world, "meg"), review[u["ann"]].id, opinion="left"
        )
        uow.commit()
    with world.platform.unit_of_work() as uow, pytest.raises(Conflict) as caught:
        flows.cancel_task(
            uow, world.platform.settings, boss(world, "meg"), review[u["ann"]].id, opinion="x"
        )
    assert caught.value.code == "task.conflict"
    with world.platform.unit_of_work(write=False) as uow:
        cancelled = uow.session.get(Task, review[u["ann"]].id)
        assert cancelled is not None
        row = (cancelled.status, cancelled.outcome, cancelled.actor_id, cancelled.opinion)
        assert row == ("cancelled", "cancelled", u["meg"], "left")
        _, counts = flows.inbox(uow, actor(world, "ann"), "todo")
        assert counts["todo"] == 0
    for name in ("bob", "cat"):
        act(world, actor(world, name), review[u[name]], "approve")
    with world.platform.unit_of_work(write=False) as uow:
        instance = uow.session.scalars(select(FlowInstance)).one()
        assert instance.status == "completed"  # no measures: execution skipped, cc, end
        timeline = records.timeline(uow, SYSTEM, "svc", "plan", instance.record_id)
    assert "flow.task_cancelled" in [e.action for e in timeline]


def test_instances_keep_their_version_when_a_new_one_is_published(world: World) -> None:
    world.publish("flow", flow_body())
    _, old = start(world, {"title": "one"})
    world.publish("flow", flow_body(mode="single"))
    with world.platform.unit_of_work(write=False) as uow:
        stored = uow.session.get(FlowInstance, old.id)
        assert stored is not None
        assert stored.version == 1
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    assert len(open_tasks(world, "review")) == 3  # still all-of, as version 1 said


def test_timeout_auto_approval_fired_by_the_job_runner(world: World, clock: FrozenClock) -> None:
    world.publish("flow", flow_body(mode="single", timeout={"minutes": 60, "action": "approve"}))
    start(world, {"title": "slow", "measures": []})
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    assert len(open_tasks(world, "review")) == 1
    clock.advance(timedelta(minutes=61))
    Worker(world.platform, name="test").run_due()
    assert open_tasks(world) == []
    with world.platform.unit_of_work(write=False) as uow:
        instance = uow.session.scalars(select(FlowInstance)).one()
    assert instance.status == "completed"
    assert any(h["action"] == "timeout_approve" for h in instance.state["history"])


def waiting_flow() -> dict[str, Any]:
    """A day's wait that ends once the verdict is "ok", then the analysis."""
    return {
        "key": "handling",
        "label": text("handling"),
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "wait",
                "type": "timer",
                "minutes": 1440,
                "ends_when": {"==": [{"var": "verdict"}, "ok"]},
            },
            {"id": "analyse", "type": "fill", "assignees": {"initiator": True}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "wait"},
            {"from": "wait", "to": "analyse"},
            {"from": "analyse", "to": "end"},
        ],
    }


def rechecks(world: World) -> int:
    with world.platform.unit_of_work(write=False) as uow:
        return len(uow.session.scalars(select(Job).where(Job.kind == "flow.recheck")).all())


def test_a_timer_ends_its_wait_once_a_change_of_the_record_meets_its_condition(
    world: World, clock: FrozenClock
) -> None:
    world.publish("flow", waiting_flow())
    record, instance = start(world, {"title": "waits"})
    other, other_instance = start(world, {"title": "waits too"})
    assert open_tasks(world) == []
    world.update(record.id, {"verdict": "not yet"})
    world.update(record.id, {"title": "renamed"})
    assert rechecks(world) == 2  # one per write of a record whose instance waits
    Worker(world.platform, name="test").run_due()
    assert open_tasks(world) == []  # the condition does not hold: the wait goes on
    with world.platform.unit_of_work() as uow:  # two changes in one unit: one recheck
        for verdict in ("almost", "ok"):
            current = uow.session.get(Record, record.id)
            assert current is not None
            records.update_record(
                uow,
                SYSTEM,
                "svc",
                "plan",
                record.id,
                {"verdict": verdict},
                lock_version=current.lock_version,
            )
        uow.commit()
    assert rechecks(world) == 3
    Worker(world.platform, name="test").run_due()
    (analyse,) = open_tasks(world)
    assert analyse.instance_id == instance.id  # the other record's instance still waits
    with world.platform.unit_of_work(write=False) as uow:
        moved = uow.session.get(FlowInstance, instance.id)
        assert moved is not None
        assert [h["action"] for h in moved.state["history"]].count("timer_ended_early") == 1
        assert moved.state["timers"] == {}
    clock.advance(timedelta(days=1, minutes=1))
    Worker(world.platform, name="test").run_due()  # the day's timers come
    # the other's wait ran out; the first's timer came to nothing (no second task)
    assert sorted(t.instance_id for t in open_tasks(world)) == [instance.id, other_instance.id]
    world.update(other.id, {"verdict": "ok"})
    assert rechecks(world) == 3  # nobody waits on a condition any more: nothing queued


def test_a_rule_starts_a_flow_and_tasks_trigger_rules(world: World) -> None:
    world.publish("flow", flow_body())
    world.publish(
        "rule",
        rule("kick_off", actions=[{"type": "start_flow", "flow": "handling"}]) | {"form": "plan"},
    )
    world.publish(
        "rule",
        rule("on_task", actions=[{"type": "comment", "text": "a task opened"}])
        | {"form": "plan", "trigger": {"type": "task_created"}},
    )
    record = world.create({"title": "auto"}, form="plan")
    with world.platform.unit_of_work(write=False) as uow:
        instance = uow.session.scalars(select(FlowInstance)).one()
        comments = [
            e
            for e in records.timeline(uow, SYSTEM, "svc", "plan", record.id)
            if e.action == "record.commented"
        ]
    assert instance.record_id == record.id
    assert len(comments) == 1
    (analyse,) = open_tasks(world, "analyse")
    assert analyse.assignee_id is None  # the record's owner started it: no user, no initiator
    with world.platform.unit_of_work(write=False) as uow:
        notes = list(uow.session.scalars(select(Notification)))
    assert notes == []  # nobody to notify about an unassigned task


def test_only_the_rows_a_condition_selects_get_a_task(world: World) -> None:
    body = flow_body(mode="any")
    again = {"!=": [{"var": "what"}, "done"]}
    body["nodes"][3]["multi"]["where"] = {"and": [again, {">": [{"var": "$record.cost"}, 50]}]}
    world.publish("flow", body)
    u = world.users
    rows = [{"what": "fix", "owner": u["ann"]}, {"what": "done", "owner": u["bob"]}]
    start(world, {"title": "noise", "cost": 99, "measures": rows})
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    act(world, boss(world, "meg"), open_tasks(world, "review")[0], "approve")
    (execute,) = open_tasks(world, "execute")
    assert execute.assignee_id == u["ann"]  # the row already done gets no task
    broken = flow_body()
    broken["nodes"][3]["multi"]["where"] = {"==": [{"var": "colour"}, "red"]}
    with pytest.raises(ValidationFailed) as caught:
        world.publish("flow", broken)
    assert [e["path"] for e in caught.value.errors] == ["/nodes/3/multi/where/==/0/var"]


JOB = {
    "key": "job",
    "label": text("job"),
    "fields": [field("what", "text"), field("owner", "user"), field("about", "text")],
}


def fan_out(wait: bool) -> dict[str, Any]:
    """A flow that starts a ``job_handling`` child per measure, on a new job record each."""
    values = {
        "what": {"expr": {"var": "$row.what"}},
        "owner": {"expr": {"var": "$row.owner"}},
        "about": {"expr": {"cat": ["for ", {"var": "title"}]}},
    }
    return {
        "key": "fan_out",
        "label": text("fan out"),
        "form": "plan",
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "jobs",
                "type": "sub_process",
                "flow": "job_handling",
                "record": {"form": "job", "values": values},
                "multi": {"over": "measures", "wait": wait},
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "jobs"}, {"from": "jobs", "to": "end"}],
    }


JOB_HANDLING = {
    "key": "job_handling",
    "label": text("job handling"),
    "form": "job",
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "do", "type": "fill", "assignees": {"field": "owner"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [{"from": "start", "to": "do"}, {"from": "do", "to": "end"}],
}


@pytest.mark.parametrize("wait", [True, False])
def test_a_sub_process_per_row_starts_a_child_on_a_new_record_each(
    world: World, wait: bool
) -> None:
    world.publish("form", JOB)
    world.publish("flow", JOB_HANDLING)
    world.publish("flow", fan_out(wait))
    u = world.users
    rows = [{"what": "replace fan", "owner": u["ann"]}, {"what": "retest", "owner": u["bob"]}]
    record = world.create({"title": "noise", "measures": rows}, form="plan")
    with world.platform.unit_of_work() as uow:
        parent = flows.start(
            uow, world.platform.settings, boss(world, "meg"), "svc", "fan_out", record.id
        )
        uow.commit()
    with world.platform.unit_of_work(write=False) as uow:
        children = list(
            uow.session.scalars(
                select(FlowInstance)
                .where(FlowInstance.flow_key == "job_handling")
                .order_by(FlowInstance.id)
            )
        )
        jobs = [uow.session.get(Record, c.record_id) for c in children]
        started = uow.session.get(FlowInstance, parent.id)
        assert started is not None
        status = started.status
    assert [(j.form_key, j.data["what"], j.data["owner"], j.data["about"]) for j in jobs if j] == [
        ("job", "replace fan", u["ann"], "for noise"),
        ("job", "retest", u["bob"], "for noise"),
    ]
    if wait:  # each child reports back under its own key
        assert {c.parent_id for c in children} == {parent.id}
        assert len({c.parent_token for c in children}) == 2
        assert status == "running"
    else:  # the children run on by themselves
        assert {c.parent_id for c in children} == {None}
        assert status == "completed"
    do = open_tasks(world, "do")
    assert [t.assignee_id for t in do] == [u["ann"], u["bob"]]
    act(world, actor(world, "bob"), do[1], "submit")
    with world.platform.unit_of_work(write=False) as uow:
        halfway = uow.session.get(FlowInstance, parent.id)
        assert halfway is not None
        assert halfway.status == ("running" if wait else "completed")
    act(world, actor(world, "ann"), do[0], "submit")
    with world.platform.unit_of_work(write=False) as uow:
        done = uow.session.get(FlowInstance, parent.id)
        assert done is not None
        assert done.status == "completed"
        steps = [h["action"] for h in done.state["history"]]
    assert steps.count("sub_process_done") == (2 if wait else 0)


def test_a_sub_process_per_row_writes_nothing_when_a_child_record_is_refused(
    world: World,
) -> None:
    world.publish("form", {**JOB, "fields": [*JOB["fields"], field("code", "text", required=True)]})
    world.publish("flow", JOB_HANDLING)
    world.publish("flow", fan_out(True))
    rows = [{"what": "replace fan", "owner": world.users["ann"]}]
    record = world.create({"title": "noise", "measures": rows}, form="plan")
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed):
        flows.start(uow, world.platform.settings, boss(world, "meg"), "svc", "fan_out", record.id)
    with world.platform.unit_of_work(write=False) as uow:
        assert list(uow.session.scalars(select(FlowInstance))) == []
        assert list(uow.session.scalars(select(Record).where(Record.form_key == "job"))) == []


def test_publication_refuses_a_broken_flow_with_node_paths(world: World) -> None:
    body = flow_body()
    body["nodes"][2] = {"id": "review", "type": "approval", "permissions": {"colour": "hidden"}}
    with pytest.raises(ValidationFailed) as caught:
        world.publish("flow", body)
    paths = {e["path"] for e in caught.value.errors}
    assert {"/nodes/2/assignees", "/nodes/2/permissions/colour"} <= paths
    loose = flow_body()
    loose["form"] = "nothing"
    with pytest.raises(ValidationFailed) as caught:
        world.publish("flow", loose)
    assert caught.value.errors[0]["path"] == "/form"


def test_starting_twice_or_without_rights_is_refused(world: World) -> None:
    world.publish("flow", flow_body())
    record, _ = start(world, {"title": "x"})
    with world.platform.unit_of_work() as uow, pytest.raises(Conflict) as caught:
        flows.start(uow, world.platform.settings, boss(world, "meg"), "svc", "handling", record.id)
    assert caught.value.code == "flow.running"
    with world.platform.unit_of_work() as uow, pytest.raises(NotFound):
        flows.start(uow, world.platform.settings, actor(world, "ann"), "svc", "handling", record.id)


def test_concurrent_approvals_of_one_node_act_once(
    world: World, settings: Any, clock: FrozenClock
) -> None:
    from tests.conftest import race

    world.publish("flow", flow_body(mode="any"))
    start(world, {"title": "race"})
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    review = open_tasks(world, "review")[:2]

    def approve(platform: Platform, n: int) -> str:
        task = review[n]
        who = next(k for k, v in world.users.items() if v == task.assignee_id)
        try:
            with platform.unit_of_work() as uow:
                flows.act(
                    uow, platform.settings, actor(world, who), task.id, flows.TaskCommand("approve")
                )
                uow.commit()
        except Conflict:
            return "409"
        return "ok"

    outcomes = sorted(race(settings, clock, 2, approve))
    assert outcomes == ["409", "ok"]
    with world.platform.unit_of_work(write=False) as uow:
        instance = uow.session.scalars(select(FlowInstance)).one()
    assert sum(1 for h in instance.state["history"] if h["action"] == "approved") == 1


def test_running_instances_move_to_a_new_version_with_a_node_mapping(world: World) -> None:
    world.publish("flow", flow_body())
    _, instance = start(world, {"title": "old"})
    (analyse,) = open_tasks(world, "analyse")
    act(world, boss(world, "meg"), analyse, "submit")
    renamed = flow_body(mode="any")
    renamed["nodes"][2]["id"] = "check"
    renamed["edges"][1]["to"] = "check"
    renamed["edges"][2]["from"] = "check"
    world.publish("flow", renamed)
    admin = Actor.system("admin")
    with world.platform.unit_of_work() as uow:
        wrong = flows.migrate(
            uow,
            admin,
            "svc",
            "handling",
            source=1,
            target=2,
            mapping={"review": "execute"},
            apply=False,
        )
    assert wrong["instances"][0]["ok"] is False
    assert "types differ" in wrong["instances"][0]["problem"]
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed):
        flows.migrate(uow, admin, "svc", "handling", source=1, target=2, mapping={}, apply=True)
    with world.platform.unit_of_work() as uow:
        preview = flows.migrate(
            uow,
            admin,
            "svc",
            "handling",
            source=1,
            target=2,
            mapping={"review": "check"},
            apply=False,
        )
        uow.commit()
    assert preview["instances"] == [
        {"instance": instance.id, "ok": True, "from": ["review"], "to": ["check"]}
    ]
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.get(FlowInstance, instance.id).version == 1  # type: ignore[union-attr]
    with world.platform.unit_of_work() as uow:
        flows.migrate(
            uow,
            admin,
            "svc",
            "handling",
            source=1,
            target=2,
            mapping={"review": "check"},
            apply=True,
        )
        uow.commit()
    check = open_tasks(world, "check")
    assert len(check) == 3
    ann = next(t for t in check if t.assignee_id == world.users["ann"])
    act(world, actor(world, "ann"), ann, "approve")  # version 2 is any-of: one approval decides
    with world.platform.unit_of_work(write=False) as uow:
        moved = uow.session.get(FlowInstance, instance.id)
        assert moved is not None
        assert moved.version == 2
        assert moved.status == "completed"
        assert any(h["action"] == "migrated" for h in moved.state["history"])
        audit = records.timeline(uow, SYSTEM, "svc", "plan", moved.record_id)
    assert "flow.migrated" in [e.action for e in audit]


def test_two_starts_of_one_flow_on_one_record_leave_one_running_instance(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from tangram.platform.flows import commands

    world.publish("flow", flow_body())
    record = world.create({"title": "noise"}, form="plan")

    def start_one() -> str:
        try:
            with world.platform.unit_of_work() as uow:
                flows.start(
                    uow, world.platform.settings, boss(world, "meg"), "svc", "handling", record.id
                )
                uow.commit()
        except Conflict as exc:
            return exc.code
        return "started"

    # at once, from several threads: one starts, the others are told it runs
    gate = threading.Barrier(4)
    results: list[str] = []

    def racer() -> None:
        gate.wait()
        results.append(start_one())

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["flow.running"] * 3 + ["started"]
    # the window a race leaves open (both checks see nothing) is closed by the database
    monkeypatch.setattr(commands, "running_instance", lambda *_args: None)
    assert start_one() == "flow.running"
    with world.platform.unit_of_work(write=False) as uow:
        running = uow.session.scalars(
            select(FlowInstance.id).where(
                FlowInstance.record_id == record.id, FlowInstance.status == "running"
            )
        ).all()
    assert len(running) == 1


def test_a_sub_process_that_starts_itself_stops_at_the_depth_limit(world: World) -> None:
    world.publish(
        "flow",
        {
            "key": "again",
            "label": text("again"),
            "form": "plan",
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "deeper",
                    "type": "sub_process",
                    "flow": "again",
                    "record": {"form": "plan", "values": {"title": "one more"}},
                },
                {"id": "end", "type": "end"},
            ],
            "edges": [{"from": "start", "to": "deeper"}, {"from": "deeper", "to": "end"}],
        },
    )
    record = world.create({"title": "first"}, form="plan")
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as caught:
        flows.start(uow, world.platform.settings, boss(world, "meg"), "svc", "again", record.id)
    assert caught.value.code == "flow.depth"
    assert "again → again" in caught.value.errors[0]["message"]
    with world.platform.unit_of_work(write=False) as uow:  # nothing was written
        assert uow.session.scalars(select(FlowInstance)).all() == []
        assert len(uow.session.scalars(select(Record)).all()) == 1


def test_a_multi_instance_node_over_too_many_rows_is_refused(world: World) -> None:
    from tangram.engines.flows.context import MAX_INSTANCES

    world.publish(
        "flow",
        {
            "key": "fan",
            "label": text("fan"),
            "form": "plan",
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "execute",
                    "type": "fill",
                    "multi": {"over": "measures", "assignee_field": "owner"},
                },
                {"id": "end", "type": "end"},
            ],
            "edges": [{"from": "start", "to": "execute"}, {"from": "execute", "to": "end"}],
        },
    )
    rows = [{"what": f"step {n}", "owner": world.users["ann"]} for n in range(MAX_INSTANCES + 1)]
    record = world.create({"title": "many", "measures": rows}, form="plan")
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as caught:
        flows.start(uow, world.platform.settings, boss(world, "meg"), "svc", "fan", record.id)
    assert caught.value.code == "flow.multi_limit"
    assert f"at most {MAX_INSTANCES}" in caught.value.detail
    with world.platform.unit_of_work(write=False) as uow:  # nothing was written
        assert uow.session.scalars(select(Task)).all() == []


def test_a_start_condition_that_cannot_be_evaluated_keeps_the_record_and_says_why(
    world: World,
) -> None:
    world.publish(
        "flow",
        {
            "key": "dated",
            "label": text("dated"),
            "form": "plan",
            "nodes": [
                {
                    "id": "start",
                    "type": "start",
                    "trigger": "condition",
                    "condition": {
                        "<": [{"date_diff": [{"var": "title"}, "2026-01-01", "days"]}, 0]
                    },
                },
                {"id": "end", "type": "end"},
            ],
            "edges": [{"from": "start", "to": "end"}],
        },
    )
    record = world.create({"title": "not a date"}, form="plan")
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(FlowInstance)).all() == []
        entries = records.timeline(uow, SYSTEM, "svc", "plan", record.id)
    (why,) = [e for e in entries if e.action == "flow.not_started"]
    assert why.payload["flow"] == "dated"
    assert "cannot be evaluated" in why.payload["detail"]
