"""Decision tables (DMN-style): input columns, rows of conditions, output columns, hit policies.

A definition::

    {"key": "dispatch", "hit_policy": "UNIQUE",
     "inputs": [{"key": "issue_type", "expression": {"var": "issue_type"},
                 "values": ["software_bug", "hardware_fault", "usage", "complaint"]},
                {"key": "product_line", "values": ["A", "B"]}],
     "outputs": [{"key": "group"}],
     "rules": [{"when": ["hardware_fault", "A"], "then": ["line_a_qe"]},
               {"when": ["-", "-"], "then": ["service_desk"]}],
     "tests": [{"input": {"issue_type": "hardware_fault", "product_line": "A"},
                "expect": {"group": "line_a_qe"}}]}

An input is a JsonLogic ``expression`` (by default ``{"var": key}``), optionally with its finite
``values``. A condition cell is ``"-"`` (any), a value (equals), or an object: ``{"in": [...]}``,
``{"<": x}``, ``{"<=": x}``, ``{">": x}``, ``{">=": x}``, ``{"between": [a, b]}`` (inclusive) or
``{"not": cell}``. Hit policies: FIRST, UNIQUE, PRIORITY (by the order of the first output's
``values``), ANY, RULE ORDER, COLLECT (optionally with ``aggregation`` SUM, MIN, MAX or COUNT).

Compiling checks shapes and types, reports rows a UNIQUE table lets overlap, lists gaps (inputs no
row matches) and runs the table's own tests — a failing test refuses the table. Overlaps and gaps
are exact: every column's domain is cut into classes by the constants its cells mention, and one
representative per class stands for the rest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, VariableSpec, compile_logic

HIT_POLICIES = ("FIRST", "UNIQUE", "PRIORITY", "ANY", "RULE ORDER", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
ANY_CELL = "-"
#: Most input combinations the gap check enumerates.
MAX_COMBINATIONS = 20_000
_COMPARE = ("<", "<=", ">", ">=")


class DecisionError(ValueError):
    """A table could not decide (e.g. two matching rows of an ANY table disagree)."""


Test = Callable[[Any], bool]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _ordered(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` can be compared (numbers with numbers, text with text)."""
    numeric = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return (isinstance(a, numeric) and isinstance(b, numeric)) or (
        isinstance(a, str) and isinstance(b, str)
    )


def _cell_test(cell: Any, path: str, problems: list[Diagnostic]) -> tuple[Test, list[Any]]:
    """A predicate for a condition cell, and the constants it mentions."""
    if cell == ANY_CELL:
        return (lambda _v: True), []
    if isinstance(cell, str):
        return (lambda v: v == cell), [cell]  # text equals only text
    if not isinstance(cell, Mapping):
        return (lambda v: _same(v, cell)), [cell]
    if len(cell) != 1:
        problems.append(Diagnostic(path, "decision.cell", "a condition object has one operator"))
        return (lambda _v: False), []
    ((op, arg),) = cell.items()
    if op == "in":
        if not isinstance(arg, list) or not arg:
            problems.append(Diagnostic(path, "decision.cell", "'in' needs a non-empty list"))
            return (lambda _v: False), []
        return (lambda v: any(_same(v, a) for a in arg)), list(arg)
    if op in _COMPARE:
        if isinstance(arg, bool) or not isinstance(arg, int | float | str):
            problems.append(Diagnostic(path, "decision.cell", f"{op!r} needs a number or text"))
            return (lambda _v: False), []
        compare: Test = {
            "<": lambda v: v < arg,
            "<=": lambda v: v <= arg,
            ">": lambda v: v > arg,
            ">=": lambda v: v >= arg,
        }[op]
        return (lambda v: _ordered(v, arg) and compare(v)), [arg]
    if op == "between":
        if (
            not isinstance(arg, list)
            or len(arg) != 2
            or not _ordered(arg[0], arg[1])
            or arg[0] > arg[1]
        ):
            problems.append(
                Diagnostic(path, "decision.cell", "'between' needs [low, high] of one kind")
            )
            return (lambda _v: False), []
        low, high = arg
        return (lambda v: _ordered(v, low) and low <= v <= high), [low, high]
    if op == "not":
        inner, constants = _cell_test(arg, path, problems)
        return (lambda v: not inner(v)), constants
    problems.append(Diagnostic(path, "decision.cell", f"unknown condition {op!r}"))
    return (lambda _v: False), []


def _representatives(constants: Sequence[Any], declared: Sequence[Any] | None) -> list[Any]:
    """One value per class of the domain the constants cut (plus "something else")."""
    if declared:
        return list(declared)
    out: list[Any] = []
    seen: set[Any] = set()

    def add(value: Any) -> None:
        marker = (type(value).__name__, value)
        if marker not in seen:
            seen.add(marker)
            out.append(value)

    numbers = sorted(
        {c for c in constants if isinstance(c, int | float) and not isinstance(c, bool)}
    )
    for i, n in enumerate(numbers):
        add(n)
        if i + 1 < len(numbers):
            add((n + numbers[i + 1]) / 2)
    if numbers:
        add(numbers[0] - 1)
        add(numbers[-1] + 1)
    texts = sorted({c for c in constants if isinstance(c, str)})
    for t in texts:
        add(t)
        add(t + "\x00")  # just above t
    if texts:
        add("")
    for c in constants:
        if isinstance(c, bool) or c is None:
            add(c)
    add(None)  # an empty input
    add("\uffff\uffffother")  # a text no cell mentions
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What a table decided: the result (per hit policy) and the rows that matched (0-based)."""

    result: Any
    matched: tuple[int, ...]


@dataclass(frozen=True)
class DecisionTable:
    """A compiled decision table."""

    key: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    _input_logic: tuple[CompiledLogic, ...] = field(repr=False)
    _rows: tuple[tuple[tuple[Test, ...], dict[str, Any]], ...] = field(repr=False)
    _priority: tuple[Any, ...] = field(repr=False)
    #: Input combinations no row matches (``{input: value}``), found at compile time.
    gaps: tuple[dict[str, Any], ...] = ()

    def input_values(self, data: Mapping[str, Any], context: Any = None) -> list[Any]:
        """The values of the input columns for a record."""
        return [logic.function(data, context) for logic in self._input_logic]

    def matching(self, values: Sequence[Any]) -> tuple[int, ...]:
        """Rows whose every cell accepts ``values``."""
        return tuple(i for i, (tests, _out) in enumerate(self._rows) if _accepts(tests, values))

    def decide_values(self, values: Sequence[Any]) -> Decision:
        """Apply the hit policy to input column values."""
        if self.hit_policy == "FIRST":  # no need to look past the first match
            for i, (tests, out) in enumerate(self._rows):
                if _accepts(tests, values):
                    return Decision(out, (i,))
            return Decision(None, ())
        matched = self.matching(values)
        outputs = [self._rows[i][1] for i in matched]
        policy = self.hit_policy
        if policy == "FIRST":
            return Decision(outputs[0] if outputs else None, matched[:1])
        if policy == "UNIQUE":
            if len(outputs) > 1:
                raise DecisionError(f"rows {[m + 1 for m in matched]} all match a UNIQUE table")
            return Decision(outputs[0] if outputs else None, matched)
        if policy == "ANY":
            if any(o != outputs[0] for o in outputs[1:]):
                raise DecisionError(f"matching rows {[m + 1 for m in matched]} disagree")
            return Decision(outputs[0] if outputs else None, matched)
        if policy == "PRIORITY":
            if not outputs:
                return Decision(None, ())
            first = self.outputs[0]
            best = min(
                range(len(outputs)),
                key=lambda i: _rank(self._priority, outputs[i].get(first)),
            )
            return Decision(outputs[best], (matched[best],))
        if policy == "RULE ORDER" or self.aggregation is None:
            return Decision(outputs, matched)
        values_out = [o[self.outputs[0]] for o in outputs]
        if self.aggregation == "COUNT":
            return Decision(len(values_out), matched)
        numbers = [v for v in values_out if isinstance(v, int | float) and not isinstance(v, bool)]
        if not numbers:
            return Decision(None, matched)
        if self.aggregation == "SUM":
            return Decision(math.fsum(numbers), matched)
        return Decision(min(numbers) if self.aggregation == "MIN" else max(numbers), matched)

    def decide(self, data: Mapping[str, Any], context: Any = None) -> Decision:
        """Evaluate the inputs on a record and apply the hit policy."""
        return self.decide_values(self.input_values(data, context))


def _accepts(tests: Sequence[Test], values: Sequence[Any]) -> bool:
    """Whether every cell of a row accepts the input values."""
    return all(test(v) for test, v in zip(tests, values, strict=True))


def _rank(order: tuple[Any, ...], value: Any) -> int:
    for i, candidate in enumerate(order):
        if _same(candidate, value):
            return i
    return len(order)


@dataclass(frozen=True)
class _Inputs:
    """The input columns as compiled: keys, expressions and declared values (None: any)."""

    keys: list[str]
    logic: list[CompiledLogic]
    declared: list[list[Any] | None]


_Row = tuple[tuple[Test, ...], dict[str, Any]]


def _policy(definition: Mapping[str, Any], problems: list[Diagnostic]) -> tuple[Any, Any]:
    """The hit policy and the aggregation (COLLECT only)."""
    policy = definition.get("hit_policy", "UNIQUE")
    if policy not in HIT_POLICIES:
        problems.append(
            Diagnostic(
                "/hit_policy", "decision.hit_policy", f"use one of {', '.join(HIT_POLICIES)}"
            )
        )
    aggregation = definition.get("aggregation")
    if aggregation is not None and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
        problems.append(
            Diagnostic(
                "/aggregation",
                "decision.aggregation",
                f"only COLLECT aggregates, with one of {', '.join(AGGREGATIONS)}",
            )
        )
    return policy, aggregation


def _inputs(
    inputs: list[Any], fields: frozenset[str] | None, problems: list[Diagnostic]
) -> _Inputs:
    compiled = _Inputs([], [], [])
    spec = VariableSpec(fields=fields) if fields is not None else None
    for i, column in enumerate(inputs):
        where = f"/inputs/{i}"
        if not isinstance(column, Mapping) or not isinstance(column.get("key"), str):
            problems.append(Diagnostic(where, "decision.input", "needs a key"))
            compiled.keys.append(f"#{i}")
            compiled.logic.append(compile_logic(None))
            compiled.declared.append(None)
            continue
        compiled.keys.append(column["key"])
        expression = column.get("expression", {"var": column["key"]})
        try:
            compiled.logic.append(compile_logic(expression, variables=spec, strict=True))
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"{where}/expression{d.path}", d.code, d.message)
                for d in exc.diagnostics
            )
            compiled.logic.append(compile_logic(None))
        values = column.get("values")
        compiled.declared.append(list(values) if isinstance(values, list) and values else None)
    return compiled


def _priority(policy: Any, outputs: list[Any], problems: list[Diagnostic]) -> tuple[Any, ...]:
    """The first output's values, highest priority first (PRIORITY tables only)."""
    if policy != "PRIORITY":
        return ()
    first = outputs[0] if outputs and isinstance(outputs[0], Mapping) else {}
    if not isinstance(first.get("values"), list) or not first["values"]:
        problems.append(
            Diagnostic(
                "/outputs/0/values",
                "decision.priority",
                "PRIORITY needs the first output's values, highest priority first",
            )
        )
        return ()
    return tuple(first["values"])


def _cells(
    when: list[Any],
    where: str,
    inputs: _Inputs,
    constants: list[list[Any]],
    problems: list[Diagnostic],
) -> tuple[Test, ...]:
    """A row's condition cells as tests; the constants they mention join their column's."""
    tests = []
    for c, cell in enumerate(when):
        test, mentioned = _cell_test(cell, f"{where}/when/{c}", problems)
        tests.append(test)
        constants[c].extend(mentioned)
        declared = inputs.declared[c]
        if declared is None:
            continue
        for value in mentioned:
            if not any(_same(value, d) for d in declared):
                problems.append(
                    Diagnostic(
                        f"{where}/when/{c}",
                        "decision.value",
                        f"{value!r} is not one of the values of input {inputs.keys[c]!r}",
                    )
                )
    return tuple(tests)


def _rows(
    rules: list[Any],
    inputs: _Inputs,
    output_keys: list[str],
    problems: list[Diagnostic],
) -> tuple[list[_Row], list[list[Any]]]:
    """The rows (tests and outputs) and, per input column, the constants its cells mention."""
    rows: list[_Row] = []
    constants: list[list[Any]] = [[] for _ in inputs.keys]
    for r, rule in enumerate(rules):
        where = f"/rules/{r}"
        when = rule.get("when") if isinstance(rule, Mapping) else None
        then = rule.get("then") if isinstance(rule, Mapping) else None
        if not isinstance(when, list) or len(when) != len(inputs.keys):
            problems.append(
                Diagnostic(f"{where}/when", "decision.arity", f"needs {len(inputs.keys)} cells")
            )
            continue
        if not isinstance(then, list) or len(then) != len(output_keys):
            problems.append(
                Diagnostic(f"{where}/then", "decision.arity", f"needs {len(output_keys)} values")
            )
            continue
        tests = _cells(when, where, inputs, constants, problems)
        rows.append((tests, dict(zip(output_keys, then, strict=True))))
    if not rows:
        problems.append(Diagnostic("/rules", "decision.rules", "needs at least one row"))
    return rows, constants


def _overlaps(rows: list[_Row], reps: list[list[Any]]) -> list[Diagnostic]:
    """Rows of a UNIQUE table that some input matches both of."""
    problems = []
    for (a, (tests_a, _)), (b, (tests_b, _)) in itertools.combinations(enumerate(rows), 2):
        if all(
            any(ta(v) and tb(v) for v in column)
            for ta, tb, column in zip(tests_a, tests_b, reps, strict=True)
        ):
            problems.append(
                Diagnostic(
                    f"/rules/{b}",
                    "decision.overlap",
                    f"overlaps row {a + 1}: a UNIQUE table needs exactly one matching row",
                )
            )
    return problems


def _gaps(rows: list[_Row], reps: list[list[Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Input combinations no row matches (none listed past :data:`MAX_COMBINATIONS`)."""
    if math.prod(len(r) for r in reps) > MAX_COMBINATIONS:
        return []
    return [
        dict(zip(keys, combination, strict=True))
        for combination in itertools.product(*reps)
        if not any(_accepts(tests, combination) for tests, _ in rows)
    ]


def _failed_tests(table: DecisionTable, tests: list[Any]) -> list[Diagnostic]:
    """The table's own tests that it fails."""
    problems = []
    for t, case in enumerate(tests):
        where = f"/tests/{t}"
        if not isinstance(case, Mapping) or not isinstance(case.get("input"), Mapping):
            problems.append(Diagnostic(where, "decision.test", "needs an input object"))
            continue
        try:
            got = table.decide(case["input"]).result
        except DecisionError as exc:
            problems.append(Diagnostic(where, "decision.test_failed", str(exc)))
            continue
        if got != case.get("expect"):
            problems.append(
                Diagnostic(
                    where,
                    "decision.test_failed",
                    f"expected {case.get('expect')!r}, the table gives {got!r}",
                )
            )
    return problems


def compile_decision_table(
    definition: Mapping[str, Any], *, fields: frozenset[str] | None = None
) -> DecisionTable:
    """Check a decision table (shapes, cells, overlaps, tests) and compile it.

    ``fields`` (the form's field keys) makes input expressions refer only to real fields.
    """
    problems: list[Diagnostic] = []
    policy, aggregation = _policy(definition, problems)
    raw_inputs = list(definition.get("inputs") or [])
    outputs = list(definition.get("outputs") or [])
    if not raw_inputs:
        problems.append(Diagnostic("/inputs", "decision.inputs", "needs at least one input"))
    if not outputs:
        problems.append(Diagnostic("/outputs", "decision.outputs", "needs at least one output"))
    inputs = _inputs(raw_inputs, fields, problems)
    output_keys = [
        str(c.get("key")) if isinstance(c, Mapping) else f"#{i}" for i, c in enumerate(outputs)
    ]
    priority = _priority(policy, outputs, problems)
    rows, constants = _rows(list(definition.get("rules") or []), inputs, output_keys, problems)
    if problems:
        raise DefinitionError(problems)
    reps = [_representatives(constants[c], inputs.declared[c]) for c in range(len(inputs.keys))]
    if policy == "UNIQUE":
        problems += _overlaps(rows, reps)
    table = DecisionTable(
        key=str(definition.get("key", "")),
        hit_policy=str(policy),
        aggregation=aggregation,
        inputs=tuple(inputs.keys),
        outputs=tuple(output_keys),
        _input_logic=tuple(inputs.logic),
        _rows=tuple(rows),
        _priority=priority,
        gaps=tuple(_gaps(rows, reps, inputs.keys)),
    )
    if not problems:
        problems += _failed_tests(table, list(definition.get("tests") or []))
    if problems:
        raise DefinitionError(problems)
    return table
