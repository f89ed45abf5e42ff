"""The platform operations: dates, groups, roles, changed fields, strings, bounded regex."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tangram.engines.logic import (
    EvalContext,
    LogicEvaluationError,
    LogicLimitExceeded,
    compile_logic,
)

NOW = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
CTX = EvalContext(
    now=NOW,
    groups=frozenset({"rnd_support"}),
    roles=frozenset({"agent"}),
    old={"status": "new", "customer": {"tier": "normal"}},
    changed=frozenset({"status"}),
)


def run(expression: Any, data: Any = None, context: EvalContext = CTX) -> Any:
    return compile_logic(expression)(data, context)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"now": []}, "2026-11-22T01:30:00+00:00"),
        ({"date_add": [{"now": []}, 30, "minutes"]}, "2026-11-22T02:00:00+00:00"),
        ({"date_add": ["2026-11-22T09:00:00+08:00", 4, "hours"]}, "2026-11-22T05:00:00+00:00"),
        ({"date_add": ["2026-12-30", 3, "days"]}, "2027-01-02"),
        ({"date_add": ["2026-12-30", 1, "weeks"]}, "2027-01-06"),
        ({"date_add": ["2026-12-30", 12, "hours"]}, "2026-12-30T12:00:00+00:00"),
        ({"date_add": [None, 3, "days"]}, None),
        ({"date_diff": ["2026-11-22T01:00:00Z", {"now": []}, "minutes"]}, 30),
        ({"date_diff": ["2026-11-22T09:00:00+08:00", "2026-11-22T03:00:00Z", "hours"]}, 2),
        ({"date_diff": ["2026-11-20", "2026-11-22", "days"]}, 2),
        ({"date_diff": [{"var": "first_response_at"}, {"now": []}, "minutes"]}, None),
    ],
)
def test_date_operations_use_the_context_time(expression: Any, expected: Any) -> None:
    assert run(expression, {"first_response_at": None}) == expected


def test_sla_condition_reads_naturally() -> None:
    overdue = compile_logic(
        {
            "and": [
                {"!": {"var": "first_response_at"}},
                {">": [{"date_diff": [{"var": "created_at"}, {"now": []}, "minutes"]}, 5]},
            ]
        }
    )
    assert overdue({"created_at": "2026-11-22T01:20:00Z", "first_response_at": None}, CTX) is True
    assert overdue({"created_at": "2026-11-22T01:28:00Z", "first_response_at": None}, CTX) is False
    assert overdue({"created_at": "2026-11-22T01:20:00Z", "first_response_at": "x"}, CTX) is False


def test_business_hours_come_from_the_context_calendar() -> None:
    class NineToSix:
        def business_minutes(self, start: datetime, end: datetime) -> float:
            return 90.0

    expression = {
        "date_diff": ["2026-11-20T17:00:00+08:00", "2026-11-23T09:30:00+08:00", "business_hours"]
    }
    assert run(expression, context=EvalContext(calendar=NineToSix())) == 1.5
    with pytest.raises(LogicEvaluationError, match="business calendar"):
        run(expression)


def test_now_without_a_time_in_the_context_is_an_evaluation_error() -> None:
    with pytest.raises(LogicEvaluationError, match="evaluation time") as caught:
        run({"date_add": [{"now": []}, 1, "days"]}, context=EvalContext())
    assert caught.value.path == "/date_add/0/now"


def test_bad_dates_and_units_are_evaluation_errors_with_their_path() -> None:
    with pytest.raises(LogicEvaluationError, match="not an ISO 8601") as caught:
        run({"date_diff": ["yesterday", {"now": []}, "minutes"]})
    assert caught.value.path == "/date_diff"
    with pytest.raises(LogicEvaluationError, match="unit must be one of"):
        run({"date_add": [{"now": []}, 1, "fortnights"]})


def test_membership_and_change_operations_read_the_context() -> None:
    assert run({"in_group": "rnd_support"}) is True
    assert run({"in_group": ["line_a"]}) is False
    assert run({"has_role": "agent"}) is True
    assert run({"changed": "status"}) is True
    assert run({"changed": "urgency"}) is False
    assert run({"old": "customer.tier"}) == "normal"
    assert run({"old": ["missing", "n/a"]}) == "n/a"
    assert (
        run(
            {
                "and": [
                    {"changed": "status"},
                    {"==": [{"old": "status"}, "new"]},
                    {"==": [{"new": "status"}, "assigned"]},
                ]
            },
            {"status": "assigned"},
        )
        is True
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"contains": ["设备噪音超标", "噪音"]}, True),
        ({"contains": [["a", "b"], "b"]}, True),
        ({"contains": [[1, 2], "1"]}, False),
        ({"contains": [None, "x"]}, False),
        ({"starts_with": ["SV-20261122-0001", "SV-"]}, True),
        ({"starts_with": [42, "4"]}, False),
        ({"regex_match": ["^SV-\\d{8}-\\d{4}$", "SV-20261122-0001"]}, True),
        ({"regex_match": ["^SV-", None]}, False),
    ],
)
def test_string_operations(expression: Any, expected: Any) -> None:
    assert run(expression) is expected


def test_regex_subject_over_the_limit_is_refused() -> None:
    with pytest.raises(LogicLimitExceeded, match="at most at 10000 characters"):
        run({"regex_match": ["x", {"var": "text"}]}, {"text": "a" * 10_001})
