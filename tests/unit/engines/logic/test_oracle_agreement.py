"""Property test: our compiled expressions agree with the reference interpreter panzi-json-logic.

Expressions come from a typed grammar over numbers, strings, booleans and arrays. Where the oracle
itself departs from the JsonLogic specification (checked against the official suite), the grammar
stays out of its way, and says so:
- ``+`` and ``*`` on non-numeric strings: the spec uses JavaScript ``parseFloat`` ("3px" → 3); the
  oracle gives NaN. Arithmetic here only sees numbers and numeric strings.
- ``/`` and ``%`` by zero: the oracle raises ZeroDivisionError; divisors here are non-zero literals.
- ``%`` of a negative dividend: the spec follows JavaScript (the sign of the dividend: -43 % 7 is
  -1), the oracle Python (6). Dividends here are non-negative.
- ``null`` in ``+`` / ``*``: JavaScript ``parseFloat(null)`` is NaN, the oracle uses 0. Numeric
  variables here always exist.
- ``0 == ""``: true in JavaScript, false in the oracle. Numbers are loosely compared only with
  non-empty strings.
- ``max`` / ``min`` of nothing: JavaScript gives ∓Infinity, the oracle NaN; they always get arguments.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from json_logic import jsonLogic

from tangram.engines.logic import compile_logic
from tangram.engines.logic.compiler import compile_closures

DATA = st.fixed_dictionaries(
    {
        "a": st.integers(-50, 50),
        "b": st.integers(-50, 50),
        "f": st.integers(-20, 20).map(lambda n: n / 2),
        "s": st.text(alphabet="abcAB 1", max_size=6),
        "t": st.sampled_from(["", "a", "ab", "abc", "1", "10", "b"]),
        "flag": st.booleans(),
        "nul": st.none(),
        "arr": st.lists(st.integers(-9, 9), max_size=6),
        "nested": st.fixed_dictionaries({"x": st.fixed_dictionaries({"y": st.integers(0, 5)})}),
    }
)

NUMBER_VARS = [
    {"var": "a"},
    {"var": "b"},
    {"var": "f"},
    {"var": "nested.x.y"},
    {"var": ["missing", 3]},
]
STRING_VARS = [{"var": "s"}, {"var": "t"}]


def numbers() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.integers(-100, 100),
        st.sampled_from([0.5, 1.5, -2.5, "7", "2.5"]),
        st.sampled_from(NUMBER_VARS),
    )

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"+": xs}),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: {"*": xs}),
            st.tuples(inner, inner).map(lambda p: {"-": list(p)}),
            inner.map(lambda x: {"-": [x]}),
            st.tuples(inner, st.sampled_from([1, 2, 3, -4, 0.5])).map(lambda p: {"/": list(p)}),
            st.tuples(
                st.one_of(st.integers(0, 100), st.just({"var": "nested.x.y"})),
                st.sampled_from([2, 3, 7]),
            ).map(lambda p: {"%": list(p)}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"max": xs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"min": xs}),
            st.tuples(booleans_leaf(), inner, inner).map(lambda t: {"if": list(t)}),
        )

    return st.recursive(leaf, extend, max_leaves=6)


def strings() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.sampled_from(["", "x", "ab", "中文"]), st.sampled_from(STRING_VARS))
    return st.one_of(
        leaf,
        st.lists(st.one_of(leaf, st.integers(-5, 5)), min_size=1, max_size=3).map(
            lambda xs: {"cat": xs}
        ),
        st.tuples(leaf, st.integers(-4, 4)).map(lambda p: {"substr": list(p)}),
        st.tuples(leaf, st.integers(-4, 4), st.integers(-4, 4)).map(lambda p: {"substr": list(p)}),
    )


def booleans_leaf() -> st.SearchStrategy[Any]:
    return st.one_of(st.booleans(), st.just({"var": "flag"}), st.just({"var": "nul"}))


def comparisons() -> st.SearchStrategy[Any]:
    num, text = numbers(), strings()
    ops = st.sampled_from(["==", "===", "!=", "!==", "<", "<=", ">", ">="])
    return st.one_of(
        st.tuples(ops, num, num).map(lambda t: {t[0]: [t[1], t[2]]}),
        st.tuples(ops, text, text).map(lambda t: {t[0]: [t[1], t[2]]}),
        st.tuples(st.sampled_from(["==", "!="]), num, st.sampled_from(["x", "1", "10", "2.5"])).map(
            lambda t: {t[0]: [t[1], t[2]]}
        ),
        st.tuples(st.sampled_from(["<", "<="]), num, num, num).map(lambda t: {t[0]: list(t[1:])}),
        st.tuples(text, text).map(lambda p: {"in": list(p)}),
        st.tuples(st.integers(-9, 9), st.just({"var": "arr"})).map(lambda p: {"in": list(p)}),
        booleans_leaf(),
    )


def conditions() -> st.SearchStrategy[Any]:
    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"and": xs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"or": xs}),
            inner.map(lambda x: {"!": [x]}),
            inner.map(lambda x: {"!!": [x]}),
            st.tuples(inner, inner, inner).map(lambda t: {"if": list(t)}),
        )

    return st.recursive(comparisons(), extend, max_leaves=5)


ARRAY_OPS = st.one_of(
    st.just({"map": [{"var": "arr"}, {"*": [{"var": ""}, 2]}]}),
    st.integers(-5, 5).map(lambda n: {"filter": [{"var": "arr"}, {">": [{"var": ""}, n]}]}),
    st.just({"reduce": [{"var": "arr"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}),
    st.integers(-5, 5).map(lambda n: {"all": [{"var": "arr"}, {">=": [{"var": ""}, n]}]}),
    st.integers(-5, 5).map(lambda n: {"some": [{"var": "arr"}, {"==": [{"var": ""}, n]}]}),
    st.integers(-5, 5).map(lambda n: {"none": [{"var": "arr"}, {"<": [{"var": ""}, n]}]}),
    st.just({"merge": [{"var": "arr"}, [1, 2], 3]}),
    st.just({"missing": ["a", "nope", "nested.x.y", "nul"]}),
    st.just({"missing_some": [1, ["nope", "s", "t"]]}),
)


def same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours):
        return math.isnan(theirs)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(
            same(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12) or ours == theirs
    return bool(ours == theirs)


@settings(max_examples=300, deadline=None)
@given(expression=st.one_of(numbers(), strings(), conditions(), ARRAY_OPS), data=DATA)
def test_compiled_expression_agrees_with_the_reference_interpreter(
    expression: Any, data: dict[str, Any]
) -> None:
    ours = compile_logic(expression)(data)
    theirs = jsonLogic(expression, data)
    assert same(ours, theirs), (expression, data, ours, theirs)


@settings(max_examples=300, deadline=None)
@given(expression=st.one_of(numbers(), strings(), conditions(), ARRAY_OPS), data=DATA)
def test_generated_code_agrees_with_the_closure_reference(
    expression: Any, data: dict[str, Any]
) -> None:
    assert same(compile_logic(expression)(data), compile_closures(expression)(data))
