"""Rules wired to records: effects in the writing transaction, assignment, traces, loops, refusals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text

from tangram.config import Settings
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import Conflict, ValidationFailed
from tangram.platform.kernel.models import AuditEntry, Notification, Record
from tests.platform.rules_fixtures import (
    DISPATCH,
    SYSTEM,
    TICKET,
    World,
    build_world,
    field,
    rule,
)

HW_A = {"title": "noise", "issue_type": "hardware_fault", "product_line": "A", "tier": "normal"}


@pytest.fixture
def world(platform: Platform) -> World:
    return build_world(platform)


def timeline(world: World, record_id: int, action: str | None = None) -> list[AuditEntry]:
    with world.platform.unit_of_work(write=False) as uow:
        entries = records.timeline(uow, SYSTEM, "svc", "ticket", record_id)
    return [e for e in entries if action is None or e.action == action]


def dispatch_rule(strategy: str = "round_robin") -> dict[str, Any]:
    return rule(
        "dispatch",
        actions=[
            {"type": "assign", "field": "group", "table": "dispatch_matrix", "output": "group"},
            {
                "type": "assign",
                "field": "assignee",
                "table": "dispatch_matrix",
                "output": "group",
                "strategy": strategy,
                "closed": ["resolved", "closed"],
            },
            {"type": "set_fields", "values": {"status": "assigned"}},
        ],
    )


def test_concurrent_registrations_take_turns_without_waiting_for_one_another(
    world: World,
) -> None:
    """PostgreSQL: a round-robin's turn is taken apart from the registration, so a second one
    meanwhile neither waits for the first to end (the cursor's row is not held) nor collides
    with it on a new pool's first turn, and each gets the next person; a registration that
    then fails has still used its turn. SQLite has one writer at a time: the turn belongs to
    the registration, and its failure gives the turn back."""
    world.publish("rule", DISPATCH)
    world.publish("rule", dispatch_rule())
    u = world.users
    with world.platform.unit_of_work() as failing:
        first = records.create_record(failing, SYSTEM, "svc", "ticket", dict(HW_A))
        assert first.record.data["assignee"] == u["ann"]
        if world.platform.side_engine is not None:
            with world.platform.unit_of_work() as other:
                other.session.execute(text("SET LOCAL lock_timeout = '1s'"))
                second = records.create_record(other, SYSTEM, "svc", "ticket", dict(HW_A))
                assert second.record.data["assignee"] == u["bob"]
                other.commit()
        # the first registration fails: it rolls back
    after = world.get(world.create(dict(HW_A)).id).data["assignee"]
    assert after == (u["ann"] if world.platform.side_engine is None else u["cat"])


def test_dispatch_assigns_group_and_agents_round_robin_and_explains_why(world: World) -> None:
    world.publish("rule", DISPATCH)
    world.publish("rule", dispatch_rule())
    created = [world.create(dict(HW_A)) for _ in range(4)]
    assignees = [world.get(r.id).data["assignee"] for r in created]
    u = world.users
    assert assignees == [u["ann"], u["bob"], u["cat"], u["ann"]]
    first = world.get(created[0].id)
    assert first.data["group"] == world.groups["line_a"]
    assert first.data["status"] == "assigned"
    other = world.create({"title": "how?", "issue_type": "usage", "product_line": "B"})
    assert world.get(other.id).data["assignee"] == u["dan"]
    (fired,) = timeline(world, first.id, "rule.fired")
    assert fired.actor == "rule dispatch v1"
    assert fired.payload["because"] == "issue_type = hardware_fault, product_line = A"
    assert fired.payload["effects"][0] == "group ← group line_a"
    assert fired.payload["effects"][1].startswith("assignee ← Ann (round-robin")
    # ... and as facts the timeline words in the reader's language
    assert fired.payload["did"][:2] == [
        {"type": "assign", "field": "group", "value": world.groups["line_a"]},
        {
            "type": "assign",
            "field": "assignee",
            "value": u["ann"],
            "strategy": "round_robin",
            "why": "round-robin",
        },
    ]
    # what it set, as values the timeline names by label in the reader's words
    assert fired.payload["set"] == {
        "group": world.groups["line_a"],
        "assignee": u["ann"],
        "status": "assigned",
    }
    assert fired.payload["read"] == {"issue_type": "hardware_fault", "product_line": "A"}
    # the rule's writes are audited changes of the record, by the rule
    updates = timeline(world, first.id, "record.updated")
    assert {e.actor for e in updates} == {"rule dispatch v1"}
    assert updates[-1].payload["changes"]["status"] == ["new", "assigned"]


def test_least_open_work_skips_busy_agents_and_ignores_closed_work(world: World) -> None:
    world.publish("rule", DISPATCH)
    world.publish("rule", dispatch_rule("least_open"))
    first = world.create(dict(HW_A))  # ann (all at 0, the first of the pool)
    second = world.create(dict(HW_A))  # bob (ann has 1)
    assert world.get(first.id).data["assignee"] == world.users["ann"]
    assert world.get(second.id).data["assignee"] == world.users["bob"]
    world.update(first.id, {"status": "closed"})  # ann's work is done
    world.update(second.id, {"status": "resolved"})
    third = world.create(dict(HW_A))
    # everybody is at zero open work again: the pool continues after the last one chosen
    assert world.get(third.id).data["assignee"] == world.users["cat"]
    fourth = world.create(dict(HW_A))
    assert world.get(fourth.id).data["assignee"] in {world.users["ann"], world.users["bob"]}


def test_field_change_creates_a_linked_record_notifies_and_comments(world: World) -> None:
    world.publish(
        "rule",
        rule(
            "callback",
            trigger="field_changed",
            condition={"==": [{"var": "status"}, "resolved"]},
            actions=[
                {
                    "type": "create_record",
                    "form": "callback",
                    "values": {
                        "ticket": {"expr": {"var": "$record._id"}},
                        "question": {"expr": {"cat": ["solved: ", {"var": "title"}, "?"]}},
                    },
                },
                {"type": "notify", "to": {"field": "assignee"}, "title": "{{title}} resolved"},
                {"type": "comment", "text": "callback created for {{title}}"},
            ],
        )
        | {"trigger": {"type": "field_changed", "fields": ["status"]}},
    )
    ticket = world.create({**HW_A, "title": "<b>loud</b>", "assignee": world.users["bob"]})
    world.update(ticket.id, {"title": "still loud"})  # not the status: nothing happens
    assert timeline(world, ticket.id, "rule.fired") == []
    world.update(ticket.id, {"status": "resolved"})
    with world.platform.unit_of_work(write=False) as uow:
        callback = uow.session.scalars(select(Record).where(Record.form_key == "callback")).one()
        note = uow.session.scalars(
            select(Notification).where(Notification.user_id == world.users["bob"])
        ).one()
    assert callback.data == {"ticket": ticket.id, "question": "solved: still loud?"}
    assert note.title == "still loud resolved"
    assert note.payload == {"app": "svc", "form": "ticket", "record": ticket.id}
    (comment,) = timeline(world, ticket.id, "record.commented")
    assert comment.payload["text"] == "callback created for still loud"
    (fired,) = timeline(world, ticket.id, "rule.fired")
    assert fired.payload["effects"][0] == f"created callback #{callback.id}"
    assert fired.payload["did"][0] == {
        "type": "create_record",
        "form": "callback",
        "record": callback.id,
    }


def test_a_failing_effect_is_recorded_and_does_not_undo_the_write(world: World) -> None:
    world.publish(
        "rule",
        rule(
            "bad",
            actions=[
                {"type": "set_fields", "values": {"urgency": "P9"}},
                {"type": "set_fields", "values": {"status": "assigned"}},
            ],
        ),
    )
    ticket = world.create(dict(HW_A))
    stored = world.get(ticket.id)
    assert stored.data["urgency"] == "P3"  # the invalid value was refused
    assert stored.data["status"] == "assigned"  # the other effect still applied
    (fired,) = timeline(world, ticket.id, "rule.fired")
    assert fired.payload["effects"] == ["set status ← 'assigned'"]
    assert fired.payload["did"] == [{"type": "set_fields"}]  # the refused one did nothing
    (failure,) = fired.payload["failed"]
    assert failure.startswith("set_fields: The record has invalid fields.")
    assert "urgency" in failure


def test_rules_that_trigger_each_other_stop_at_the_depth_limit(world: World) -> None:
    bump = {"+": [{"var": "y"}, 1]}
    world.publish(
        "rule",
        rule(
            "ping",
            trigger="field_changed",
            actions=[{"type": "set_fields", "values": {"y": {"expr": bump}}}],
        )
        | {"trigger": {"type": "field_changed", "fields": ["x"]}},
    )
    world.publish(
        "rule",
        rule(
            "pong",
            trigger="field_changed",
            actions=[{"type": "set_fields", "values": {"x": {"expr": {"+": [{"var": "x"}, 1]}}}}],
        )
        | {"trigger": {"type": "field_changed", "fields": ["y"]}},
    )
    ticket = world.create({**HW_A, "x": 0, "y": 0})
    world.update(ticket.id, {"x": 1})
    stored = world.get(ticket.id)
    assert 0 < stored.data["x"] + stored.data["y"] < 20
    (loop,) = timeline(world, ticket.id, "rule.loop")
    assert "stopped after 5 levels" in loop.payload["detail"]
    assert set(loop.payload["chain"]) == {"ping", "pong"}


def test_publication_refuses_broken_rules_with_paths(world: World) -> None:
    """Problems in the rule published are pinned inside its body; those its publication finds in
    other definitions keep the app-wide path (``/rules/<key>/...``) and name the definition."""
    world.publish("rule", DISPATCH)
    cases = [
        (
            rule("to_nowhere", actions=[{"type": "assign", "to": {"group": "ghosts"}}]),
            "/actions/0/to/group",
        ),
        (
            rule(
                "unknown_field",
                condition={"==": [{"var": "colour"}, "red"]},
                actions=[{"type": "comment", "text": "x"}],
            ),
            "/condition",
        ),
        (
            rule("bad_cron", actions=[{"type": "comment", "text": "x"}])
            | {"trigger": {"type": "schedule", "cron": "every day"}},
            "/trigger/cron",
        ),
        (
            DISPATCH
            | {
                "key": "failing_table",
                "tests": [
                    {
                        "input": {"issue_type": "usage", "product_line": "A"},
                        "expect": {"group": "x"},
                    }
                ],
            },
            "/tests/0",
        ),
        (
            DISPATCH
            | {
                "key": "missing_group",
                "rules": [{"when": ["-", "-"], "then": ["ghosts"]}],
                "tests": [],
            },
            None,  # a table alone names no group to assign to: it is accepted
        ),
    ]
    for body, path in cases:
        if path is None:
            world.publish("rule", body)
            continue
        with pytest.raises(ValidationFailed) as caught:
            world.publish("rule", body)
        paths = [e["path"] for e in caught.value.errors]
        assert any(p.startswith(path) for p in paths), (path, caught.value.errors)
    # a table output naming a missing group is refused once a rule assigns from it
    with pytest.raises(ValidationFailed) as caught:
        world.publish(
            "rule",
            rule(
                "from_missing",
                actions=[
                    {
                        "type": "assign",
                        "field": "group",
                        "table": "missing_group",
                        "output": "group",
                    }
                ],
            ),
        )
    assert [e["path"] for e in caught.value.errors] == ["/rules/missing_group/rules/0/then/0"]


def test_a_form_version_that_drops_a_field_a_rule_reads_is_refused(world: World) -> None:
    world.publish(
        "rule",
        rule(
            "vip",
            condition={"==": [{"var": "tier"}, "vip"]},
            actions=[{"type": "set_fields", "values": {"urgency": "P1"}}],
        ),
    )
    slimmer = TICKET | {"fields": [f for f in TICKET["fields"] if f["key"] != "tier"]}
    with pytest.raises(ValidationFailed) as caught:
        world.publish("form", slimmer)
    assert caught.value.errors[0]["path"].startswith("/rules/vip/condition")
    ticket = world.create({**HW_A, "tier": "vip"})
    assert world.get(ticket.id).data["urgency"] == "P1"


def test_skill_strategy_picks_among_those_with_the_skill(world: World) -> None:
    from tangram.platform.identity import users

    with world.platform.unit_of_work() as uow:
        cat = users.get_user(uow, world.users["cat"])
        users.update_user(
            uow, SYSTEM, cat.id, {"skills": ["hardware", "line_a"]}, lock_version=cat.lock_version
        )
        uow.commit()
    world.publish(
        "rule",
        rule(
            "by_skill",
            actions=[
                {
                    "type": "assign",
                    "to": {"group": "line_a"},
                    "strategy": "skill",
                    "skill": "hardware",
                }
            ],
        ),
    )
    ticket = world.create(dict(HW_A))
    assert world.get(ticket.id).data["assignee"] == world.users["cat"]
    world.publish(
        "rule",
        rule(
            "by_skill",
            actions=[
                {
                    "type": "assign",
                    "to": {"group": "line_a"},
                    "strategy": "skill",
                    "skill": "welding",
                }
            ],
        ),
    )
    other = world.create(dict(HW_A))
    assert "assignee" not in world.get(other.id).data
    (fired,) = timeline(world, other.id, "rule.fired")
    assert fired.payload["failed"] == ["assign: nobody among the candidates has skill 'welding'"]


def test_a_business_time_timer_needs_a_known_calendar(world: World) -> None:
    timer = rule("late", actions=[{"type": "comment", "text": "late"}]) | {
        "trigger": {"type": "timer", "minutes": 60, "business": True, "calendar": "nope"}
    }
    with pytest.raises(ValidationFailed) as caught:
        world.publish("rule", timer)
    assert [e["path"] for e in caught.value.errors] == ["/trigger/calendar"]


def test_rules_read_and_notify_through_reference_fields(world: World) -> None:
    ticket = world.create(
        {**HW_A, "title": "Fan noise", "tier": "vip", "assignee": world.users["ann"]}
    )
    world.publish(
        "rule",
        rule(
            "vip_callback",
            form="callback",
            condition={"==": [{"var": "$ref.ticket.tier"}, "vip"]},
            actions=[
                {
                    "type": "set_fields",
                    "values": {"question": {"expr": {"var": "$ref.ticket.title"}}},
                },
                {
                    "type": "notify",
                    "to": {"field": "ticket.assignee"},
                    "title": "VIP callback on {{$ref.ticket.title}}",
                },
            ],
        ),
    )
    callback = world.create({"ticket": ticket.id}, form="callback")
    assert world.get(callback.id).data["question"] == "Fan noise"
    with world.platform.unit_of_work(write=False) as uow:
        titles = uow.session.scalars(
            select(Notification.title).where(Notification.user_id == world.users["ann"])
        ).all()
    assert titles == ["VIP callback on Fan noise"]
    plain = world.create({**HW_A, "title": "Quiet", "tier": "normal"})
    other = world.create({"ticket": plain.id}, form="callback")
    assert "question" not in world.get(other.id).data  # the condition read a normal tier
    lonely = world.create({}, form="callback")  # no reference: $ref is empty, nothing fails
    with world.platform.unit_of_work(write=False) as uow:
        actions = [e.action for e in records.timeline(uow, SYSTEM, "svc", "callback", lonely.id)]
    assert actions == ["record.created"]


VISIT = {
    "key": "visit",
    "label": {"zh-CN": "visit"},
    "fields": [
        field("visit_no", "serial", serial="V-{date:%Y%m%d}-{seq:3}"),
        field("visit_on", "date", default="$today"),
        field("ticket", "reference", reference={"form": "ticket", "display": "title"}),
    ],
}


def test_records_a_rule_creates_are_dated_in_the_installation_time_zone(
    settings: Settings, clock: FrozenClock
) -> None:
    # The clock starts at 2026-11-22 01:00 UTC: the 21st in Los Angeles, the 22nd in Shanghai.
    platform = Platform.from_settings(
        replace(settings, time_zone="America/Los_Angeles"), clock=clock
    )
    try:
        world = build_world(platform)
        world.publish("form", VISIT)
        world.publish(
            "rule",
            rule(
                "visit",
                actions=[
                    {
                        "type": "create_record",
                        "form": "visit",
                        "values": {"ticket": {"expr": {"var": "$record._id"}}},
                    }
                ],
            ),
        )
        ticket = world.create(dict(HW_A))  # the rule creates a visit
        direct = world.create({"ticket": ticket.id}, form="visit")
        with platform.unit_of_work(write=False) as uow:
            visits = list(uow.session.scalars(select(Record).where(Record.form_key == "visit")))
        assert len(visits) == 2
        assert direct.id in {v.id for v in visits}
        for visit in visits:
            assert visit.data["visit_on"] == "2026-11-21"
            assert visit.data["visit_no"].startswith("V-20261121-")
    finally:
        platform.dispose()


def test_a_rule_notifies_the_agent_its_assignment_before_picked(world: World) -> None:
    world.publish("rule", DISPATCH)
    world.publish(
        "rule",
        rule(
            "dispatch",
            actions=[
                {"type": "assign", "field": "group", "table": "dispatch_matrix", "output": "group"},
                {
                    "type": "assign",
                    "field": "assignee",
                    "table": "dispatch_matrix",
                    "output": "group",
                    "strategy": "round_robin",
                },
                {"type": "notify", "to": {"field": "assignee"}, "title": "new ticket {{title}}"},
            ],
        ),
    )
    ticket = world.create(dict(HW_A))
    assignee = world.get(ticket.id).data["assignee"]
    assert assignee in {world.users[n] for n in ("ann", "bob", "cat")}
    with world.platform.unit_of_work(write=False) as uow:
        notes = list(uow.session.scalars(select(Notification)))
    assert [(n.user_id, n.title) for n in notes] == [(assignee, "new ticket noise")]
    (fired,) = timeline(world, ticket.id, "rule.fired")
    assert "failed" not in fired.payload


def test_publishing_a_rule_rehearses_it_on_stored_records_and_warns_of_failing_actions(
    world: World,
) -> None:
    world.publish("rule", DISPATCH)
    tickets = [world.create(dict(HW_A, title=f"t{n}")) for n in range(3)]
    greet = rule(
        "greet",
        actions=[
            {"type": "notify", "to": {"field": "assignee"}, "title": "new ticket {{title}}"},
            {"type": "set_fields", "values": {"status": "assigned"}},
        ],
    )

    def publish(body: dict[str, Any]) -> list[dict[str, Any]]:
        with world.platform.unit_of_work() as uow:
            try:
                metadata.create_definition(uow, SYSTEM, "svc", "rule", body)
            except Conflict:
                current = metadata.get_definition(uow, SYSTEM, "svc", "rule", body["key"])
                metadata.update_draft(
                    uow,
                    SYSTEM,
                    "svc",
                    "rule",
                    body["key"],
                    body,
                    lock_version=current.definition.lock_version,
                )
            _, warnings = metadata.publish_advised(uow, SYSTEM, "svc", "rule", body["key"])
            uow.commit()
        return warnings

    (warning,) = publish(greet)
    assert warning["code"] == "rule.action_fails"
    assert warning["path"] == "/actions/0"
    assert "notify failed on 3 of the 3 newest records" in warning["message"]
    assert "field 'assignee' is empty" in warning["message"]
    # the rehearsal wrote nothing: no status, no notification, an intact audit chain
    assert {world.get(t.id).data["status"] for t in tickets} == {"new"}
    with world.platform.unit_of_work(write=False) as uow:
        assert list(uow.session.scalars(select(Notification))) == []
        assert audit.verify(uow.session).ok
        assert not [
            e
            for e in audit.list_entries(uow.session, object_type="record")
            if e.action == "rule.fired"
        ]
    # assigning first, the notification has someone to reach: no warning
    fixed = {
        **greet,
        "actions": [
            {
                "type": "assign",
                "field": "assignee",
                "table": "dispatch_matrix",
                "output": "group",
                "strategy": "round_robin",
            },
            *greet["actions"],
        ],
    }
    assert publish(fixed) == []
