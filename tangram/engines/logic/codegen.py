"""Generate one Python function per expression: the fast path of compiled JsonLogic.

The closure compiler (:mod:`tangram.engines.logic.compiler`) checks the expression and remains
the reference; this module emits Python source for the same semantics, with the common cases
inlined (a field read, a comparison with a constant, a membership test against a constant list,
boolean chains), and runs ``compile()`` on it once. Items of ``map`` / ``filter`` / ``reduce`` /
``all`` / ``some`` / ``none`` get functions of their own. Every value the source needs that is not
a plain literal is passed in through the function's namespace, never pasted in as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tangram.engines.common import escape_token
from tangram.engines.logic import extensions, semantics
from tangram.engines.logic.context import EMPTY_CONTEXT, Limits
from tangram.engines.logic.operations import IMPURE, STANDARD
from tangram.engines.logic.runtime import MISSING, Run, lookup, var

_NUM = (int, float)
_BOOLEAN_OPS = frozenset(
    {
        "==",
        "===",
        "!=",
        "!==",
        "<",
        "<=",
        ">",
        ">=",
        "!",
        "!!",
        "in",
        "all",
        "some",
        "none",
        "contains",
        "starts_with",
        "regex_match",
        "in_group",
        "has_role",
        "changed",
    }
)


@dataclass(frozen=True, slots=True)
class Expr:
    """Python source of one node; ``boolean`` when it always yields True or False."""

    code: str
    boolean: bool = False
    constant: bool = False
    value: Any = None


class Generator:
    """Turns a checked expression into Python source and a namespace."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self.functions: list[str] = []
        self.counter = 0
        #: Whether the source reads ``r`` (the per-call Run); if not, callers may pass None.
        self.uses_run = False

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def const(self, value: Any) -> Expr:
        if value is None or isinstance(value, bool | int | str):
            return Expr(repr(value), isinstance(value, bool), True, value)
        if isinstance(value, float) and math.isfinite(value):
            return Expr(repr(value), False, True, value)
        name = self.name("c")
        self.namespace[name] = value
        return Expr(name, False, True, value)

    def function(self, node: Any, path: str, *, truth: bool = False) -> str:
        """Emit ``def NAME(d, r): return <node>`` (or its truth) and return NAME."""
        name = self.name("f")
        body = self.expr(node, path)
        code = self.truth(body) if truth else body.code
        self.functions.append(f"def {name}(d, r):\n    return {code}\n")
        return name

    def truth(self, e: Expr) -> str:
        if e.boolean:
            return e.code
        t = self.name("t")
        return f"(({t}) if type({t} := {e.code}) is bool else _truthy({t}))"

    def expr(self, node: Any, path: str) -> Expr:
        if isinstance(node, list):
            items = [self.expr(v, f"{path}/{i}") for i, v in enumerate(node)]
            if all(i.constant for i in items):
                return self.const([i.value for i in items])
            return Expr("[" + ", ".join(i.code for i in items) + "]")
        if not isinstance(node, dict) or len(node) != 1:
            return self.const(node)
        op, raw = next(iter(node.items()))
        op_path = f"{path}/{escape_token(op)}"
        listed = isinstance(raw, list)
        args = list(raw) if listed else [raw]

        def arg_path(i: int) -> str:
            return f"{op_path}/{i}" if listed else op_path

        builder = _BUILDERS.get(op)
        if builder is not None:
            return builder(self, args, arg_path, op_path)
        items = [self.expr(a, arg_path(i)) for i, a in enumerate(args)]
        if op in extensions.OPERATIONS:
            operation = extensions.OPERATIONS[op]
            prepared = operation.prepare(args, self.limits) if operation.prepare else None
            self.uses_run = True
            impl = self.name("op")
            self.namespace[impl] = operation.bind(op_path, prepared)
            code = f"{impl}([{', '.join(i.code for i in items)}], d, r)"
            return Expr(code, op in _BOOLEAN_OPS)
        self.uses_run = True
        standard = self.name("s")
        self.namespace[standard] = STANDARD[op]
        call = f"{standard}([{', '.join(i.code for i in items)}], d, r, {op_path!r})"
        if op not in IMPURE and all(i.constant for i in items):
            try:
                value = STANDARD[op](
                    [i.value for i in items], None, Run(EMPTY_CONTEXT, self.limits, None), op_path
                )
            except ValueError:
                return Expr(call)
            return self.const(value)
        return Expr(call, op in _BOOLEAN_OPS)


Builder = Callable[[Generator, list[Any], Callable[[int], str], str], Expr]


def _at(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else None


def _var(g: Generator, args: list[Any], arg_path: Callable[[int], str], _op: str) -> Expr:
    key = g.expr(_at(args, 0), arg_path(0))
    default = g.expr(args[1], arg_path(1)) if len(args) > 1 else g.const(None)
    if not key.constant or not isinstance(key.value, str | int) or isinstance(key.value, bool):
        return Expr(f"_var(d, {key.code}, {default.code})")
    path = semantics.string(key.value)
    if path == "":
        return Expr("d")
    parts = tuple(path.split("."))
    t = g.name("t")
    if len(parts) == 1:
        read = f"(d.get({parts[0]!r}, _M) if type(d) is dict else lookup(d, {parts!r}))"
    elif len(parts) == 2:
        read = f"_get2(d, {parts[0]!r}, {parts[1]!r})"
    else:
        read = f"lookup(d, {parts!r})"
    return Expr(f"({t} if ({t} := {read}) is not _M else {default.code})")


def _compare(op: str) -> Builder:
    def build(g: Generator, args: list[Any], arg_path: Callable[[int], str], op_path: str) -> Expr:
        if len(args) > 2 and op in {"<", "<="}:
            items = [g.expr(a, arg_path(i)) for i, a in enumerate(args)]
            fn = "_lt" if op == "<" else "_le"
            return Expr(f"_between({fn}, {', '.join(i.code for i in items[:3])})", True)
        a = g.expr(_at(args, 0), arg_path(0))
        b = g.expr(_at(args, 1), arg_path(1))
        if op in {"==", "!=", "===", "!=="}:
            strict = op in {"===", "!=="}
            negate = "not " if op in {"!=", "!=="} else ""
            for x, y in ((a, b), (b, a)):
                if (
                    y.constant
                    and isinstance(y.value, str | int | float)
                    and not isinstance(y.value, bool)
                ):
                    t = g.name("t")
                    guard = (
                        f"type({t} := {x.code}) is str"
                        if isinstance(y.value, str)
                        else (f"type({t} := {x.code}) in _NUM")
                    )
                    if strict:
                        return Expr(f"({negate}({guard} and {t} == {y.code}))", True)
                    return Expr(
                        f"({negate}(({t} == {y.code}) if {guard} else _eq({t}, {y.code})))", True
                    )
            fn = "_seq" if strict else "_eq"
            return Expr(f"({negate}{fn}({a.code}, {b.code}))", True)
        fn = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}[op]
        pyop = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}[op]
        ta, tb = g.name("t"), g.name("t")
        if (
            b.constant
            and isinstance(b.value, int | float)
            and not isinstance(b.value, bool)
            and math.isfinite(b.value)
        ):
            return Expr(
                f"(({ta} {pyop} {b.code}) if type({ta} := {a.code}) in _NUM "
                f"else {fn}({ta}, {b.code}))",
                True,
            )
        return Expr(
            f"(({ta} {pyop} {tb}) if (type({ta} := {a.code}) in _NUM) & "
            f"(type({tb} := {b.code}) in _NUM) else {fn}({ta}, {tb}))",
            True,
        )

    return build


def _not(negate: bool) -> Builder:
    def build(g: Generator, args: list[Any], arg_path: Callable[[int], str], _op: str) -> Expr:
        a = g.expr(_at(args, 0), arg_path(0))
        truth = g.truth(a)
        return Expr(f"(not {truth})" if negate else truth, True)

    return build


def _if(g: Generator, args: list[Any], arg_path: Callable[[int], str], _op: str) -> Expr:
    items = [g.expr(a, arg_path(i)) for i, a in enumerate(args)]
    if not items:
        return g.const(None)
    parts = []
    for i in range(0, len(items) - 1, 2):
        parts.append(f"{items[i + 1].code} if {g.truth(items[i])} else")
    last = items[-1].code if len(items) % 2 == 1 else "None"
    return Expr("(" + " ".join([*parts, last]) + ")")


def _chain(keep_going_when_true: bool) -> Builder:
    def build(g: Generator, args: list[Any], arg_path: Callable[[int], str], _op: str) -> Expr:
        items = [g.expr(a, arg_path(i)) for i, a in enumerate(args)]
        if not items:
            return g.const(None)
        if all(i.boolean for i in items):
            joiner = " and " if keep_going_when_true else " or "
            return Expr("(" + joiner.join(f"({i.code})" for i in items) + ")", True)
        parts = []
        for item in items[:-1]:
            t = g.name("t")
            test = g.truth(Expr(f"({t} := {item.code})", item.boolean))
            condition = f"not {test}" if keep_going_when_true else test
            parts.append(f"{t} if {condition} else")
        return Expr("(" + " ".join([*parts, items[-1].code]) + ")")

    return build


def _in(g: Generator, args: list[Any], arg_path: Callable[[int], str], _op: str) -> Expr:
    needle = g.expr(_at(args, 0), arg_path(0))
    haystack = g.expr(_at(args, 1), arg_path(1))
    if (
        haystack.constant
        and isinstance(haystack.value, list)
        and haystack.value
        and all(isinstance(v, str) for v in haystack.value)
    ):
        members = g.name("c")
        g.namespace[members] = frozenset(haystack.value)
        t = g.name("t")
        return Expr(f"(type({t} := {needle.code}) is str and {t} in {members})", True)
    return Expr(f"_member({needle.code}, {haystack.code})", True)


def _arith(helper: str) -> Builder:
    def build(g: Generator, args: list[Any], arg_path: Callable[[int], str], op_path: str) -> Expr:
        items = [g.expr(a, arg_path(i)) for i, a in enumerate(args)]
        if all(i.constant for i in items):
            value = STANDARD[_ARITH_OPS[helper]](
                [i.value for i in items], None, Run(EMPTY_CONTEXT, g.limits, None), op_path
            )
            return g.const(value)
        if helper in _INT_FAST and len(items) == 2:
            # Whole numbers need none of JavaScript's conversions: add them in place (both
            # operands are bound first, so the general helper gets them when they are not ints).
            a, b = g.name("t"), g.name("t")
            test = f"(type({a} := {items[0].code}) is int) & (type({b} := {items[1].code}) is int)"
            if helper == "_times":  # JavaScript multiplies doubles: exact only below 2**53
                test += f" and -{_EXACT} < {a} < {_EXACT} and -{_EXACT} < {b} < {_EXACT}"
            return Expr(f"(({a} {_ARITH_OPS[helper]} {b}) if {test} else {helper}({a}, {b}))")
        return Expr(f"{helper}({', '.join(i.code for i in items)})")

    return build


def _iteration(kind: str) -> Builder:
    def build(g: Generator, args: list[Any], arg_path: Callable[[int], str], op_path: str) -> Expr:
        g.uses_run = True
        source = g.expr(_at(args, 0), arg_path(0))
        if kind == "reduce":
            item_fn = g.function(_at(args, 1), arg_path(1))
            initial = g.expr(args[2], arg_path(2)) if len(args) > 2 else g.const(None)
            return Expr(f"_reduce({source.code}, {item_fn}, {initial.code}, r, {op_path!r})")
        item_fn = g.function(_at(args, 1), arg_path(1), truth=kind != "map")
        helper = kind
        if kind in ("some", "none") and not _has_side_effects(_at(args, 1)):
            # The reference filters every item; without side effects, stopping at the first
            # match gives the same answer (the iteration budget is still charged in full).
            helper = f"{kind}_first"
        return Expr(f"_{helper}({source.code}, {item_fn}, r, {op_path!r})", kind in _BOOLEAN_OPS)

    return build


# --- run-time helpers referenced by the generated source ----------------------------------


_ARITH_OPS = {"_plus": "+", "_minus": "-", "_times": "*", "_divide": "/", "_remainder": "%"}
_INT_FAST = frozenset({"_plus", "_minus", "_times"})
#: Factors below this give products below 2**52, where doubles are exact.
_EXACT = 2**26


def _get2(d: Any, first: str, second: str) -> Any:
    """``var`` of a two-part path, the common ``customer.tier`` case, without a loop."""
    if type(d) is dict:
        inner = d.get(first, MISSING)
        if type(inner) is dict:
            return inner.get(second, MISSING)
    return lookup(d, (first, second))


def _between(fn: Callable[[Any, Any], bool], a: Any, b: Any, c: Any) -> bool:
    return fn(a, b) and fn(b, c)


def _member(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, str):
        return semantics.string(needle) in haystack
    if isinstance(haystack, list):
        return any(semantics.strict_equal(needle, item) for item in haystack)
    return False


def _items(items: Any, r: Run, path: str) -> Any:
    """The list to iterate (anything else iterates as empty), counted against the budget."""
    if type(items) is not list:
        return ()
    r.spend(len(items), path)
    return items


def _spent(items: Any, r: Run, path: str) -> bool:
    r.spend(len(items), path)
    return True


def _map(items: Any, fn: Callable[[Any, Run], Any], r: Run, path: str) -> list[Any]:
    if not isinstance(items, list):
        return []
    r.spend(len(items), path)
    return [fn(item, r) for item in items]


def _filter(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> list[Any]:
    if not isinstance(items, list):
        return []
    r.spend(len(items), path)
    return [item for item in items if fn(item, r)]


def _reduce(items: Any, fn: Callable[[Any, Run], Any], initial: Any, r: Run, path: str) -> Any:
    if not isinstance(items, list):
        return initial
    r.spend(len(items), path)
    accumulator = initial
    for item in items:
        accumulator = fn({"current": item, "accumulator": accumulator}, r)
    return accumulator


def _all(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> bool:
    if not isinstance(items, list | str) or not items:
        return False
    r.spend(len(items), path)
    for item in items:  # noqa: SIM110 - a plain loop is measurably faster than all(genexpr)
        if not fn(item, r):
            return False
    return True


def _some(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> bool:
    return bool(_filter(items, fn, r, path))


def _some_first(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> bool:
    if not isinstance(items, list):
        return False
    r.spend(len(items), path)
    for item in items:  # noqa: SIM110 - a plain loop is measurably faster than any(genexpr)
        if fn(item, r):
            return True
    return False


def _none_first(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> bool:
    return not _some_first(items, fn, r, path) if isinstance(items, list) else True


_SIDE_EFFECTS = frozenset({"log"})


def _has_side_effects(node: Any) -> bool:
    """Whether an expression writes somewhere (``log``), so every item must be evaluated."""
    if isinstance(node, dict):
        return any(op in _SIDE_EFFECTS or _has_side_effects(arg) for op, arg in node.items())
    if isinstance(node, list):
        return any(_has_side_effects(item) for item in node)
    return False


def _none(items: Any, fn: Callable[[Any, Run], bool], r: Run, path: str) -> bool:
    if not isinstance(items, list):
        return True
    return not _filter(items, fn, r, path)


_HELPERS: dict[str, Any] = {
    "_Run": Run,
    "_EMPTY": EMPTY_CONTEXT,
    "_M": MISSING,
    "_NUM": _NUM,
    "lookup": lookup,
    "_get2": _get2,
    "_var": var,
    "_truthy": semantics.truthy,
    "_eq": semantics.loose_equal,
    "_seq": semantics.strict_equal,
    "_lt": semantics.less_than,
    "_le": semantics.less_or_equal,
    "_gt": lambda a, b: semantics.less_than(b, a),
    "_ge": lambda a, b: semantics.less_or_equal(b, a),
    "_between": _between,
    "_member": _member,
    "_plus": semantics.add,
    "_minus": semantics.subtract,
    "_times": semantics.multiply,
    "_divide": semantics.divide,
    "_remainder": semantics.remainder,
    "_SEQ": (list, str),
    "_items": _items,
    "_spent": _spent,
    "_map": _map,
    "_filter": _filter,
    "_reduce": _reduce,
    "_all": _all,
    "_some": _some,
    "_none": _none,
    "_some_first": _some_first,
    "_none_first": _none_first,
}

_BUILDERS: dict[str, Builder] = {
    "var": _var,
    **{op: _compare(op) for op in ("==", "===", "!=", "!==", "<", "<=", ">", ">=")},
    "!": _not(True),
    "!!": _not(False),
    "if": _if,
    "?:": _if,
    "and": _chain(True),
    "or": _chain(False),
    "in": _in,
    "+": _arith("_plus"),
    "-": _arith("_minus"),
    "*": _arith("_times"),
    "/": _arith("_divide"),
    "%": _arith("_remainder"),
    **{kind: _iteration(kind) for kind in ("map", "filter", "reduce", "all", "some", "none")},
}


def generate(expression: Any, limits: Limits) -> Callable[..., Any]:
    """A Python function ``f(data, context=None)`` for a checked expression.

    Raises SyntaxError or RecursionError when the expression is too deep for the Python parser.
    """
    generator = Generator(limits)
    body = generator.expr(expression, "")
    if generator.uses_run:
        generator.namespace["_limits"] = limits
        prologue = "    r = _Run(_EMPTY if context is None else context, _limits, None)\n"
    else:
        prologue = ""
    entry = f"def _evaluate(d, context=None):\n{prologue}    return {body.code}\n"
    source = "\n".join([*generator.functions, entry])
    code = compile(source, "<jsonlogic>", "exec")
    exec(code, generator.namespace)  # noqa: S102 - our own generated source, literals via repr()
    function: Callable[..., Any] = generator.namespace["_evaluate"]
    return function
