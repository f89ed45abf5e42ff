"""SQL constructs whose text depends on the database: date buckets, durations, percentiles.

Each is a SQLAlchemy Core element compiled per dialect, so a dataset is one ``select`` that
runs the same way on SQLite and PostgreSQL:

- :class:`Bucket` labels an instant (or a date) by day, ISO week (the Monday, ``YYYY-MM-DD``),
  month (``YYYY-MM``), quarter (``YYYY-Qn``) or year in a time zone. PostgreSQL converts with the
  zone's rules (exact across DST); SQLite stores UTC text and shifts it by the zone's standard
  offset, which is exact for zones without DST (Asia/Shanghai) and documented as such.
- :class:`Seconds` is the number of seconds from one instant to another (to the millisecond on
  SQLite).
- :class:`Percentile` is the continuous percentile (linear interpolation, as PostgreSQL's
  ``percentile_cont``); on SQLite it calls the ``tangram_percentile`` aggregate the platform
  registers on every connection, which computes the same value.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import String

UNITS = ("day", "week", "month", "quarter", "year")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*$")


class Bucket(FunctionElement[str]):
    """The label of the period (``unit``) an instant or date falls in, in a time zone."""

    type = String()
    name = "tangram_bucket"
    inherit_cache = True
    #: The unit, zone and offset shape the SQL text: they belong in the statement cache key.
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy reads it as a plain class attribute
        *FunctionElement._traverse_internals,
        ("unit", InternalTraversal.dp_string),
        ("zone", InternalTraversal.dp_string),
        ("offset_minutes", InternalTraversal.dp_plain_obj),
        ("is_date", InternalTraversal.dp_boolean),
    ]

    def __init__(
        self, value: ColumnElement[Any], unit: str, zone: str, offset_minutes: int, is_date: bool
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown bucket {unit!r}")
        if not _ZONE.match(zone):
            raise ValueError(f"not a time zone name: {zone!r}")
        self.unit = unit
        self.zone = zone
        self.offset_minutes = offset_minutes
        self.is_date = is_date
        super().__init__(value)


class Seconds(FunctionElement[float]):
    """Seconds from the first instant to the second."""

    type = Float()
    name = "tangram_seconds"
    inherit_cache = True


class Percentile(FunctionElement[float]):
    """The continuous ``fraction`` (0–1) percentile of a numeric expression."""

    type = Float()
    name = "tangram_percentile"
    inherit_cache = True
    #: The fraction is written into the SQL text: it belongs in the statement cache key.
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy reads it as a plain class attribute
        *FunctionElement._traverse_internals,
        ("fraction", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, value: ColumnElement[Any], fraction: float) -> None:
        self.fraction = fraction
        super().__init__(value)


class Values(FunctionElement[Any]):
    """Every value of a numeric expression in a group, empty ones left out (the partial of a
    percentile in a rollup): an array on PostgreSQL, a JSON array's text on SQLite."""

    name = "tangram_values"
    inherit_cache = True


def _arg(compiler: SQLCompiler, element: FunctionElement[Any], index: int, **kw: Any) -> str:
    clauses = list(element.clauses)
    return str(compiler.process(clauses[index], **kw))


@compiles(Bucket, "postgresql")
def _bucket_pg(element: Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    value = _arg(compiler, element, 0, **kw)
    if not element.is_date:
        # inline (a checked IANA name): the same text in SELECT and GROUP BY, as PostgreSQL needs
        zone = compiler.process(literal(element.zone), **{**kw, "literal_binds": True})
        value = f"timezone({zone}, {value})"
    formats = {
        "day": f"to_char({value}, 'YYYY-MM-DD')",
        "week": f"to_char(date_trunc('week', {value}), 'YYYY-MM-DD')",
        "month": f"to_char({value}, 'YYYY-MM')",
        "quarter": f"to_char({value}, 'YYYY') || '-Q' || to_char({value}, 'Q')",
        "year": f"to_char({value}, 'YYYY')",
    }
    return formats[element.unit]


@compiles(Bucket, "sqlite")
def _bucket_sqlite(element: Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    value = _arg(compiler, element, 0, **kw)
    shift = "" if element.is_date else f", '{element.offset_minutes:+d} minutes'"
    local = f"{value}{shift}"
    formats = {
        "day": f"strftime('%Y-%m-%d', {local})",
        "week": f"date({local}, '-6 days', 'weekday 1')",
        "month": f"strftime('%Y-%m', {local})",
        "quarter": (
            f"strftime('%Y', {local}) || '-Q' || "
            f"((CAST(strftime('%m', {local}) AS INTEGER) + 2) / 3)"
        ),
        "year": f"strftime('%Y', {local})",
    }
    return formats[element.unit]


@compiles(Seconds, "postgresql")
def _seconds_pg(element: Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arg(compiler, element, 0, **kw), _arg(compiler, element, 1, **kw)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(Seconds, "sqlite")
def _seconds_sqlite(element: Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arg(compiler, element, 0, **kw), _arg(compiler, element, 1, **kw)
    # julianday() is a double of days: round to the millisecond it can represent exactly
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


@compiles(Values, "postgresql")
def _values_pg(element: Values, compiler: SQLCompiler, **kw: Any) -> str:
    return f"array_remove(array_agg({_arg(compiler, element, 0, **kw)}), NULL)"


@compiles(Values, "sqlite")
def _values_sqlite(element: Values, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({_arg(compiler, element, 0, **kw)})"


@compiles(Percentile, "postgresql")
def _percentile_pg(element: Percentile, compiler: SQLCompiler, **kw: Any) -> str:
    value = _arg(compiler, element, 0, **kw)
    return f"percentile_cont({element.fraction!r}) WITHIN GROUP (ORDER BY {value})"


@compiles(Percentile, "sqlite")
def _percentile_sqlite(element: Percentile, compiler: SQLCompiler, **kw: Any) -> str:
    value = _arg(compiler, element, 0, **kw)
    return f"tangram_percentile({value}, {element.fraction!r})"


class PercentileAggregate:
    """The SQLite aggregate behind :class:`Percentile` (register it as ``tangram_percentile``
    with two arguments): linear interpolation between the closest ranks, as ``percentile_cont``."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: Any, fraction: float) -> None:
        """Collect one value (``None`` is skipped)."""
        self.fraction = float(fraction)
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        """The percentile of what was collected, or ``None`` for no values."""
        return percentile([sorted(self.values)], self.fraction)


def percentile(runs: Sequence[Sequence[float]], fraction: float) -> float | None:
    """The continuous percentile (as ``percentile_cont``) of the values in sorted runs: linear
    interpolation between the closest ranks, each found by bisecting the values rather than by
    merging the runs (exact, and quick for many runs); ``None`` for no values."""
    n = sum(len(r) for r in runs)
    if n == 0:
        return None
    position = fraction * (n - 1)
    low = int(position)
    first = _kth(runs, low)
    if position == low:
        return first
    return first + (_kth(runs, low + 1) - first) * (position - low)


def _kth(runs: Sequence[Sequence[float]], k: int) -> float:
    """The value of rank ``k`` (from 0) in the sorted runs."""
    filled = [r for r in runs if r]
    if len(filled) == 1:
        return filled[0][k]
    lowest = min(r[0] for r in filled)
    if sum(bisect.bisect_right(r, lowest) for r in filled) > k:
        return lowest
    low, high = lowest, max(r[-1] for r in filled)  # fewer than k + 1 ≤ low; enough ≤ high
    while True:
        middle = (low + high) / 2
        if middle <= low or middle >= high:
            break
        if sum(bisect.bisect_right(r, middle) for r in filled) > k:
            high = middle
        else:
            low = middle
    return min(r[i] for r in filled if (i := bisect.bisect_right(r, low)) < len(r))
