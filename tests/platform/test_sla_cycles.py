"""A repeating SLA target over a record's life: each reopening starts a cycle with its own due
time, warning, breach and escalation; the record's fields add the cycles up."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import AuditEntry, Job, Notification, SlaStatus
from tangram.platform.rules.sla import SLA_JOB, run_check
from tangram.platform.worker import Worker
from tests.platform.rules_fixtures import CALENDAR, SYSTEM, World, build_world, field, options, text

SH = ZoneInfo("Asia/Shanghai")
REPAIR: dict[str, Any] = {
    "key": "repair",
    "label": text("repair"),
    "fields": [
        field("title", "text"),
        field("urgency", "select", options=options("P1", "P2"), default="P2"),
        field("status", "select", options=options("open", "waiting", "resolved"), default="open"),
        field("group", "group"),
        field("assignee", "user"),
        field("escalation_level", "integer"),
        field("fix_due", "datetime"),
        field("fix_breached", "checkbox"),
        field("fix_minutes", "number"),
        field("fix_cycles", "integer"),
    ],
}
REPAIR_SLA: dict[str, Any] = {
    "key": "repair_sla",
    "type": "sla",
    "label": text("repair SLA"),
    "form": "repair",
    "calendar": "office",
    "priority_field": "urgency",
    "targets": [
        {
            "key": "fix",
            "label": text("fix"),
            "minutes": {"P1": 30, "P2": 60},
            "stop_when": {"==": [{"var": "status"}, "resolved"]},
            "pause_when": {"==": [{"var": "status"}, "waiting"]},
            "warn_percent": 50,
            "repeat": True,
            "due_field": "fix_due",
            "breached_field": "fix_breached",
            "used_field": "fix_minutes",
            "cycles_field": "fix_cycles",
        }
    ],
    "on_warn": [
        {"type": "notify", "to": {"field": "assignee"}, "title": "{{title}} is nearly due"}
    ],
    "escalation": [
        {
            "actions": [
                {"type": "escalate", "levels": 1, "notify": "group_manager"},
                {"type": "comment", "text": "first escalation level"},
            ]
        },
        {"actions": [{"type": "comment", "text": "second escalation level"}]},
    ],
}


def sh(hhmm: str) -> datetime:
    """Monday 2026-11-23 at ``hhmm`` in Shanghai (office hours 09:00–12:00, 13:00–18:00)."""
    return datetime.fromisoformat(f"2026-11-23 {hhmm}").replace(tzinfo=SH)


def repair_world(platform: Platform, clock: FrozenClock) -> World:
    """The repair form and its repeating SLA on the office calendar, on Monday at 10:00."""
    clock.set(sh("10:00"))
    built = build_world(platform)
    built.publish("form", REPAIR)
    built.publish("calendar", CALENDAR)
    built.publish("rule", REPAIR_SLA)
    return built


@pytest.fixture
def world(platform: Platform, clock: FrozenClock) -> World:
    return repair_world(platform, clock)


def at_time(world: World, clock: FrozenClock, hhmm: str) -> None:
    """Move the clock to ``hhmm`` and run the jobs due by then."""
    clock.set(sh(hhmm))
    Worker(world.platform, name="test").run_due()


def sla_fields(world: World, record_id: int) -> dict[str, Any]:
    data = world.get(record_id).data
    due = data.get("fix_due")
    return {
        "due": datetime.fromisoformat(due) if due else None,
        "breached": data.get("fix_breached"),
        "minutes": data.get("fix_minutes"),
        "cycles": data.get("fix_cycles"),
        "escalation_level": data.get("escalation_level"),
    }


def status_of(world: World) -> SlaStatus:
    with world.platform.unit_of_work(write=False) as uow:
        (status,) = uow.session.scalars(select(SlaStatus))
        return status


def titles(world: World, user: str) -> list[str]:
    with world.platform.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(Notification.title)
                .where(Notification.user_id == world.users[user])
                .order_by(Notification.id)
            )
        )


def comments(world: World, record_id: int) -> list[str]:
    with world.platform.unit_of_work(write=False) as uow:
        found = records.timeline(uow, SYSTEM, "svc", "repair", record_id)
    return [str(e.payload["text"]) for e in found if e.action == "record.commented"]


def breaches_audited(world: World, record_id: int) -> list[list[str]]:
    with world.platform.unit_of_work(write=False) as uow:
        found = records.timeline(uow, SYSTEM, "svc", "repair", record_id)
    return [
        e.payload["effects"] for e in found if e.action == "sla.changed" and e.payload["breached"]
    ]


def test_each_reopening_starts_a_cycle_with_its_own_warning_breach_and_escalation(
    world: World, clock: FrozenClock
) -> None:
    created = world.create(
        {"title": "pump", "group": world.groups["line_a"], "assignee": world.users["ann"]},
        form="repair",
    )
    rid = created.id
    assert sla_fields(world, rid) == {
        "due": sh("11:00"),
        "breached": False,
        "minutes": None,
        "cycles": 1,
        "escalation_level": None,
    }
    at_time(world, clock, "10:40")
    assert titles(world, "ann") == ["pump is nearly due"]
    clock.set(sh("10:50"))
    world.update(rid, {"status": "resolved"})  # cycle 1 met in 50 of 60 minutes
    at_time(world, clock, "11:05")  # the check planned for cycle 1's due time finds it met
    assert sla_fields(world, rid) == {
        "due": None,
        "breached": False,
        "minutes": 50.0,
        "cycles": 1,
        "escalation_level": None,
    }
    assert titles(world, "meg") == []

    clock.set(sh("14:00"))
    world.update(rid, {"status": "open"})  # reopened: cycle 2, the full hour again
    assert sla_fields(world, rid) == {
        "due": sh("15:00"),
        "breached": False,
        "minutes": 50.0,  # the met cycle's minutes stay
        "cycles": 2,
        "escalation_level": None,
    }
    stored = status_of(world)
    assert (stored.state, stored.cycle, stored.breaches) == ("running", 2, 0)
    at_time(world, clock, "14:31")
    assert titles(world, "ann") == ["pump is nearly due"] * 2
    at_time(world, clock, "15:01")
    assert sla_fields(world, rid) == {
        "due": sh("15:00"),
        "breached": True,
        "minutes": 50.0,
        "cycles": 2,
        "escalation_level": 1,
    }
    assert titles(world, "meg") == [f"已升级：repair #{rid}"]
    assert comments(world, rid) == ["first escalation level"]
    clock.set(sh("15:30"))
    world.update(rid, {"status": "resolved"})  # cycle 2 met late, after 90 minutes
    assert sla_fields(world, rid) == {
        "due": None,
        "breached": True,
        "minutes": 140.0,
        "cycles": 2,
        "escalation_level": 1,
    }
    stored = status_of(world)
    assert (stored.state, stored.cycle, stored.breaches) == ("breached", 2, 1)

    clock.set(sh("16:00"))
    world.update(rid, {"status": "open"})  # cycle 3 follows a breached one
    assert sla_fields(world, rid) == {
        "due": sh("17:00"),
        "breached": True,  # some cycle breached
        "minutes": 140.0,
        "cycles": 3,
        "escalation_level": 1,
    }
    at_time(world, clock, "17:01")
    stored = status_of(world)
    assert (stored.state, stored.cycle, stored.breaches) == ("breached", 3, 2)
    assert stored.detail["explanation"] == (
        "cycle 3: urgency P2 = 1 h of business time from 2026-11-23 16:00 (office); 61 min used;"
        " breached at 2026-11-23 17:00; 1 of 2 earlier cycles breached"
    )
    # each cycle's breach escalates from the first level again; the escalations add up
    assert sla_fields(world, rid)["escalation_level"] == 2
    assert comments(world, rid) == ["first escalation level"] * 2
    assert titles(world, "meg") == [f"已升级：repair #{rid}"] * 2
    assert [
        sorted({e.split(":")[0] for e in effects if e.startswith("breach ")})
        for effects in breaches_audited(world, rid)
    ] == [["breach 1 of fix (cycle 2)"], ["breach 1 of fix (cycle 3)"]]


def test_a_check_planned_for_an_earlier_cycle_does_not_act_on_the_next(
    world: World, clock: FrozenClock
) -> None:
    rid = world.create({"title": "valve", "assignee": world.users["ann"]}, form="repair").id
    clock.set(sh("10:10"))
    world.update(rid, {"status": "resolved"})
    clock.set(sh("10:15"))
    # reopened as P1: cycle 2 warns at 10:30 (15 of 30 minutes), the instant cycle 1 would have
    world.update(rid, {"status": "open", "urgency": "P1"})
    with world.platform.unit_of_work(write=False) as uow:
        planned = list(
            uow.session.scalars(select(Job.payload).where(Job.kind == SLA_JOB).order_by(Job.id))
        )
    assert [(p["target"], p["cycle"], datetime.fromisoformat(p["at"])) for p in planned] == [
        ("fix", 1, sh("10:30")),
        ("fix", 2, sh("10:30")),
    ]
    clock.set(sh("10:31"))
    with world.platform.unit_of_work() as uow:
        run_check(uow, uow.settings, JobContext(0, SLA_JOB, planned[0], 1, clock.now()))
        uow.commit()
    assert titles(world, "ann") == []  # the late cycle-1 check did nothing
    assert status_of(world).state == "running"
    at_time(world, clock, "10:31")
    assert titles(world, "ann") == ["valve is nearly due"]
    assert status_of(world).state == "warned"


def test_statuses_and_checks_kept_before_cycles_keep_working(
    world: World, clock: FrozenClock
) -> None:
    world.create({"title": "fan", "assignee": world.users["ann"]}, form="repair")
    with world.platform.unit_of_work() as uow:
        (row,) = uow.session.scalars(select(SlaStatus))
        for key in ("cycle", "breaches", "total_used_seconds"):
            row.detail = {k: v for k, v in row.detail.items() if k != key}
        (job,) = uow.session.scalars(select(Job).where(Job.kind == SLA_JOB))
        job.payload = {k: v for k, v in job.payload.items() if k not in ("target", "cycle")}
        uow.commit()
    assert (status_of(world).cycle, status_of(world).breaches) == (1, 0)
    at_time(world, clock, "10:31")
    assert titles(world, "ann") == ["fan is nearly due"]
    stored = status_of(world)
    assert (stored.state, stored.cycle, stored.breaches) == ("warned", 1, 0)


def test_sla_changes_are_audited_with_the_cycle(world: World, clock: FrozenClock) -> None:
    rid = world.create({"title": "belt", "assignee": world.users["ann"]}, form="repair").id
    at_time(world, clock, "10:31")
    with world.platform.unit_of_work(write=False) as uow:
        (entry,) = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "sla.changed", AuditEntry.object_id == str(rid)
            )
        )
    assert (entry.payload["warned"], entry.payload["cycles"]) == (["fix"], {"fix": 1})


def test_a_record_reopened_before_repeat_was_published_gets_its_cycle_at_its_next_write(
    world: World, clock: FrozenClock
) -> None:
    (target,) = REPAIR_SLA["targets"]
    world.publish("rule", REPAIR_SLA | {"targets": [target | {"repeat": False}]})
    rid = world.create(
        {"title": "drum", "group": world.groups["line_a"], "assignee": world.users["ann"]},
        form="repair",
    ).id
    clock.set(sh("11:30"))
    world.update(rid, {"status": "resolved"})  # met late: due 11:00, escalated
    clock.set(sh("13:00"))
    world.update(rid, {"status": "open"})  # reopened, but the target does not repeat yet
    assert (status_of(world).state, sla_fields(world, rid)["cycles"]) == ("breached", 1)
    at_time(world, clock, "15:00")
    world.publish("rule", REPAIR_SLA)
    at_time(world, clock, "15:00")  # re-evaluates open targets only: this one is not
    assert sla_fields(world, rid)["cycles"] == 1
    world.update(rid, {"title": "drum (again)"})
    # cycle 2 runs from the reopening at 13:00: its hour ran out at 14:00
    assert sla_fields(world, rid) == {
        "due": sh("14:00"),
        "breached": True,
        "minutes": 90.0,
        "cycles": 2,
        "escalation_level": 2,
    }
    stored = status_of(world)
    assert (stored.state, stored.cycle, stored.breaches) == ("breached", 2, 2)
