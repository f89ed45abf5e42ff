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
    #: Sub-tables and their columns: inside ``map``, ``filter``, ``all``, ``some``, ``none`` and
    #: ``reduce`` over ``{"var": <table>}``, what an item (``current`` in a reduce) reads is
    #: checked against the table's columns.
    tables: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Variables whose next segment is checked too (``current.cost`` in a reduce over rows).
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def knows(self, path: str) -> bool:
        """Whether ``path`` starts with a known variable (and, for a variable with known
        members, goes on with one of them)."""
        head, _, rest = path.partition(".")
        if head not in self.fields and head not in self.context:
            return False
        members = self.members.get(head)
        return members is None or not rest or rest.split(".", 1)[0] in members

    def items_of(self, table: str, kind: str) -> VariableSpec | None:
        """What the per-item logic of an iteration over ``table`` may read (``None``: the table
        is not known, the item is not checked)."""
        columns = self.tables.get(table)
        if columns is None:
            return None
        if kind == "reduce":
            return VariableSpec(
                frozenset({"current", "accumulator"}), self.context, members={"current": columns}
            )
        return VariableSpec(columns, self.context)


class BusinessCalendar(Protocol):
    """Working time between two instants (provided by the rule engine's calendars)."""

    def business_minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        ...


class KpiSource(Protocol):
    """KPI values for a period (provided by the platform, which measures them in the database)."""

    def kpi(
        self, key: str, period: str, *, via: str | None = None, record: int | None = None
    ) -> float | None:
        """The KPI ``key`` over ``period`` (a preset such as ``last_month`` or ``FIRST..LAST``);
        with ``via`` and ``record``, over only the KPI's records whose reference field ``via``
        names record ``record`` (a customer's tickets)."""
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
