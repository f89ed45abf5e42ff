"""Compile a JsonLogic expression once into a tree of Python closures.

Each node becomes one closure ``fn(data, run)``; operator lookup, argument arity, ``var`` path
splitting and constant sub-trees are settled at compile time, so evaluation never walks JSON.
Every problem found while compiling is collected as a :class:`Diagnostic` with the JSON pointer of
its node, and reported together in one :class:`DefinitionError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic, escape_token
from tangram.engines.logic import extensions
from tangram.engines.logic.codegen import generate
from tangram.engines.logic.context import (
    DEFAULT_LIMITS,
    EMPTY_CONTEXT,
    EvalContext,
    Limits,
    VariableSpec,
)
from tangram.engines.logic.operations import IMPURE, STANDARD, at
from tangram.engines.logic.runtime import MISSING, Run, TraceStep, lookup
from tangram.engines.logic.semantics import (
    less_or_equal,
    less_than,
    loose_equal,
    strict_equal,
    string,
    truthy,
)

Fn = Callable[[Any, Run], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled node: its closure and, when it is constant, its value."""

    fn: Fn
    constant: bool = False
    value: Any = None


def _const(value: Any) -> Compiled:
    return Compiled(lambda _d, _r: value, True, value)


# --- the compiler ------------------------------------------------------------------------------


class _Compiler:
    def __init__(
        self, limits: Limits, variables: VariableSpec | None, traced: bool, strict: bool = False
    ) -> None:
        self.limits = limits
        self.variables = variables
        self.traced = traced
        self.strict = strict
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def problem(self, path: str, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(path, code, message))

    def compile(self, node: Any, path: str, depth: int, scoped: bool) -> Compiled:
        self.nodes += 1
        if self.nodes == self.limits.max_nodes + 1:
            self.problem(
                path,
                "logic.limit.size",
                f"the expression has more than {self.limits.max_nodes} nodes",
            )
        if depth > self.limits.max_depth:
            self.problem(
                path,
                "logic.limit.depth",
                f"the expression nests deeper than {self.limits.max_depth} levels",
            )
            return _const(None)
        if isinstance(node, list):
            items = [self.compile(v, f"{path}/{i}", depth + 1, scoped) for i, v in enumerate(node)]
            if all(item.constant for item in items):
                return _const([item.value for item in items])
            fns = tuple(item.fn for item in items)
            return Compiled(lambda d, r: [f(d, r) for f in fns])
        if isinstance(node, dict) and len(node) != 1 and self.strict:
            keys = ", ".join(repr(k) for k in list(node)[:5])
            self.problem(
                path,
                "logic.object",
                'an object in an expression must be exactly one operation ({"op": [arguments]});'
                + (f" this one has {len(node)} keys: {keys}" if node else " this one is empty"),
            )
            return _const(None)
        if not isinstance(node, dict) or len(node) != 1:
            return _const(node)  # a literal (a multi-key object is data, as in the reference)
        op, raw = next(iter(node.items()))
        op_path = f"{path}/{escape_token(op)}"
        listed = isinstance(raw, list)
        args = list(raw) if listed else [raw]

        def arg_path(index: int) -> str:
            return f"{op_path}/{index}" if listed else op_path

        special = _SPECIAL.get(op)
        if special is not None:
            compiled = special(self, args, arg_path, op_path, depth, scoped)
        else:
            compiled = self._eager(op, args, arg_path, op_path, depth, scoped)
        if self.traced and not compiled.constant:
            compiled = Compiled(_traced(compiled.fn, op_path, op))
        return compiled

    def _eager(
        self,
        op: str,
        args: list[Any],
        arg_path: Callable[[int], str],
        op_path: str,
        depth: int,
        scoped: bool,
    ) -> Compiled:
        standard = STANDARD.get(op)
        platform = extensions.OPERATIONS.get(op)
        if standard is None and platform is None:
            self.problem(op_path, "logic.op.unknown", f"unknown operation {op!r}")
            return _const(None)
        if op in {"var", "new", "missing", "missing_some", "old", "changed"}:
            self._check_vars(op, args, arg_path, scoped)
        if platform is not None:
            low, high = platform.arity
            if not low <= len(args) <= high:
                expected = str(low) if low == high else f"{low} to {high}"
                self.problem(
                    op_path,
                    "logic.op.arity",
                    f"{op!r} takes {expected} argument(s), got {len(args)}",
                )
                return _const(None)
            problem = platform.check(args, self.limits) if platform.check else None
            if problem is not None:
                self.problem(arg_path(0), problem[0], problem[1])
                return _const(None)
        items = [self.compile(a, arg_path(i), depth + 1, scoped) for i, a in enumerate(args)]
        if platform is not None:
            prepared = platform.prepare(args, self.limits) if platform.prepare else None
            impl = platform.bind(op_path, prepared)
            fns = tuple(item.fn for item in items)
            return Compiled(lambda d, r: impl([f(d, r) for f in fns], d, r))
        assert standard is not None
        fast = _FAST.get(op)
        if fast is not None and len(items) == 2:
            fn = fast(items[0].fn, items[1].fn)
        else:
            fns = tuple(item.fn for item in items)
            if len(fns) == 1:
                only = fns[0]
                fn = lambda d, r: standard([only(d, r)], d, r, op_path)  # noqa: E731
            else:
                fn = lambda d, r: standard([f(d, r) for f in fns], d, r, op_path)  # noqa: E731
        if op not in IMPURE and all(item.constant for item in items):
            try:
                value = fn(None, Run(EMPTY_CONTEXT, self.limits, None))
            except ValueError:
                return Compiled(fn)  # fails at run time too, where the error is reported
            return _const(value)
        if op == "var" and items and items[0].constant and isinstance(items[0].value, str | int):
            default = items[1] if len(items) > 1 else _const(None)
            return Compiled(
                _var_getter(string(items[0].value) if items[0].value != "" else "", default)
            )
        return Compiled(fn)

    def _check_vars(
        self, op: str, args: list[Any], arg_path: Callable[[int], str], scoped: bool
    ) -> None:
        if self.variables is None or scoped or not args:
            return
        paths: list[tuple[str, Any]] = []
        if op in {"var", "new", "old", "changed"}:
            paths.append((arg_path(0), args[0]))
        elif op == "missing":
            keys = args[0] if len(args) == 1 and isinstance(args[0], list) else args
            base = arg_path(0) if len(args) == 1 and isinstance(args[0], list) else None
            paths += [((f"{base}/{i}" if base else arg_path(i)), k) for i, k in enumerate(keys)]
        elif op == "missing_some" and len(args) > 1 and isinstance(args[1], list):
            paths += [(f"{arg_path(1)}/{i}", k) for i, k in enumerate(args[1])]
        for where, value in paths:
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, str) and value and not self.variables.knows(value):
                head, _, rest = value.partition(".")
                unknown = (
                    f"unknown column {rest.split('.', 1)[0]!r} of the rows"
                    if head in self.variables.members
                    else f"unknown field {head!r}"
                )
                self.problem(where, "logic.var.unknown", unknown)


def _traced(fn: Fn, path: str, op: str) -> Fn:
    def traced(d: Any, r: Run) -> Any:
        value = fn(d, r)
        if r.steps is not None:
            r.steps.append(TraceStep(path, op, value))
        return value

    return traced


# --- var ---------------------------------------------------------------------------------------


def _var_getter(path: str, default: Compiled) -> Fn:
    if path == "":
        return lambda d, _r: d
    parts = tuple(path.split("."))
    default_fn = default.fn
    if len(parts) == 1:
        key = parts[0]

        def get_one(d: Any, r: Run) -> Any:
            value = d.get(key, MISSING) if isinstance(d, dict) else lookup(d, parts)
            return default_fn(d, r) if value is MISSING else value

        return get_one

    def get(d: Any, r: Run) -> Any:
        value = lookup(d, parts)
        return default_fn(d, r) if value is MISSING else value

    return get


def _fast_pair(fn: Callable[[Any, Any], Any]) -> Callable[[Fn, Fn], Fn]:
    def build(a: Fn, b: Fn) -> Fn:
        return lambda d, r: fn(a(d, r), b(d, r))

    return build


_FAST: dict[str, Callable[[Fn, Fn], Fn]] = {
    "==": _fast_pair(loose_equal),
    "===": _fast_pair(strict_equal),
    "!=": _fast_pair(lambda a, b: not loose_equal(a, b)),
    "!==": _fast_pair(lambda a, b: not strict_equal(a, b)),
    "<": _fast_pair(less_than),
    "<=": _fast_pair(less_or_equal),
    ">": _fast_pair(lambda a, b: less_than(b, a)),
    ">=": _fast_pair(lambda a, b: less_or_equal(b, a)),
}


# --- operations that control evaluation of their arguments --------------------------------

Special = Callable[[_Compiler, list[Any], Callable[[int], str], str, int, bool], Compiled]


def _if(
    c: _Compiler,
    args: list[Any],
    arg_path: Callable[[int], str],
    _op: str,
    depth: int,
    scoped: bool,
) -> Compiled:
    items = [c.compile(a, arg_path(i), depth + 1, scoped) for i, a in enumerate(args)]
    pairs = tuple((items[i].fn, items[i + 1].fn) for i in range(0, len(items) - 1, 2))
    last = items[-1].fn if len(items) % 2 == 1 else None

    def choose(d: Any, r: Run) -> Any:
        for condition, then in pairs:
            if truthy(condition(d, r)):
                return then(d, r)
        return last(d, r) if last is not None else None

    return Compiled(choose)


def _chain(stop_when_truthy: bool) -> Special:
    """``and`` / ``or``: evaluate in order, return the deciding value (the last one otherwise)."""

    def build(
        c: _Compiler,
        args: list[Any],
        arg_path: Callable[[int], str],
        _op: str,
        depth: int,
        scoped: bool,
    ) -> Compiled:
        fns = tuple(c.compile(a, arg_path(i), depth + 1, scoped).fn for i, a in enumerate(args))

        def chain(d: Any, r: Run) -> Any:
            current = None
            for fn in fns:
                current = fn(d, r)
                if truthy(current) is stop_when_truthy:
                    return current
            return current

        return Compiled(chain)

    return build


def _item_logic(
    c: _Compiler,
    kind: str,
    args: list[Any],
    arg_path: Callable[[int], str],
    depth: int,
    scoped: bool,
) -> Fn:
    """The per-item logic: it reads the item, not the record. Over ``{"var": <sub-table>}`` of a
    known table its reads are checked against the table's columns; otherwise they are not."""
    source = at(args, 0)
    table = source.get("var") if isinstance(source, dict) and len(source) == 1 else None
    items = (
        c.variables.items_of(table, kind)
        if c.variables is not None and not scoped and isinstance(table, str)
        else None
    )
    if items is None:
        return c.compile(at(args, 1), arg_path(1), depth + 1, True).fn
    outer, c.variables = c.variables, items
    try:
        return c.compile(at(args, 1), arg_path(1), depth + 1, False).fn
    finally:
        c.variables = outer


def _iteration(kind: str) -> Special:
    def build(
        c: _Compiler,
        args: list[Any],
        arg_path: Callable[[int], str],
        op_path: str,
        depth: int,
        scoped: bool,
    ) -> Compiled:
        source = c.compile(at(args, 0), arg_path(0), depth + 1, scoped).fn
        logic = _item_logic(c, kind, args, arg_path, depth, scoped)
        initial = (
            c.compile(args[2], arg_path(2), depth + 1, scoped).fn
            if kind == "reduce" and len(args) > 2
            else None
        )

        def run(d: Any, r: Run) -> Any:
            items = source(d, r)
            if kind == "reduce":
                accumulator = initial(d, r) if initial is not None else None
                if not isinstance(items, list):
                    return accumulator
                r.spend(len(items), op_path)
                for item in items:
                    accumulator = logic({"current": item, "accumulator": accumulator}, r)
                return accumulator
            if kind == "all":
                if not isinstance(items, list | str) or not items:
                    return False
                r.spend(len(items), op_path)
                return all(truthy(logic(item, r)) for item in items)
            if not isinstance(items, list):
                return [] if kind in {"map", "filter"} else kind == "none"
            r.spend(len(items), op_path)
            if kind == "map":
                return [logic(item, r) for item in items]
            kept = [item for item in items if truthy(logic(item, r))]
            if kind == "filter":
                return kept
            return bool(kept) if kind == "some" else not kept

        return Compiled(run)

    return build


_SPECIAL: dict[str, Special] = {
    "if": _if,
    "?:": _if,
    "and": _chain(stop_when_truthy=False),
    "or": _chain(stop_when_truthy=True),
    **{kind: _iteration(kind) for kind in ("map", "filter", "reduce", "all", "some", "none")},
}

OPERATIONS: frozenset[str] = (
    frozenset(STANDARD) | frozenset(_SPECIAL) | frozenset(extensions.OPERATIONS)
)


# --- the compiled expression ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class CompiledLogic:
    """A compiled expression: call it with the data (and a context for platform operations)."""

    expression: Any
    limits: Limits
    variables: VariableSpec | None
    #: The plain function ``function(data, context=None)``: the fastest way to evaluate.
    function: Callable[..., Any]
    _traced: list[Fn] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, data: Any = None, context: EvalContext | None = None) -> Any:
        """Evaluate over ``data``; raises :class:`LogicEvaluationError` when it cannot."""
        return self.function(data, context)

    def trace(
        self, data: Any = None, context: EvalContext | None = None
    ) -> tuple[Any, tuple[TraceStep, ...]]:
        """Evaluate and record what every operator produced, innermost first."""
        with self._lock:
            if not self._traced:
                compiler = _Compiler(self.limits, None, traced=True)
                self._traced.append(compiler.compile(self.expression, "", 0, False).fn)
        steps: list[TraceStep] = []
        result = self._traced[0](data, Run(context or EMPTY_CONTEXT, self.limits, steps))
        return result, tuple(steps)


def compile_logic(
    expression: Any,
    *,
    variables: VariableSpec | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
) -> CompiledLogic:
    """Check ``expression`` completely and compile it into a callable.

    Raises :class:`DefinitionError` listing every problem: unknown operations, wrong arity of
    platform operations, unsafe or invalid regular expressions, unknown fields (with
    ``variables``) and expressions over the size or depth limits. With ``strict`` (what the
    platform's definitions use) an object that is not exactly one operation is a problem
    (``logic.object``) instead of a literal, as the reference has it: ``{"==": [...], "!=":
    [...]}`` would otherwise be an always-true condition.
    """
    compiler = _Compiler(limits, variables, traced=False, strict=strict)
    compiled = compiler.compile(expression, "", 0, False)
    if compiler.diagnostics:
        raise DefinitionError(compiler.diagnostics)
    try:
        function = generate(expression, limits)
    except (SyntaxError, RecursionError, MemoryError):
        closures = compiled.fn  # too deep for the Python parser: the closures serve

        def function(data: Any, context: EvalContext | None = None) -> Any:
            return closures(data, Run(context or EMPTY_CONTEXT, limits, None))

    return CompiledLogic(expression, limits, variables, function)


def compile_closures(expression: Any, *, limits: Limits = DEFAULT_LIMITS) -> Callable[[Any], Any]:
    """The closure form of a checked expression (the reference the generated code is tested against)."""
    compiler = _Compiler(limits, None, traced=False)
    fn = compiler.compile(expression, "", 0, False).fn
    if compiler.diagnostics:
        raise DefinitionError(compiler.diagnostics)
    return lambda data: fn(data, Run(EMPTY_CONTEXT, limits, None))


def apply_logic(expression: Any, data: Any = None, context: EvalContext | None = None) -> Any:
    """Compile and evaluate once (convenient in tests; compile once and reuse elsewhere)."""
    return compile_logic(expression)(data, context)


def data_reads(expression: Any) -> frozenset[str] | None:
    """The top-level data keys an expression can read, or ``None`` when it can read keys it does
    not name (a ``var`` of the whole data or of a computed path, a ``missing`` of computed keys).

    An over-estimate is safe: a ``var`` inside ``map``, ``filter``, ``reduce``, ``all``, ``some``
    or ``none`` reads an item, and is counted as if it read the data. Values of keys outside the
    set cannot change the expression's value: what callers rely on to skip data that moved only
    elsewhere."""
    found: set[str] = set()

    def key(path: Any) -> bool:
        if isinstance(path, bool) or not isinstance(path, str | int | float) or path == "":
            return False
        found.add(str(path).split(".", 1)[0])
        return True

    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return all(walk(item) for item in node)
        if not isinstance(node, dict):
            return True
        for op, args in node.items():
            if op == "var":
                listed = isinstance(args, list)
                path = (args[0] if args else "") if listed else args
                if not key(path) or (listed and not walk(args[1:])):
                    return False
            elif op == "missing":
                if not all(key(k) for k in (args if isinstance(args, list) else [args])):
                    return False
            elif op == "missing_some":
                keys = args[1] if isinstance(args, list) and len(args) > 1 else None
                if not isinstance(keys, list) or not all(key(k) for k in keys):
                    return False
                if not walk(args[0]):
                    return False
            elif not walk(args):
                return False
        return True

    return frozenset(found) if walk(expression) else None


def referenced_variables(expression: Any) -> set[str]:
    """First segments of the literal ``var`` paths an expression reads (its data dependencies)."""
    found: set[str] = set()
    if isinstance(expression, list):
        for item in expression:
            found |= referenced_variables(item)
    elif isinstance(expression, dict):
        for op, args in expression.items():
            if op == "var":
                path = args[0] if isinstance(args, list) and args else args
                if isinstance(path, str) and path:
                    found.add(path.split(".", 1)[0])
            else:
                found |= referenced_variables(args)
    return found
