"""What an expression is compiled against (limits, known variables) and evaluated with (context)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

#: Variables the platform puts beside the record's fields when it evaluates an expression.
CONTEXT_VARIABLES = frozenset({"$user", "$now", "$old", "$record", "$task", "$app", "$ref"})


class LogicEvaluationError(ValueError):
    """An expression could not be evaluated (e.g. a value that is not a date); ``path`` names the node."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.message = message


class LogicLimitExceeded(LogicEvaluationError):
    """Evaluation went past a limit (iterations, string length, regex subject length)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep any stored expression cheap to evaluate."""

    max_depth: int = 32
    max_nodes: int = 2000
    max_regex_length: int = 200
    #: Items visited by map / filter / reduce / all / some / none in one evaluation, in all.
    max_iterations: int = 100_000
    #: Longest string ``cat`` and ``substr`` may produce.
    max_string_length: int = 100_000
    #: Longest text ``regex_match`` looks at.
    max_regex_subject: int = 10_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """The variables an expression may read: the form's fields and the context variables.

    Only the first segment of a dotted path is checked (``customer.tier`` needs ``customer``).
    """

    fields: frozenset[str]
    context: frozenset[str] = CONTEXT_VARIABLES

    def knows(self, path: str) -> bool:
        """Whether ``path`` starts with a known variable."""
        head = path.split(".", 1)[0]
        return head in self.fields or head in self.context


class BusinessCalendar(Protocol):
    """Working time between two instants (provided by the rule engine's calendars)."""

    def business_minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        ...


class KpiSource(Protocol):
    """KPI values for a period (provided by the platform, which measures them in the database)."""

    def kpi(self, key: str, period: str) -> float | None:
        """The KPI ``key`` over ``period`` (a preset such as ``last_month`` or ``FIRST..LAST``)."""
        ...


@dataclass(frozen=True, slots=True)
class EvalContext:
    """Everything the platform operations read; plain JsonLogic needs none of it."""

    now: datetime | None = None
    user: Any = None
    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    old: Mapping[str, Any] | None = None
    changed: frozenset[str] = frozenset()
    calendar: BusinessCalendar | None = None
    kpis: KpiSource | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


EMPTY_CONTEXT = EvalContext()
