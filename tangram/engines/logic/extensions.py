"""The platform's own operations, beside standard JsonLogic.

========================  ======================================================================
operation                 meaning
========================  ======================================================================
``now``                   the evaluation time from the context (ISO 8601, UTC); never the clock
``date_add``              ``[when, amount, unit]``: ``when`` moved by ``amount`` seconds, minutes,
                          hours, days or weeks; a date stays a date for days and weeks
``date_diff``             ``[a, b, unit]``: ``b - a`` in seconds, minutes, hours, days, or
                          ``business_minutes`` / ``business_hours`` on the context's calendar
``in_group``              ``[key]``: the acting user belongs to the group ``key``
``has_role``              ``[key]``: the acting user holds the role ``key``
``changed``               ``[field]``: the field changed in this update
``old``                   ``[path, default?]``: the value before this update (``var`` on the old record)
``new``                   the same as ``var`` (reads the record being written)
``contains``              ``[haystack, needle]``: substring of a string, or member of an array
``starts_with``           ``[text, prefix]``
``regex_match``           ``[pattern, text]``: ``pattern`` is a literal string, checked and compiled
                          once; patterns with nested quantifiers are refused; long texts are refused
``kpi``                   ``[key, period]``: the published KPI ``key`` over ``period`` (``last_month``,
                          ``2026-10-01..2026-12-31``), measured by the report engine;
                          ``[key, period, field, id]``: the same over only the KPI's records whose
                          reference ``field`` names record ``id`` (a customer's tickets)
========================  ======================================================================

Dates are ISO 8601 strings (``2026-11-22`` or ``2026-11-22T09:00:00+08:00``); a time without an
offset is taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tangram.engines.logic.context import Limits, LogicEvaluationError, LogicLimitExceeded
from tangram.engines.logic.runtime import Run, var
from tangram.engines.logic.semantics import number, strict_equal, string, tidy

Impl = Callable[[list[Any], Any, Run], Any]
Problem = tuple[str, str]

_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
#: A group (or class) followed by a quantifier, whose body itself has a quantifier: (a+)+, (\w*)*.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


@dataclass(frozen=True, slots=True)
class Operation:
    """A platform operation: arity, compile-time checks and the implementation binder."""

    arity: tuple[int, int]
    bind: Callable[[str, Any], Impl]
    check: Callable[[list[Any], Limits], Problem | None] | None = None
    prepare: Callable[[list[Any], Limits], Any] | None = None


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def parse_instant(value: Any, path: str) -> datetime | date:
    """A date or an aware datetime from an ISO string (or a datetime/date object)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise LogicEvaluationError(path, f"{value!r} is not an ISO 8601 date or time")


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def iso(value: datetime | date) -> str:
    """The ISO form the platform writes: dates as dates, times in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _unit(value: Any, path: str, allowed: set[str]) -> str:
    if value not in allowed:
        raise LogicEvaluationError(path, f"unit must be one of {', '.join(sorted(allowed))}")
    return str(value)


def _now(path: str, _prepared: Any) -> Impl:
    def impl(_v: list[Any], _d: Any, r: Run) -> str:
        if r.context.now is None:
            raise LogicEvaluationError(path, "'now' needs the evaluation time in the context")
        return iso(r.context.now)

    return impl


def _date_add(path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, _r: Run) -> str | None:
        if v[0] is None or v[0] == "":
            return None
        when = parse_instant(v[0], path)
        unit = _unit(v[2], path, set(_UNITS))
        amount = number(v[1])
        if not isinstance(amount, int | float) or amount != amount:
            raise LogicEvaluationError(path, f"{v[1]!r} is not a number")
        delta = timedelta(seconds=amount * _UNITS[unit])
        if (
            not isinstance(when, datetime)
            and unit in {"days", "weeks"}
            and float(amount).is_integer()
        ):
            return (when + delta).isoformat()
        return iso(_as_datetime(when) + delta)

    return impl


def _date_diff(path: str, _prepared: Any) -> Impl:
    allowed = {*_UNITS, "business_minutes", "business_hours"}

    def impl(v: list[Any], _d: Any, r: Run) -> float | int | None:
        if v[0] in (None, "") or v[1] in (None, ""):
            return None
        start = _as_datetime(parse_instant(v[0], path))
        end = _as_datetime(parse_instant(v[1], path))
        unit = _unit(v[2], path, allowed)
        if unit.startswith("business_"):
            calendar = r.context.calendar
            if calendar is None:
                raise LogicEvaluationError(path, f"{unit} needs a business calendar in the context")
            minutes = calendar.business_minutes(start, end)
            return tidy(minutes / 60 if unit == "business_hours" else minutes)
        return tidy((end - start).total_seconds() / _UNITS[unit])

    return impl


def _member(attribute: str) -> Callable[[str, Any], Impl]:
    def bind(_path: str, _prepared: Any) -> Impl:
        def impl(v: list[Any], _d: Any, r: Run) -> bool:
            return string(v[0]) in getattr(r.context, attribute)

        return impl

    return bind


def _changed(_path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, r: Run) -> bool:
        return string(v[0]) in r.context.changed

    return impl


def _old(_path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, r: Run) -> Any:
        return var(r.context.old or {}, v[0], _at(v, 1))

    return impl


def _new(_path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], d: Any, _r: Run) -> Any:
        return var(d, _at(v, 0), _at(v, 1))

    return impl


def _contains(_path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, _r: Run) -> bool:
        haystack, needle = v
        if isinstance(haystack, str):
            return string(needle) in haystack
        if isinstance(haystack, list):
            return any(strict_equal(needle, item) for item in haystack)
        return False

    return impl


def _starts_with(_path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, _r: Run) -> bool:
        return isinstance(v[0], str) and v[0].startswith(string(v[1]))

    return impl


def _check_regex(args: list[Any], limits: Limits) -> Problem | None:
    pattern = args[0]
    if not isinstance(pattern, str):
        return "logic.regex.not_literal", "the pattern of regex_match must be a literal string"
    if len(pattern) > limits.max_regex_length:
        return (
            "logic.limit.regex",
            f"the pattern is longer than {limits.max_regex_length} characters",
        )
    if _NESTED_QUANTIFIER.search(pattern):
        return "logic.regex.unsafe", "nested quantifiers such as (a+)+ can take exponential time"
    try:
        re.compile(pattern)
    except re.error as exc:
        return "logic.regex.invalid", f"invalid regular expression: {exc}"
    return None


def _regex_match(path: str, prepared: Any) -> Impl:
    compiled: re.Pattern[str] = prepared

    def impl(v: list[Any], _d: Any, r: Run) -> bool:
        text = v[1]
        if text is None:
            return False
        subject = string(text)
        if len(subject) > r.limits.max_regex_subject:
            raise LogicLimitExceeded(
                path, f"regex_match looks at most at {r.limits.max_regex_subject} characters"
            )
        return compiled.search(subject) is not None

    return impl


def _check_kpi(args: list[Any], _limits: Limits) -> Problem | None:
    if len(args) == 3:
        return (
            "logic.kpi.scope",
            "kpi takes [key, period] or [key, period, reference field, record id]",
        )
    if len(args) == 4 and not isinstance(args[2], str):
        return "logic.kpi.scope", "the reference field of a scoped kpi must be a literal string"
    return None


def _kpi(path: str, _prepared: Any) -> Impl:
    def impl(v: list[Any], _d: Any, r: Run) -> float | None:
        source = r.context.kpis
        if source is None:
            raise LogicEvaluationError(path, "kpi needs the platform's KPIs in the context")
        if v[0] in (None, "") or v[1] in (None, ""):
            return None
        if len(v) == 4:
            # scoped to one record: the KPI's records whose reference field v[2] names v[3]
            record = v[3]
            if isinstance(record, bool) or not isinstance(record, int | str):
                return None
            try:
                record_id = int(record)
            except ValueError:
                return None
            return source.kpi(string(v[0]), string(v[1]), via=string(v[2]), record=record_id)
        return source.kpi(string(v[0]), string(v[1]))

    return impl


OPERATIONS: dict[str, Operation] = {
    "now": Operation((0, 0), _now),
    "date_add": Operation((3, 3), _date_add),
    "date_diff": Operation((3, 3), _date_diff),
    "in_group": Operation((1, 1), _member("groups")),
    "has_role": Operation((1, 1), _member("roles")),
    "changed": Operation((1, 1), _changed),
    "old": Operation((1, 2), _old),
    "new": Operation((0, 2), _new),
    "contains": Operation((2, 2), _contains),
    "starts_with": Operation((2, 2), _starts_with),
    "kpi": Operation((2, 4), _kpi, check=_check_kpi),
    "regex_match": Operation(
        (2, 2), _regex_match, check=_check_regex, prepare=lambda args, _l: re.compile(args[0])
    ),
}
