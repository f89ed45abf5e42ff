"""The standard JsonLogic operations on already-evaluated arguments, as the reference defines
them: what the closure compiler calls and what the code generator folds constants with."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tangram.engines.logic.context import LogicLimitExceeded
from tangram.engines.logic.runtime import Run, var
from tangram.engines.logic.semantics import (
    NAN,
    add,
    divide,
    js_substr,
    less_or_equal,
    less_than,
    loose_equal,
    multiply,
    number,
    remainder,
    strict_equal,
    string,
    subtract,
    tidy,
    truthy,
)

Impl = Callable[[list[Any], Any, Run, str], Any]


def at(values: list[Any], index: int) -> Any:
    """The argument at ``index`` (``None`` past the end, as the reference reads missing ones)."""
    return values[index] if index < len(values) else None


def _var(v: list[Any], d: Any, _r: Run, _p: str) -> Any:
    return var(d, at(v, 0), at(v, 1))


def _missing_keys(keys: Any, d: Any) -> list[Any]:
    missing = []
    for key in keys:
        value = var(d, key)
        if value is None or value == "":
            missing.append(key)
    return missing


def _missing(v: list[Any], d: Any, _r: Run, _p: str) -> list[Any]:
    keys = v[0] if v and isinstance(v[0], list) else v
    return _missing_keys(keys, d)


def _missing_some(v: list[Any], d: Any, _r: Run, _p: str) -> list[Any]:
    need, options = at(v, 0), at(v, 1)
    options = options if isinstance(options, list) else []
    missing = _missing_keys(options, d)
    return [] if len(options) - len(missing) >= number(need) else missing


def _in(v: list[Any], _d: Any, _r: Run, _p: str) -> bool:
    needle, haystack = at(v, 0), at(v, 1)
    if isinstance(haystack, str):
        return string(needle) in haystack
    if isinstance(haystack, list):
        return any(strict_equal(needle, item) for item in haystack)
    return False


def _cat(v: list[Any], _d: Any, r: Run, p: str) -> str:
    text = "".join(string(x) for x in v)
    if len(text) > r.limits.max_string_length:
        raise LogicLimitExceeded(
            p, f"cat produced more than {r.limits.max_string_length} characters"
        )
    return text


def _substr(v: list[Any], _d: Any, _r: Run, _p: str) -> str:
    source, start, end = string(at(v, 0)), at(v, 1), (v[2] if len(v) > 2 else None)
    if end is not None and less_than(end, 0):
        temp = js_substr(source, start)
        return js_substr(temp, 0, len(temp) + number(end))
    return js_substr(source, start, end)


def _merge(v: list[Any], _d: Any, r: Run, p: str) -> list[Any]:
    """One flat list of the arguments; every item it holds counts against the evaluation's
    iteration budget (a ``merge`` in a ``reduce`` doubling its list is stopped, not run to
    millions)."""
    out: list[Any] = []
    for item in v:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    r.spend(len(out), p)
    return out


def _extreme(pick: Callable[[list[float | int]], float | int], empty: float) -> Impl:
    def impl(v: list[Any], _d: Any, _r: Run, _p: str) -> Any:
        numbers = [number(x) for x in v]
        if not numbers:
            return empty
        if any(isinstance(n, float) and math.isnan(n) for n in numbers):
            return NAN
        return tidy(pick(numbers))

    return impl


def _binary(fn: Callable[[Any, Any], Any]) -> Impl:
    return lambda v, _d, _r, _p: fn(at(v, 0), at(v, 1))


def _between(fn: Callable[[Any, Any], bool]) -> Impl:
    def impl(v: list[Any], _d: Any, _r: Run, _p: str) -> bool:
        a, b = at(v, 0), at(v, 1)
        if len(v) > 2:
            return fn(a, b) and fn(b, v[2])
        return fn(a, b)

    return impl


#: The standard operations by name.
STANDARD: dict[str, Impl] = {
    "var": _var,
    "missing": _missing,
    "missing_some": _missing_some,
    "==": _binary(loose_equal),
    "===": _binary(strict_equal),
    "!=": _binary(lambda a, b: not loose_equal(a, b)),
    "!==": _binary(lambda a, b: not strict_equal(a, b)),
    "!": lambda v, _d, _r, _p: not truthy(at(v, 0)),
    "!!": lambda v, _d, _r, _p: truthy(at(v, 0)),
    "<": _between(less_than),
    "<=": _between(less_or_equal),
    ">": _binary(lambda a, b: less_than(b, a)),
    ">=": _binary(lambda a, b: less_or_equal(b, a)),
    "max": _extreme(max, -math.inf),
    "min": _extreme(min, math.inf),
    "+": lambda v, _d, _r, _p: add(*v),
    "*": lambda v, _d, _r, _p: multiply(*v),
    "-": lambda v, _d, _r, _p: subtract(*v),
    "/": lambda v, _d, _r, _p: divide(*v),
    "%": lambda v, _d, _r, _p: remainder(*v),
    "in": _in,
    "cat": _cat,
    "substr": _substr,
    "merge": _merge,
    "log": lambda v, _d, _r, _p: at(v, 0),
}
#: Operations whose result depends on the data: never folded into constants.
IMPURE = frozenset({"var", "missing", "missing_some"})
