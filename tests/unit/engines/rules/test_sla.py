"""SLA policies: business-time budgets per priority, pauses, warnings, breaches, explanations,
and the cycles of a repeating target."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tangram.engines.common import DefinitionError
from tangram.engines.meta import validate_definition
from tangram.engines.rules import SlaPolicy, SlaState, compile_calendar, compile_sla

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = compile_calendar(
    {
        "key": "cn_office",
        "time_zone": "Asia/Shanghai",
        "week": {
            d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
    }
)
POLICY: dict[str, Any] = {
    "key": "standard",
    "calendar": "cn_office",
    "priority_field": "urgency",
    "targets": [
        {
            "key": "first_response",
            "minutes": {"P1": 30, "P2": 30, "P3": 240},
            "stop_when": {"!!": [{"var": "first_response_at"}]},
            "pause_when": {"==": [{"var": "status"}, "pending_customer"]},
            "warn_percent": 80,
        },
        {
            "key": "resolution",
            "minutes": {"P1": 240},
            "stop_when": {"==": [{"var": "status"}, "closed"]},
        },
    ],
}
FIELDS = frozenset({"urgency", "status", "first_response_at"})


def at(hhmm: str, day: str = "2026-11-23") -> datetime:
    return datetime.fromisoformat(f"{day} {hhmm}").replace(tzinfo=SH)


@pytest.fixture(scope="module")
def policy() -> SlaPolicy:
    return compile_sla(POLICY, calendars={"cn_office": CALENDAR}, fields=FIELDS)


def first(policy: SlaPolicy, history: list[tuple[datetime, dict[str, Any]]], now: datetime) -> Any:
    return policy.evaluate(history, now)[0]


CREATED = (at("11:35"), {"urgency": "P2", "status": "new"})


def test_running_then_warned_then_breached_with_lunch_not_counted(policy: SlaPolicy) -> None:
    running = first(policy, [CREATED], at("11:50"))
    assert running.state is SlaState.RUNNING
    assert running.used_seconds == 15 * 60
    assert running.due_at == at("13:05")
    assert running.warn_at == at("11:59")
    assert running.next_check == at("11:59")
    assert running.explanation == (
        "urgency P2 = 30 min of business time from 2026-11-23 11:35 (cn_office); 15 min used;"
        " due 2026-11-23 13:05"
    )
    warned = first(policy, [CREATED], at("12:30"))
    assert (warned.state, warned.used_seconds, warned.due_at) == (
        SlaState.WARNED,
        25 * 60,
        at("13:05"),
    )
    assert warned.next_check == at("13:05")
    breached = first(policy, [CREATED], at("13:10"))
    assert (breached.state, breached.breached_at, breached.next_check) == (
        SlaState.BREACHED,
        at("13:05"),
        None,
    )


def test_met_in_time_and_met_late(policy: SlaPolicy) -> None:
    answered = (at("13:02"), {"urgency": "P2", "status": "new", "first_response_at": "x"})
    met = first(policy, [CREATED, answered], at("15:00"))
    assert (met.state, met.met_at, met.used_seconds) == (SlaState.MET, at("13:02"), 27 * 60)
    late = (at("13:10"), {**answered[1]})
    missed = first(policy, [CREATED, late], at("15:00"))
    assert (missed.state, missed.met_at, missed.breached_at) == (
        SlaState.BREACHED,
        at("13:10"),
        at("13:05"),
    )
    assert "met late at 2026-11-23 13:10, due 2026-11-23 13:05" in missed.explanation


def test_paused_time_does_not_count(policy: SlaPolicy) -> None:
    waiting = (at("11:40"), {"urgency": "P2", "status": "pending_customer"})
    resumed = (at("14:00"), {"urgency": "P2", "status": "open"})
    paused = first(policy, [CREATED, waiting], at("13:30"))
    assert (paused.state, paused.due_at, paused.next_check) == (SlaState.PAUSED, None, None)
    assert paused.used_seconds == 5 * 60
    assert "25 min left when it resumes" in paused.explanation
    back = first(policy, [CREATED, waiting, resumed], at("14:10"))
    assert back.state is SlaState.RUNNING
    assert back.paused_seconds == (20 + 60) * 60  # 11:40–12:00 and 13:00–14:00
    assert back.due_at == at("14:25")
    assert "paused 80 min (2026-11-23 11:40–14:00)" in back.explanation


def test_a_priority_change_retargets_the_remaining_budget(policy: SlaPolicy) -> None:
    created = (at("09:00"), {"urgency": "P3", "status": "new"})
    raised = (at("09:20"), {"urgency": "P1", "status": "new"})
    status = first(policy, [created, raised], at("09:25"))
    assert status.priority == "P1"
    assert status.due_at == at("09:30")
    overtaken = first(policy, [created, (at("09:40"), raised[1])], at("09:41"))
    assert overtaken.state is SlaState.BREACHED  # 40 minutes used against P1's 30
    assert overtaken.breached_at == at("09:30")


def test_the_weekend_and_a_priority_without_a_target(policy: SlaPolicy) -> None:
    friday = (at("17:50", "2026-11-27"), {"urgency": "P2", "status": "new"})
    status = first(policy, [friday], at("10:00", "2026-11-28"))
    assert status.due_at == at("09:20", "2026-11-30")
    resolution = policy.evaluate([friday], at("10:00", "2026-11-28"))[1]
    assert (resolution.state, resolution.due_at) == (SlaState.RUNNING, None)
    assert resolution.explanation == "no resolution target for urgency 'P2'"
    assert resolution.as_dict()["due_at"] is None


def test_bad_policies_are_refused_with_paths() -> None:
    bad = {
        "key": "bad",
        "calendar": "nope",
        "priority_field": "level",
        "targets": [
            {"key": "a", "minutes": {"P1": -5}, "stop_when": {"var": "ghost"}, "warn_percent": 150},
            {"key": "a", "minutes": {}},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_sla(bad, calendars={"cn_office": CALENDAR}, fields=FIELDS)
    found = {(d.path, d.code) for d in caught.value.diagnostics}
    assert found == {
        ("/calendar", "sla.calendar"),
        ("/priority_field", "sla.field"),
        ("/targets/0/minutes/P1", "sla.minutes"),
        ("/targets/0/stop_when/var", "logic.var.unknown"),
        ("/targets/0/warn_percent", "sla.warn"),
        ("/targets/1/key", "sla.key"),
        ("/targets/1/minutes", "sla.minutes"),
        ("/targets/1/stop_when", "sla.stop"),
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"escalation": "now"}, [("/escalation", "sla.escalation")]),
        ({"escalation": [{"to": "boss"}]}, [("/escalation/0", "sla.escalation")]),
        ({"escalation": [{"actions": "none"}]}, [("/escalation/0/actions", "rule.actions")]),
        ({"on_warn": "none"}, [("/on_warn", "rule.actions")]),
        ({"calendars": {"P1": "nope"}}, [("/calendars/P1", "sla.calendar")]),
        ({"targets": []}, [("/targets", "sla.targets")]),
        ({"targets": ["first_response"]}, [("/targets/0", "sla.target")]),
        (
            {"targets": [{"key": "t", "minutes": {"P1": "soon", "P2": None}, "stop_when": True}]},
            [("/targets/0/minutes/P1", "sla.minutes"), ("/targets/0/minutes/P2", "sla.minutes")],
        ),
        (
            {
                "targets": [
                    {"key": "t", "minutes": {"P1": 5}, "stop_when": True, "default_minutes": 0}
                ]
            },
            [("/targets/0/default_minutes", "sla.minutes")],
        ),
        (
            {"targets": [{"key": "t", "minutes": {"P1": 5}, "stop_when": True, "due_field": 7}]},
            [("/targets/0/due_field", "sla.field")],
        ),
        (
            {"targets": [{"key": "t", "minutes": {"P1": 5}, "stop_when": True, "repeat": "yes"}]},
            [("/targets/0/repeat", "sla.repeat")],
        ),
        (
            {
                "targets": [
                    {"key": "t", "minutes": {"P1": 5}, "stop_when": True, "cycles_field": "ghost"}
                ]
            },
            [("/targets/0/cycles_field", "sla.field")],
        ),
    ],
    ids=[
        "escalation-not-a-list",
        "escalation-level-shape",
        "escalation-actions",
        "warning-actions",
        "priority-calendar",
        "no-targets",
        "target-shape",
        "minutes-not-numbers",
        "default-minutes",
        "kept-field",
        "repeat-not-a-boolean",
        "cycles-field",
    ],
)
def test_a_policy_mistake_gives_its_diagnostic(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_sla(POLICY | changes, calendars={"cn_office": CALENDAR}, fields=FIELDS)
    assert [(d.path, d.code) for d in caught.value.diagnostics] == expected


def test_the_policy_keeps_its_escalation_levels_and_priority_calendars() -> None:
    always = compile_calendar({"key": "always", "time_zone": "UTC", "always_open": True})
    compiled = compile_sla(
        POLICY | {"calendars": {"P1": "always"}, "escalation": [{"actions": []}, {"actions": []}]},
        calendars={"cn_office": CALENDAR, "always": always},
        fields=FIELDS,
    )
    assert (len(compiled.escalation), dict(compiled.calendars)) == (2, {"P1": always})


REPEATING: dict[str, Any] = {
    "key": "rework",
    "calendar": "cn_office",
    "priority_field": "urgency",
    "targets": [
        {
            "key": "resolution",
            "minutes": {"P1": 30, "P2": 60},
            "stop_when": {"==": [{"var": "status"}, "resolved"]},
            "pause_when": {"==": [{"var": "status"}, "pending_customer"]},
            "warn_percent": 50,
            "repeat": True,
        }
    ],
}


def resolution(
    history: list[tuple[datetime, dict[str, Any]]], now: datetime, *, repeat: bool = True
) -> Any:
    (target,) = REPEATING["targets"]
    compiled = compile_sla(
        REPEATING | {"targets": [target | {"repeat": repeat}]},
        calendars={"cn_office": CALENDAR},
        fields=FIELDS,
    )
    (status,) = compiled.evaluate(history, now)
    return status


def snapshot(hhmm: str, status: str, urgency: str = "P2") -> tuple[datetime, dict[str, Any]]:
    return at(hhmm), {"urgency": urgency, "status": status}


# Created 09:00, resolved 09:30 in time (30 of 60 minutes), reopened 10:00.
REOPENED = [snapshot("09:00", "new"), snapshot("09:30", "resolved"), snapshot("10:00", "open")]


def test_a_reopened_target_starts_a_new_cycle_with_the_full_budget_when_it_repeats() -> None:
    met = resolution(REOPENED[:2], at("09:45"))
    assert (met.state, met.cycle, met.breaches, met.met_at) == (SlaState.MET, 1, 0, at("09:30"))
    running = resolution(REOPENED, at("10:10"))
    assert (running.state, running.cycle, running.breaches) == (SlaState.RUNNING, 2, 0)
    assert (running.started_at, running.met_at, running.budget_seconds) == (
        at("10:00"),
        None,
        60 * 60,
    )
    assert (running.used_seconds, running.total_used_seconds) == (10 * 60, 40 * 60)
    assert (running.warn_at, running.due_at, running.next_check) == (
        at("10:30"),
        at("11:00"),
        at("10:30"),
    )
    assert running.explanation == (
        "cycle 2: urgency P2 = 1 h of business time from 2026-11-23 10:00 (cn_office); 10 min"
        " used; due 2026-11-23 11:00; 0 of 1 earlier cycle breached"
    )
    stored = running.as_dict()
    assert (stored["cycle"], stored["breaches"], stored["total_used_seconds"]) == (2, 0, 2400.0)
    assert resolution(REOPENED, at("10:40")).state is SlaState.WARNED


def test_a_later_cycle_breaches_and_is_met_late_while_the_first_was_met() -> None:
    breached = resolution(REOPENED, at("11:05"))
    assert (breached.state, breached.cycle, breached.breaches) == (SlaState.BREACHED, 2, 1)
    assert (breached.breached_at, breached.due_at, breached.next_check) == (
        at("11:00"),
        at("11:00"),
        None,
    )
    late = resolution([*REOPENED, snapshot("11:20", "resolved")], at("14:00"))
    assert (late.state, late.cycle, late.breaches, late.met_at) == (
        SlaState.BREACHED,
        2,
        1,
        at("11:20"),
    )
    assert (late.used_seconds, late.total_used_seconds) == (80 * 60, 110 * 60)
    assert late.explanation.endswith(
        "met late at 2026-11-23 11:20, due 2026-11-23 11:00; 0 of 1 earlier cycle breached"
    )


def test_breaches_add_up_over_cycles_and_each_cycle_takes_the_current_priority() -> None:
    history = [
        snapshot("09:00", "new"),
        snapshot("10:30", "resolved"),  # 90 of 60 minutes: cycle 1 met late, due 10:00
        snapshot("11:00", "open", urgency="P1"),  # cycle 2 on P1: 30 minutes
        snapshot("11:10", "resolved", urgency="P1"),
        snapshot("13:00", "open", urgency="P1"),  # cycle 3
    ]
    third = resolution(history, at("13:10"))
    assert (third.state, third.cycle, third.breaches) == (SlaState.RUNNING, 3, 1)
    assert (third.due_at, third.total_used_seconds) == (at("13:30"), (90 + 10 + 10) * 60)
    assert third.explanation.endswith("due 2026-11-23 13:30; 1 of 2 earlier cycles breached")
    assert resolution(history, at("13:31")).breaches == 2
    unbudgeted = resolution([*history[:4], snapshot("13:00", "open", urgency="P4")], at("13:20"))
    assert (unbudgeted.cycle, unbudgeted.breaches, unbudgeted.due_at) == (3, 1, None)
    assert unbudgeted.explanation == (
        "cycle 3: no resolution target for urgency 'P4'; 1 of 2 earlier cycles breached"
    )


def test_a_pause_within_a_later_cycle_does_not_count() -> None:
    waiting = [*REOPENED, snapshot("10:20", "pending_customer")]
    paused = resolution(waiting, at("10:50"))
    assert (paused.state, paused.cycle, paused.due_at, paused.next_check) == (
        SlaState.PAUSED,
        2,
        None,
        None,
    )
    assert paused.explanation.startswith("cycle 2: ")
    assert "40 min left when it resumes" in paused.explanation
    back = resolution([*waiting, snapshot("11:00", "open")], at("11:05"))
    assert (back.state, back.used_seconds, back.paused_seconds) == (
        SlaState.RUNNING,
        25 * 60,
        40 * 60,
    )
    assert back.due_at == at("11:40")
    assert "paused 40 min (2026-11-23 10:20–11:00)" in back.explanation


def test_a_met_target_stays_met_when_it_does_not_repeat() -> None:
    for now in (at("10:10"), at("11:05"), at("10:00", "2026-11-24")):
        status = resolution(REOPENED, now, repeat=False)
        assert (status.state, status.cycle, status.breaches) == (SlaState.MET, 1, 0)
        assert (status.met_at, status.next_check, status.used_seconds) == (
            at("09:30"),
            None,
            30 * 60,
        )
        assert status.total_used_seconds == status.used_seconds
        assert status.explanation == (
            "urgency P2 = 1 h of business time from 2026-11-23 09:00 (cn_office); 30 min used;"
            " met at 2026-11-23 09:30"
        )


def test_repeat_defaults_to_off_and_its_misspelling_is_refused_by_the_meta_schema() -> None:
    (target,) = REPEATING["targets"]
    plain = {k: v for k, v in target.items() if k != "repeat"}
    compiled = compile_sla(
        REPEATING | {"targets": [plain]}, calendars={"cn_office": CALENDAR}, fields=FIELDS
    )
    assert compiled.targets[0].repeat is False
    body = {
        **REPEATING,
        "type": "sla",
        "label": {"zh-CN": "返工", "en": "rework"},
        "form": "ticket",
        "targets": [plain | {"repaet": True}],
    }
    assert [(d.path, d.code, d.message) for d in validate_definition("rule", body)] == [
        (
            "/targets/0/repaet",
            "meta.additionalProperties",
            "unknown property 'repaet'; did you mean 'repeat'?",
        )
    ]
    assert validate_definition("rule", {**body, "targets": [target]}) == []
    wrong = [
        (d.path, d.code)
        for d in validate_definition("rule", {**body, "targets": [target | {"repeat": "yes"}]})
    ]
    assert wrong == [("/targets/0/repeat", "meta.type")]


# A record's life as an SLA reads it: instants in whole minutes (so business time sums exactly),
# the priority, the stop and pause fields, and a field no condition reads; several writes may
# share an instant.
_LIFE = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=600),
        st.fixed_dictionaries(
            {
                "urgency": st.sampled_from(["P1", "P2", "P3"]),
                "status": st.sampled_from(["new", "pending_customer", "closed"]),
                "first_response_at": st.sampled_from([None, "2026-11-23T10:00"]),
                "note": st.text(max_size=3),
            }
        ),
    ),
    min_size=1,
    max_size=12,
)
_ALWAYS = compile_calendar({"key": "always", "time_zone": "Asia/Shanghai", "always_open": True})


@settings(max_examples=300, deadline=None)
@given(life=_LIFE, later=st.integers(min_value=0, max_value=3000), repeat=st.booleans())
def test_the_trail_evaluates_as_the_whole_history(
    life: list[tuple[int, dict[str, Any]]], later: int, repeat: bool
) -> None:
    """What a platform keeps instead of a record's every write gives every target the same
    status, explanation included: business time, pauses, breaches, met instants and cycles."""
    targets = [t | {"repeat": repeat} for t in POLICY["targets"]]
    policy = compile_sla(
        POLICY | {"targets": targets, "calendars": {"P1": "always"}},
        calendars={"cn_office": CALENDAR, "always": _ALWAYS},
        fields=FIELDS | {"note"},
    )
    start = at("09:00", "2026-11-20")  # a Friday: the life may run over a weekend
    history: list[tuple[datetime, dict[str, Any]]] = []
    minute = 0
    for step, data in sorted(life, key=lambda x: x[0]):
        minute = step
        snapshot = {k: v for k, v in data.items() if v is not None}
        when = start + timedelta(minutes=minute)
        if history and history[-1][0] == when:
            history[-1] = (when, snapshot)  # one instant, one snapshot (as the platform gives)
        else:
            history.append((when, snapshot))
    now = start + timedelta(minutes=minute + later)
    trail = policy.trail(history)
    assert len(trail) <= len(history)
    assert all(set(point) <= {"urgency", "status", "first_response_at"} for _, point in trail)
    whole = [s.as_dict() for s in policy.evaluate(history, now)]
    kept = [s.as_dict() for s in policy.evaluate(trail, now)]
    assert kept == whole
    # followed one write at a time, the trail is the same
    followed: list[tuple[datetime, dict[str, Any]]] = []
    for when, snapshot in history:
        followed = policy.follow(followed, when, snapshot)
    assert followed == trail


def test_the_fields_a_policy_reads(policy: SlaPolicy) -> None:
    assert policy.reads == {"urgency", "first_response_at", "status"}
    dynamic = POLICY | {
        "targets": [POLICY["targets"][0] | {"stop_when": {"var": {"cat": ["first_", "x"]}}}]
    }
    unknown = compile_sla(dynamic, calendars={"cn_office": CALENDAR}, fields=FIELDS)
    assert unknown.reads is None
    with pytest.raises(ValueError, match="keeps no trail"):
        unknown.trail([CREATED])


def test_one_pause_over_several_writes_is_explained_as_one() -> None:
    policy = compile_sla(POLICY, calendars={"cn_office": CALENDAR}, fields=FIELDS)
    waiting = {"urgency": "P3", "status": "pending_customer"}
    history = [
        (at("09:00"), {"urgency": "P3", "status": "new"}),
        (at("09:10"), waiting),
        (at("09:20"), waiting | {"note": "called again"}),
        (at("09:40"), {"urgency": "P3", "status": "new"}),
    ]
    (status, _) = policy.evaluate(history, at("10:00"))
    assert status.paused_seconds == 30 * 60
    assert "paused 30 min (2026-11-23 09:10–09:40)" in status.explanation
