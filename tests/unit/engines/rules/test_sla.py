"""SLA policies: business-time budgets per priority, pauses, warnings, breaches, explanations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tangram.engines.common import DefinitionError
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
