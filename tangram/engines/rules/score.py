"""Scores with their explanation: a rule action that rates a record from named components (a
customer's health score from its satisfaction trend, repeat faults, overdue tickets and days to
renewal) and says, in words, what each component was worth.

An action::

    {"type": "score", "field": "health_score", "previous_field": "health_score_previous",
     "explanation_field": "health_explanation", "factors_field": "health_factors",
     "title": {"zh-CN": "健康分", "en": "Health score"}, "base": 100, "min": 0, "max": 100,
     "components": [
       {"key": "overdue", "label": {"zh-CN": "逾期工单", "en": "Overdue tickets"},
        "unit": {"zh-CN": "张", "en": ""},
        "value": {"kpi": ["overdue_tickets", "last_365_days", "customer", {"var": "$record._id"}]},
        "points": {"*": [{"var": "$value"}, -8]}, "min": -24, "max": 0}]}

``value`` is JsonLogic over the record (scoped KPIs, dates, fields); ``points`` is JsonLogic over
the record and ``$value`` (the component's value), rounded to a whole number and kept between the
component's ``min`` and ``max``. A component without a value (no data) is worth 0 and says so. The
score is ``base`` plus the points, kept between ``min`` and ``max``. When it changes, the score it
replaces goes to ``previous_field`` (what "falling" compares with). Evaluation is pure: the clock
and the KPIs come in through the :class:`~tangram.engines.logic.EvalContext`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, EvalContext, VariableSpec, compile_logic
from tangram.engines.rules.checker import Checker

#: The variable a component's ``points`` reads its value from.
VALUE = "$value"

#: How many components one score may have.
MAX_COMPONENTS = 20

_SEPARATOR = {"zh-CN": "；", "en": "; "}
_COLON = {"zh-CN": "：", "en": ": "}
_NO_DATA = {"zh-CN": "无数据", "en": "no data"}


@dataclass(frozen=True, slots=True)
class Factor:
    """One component as scored: its value, the points it added (negative: taken off) and the
    sentence that says so."""

    key: str
    label: str
    value: float | None
    points: int
    text: str


@dataclass(frozen=True, slots=True)
class Scored:
    """A score with its factors and its explanation in words."""

    score: int
    factors: tuple[Factor, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class Component:
    """A compiled component."""

    key: str
    label: Mapping[str, str]
    unit: Mapping[str, str]
    value: CompiledLogic | None
    points: CompiledLogic | None
    low: int | None
    high: int | None
    decimals: int = 1


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A compiled score: base, bounds and components."""

    title: Mapping[str, str]
    base: int
    low: int
    high: int
    components: tuple[Component, ...]

    def evaluate(
        self, data: Mapping[str, Any], context: EvalContext, *, lang: str = "zh-CN"
    ) -> Scored:
        """The score of ``data`` with one factor per component, explained in ``lang``."""
        factors = []
        for c in self.components:
            raw = c.value.function(data, context) if c.value is not None else None
            value = _number(raw)
            if value is not None:
                value = round(value, c.decimals)
            points = 0
            if value is not None and c.points is not None:
                got = _number(c.points.function({**data, VALUE: value}, context))
                points = 0 if got is None else _clamp(round(got), c.low, c.high)
            label = text(c.label, lang)
            factors.append(
                Factor(c.key, label, value, points, _sentence(label, value, c.unit, points, lang))
            )
        score = _clamp(self.base + sum(f.points for f in factors), self.low, self.high)
        head = f"{text(self.title, lang)} {score}"
        said = _SEPARATOR.get(lang, "; ").join(f.text for f in factors)
        return Scored(score, tuple(factors), head + _COLON.get(lang, ": ") + said)

    def values(
        self,
        data: Mapping[str, Any],
        context: EvalContext,
        *,
        field: str,
        previous_field: str | None,
        explanation_field: str | None,
        factors_field: str | None,
        lang: str = "zh-CN",
    ) -> dict[str, Any]:
        """The fields a score writes: the score, the one it replaces (when it changes), the
        explanation and the factors as sub-table rows (``factor``, ``value``, ``points``)."""
        scored = self.evaluate(data, context, lang=lang)
        out: dict[str, Any] = {field: scored.score}
        current = data.get(field)
        if previous_field and isinstance(current, int) and current != scored.score:
            out[previous_field] = current
        if explanation_field:
            out[explanation_field] = scored.explanation
        if factors_field:
            out[factors_field] = [
                {"factor": f.label, "value": f.value, "points": f.points} for f in scored.factors
            ]
        return out


def text(value: Mapping[str, str], lang: str) -> str:
    """``value`` in ``lang`` (falling back to zh-CN, then to any language)."""
    return str(value.get(lang) or value.get("zh-CN") or next(iter(value.values()), ""))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) or math.isinf(value) else float(value)


def _clamp(value: int, low: int | None, high: int | None) -> int:
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value


def _shown(value: float) -> str:
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _signed(points: int) -> str:
    # U+2212 minus sign, as the explanation is read, not parsed
    return f"+{points}" if points > 0 else f"\u2212{-points}" if points < 0 else "±0"


def _sentence(
    label: str, value: float | None, unit: Mapping[str, str], points: int, lang: str
) -> str:
    if value is None:
        return f"{label} {_NO_DATA.get(lang, 'no data')}"
    shown = _shown(value).replace("-", "\u2212")
    return f"{label} {shown}{text(unit, lang)} {_signed(points)}"


def _bound(raw: Any, path: str, c: Checker) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        c.problem(path, "rule.score", "a whole number")
        return None
    return raw


def _decimals(raw: Any, path: str, c: Checker) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 6:
        c.problem(path, "rule.score", "0 to 6 decimals")
        return 1
    return raw


def _points_logic(expression: Any, path: str, c: Checker) -> CompiledLogic | None:
    spec = VariableSpec(fields=c.fields | {VALUE}) if c.fields is not None else None
    try:
        return compile_logic(expression, variables=spec, strict=True)
    except DefinitionError as exc:
        c.problems.extend(Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics)
        return None


def compile_scorecard(raw: Mapping[str, Any], path: str, c: Checker) -> Scorecard:
    """A score action's scorecard, every problem noted on ``c`` with its path."""
    base = _bound(raw.get("base", 100), f"{path}/base", c)
    low = _bound(raw.get("min", 0), f"{path}/min", c)
    high = _bound(raw.get("max", 100), f"{path}/max", c)
    if low is not None and high is not None and low > high:
        c.problem(f"{path}/max", "rule.score", "max must not be below min")
    items = raw.get("components")
    if not isinstance(items, list) or not items or len(items) > MAX_COMPONENTS:
        c.problem(f"{path}/components", "rule.score", f"1 to {MAX_COMPONENTS} components")
        items = []
    components: list[Component] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{path}/components/{i}"
        if not isinstance(item, Mapping):
            c.problem(where, "rule.score", "a component: key, label, value, points")
            continue
        key = item.get("key")
        if not isinstance(key, str) or not key or key in seen:
            c.problem(f"{where}/key", "rule.score", "a key of its own")
        seen.add(str(key))
        label = item.get("label")
        if not isinstance(label, Mapping | str) or not label:
            c.problem(f"{where}/label", "rule.score", "a label (text or {zh-CN, en})")
        unit = item.get("unit", "")
        components.append(
            Component(
                key=str(key),
                label=label if isinstance(label, Mapping) else {"zh-CN": str(label)},
                unit=unit if isinstance(unit, Mapping) else {"zh-CN": str(unit), "en": str(unit)},
                value=c.logic(item.get("value"), f"{where}/value"),
                points=_points_logic(item.get("points"), f"{where}/points", c),
                low=_bound(item.get("min"), f"{where}/min", c),
                high=_bound(item.get("max"), f"{where}/max", c),
                decimals=_decimals(item.get("decimals", 1), f"{where}/decimals", c),
            )
        )
    title = raw.get("title", {"zh-CN": "得分", "en": "Score"})
    return Scorecard(
        title=title if isinstance(title, Mapping) else {"zh-CN": str(title)},
        base=base or 0,
        low=low if low is not None else 0,
        high=high if high is not None else 100,
        components=tuple(components),
    )
