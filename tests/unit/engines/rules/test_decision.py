"""Decision tables: cells, hit policies, overlap and gap analysis, built-in tests."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.rules import DecisionError, compile_decision_table

ISSUES = ["software_bug", "hardware_fault", "usage", "complaint"]
DISPATCH: dict[str, Any] = {
    "key": "dispatch",
    "hit_policy": "UNIQUE",
    "inputs": [
        {"key": "issue_type", "values": ISSUES},
        {"key": "product_line", "values": ["A", "B"]},
    ],
    "outputs": [{"key": "group"}],
    "rules": [
        {"when": ["hardware_fault", "A"], "then": ["line_a_qe"]},
        {"when": ["hardware_fault", "B"], "then": ["line_b_qe"]},
        {"when": ["software_bug", "-"], "then": ["rd_support"]},
        {"when": [{"in": ["usage", "complaint"]}, "-"], "then": ["service_desk"]},
    ],
    "tests": [
        {
            "input": {"issue_type": "hardware_fault", "product_line": "A"},
            "expect": {"group": "line_a_qe"},
        },
        {
            "input": {"issue_type": "usage", "product_line": "B"},
            "expect": {"group": "service_desk"},
        },
    ],
}


def codes(exc: pytest.ExceptionInfo[DefinitionError]) -> set[tuple[str, str]]:
    return {(d.path, d.code) for d in exc.value.diagnostics}


def test_the_dispatch_matrix_decides_and_says_which_row_matched() -> None:
    table = compile_decision_table(DISPATCH, fields=frozenset({"issue_type", "product_line"}))
    decision = table.decide({"issue_type": "hardware_fault", "product_line": "B"})
    assert (decision.result, decision.matched) == ({"group": "line_b_qe"}, (1,))
    assert table.decide({"issue_type": "software_bug", "product_line": "A"}).result == {
        "group": "rd_support"
    }
    assert table.gaps == ()  # with the declared values, every combination has a row


def test_unique_overlaps_are_reported_with_the_rows_involved() -> None:
    overlapping = {
        **DISPATCH,
        "rules": [*DISPATCH["rules"], {"when": ["-", "A"], "then": ["x"]}],
        "tests": [],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_decision_table(overlapping)
    assert codes(caught) == {("/rules/4", "decision.overlap")}
    messages = [d.message for d in caught.value.diagnostics]
    assert [m.split(":")[0] for m in messages] == [
        "overlaps row 1",
        "overlaps row 3",
        "overlaps row 4",
    ]
    first = compile_decision_table({**overlapping, "hit_policy": "FIRST"})
    assert first.decide({"issue_type": "usage", "product_line": "A"}).matched == (3,)


def test_gaps_are_listed_exactly_for_ranges_and_open_domains() -> None:
    table = compile_decision_table(
        {
            "key": "priority",
            "hit_policy": "FIRST",
            "inputs": [{"key": "hours"}, {"key": "vip"}],
            "outputs": [{"key": "priority"}],
            "rules": [
                {"when": [{"<": 4}, "-"], "then": ["P1"]},
                {"when": [{"between": [4, 24]}, True], "then": ["P2"]},
                {"when": [{">": 24}, "-"], "then": ["P3"]},
            ],
        }
    )
    assert table.decide({"hours": 3}).result == {"priority": "P1"}
    assert table.decide({"hours": 10, "vip": True}).result == {"priority": "P2"}
    assert table.decide({"hours": 10, "vip": False}).result is None
    assert table.decide({"hours": 30}).result == {"priority": "P3"}
    # 4..24 without vip=True, and an empty hours value, have no row.
    assert {"hours": 4, "vip": None} in table.gaps
    assert {"hours": 14.0, "vip": True} not in table.gaps
    assert all(
        g["vip"] is not True or g["hours"] is None or isinstance(g["hours"], str)
        for g in table.gaps
    )


@pytest.mark.parametrize(
    ("policy", "aggregation", "expected"),
    [
        ("RULE ORDER", None, [{"score": 1}, {"score": 5}, {"score": 3}]),
        ("COLLECT", None, [{"score": 1}, {"score": 5}, {"score": 3}]),
        ("COLLECT", "SUM", 9),
        ("COLLECT", "MIN", 1),
        ("COLLECT", "MAX", 5),
        ("COLLECT", "COUNT", 3),
    ],
)
def test_multi_hit_policies(policy: str, aggregation: str | None, expected: Any) -> None:
    definition: dict[str, Any] = {
        "key": "score",
        "hit_policy": policy,
        "inputs": [{"key": "amount"}],
        "outputs": [{"key": "score"}],
        "rules": [
            {"when": [{">=": 0}], "then": [1]},
            {"when": [{">=": 100}], "then": [5]},
            {"when": [{"not": {"<": 50}}], "then": [3]},
            {"when": [{"<": 0}], "then": [9]},
        ],
    }
    if aggregation:
        definition["aggregation"] = aggregation
    assert compile_decision_table(definition).decide({"amount": 120}).result == expected


def test_priority_and_any_policies() -> None:
    base: dict[str, Any] = {
        "key": "t",
        "inputs": [{"key": "x"}],
        "rules": [
            {"when": [{">": 0}], "then": ["low"]},
            {"when": [{">": 10}], "then": ["high"]},
        ],
    }
    priority = compile_decision_table(
        {**base, "hit_policy": "PRIORITY", "outputs": [{"key": "level", "values": ["high", "low"]}]}
    )
    assert priority.decide({"x": 20}).result == {"level": "high"}
    assert priority.decide({"x": 5}).result == {"level": "low"}
    any_table = compile_decision_table({**base, "hit_policy": "ANY", "outputs": [{"key": "level"}]})
    assert any_table.decide({"x": 5}).result == {"level": "low"}
    with pytest.raises(DecisionError, match="disagree"):
        any_table.decide({"x": 20})


def test_failing_built_in_tests_refuse_the_table() -> None:
    wrong = {
        **DISPATCH,
        "tests": [
            {
                "input": {"issue_type": "usage", "product_line": "A"},
                "expect": {"group": "rd_support"},
            }
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        compile_decision_table(wrong)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.path == "/tests/0"
    assert "the table gives {'group': 'service_desk'}" in diagnostic.message


def test_bad_tables_are_refused_with_every_problem_and_its_path() -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_decision_table(
            {
                "key": "bad",
                "hit_policy": "MOST",
                "aggregation": "AVG",
                "inputs": [
                    {"key": "issue_type", "values": ISSUES},
                    {"key": "amount", "expression": {"+": [{"var": "nope"}, 1]}},
                ],
                "outputs": [{"key": "group"}],
                "rules": [
                    {"when": ["hardware_fault"], "then": ["a"]},
                    {"when": ["broken", {"between": [5, 1]}], "then": ["b"]},
                    {"when": ["usage", {"like": 3}], "then": ["c", "d"]},
                    {"when": ["usage", {"<": [1]}], "then": ["c"]},
                ],
            },
            fields=frozenset({"issue_type", "amount"}),
        )
    assert codes(caught) == {
        ("/hit_policy", "decision.hit_policy"),
        ("/aggregation", "decision.aggregation"),
        ("/inputs/1/expression/+/0/var", "logic.var.unknown"),
        ("/rules/0/when", "decision.arity"),
        ("/rules/1/when/0", "decision.value"),
        ("/rules/1/when/1", "decision.cell"),
        ("/rules/2/then", "decision.arity"),
        ("/rules/3/when/1", "decision.cell"),
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"inputs": []},
            [
                ("/inputs", "decision.inputs"),
                ("/rules", "decision.rules"),
                ("/rules/0/when", "decision.arity"),
                ("/rules/1/when", "decision.arity"),
            ],
        ),
        (
            {"outputs": []},
            [
                ("/outputs", "decision.outputs"),
                ("/rules", "decision.rules"),
                ("/rules/0/then", "decision.arity"),
                ("/rules/1/then", "decision.arity"),
            ],
        ),
        (
            {"inputs": [{"values": ["A"]}, {"key": "product_line"}]},
            [("/inputs/0", "decision.input")],
        ),
        ({"hit_policy": "PRIORITY"}, [("/outputs/0/values", "decision.priority")]),
        ({"rules": []}, [("/rules", "decision.rules")]),
        ({"tests": ["not a test"]}, [("/tests/0", "decision.test")]),
        (
            {"hit_policy": "ANY", "tests": [{"input": {"issue_type": "usage"}, "expect": None}]},
            [("/tests/0", "decision.test_failed")],
        ),
    ],
    ids=[
        "no-inputs",
        "no-outputs",
        "input-without-key",
        "priority-order",
        "no-rows",
        "test-shape",
        "test-failed",
    ],
)
def test_a_table_mistake_gives_its_diagnostic(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    table: dict[str, Any] = {
        **DISPATCH,
        "rules": [{"when": ["usage", "-"], "then": ["desk"]}, {"when": ["-", "-"], "then": ["x"]}],
        "hit_policy": "FIRST",
        "tests": [],
    } | changes
    with pytest.raises(DefinitionError) as caught:
        compile_decision_table(table)
    assert [(d.path, d.code) for d in caught.value.diagnostics] == expected
