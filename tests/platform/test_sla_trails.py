"""The trail an SLA's status rows keep: a record's history as its policy reads it, followed write
by write, so that a refresh no longer replays the record's audit trail; and replayed again
whenever it cannot be trusted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record, SlaStatus
from tangram.platform.rules import rulebook, sla
from tests.platform.rules_fixtures import World
from tests.platform.test_sla_cycles import REPAIR_SLA, at_time, repair_world, sh

#: The whole audit trail's replay, as the platform had it before trails (the tests count calls
#: of the module's own).
replay_all = sla.history


@pytest.fixture
def world(platform: Platform, clock: FrozenClock) -> World:
    return repair_world(platform, clock)


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The records whose audit trail an SLA refresh replayed."""
    replayed: list[int] = []
    history = sla.history

    def replay(uow: Any, record: Any) -> Any:
        replayed.append(record.id)
        return history(uow, record)

    monkeypatch.setattr(sla, "history", replay)
    return replayed


def kept(world: World, record_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The statuses stored for the record, and those a replay of its whole audit trail gives
    now; with each row's trail, which must reflect the record as it is."""
    with world.platform.unit_of_work(write=False) as uow:
        record = uow.session.get(Record, record_id)
        assert record is not None
        (policy,) = rulebook.load(uow, "svc").slas["repair"]
        rows = list(uow.session.scalars(select(SlaStatus).where(SlaStatus.record_id == record_id)))
        whole = [s.as_dict() for s in policy.evaluate(replay_all(uow, record), uow.now)]
        for row in rows:
            assert row.trail is not None
            assert row.trail["through"] == record.lock_version
            assert row.trail["reads"] == ["status", "urgency"]
            last = row.trail["points"][-1][1]
            assert last == {k: record.data[k] for k in ("status", "urgency") if k in record.data}
        return [r.detail for r in rows], whole


def test_a_record_s_life_is_followed_without_replaying_its_audit_trail(
    world: World, clock: FrozenClock, replays: list[int]
) -> None:
    rid = world.create(
        {"title": "pump", "group": world.groups["line_a"], "assignee": world.users["ann"]},
        form="repair",
    ).id
    assert replays == [rid]  # its creation: this unit's own entries, no stored ones to read
    steps: list[tuple[str, dict[str, Any]]] = [
        ("10:10", {"title": "pump (noisy)"}),  # a field no condition reads
        ("10:20", {"status": "waiting"}),  # paused
        ("10:25", {"title": "pump (still noisy)"}),
        ("10:40", {"status": "open"}),  # resumed
        ("10:45", {"urgency": "P1"}),  # re-targeted: 30 minutes, 35 used, breached at 10:40
        ("11:00", {"status": "resolved"}),  # met late
        ("13:30", {"status": "open"}),  # reopened: cycle 2
        ("13:30", {"title": "pump (again)"}),  # the same instant as the reopening
    ]
    for hhmm, changes in steps:
        clock.set(sh(hhmm))
        world.update(rid, changes)
        stored, whole = kept(world, rid)
        assert stored == whole, hhmm
        if hhmm == "10:40":
            assert "paused 20 min (2026-11-23 10:20–10:40)" in stored[0]["explanation"]
    at_time(world, clock, "14:10")  # the warning check of cycle 2 (a job, not a write)
    stored, whole = kept(world, rid)
    assert stored == whole
    assert (whole[0]["state"], whole[0]["cycle"], whole[0]["breaches"]) == ("breached", 2, 2)
    assert replays == [rid]
    with world.platform.unit_of_work(write=False) as uow:
        (row,) = uow.session.scalars(select(SlaStatus))
        # what the policy reads changed five times in nine writes
        assert [values for _, values in row.trail["points"]] == [
            {"status": "open", "urgency": "P2"},
            {"status": "waiting", "urgency": "P2"},
            {"status": "open", "urgency": "P2"},
            {"status": "open", "urgency": "P1"},
            {"status": "resolved", "urgency": "P1"},
            {"status": "open", "urgency": "P1"},
        ]


def untrusted(world: World, change: dict[str, Any]) -> None:
    """Change the trail kept in every status row, as a lost refresh or an older release would
    have left it (its points made wrong, so that using it would show)."""
    with world.platform.unit_of_work() as uow:
        for row in uow.session.scalars(select(SlaStatus)):
            assert row.trail is not None
            wrong = [[at, {**values, "status": "waiting"}] for at, values in row.trail["points"]]
            row.trail = {**row.trail, "points": wrong, **change} if change else None
        uow.commit()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"through": 1}, id="a write went by without a refresh"),
        pytest.param({"through": 99}, id="kept past the record's version"),
        pytest.param({"reads": ["status"]}, id="kept for a policy that read other fields"),
        pytest.param({}, id="kept before trails were"),
    ],
)
def test_a_trail_that_cannot_be_trusted_is_replayed_from_the_audit_trail(
    world: World, clock: FrozenClock, replays: list[int], change: dict[str, Any]
) -> None:
    rid = world.create({"title": "valve", "assignee": world.users["ann"]}, form="repair").id
    clock.set(sh("10:20"))
    world.update(rid, {"title": "valve (leaking)"})
    untrusted(world, change)
    clock.set(sh("10:30"))
    world.update(rid, {"title": "valve (leaking badly)"})
    assert replays == [rid, rid]
    stored, whole = kept(world, rid)
    assert stored == whole
    assert whole[0]["paused_seconds"] == 0  # nothing of the wrong points was believed
    clock.set(sh("10:40"))
    world.update(rid, {"title": "valve (fixed?)"})
    assert replays == [rid, rid]  # trusted again once replayed


def test_a_policy_reading_other_fields_replays_once_then_keeps_its_own_trail(
    world: World, clock: FrozenClock, replays: list[int]
) -> None:
    rid = world.create({"title": "gear", "assignee": world.users["ann"]}, form="repair").id
    clock.set(sh("10:10"))
    world.update(rid, {"title": "gear (worn)"})
    (target,) = REPAIR_SLA["targets"]
    paused_by_title = target | {"pause_when": {"==": [{"var": "title"}, "gear (on hold)"]}}
    world.publish("rule", REPAIR_SLA | {"targets": [paused_by_title]})
    clock.set(sh("10:20"))
    world.update(rid, {"title": "gear (on hold)"})
    clock.set(sh("10:50"))
    world.update(rid, {"title": "gear (back)"})
    assert replays.count(rid) == 2  # the creation, and the first write the new policy saw
    with world.platform.unit_of_work(write=False) as uow:
        (row,) = uow.session.scalars(select(SlaStatus))
        assert row.trail is not None
        assert row.trail["reads"] == ["status", "title", "urgency"]
        assert row.detail["paused_seconds"] == 30 * 60
