"""Compile-time checks, limits, constant folding and traces."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.logic import (
    Limits,
    LogicLimitExceeded,
    VariableSpec,
    compile_logic,
    data_reads,
)

FIELDS = VariableSpec(fields=frozenset({"urgency", "customer", "measures", "status"}))


def problems(expression: Any, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_logic(expression, **kw)
    return [(d.path, d.code) for d in caught.value.diagnostics]


def test_every_problem_is_reported_with_its_node_path() -> None:
    expression = {
        "and": [
            {"==": [{"var": "urgncy"}, "P1"]},
            {"teleport": [1]},
            {"in_group": []},
            {"regex_match": [{"var": "pattern"}, "x"]},
        ]
    }
    assert problems(expression, variables=FIELDS) == [
        ("/and/0/==/0/var", "logic.var.unknown"),
        ("/and/1/teleport", "logic.op.unknown"),
        ("/and/2/in_group", "logic.op.arity"),
        ("/and/3/regex_match/0", "logic.regex.not_literal"),
    ]


def test_known_fields_dotted_paths_and_context_variables_pass_the_check() -> None:
    fn = compile_logic(
        {
            "and": [
                {"==": [{"var": "customer.tier"}, "vip"]},
                {"var": "$user.id"},
                {"missing": ["urgency", "status"]},
                {"changed": "status"},
            ]
        },
        variables=FIELDS,
    )
    data = {"customer": {"tier": "vip"}, "$user": {"id": 1}, "urgency": "P1", "status": "new"}
    assert fn(data) == []  # "and" returns the deciding value: nothing is missing


def test_item_logic_inside_iterations_is_not_checked_against_fields() -> None:
    fn = compile_logic({"all": [{"var": "measures"}, {"var": "owner"}]}, variables=FIELDS)
    assert fn({"measures": [{"owner": 1}, {"owner": 2}]}) is True
    assert problems({"all": [{"var": "measurez"}, {"var": "owner"}]}, variables=FIELDS) == [
        ("/all/0/var", "logic.var.unknown")
    ]


def test_missing_keys_are_checked_against_fields() -> None:
    assert problems({"missing": ["urgency", "nope"]}, variables=FIELDS) == [
        ("/missing/1", "logic.var.unknown")
    ]
    assert problems({"missing_some": [1, ["nope"]]}, variables=FIELDS) == [
        ("/missing_some/1/0", "logic.var.unknown")
    ]


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ("(a+)+$", "logic.regex.unsafe"),
        ("(\\w*)*", "logic.regex.unsafe"),
        ("([", "logic.regex.invalid"),
        ("x" * 201, "logic.limit.regex"),
    ],
)
def test_dangerous_or_broken_patterns_are_refused(pattern: str, code: str) -> None:
    assert problems({"regex_match": [pattern, "text"]}) == [("/regex_match/0", code)]


def test_deep_and_large_expressions_are_refused() -> None:
    deep: Any = {"var": "a"}
    for _ in range(40):
        deep = {"!": [deep]}
    assert "logic.limit.depth" in {code for _, code in problems(deep)}
    wide = {"and": [{"==": [1, 1]}] * 30}
    assert problems(wide, limits=Limits(max_nodes=50)) == [("/and/16/==/0", "logic.limit.size")]


def test_iteration_budget_is_enforced_at_run_time() -> None:
    fn = compile_logic(
        {"map": [{"var": "xs"}, {"map": [{"var": "ys"}, 1]}]}, limits=Limits(max_iterations=100)
    )
    assert fn({"xs": [{"ys": [1] * 9}] * 10}) == [[1] * 9] * 10
    with pytest.raises(LogicLimitExceeded, match="more than 100 iterations"):
        fn({"xs": [{"ys": [1] * 20}] * 10})


def test_string_budget_is_enforced_at_run_time() -> None:
    fn = compile_logic({"cat": [{"var": "a"}, {"var": "a"}]}, limits=Limits(max_string_length=10))
    assert fn({"a": "12345"}) == "1234512345"
    with pytest.raises(LogicLimitExceeded):
        fn({"a": "123456"})


def test_literals_and_multi_key_objects_are_data() -> None:
    assert compile_logic({"a": 1, "b": {"var": "x"}})({"x": 2}) == {"a": 1, "b": {"var": "x"}}
    assert compile_logic([{"var": "x"}, 2])({"x": 1}) == [1, 2]
    assert compile_logic("text")() == "text"


def test_constant_sub_trees_are_computed_once() -> None:
    fn = compile_logic({"+": [{"*": [2, 3]}, {"var": "x"}]})
    assert fn({"x": 1}) == 7
    assert fn({"x": "4"}) == 10


def test_division_by_zero_follows_javascript() -> None:
    fn = compile_logic({"/": [{"var": "a"}, {"var": "b"}]})
    assert fn({"a": 1, "b": 0}) == float("inf")
    assert fn({"a": -1, "b": 0}) == float("-inf")
    result = fn({"a": 0, "b": 0})
    assert result != result  # NaN


def test_trace_records_what_each_operator_produced() -> None:
    fn = compile_logic(
        {"if": [{"==": [{"var": "issue_type"}, "software_bug"]}, "rnd_support", "front_desk"]}
    )
    result, steps = fn.trace({"issue_type": "software_bug"})
    assert result == "rnd_support"
    assert [(s.path, s.op, s.value) for s in steps] == [
        ("/if/0/==/0/var", "var", "software_bug"),
        ("/if/0/==", "==", True),
        ("/if", "if", "rnd_support"),
    ]
    assert fn({"issue_type": "billing"}) == "front_desk"


def test_compiled_expression_is_reusable_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fn = compile_logic(
        {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}
    )
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: fn({"xs": list(range(n))}), range(200)))
    assert results == [n * (n - 1) // 2 for n in range(200)]


def test_expression_too_deep_for_the_python_parser_still_evaluates() -> None:
    deep: Any = {"var": "a"}
    for _ in range(150):
        deep = {"!": [deep]}
    fn = compile_logic(deep, limits=Limits(max_depth=200))
    assert fn({"a": 1}) is True  # an even number of negations of a truthy value
    assert fn({"a": 0}) is False


def test_keys_and_strings_are_data_never_code() -> None:
    hostile = "__import__('os')\nexit(1)"
    fn = compile_logic(
        {"cat": [{"var": hostile}, "')+str(1/0)+('", {"==": [{"var": "x"}, hostile]}]}
    )
    assert fn({hostile: "ok", "x": hostile}) == "ok')+str(1/0)+('true"


def test_strict_compilation_refuses_objects_that_are_not_one_operation() -> None:
    two = {"==": [1, 1], "!=": [1, 2]}
    assert compile_logic(two)({}) == two  # the reference's reading: a literal
    with pytest.raises(DefinitionError) as caught:
        compile_logic({"if": [two, 1, {}]}, strict=True)
    assert [(d.path, d.code) for d in caught.value.diagnostics] == [
        ("/if/0", "logic.object"),
        ("/if/2", "logic.object"),
    ]
    assert compile_logic({"==": [{"var": "a"}, 1]}, strict=True)({"a": 1}) is True


def test_merge_counts_against_the_iteration_budget() -> None:
    doubling = {
        "reduce": [{"var": "xs"}, {"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}, [1]]
    }
    assert len(compile_logic(doubling)({"xs": list(range(10))})) == 1024
    with pytest.raises(LogicLimitExceeded) as caught:
        compile_logic(doubling)({"xs": list(range(22))})  # 2^22 items: stopped, not built
    assert caught.value.path == "/reduce/1/merge"


@pytest.mark.parametrize(
    ("expression", "reads"),
    [
        ({"!!": {"var": "resolved_at"}}, {"resolved_at"}),
        ({"==": [{"var": "customer.level"}, "vip"]}, {"customer"}),
        ({"var": ["status", {"var": "fallback"}]}, {"status", "fallback"}),
        ({"missing": ["a", "b"]}, {"a", "b"}),
        ({"missing_some": [1, ["a", "b"]]}, {"a", "b"}),
        ({"some": [{"var": "rows"}, {">": [{"var": "qty"}, 1]}]}, {"rows", "qty"}),
        ({"+": [1, 2]}, set()),
        ({"var": ""}, None),
        ({"var": []}, None),
        ({"var": {"cat": ["first_", "response"]}}, None),
        ({"missing": {"merge": ["a", "b"]}}, None),
        ({"missing_some": [1, {"var": "keys"}]}, None),
        ({"some": [{"var": "rows"}, {"var": ""}]}, None),
    ],
)
def test_the_data_an_expression_reads(expression: Any, reads: set[str] | None) -> None:
    """What an expression may read of its data: the literal paths' first segments, or ``None``
    when a path is computed or the whole data (an item's, inside ``some``, counted as the
    data's)."""
    assert data_reads(expression) == (None if reads is None else frozenset(reads))
    if reads is not None:
        fn = compile_logic(expression)
        data = {"resolved_at": "x", "customer": {"level": "vip"}, "rows": [{"qty": 2}]}
        moved = {**data, "elsewhere": 1, "title": "changed"}
        assert fn(data) == fn(moved)
