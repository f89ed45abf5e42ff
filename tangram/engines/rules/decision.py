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


def compile_decision_table(
    definition: Mapping[str, Any], *, fields: frozenset[str] | None = None
) -> DecisionTable:
    """Check a decision table (shapes, cells, overlaps, tests) and compile it.

    ``fields`` (the form's field keys) makes input expressions refer only to real fields.
    """
    problems: list[Diagnostic] = []
    key = str(definition.get("key", ""))
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
    inputs = list(definition.get("inputs") or [])
    outputs = list(definition.get("outputs") or [])
    if not inputs:
        problems.append(Diagnostic("/inputs", "decision.inputs", "needs at least one input"))
    if not outputs:
        problems.append(Diagnostic("/outputs", "decision.outputs", "needs at least one output"))
    input_keys: list[str] = []
    logic: list[CompiledLogic] = []
    declared: list[list[Any] | None] = []
    spec = VariableSpec(fields=fields) if fields is not None else None
    for i, column in enumerate(inputs):
        where = f"/inputs/{i}"
        if not isinstance(column, Mapping) or not isinstance(column.get("key"), str):
            problems.append(Diagnostic(where, "decision.input", "needs a key"))
            input_keys.append(f"#{i}")
            logic.append(compile_logic(None))
            declared.append(None)
            continue
        input_keys.append(column["key"])
        expression = column.get("expression", {"var": column["key"]})
        try:
            logic.append(compile_logic(expression, variables=spec))
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"{where}/expression{d.path}", d.code, d.message)
                for d in exc.diagnostics
            )
            logic.append(compile_logic(None))
        values = column.get("values")
        declared.append(list(values) if isinstance(values, list) and values else None)
    output_keys = [
        str(c.get("key")) if isinstance(c, Mapping) else f"#{i}" for i, c in enumerate(outputs)
    ]
    priority: tuple[Any, ...] = ()
    if policy == "PRIORITY":
        first = outputs[0] if outputs and isinstance(outputs[0], Mapping) else {}
        if not isinstance(first.get("values"), list) or not first["values"]:
            problems.append(
                Diagnostic(
                    "/outputs/0/values",
                    "decision.priority",
                    "PRIORITY needs the first output's values, highest priority first",
                )
            )
        else:
            priority = tuple(first["values"])
    rows: list[tuple[tuple[Test, ...], dict[str, Any]]] = []
    constants: list[list[Any]] = [[] for _ in input_keys]
    for r, rule in enumerate(definition.get("rules") or []):
        where = f"/rules/{r}"
        when = rule.get("when") if isinstance(rule, Mapping) else None
        then = rule.get("then") if isinstance(rule, Mapping) else None
        if not isinstance(when, list) or len(when) != len(input_keys):
            problems.append(
                Diagnostic(f"{where}/when", "decision.arity", f"needs {len(input_keys)} cells")
            )
            continue
        if not isinstance(then, list) or len(then) != len(output_keys):
            problems.append(
                Diagnostic(f"{where}/then", "decision.arity", f"needs {len(output_keys)} values")
            )
            continue
        tests = []
        for c, cell in enumerate(when):
            test, mentioned = _cell_test(cell, f"{where}/when/{c}", problems)
            tests.append(test)
            constants[c].extend(mentioned)
            if declared[c] is not None:
                for value in mentioned:
                    if not any(_same(value, d) for d in declared[c] or []):
                        problems.append(
                            Diagnostic(
                                f"{where}/when/{c}",
                                "decision.value",
                                f"{value!r} is not one of the values of input {input_keys[c]!r}",
                            )
                        )
        rows.append((tuple(tests), dict(zip(output_keys, then, strict=True))))
    if not rows:
        problems.append(Diagnostic("/rules", "decision.rules", "needs at least one row"))
    if problems:
        raise DefinitionError(problems)

    reps = [_representatives(constants[c], declared[c]) for c in range(len(input_keys))]
    if policy == "UNIQUE":
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
    gaps: list[dict[str, Any]] = []
    if math.prod(len(r) for r in reps) <= MAX_COMBINATIONS:
        for combination in itertools.product(*reps):
            if not any(_accepts(tests, combination) for tests, _ in rows):
                gaps.append(dict(zip(input_keys, combination, strict=True)))
    table = DecisionTable(
        key=key,
        hit_policy=str(policy),
        aggregation=aggregation,
        inputs=tuple(input_keys),
        outputs=tuple(output_keys),
        _input_logic=tuple(logic),
        _rows=tuple(rows),
        _priority=priority,
        gaps=tuple(gaps),
    )
    if not problems:
        for t, case in enumerate(definition.get("tests") or []):
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
    if problems:
        raise DefinitionError(problems)
    return table
