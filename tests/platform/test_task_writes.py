"""What task submissions write: based on the version the task showed, merged by row identity,
one's own row only for a task per row; nothing lost between holders of parallel tasks."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.config import Settings
from tangram.engines.forms import ROW_ID
from tangram.platform import flows, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor, GrantRule
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import StaleVersion, ValidationFailed
from tangram.platform.kernel.models import Record, Scope, Task
from tangram.platform.records.versions import document_at
from tests.conftest import race
from tests.platform.rules_fixtures import SYSTEM, World, build_world, field, text

PLAN = {
    "key": "plan",
    "label": text("plan"),
    "fields": [
        field("title", "text"),
        field(
            "measures",
            "sub_table",
            fields=[field("what", "text"), field("owner", "user"), field("result", "text")],
        ),
    ],
}
EXECUTION = {
    "key": "execution",
    "label": text("execution"),
    "form": "plan",
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "execute",
            "type": "fill",
            "multi": {"over": "measures", "assignee_field": "owner"},
            "permissions": {"measures": "editable"},
        },
        {"id": "end", "type": "end"},
    ],
    "edges": [{"from": "start", "to": "execute"}, {"from": "execute", "to": "end"}],
}
OWNERS = ("ann", "bob", "cat")


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", PLAN)
    w.publish("flow", EXECUTION)
    return w


#: What a measure owner holds: reading and updating the app's records.
WORKER = GrantRule("svc", "*", frozenset({"read", "update"}), Scope.ALL)


def person(world: World, name: str) -> Actor:
    return Actor(user_id=world.users[name], username=name, grants=(WORKER,), via="session")


def start(world: World) -> Record:
    measures = [{"what": f"measure of {n}", "owner": world.users[n]} for n in OWNERS]
    record = world.create({"title": "plan", "measures": measures}, form="plan")
    with world.platform.unit_of_work() as uow:
        flows.start(
            uow, world.platform.settings, Actor.system("test"), "svc", "execution", record.id
        )
        uow.commit()
    return record


def task_of(world: World, name: str) -> Task:
    with world.platform.unit_of_work(write=False) as uow:
        return next(
            t
            for t in uow.session.query(Task).filter(Task.status == "open")
            if t.assignee_id == world.users[name]
        )


def view(world: World, name: str) -> dict[str, Any]:
    with world.platform.unit_of_work(write=False) as uow:
        return flows.task_view(uow, person(world, name), task_of(world, name).id)


def with_result(shown: dict[str, Any], result: str, row: int = 0) -> dict[str, Any]:
    rows = [dict(r) for r in shown["record"]["data"]["measures"]]
    rows[row]["result"] = result
    return {"measures": rows}


def submit(platform: Platform, world: World, name: str, data: dict[str, Any], version: int) -> None:
    with platform.unit_of_work() as uow:
        task = uow.session.get(Task, task_of(world, name).id)
        assert task is not None
        flows.act(
            uow,
            platform.settings,
            person(world, name),
            task.id,
            flows.TaskCommand("submit", data=data, lock_version=version),
        )
        uow.commit()


def results(world: World, record_id: int) -> dict[str, Any]:
    with world.platform.unit_of_work(write=False) as uow:
        record = uow.session.get(Record, record_id)
        assert record is not None
        return {r["what"]: r.get("result") for r in record.data["measures"]}


def test_owners_who_submit_from_the_same_version_keep_each_others_results(world: World) -> None:
    record = start(world)
    shown = {n: view(world, n) for n in OWNERS}  # all three open their tasks at once
    assert len({s["record"]["lock_version"] for s in shown.values()}) == 1
    for n in OWNERS:
        submit(
            world.platform,
            world,
            n,
            with_result(shown[n], f"done by {n}"),
            shown[n]["record"]["lock_version"],
        )
    assert results(world, record.id) == {f"measure of {n}": f"done by {n}" for n in OWNERS}


def test_owners_who_submit_at_the_same_moment_keep_each_others_results(
    world: World, settings: Settings, clock: FrozenClock
) -> None:
    record = start(world)
    shown = {n: view(world, n) for n in OWNERS}

    def work(platform: Platform, i: int) -> None:
        n = OWNERS[i]
        submit(
            platform,
            world,
            n,
            with_result(shown[n], f"done by {n}"),
            shown[n]["record"]["lock_version"],
        )

    race(settings, clock, len(OWNERS), work)
    assert results(world, record.id) == {f"measure of {n}": f"done by {n}" for n in OWNERS}
    with world.platform.unit_of_work(write=False) as uow:
        assert not [t for t in uow.session.query(Task) if t.status == "open"]  # the node is done


def test_a_change_that_clashes_with_a_later_one_is_refused_with_the_record_as_it_is(
    world: World,
) -> None:
    record = start(world)
    shown = view(world, "ann")
    with world.platform.unit_of_work() as uow:  # someone else writes ann's result meanwhile
        current = uow.session.get(Record, record.id)
        assert current is not None
        rows = [dict(r) for r in current.data["measures"]]
        rows[0]["result"] = "written by the lead"
        records.system_update(uow, SYSTEM, "svc", "plan", current, {"measures": rows})
        uow.commit()
    with pytest.raises(StaleVersion) as caught:
        submit(
            world.platform,
            world,
            "ann",
            with_result(shown, "done by ann"),
            shown["record"]["lock_version"],
        )
    assert caught.value.extra["current"]["conflicts"] == ["/measures/0/result"]
    assert results(world, record.id)["measure of ann"] == "written by the lead"
    fresh = view(world, "ann")  # reloaded, the change goes through
    submit(
        world.platform,
        world,
        "ann",
        with_result(fresh, "done by ann"),
        fresh["record"]["lock_version"],
    )
    assert results(world, record.id)["measure of ann"] == "done by ann"


def test_a_task_of_one_row_may_change_only_that_row_and_shows_it_first(world: World) -> None:
    record = start(world)
    shown = view(world, "bob")
    assert shown["row"]["table"] == "measures"
    assert shown["row"]["index"] == 1  # bob's row is the second of the table
    assert shown["record"]["data"]["measures"][0]["what"] == "measure of bob"  # shown first
    version = shown["record"]["lock_version"]
    with pytest.raises(ValidationFailed) as caught:  # writing ann's row (second in bob's view)
        submit(world.platform, world, "bob", with_result(shown, "forged", row=1), version)
    assert caught.value.code == "task.row"
    assert caught.value.errors == [{"path": "measures/1", "message": "another owner's row"}]
    extra = with_result(shown, "done")
    extra["measures"].append({"what": "sneaked in"})
    with pytest.raises(ValidationFailed) as caught:
        submit(world.platform, world, "bob", extra, version)
    assert caught.value.code == "task.row"
    assert results(world, record.id) == {f"measure of {n}": None for n in OWNERS}
    submit(world.platform, world, "bob", with_result(shown, "done"), version)
    assert results(world, record.id)["measure of bob"] == "done"


def test_a_submission_says_which_version_it_is_based_on(world: World) -> None:
    start(world)
    shown = view(world, "ann")
    with world.platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as caught:
        flows.act(
            uow,
            world.platform.settings,
            person(world, "ann"),
            task_of(world, "ann").id,
            flows.TaskCommand("submit", data=with_result(shown, "x")),
        )
    assert caught.value.code == "task.lock_version"


def test_rows_get_ids_that_stay_and_a_record_reads_as_of_any_version(world: World) -> None:
    record = world.create({"title": "a", "measures": [{"what": "x"}, {"what": "y"}]}, form="plan")
    ids = [r[ROW_ID] for r in record.data["measures"]]
    assert len(set(ids)) == 2
    world.update(record.id, {"title": "b"})
    updated = world.update(record.id, {"measures": [*record.data["measures"], {"what": "z"}]})
    assert [r[ROW_ID] for r in updated.data["measures"]][:2] == ids
    with world.platform.unit_of_work(write=False) as uow:
        current = uow.session.get(Record, record.id)
        assert current is not None
        assert current.lock_version == 3
        first, second = document_at(uow, current, 1), document_at(uow, current, 2)
        assert first is not None
        assert second is not None
        assert (first["title"], len(first["measures"])) == ("a", 2)
        assert (second["title"], len(second["measures"])) == ("b", 2)
        assert document_at(uow, current, 3) == current.data
        assert document_at(uow, current, 4) is None


def test_rows_an_update_or_a_task_adds_get_their_defaults(world: World) -> None:
    world.publish(
        "form",
        {
            **PLAN,
            "fields": [
                PLAN["fields"][0],
                field(
                    "measures",
                    "sub_table",
                    fields=[
                        field("what", "text"),
                        field("owner", "user"),
                        field("result", "text"),
                        field("state", "text", default="todo"),
                    ],
                ),
            ],
        },
    )
    record = world.create({"title": "p", "measures": [{"what": "a"}]}, form="plan")
    assert record.data["measures"][0]["state"] == "todo"
    kept = dict(record.data["measures"][0])
    kept.pop("state")  # cleared on purpose: an existing row does not get its default back
    updated = world.update(record.id, {"measures": [kept, {"what": "b"}]})
    assert [r.get("state") for r in updated.data["measures"]] == [None, "todo"]


def test_two_branches_finished_at_the_same_moment_meet_at_the_join(
    world: World, settings: Settings, clock: FrozenClock
) -> None:
    branch = {"type": "fill", "permissions": {"title": "editable"}}
    world.publish(
        "flow",
        {
            "key": "both",
            "label": text("both"),
            "form": "plan",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "split", "type": "parallel_split"},
                {"id": "left", "assignees": {"users": [world.users["ann"]]}, **branch},
                {"id": "right", "assignees": {"users": [world.users["bob"]]}, **branch},
                {"id": "join", "type": "parallel_join"},
                {"id": "end", "type": "end"},
            ],
            "edges": [
                {"from": "start", "to": "split"},
                {"from": "split", "to": "left"},
                {"from": "split", "to": "right"},
                {"from": "left", "to": "join"},
                {"from": "right", "to": "join"},
                {"from": "join", "to": "end"},
            ],
        },
    )
    record = world.create({"title": "plan"}, form="plan")
    with world.platform.unit_of_work() as uow:
        instance = flows.start(
            uow, world.platform.settings, Actor.system("test"), "svc", "both", record.id
        )
        uow.commit()
    holders = ("ann", "bob")
    tasks = {n: task_of(world, n).id for n in holders}

    def work(platform: Platform, i: int) -> None:  # no data: the join is what they share
        with platform.unit_of_work() as uow:
            flows.act(
                uow,
                platform.settings,
                person(world, holders[i]),
                tasks[holders[i]],
                flows.TaskCommand("submit"),
            )
            uow.commit()

    race(settings, clock, len(holders), work)  # neither gets a conflict to resubmit
    with world.platform.unit_of_work(write=False) as uow:
        finished = uow.session.get(type(instance), instance.id)
        assert finished is not None
        assert finished.status == "completed"
