"""Rollups: a dataset's partial aggregates per local day, merged for any range of days.

A dashboard over a million tickets asks the same questions again and again: tickets by type over
the last 365 days, MTTR this month and last. A rollup answers them from small partial aggregates
kept per local day of one date field (the *day field*), instead of reading the rows each time:

- :func:`compile_rollup` turns a dataset (see :mod:`tangram.engines.reports.dataset`) into a
  :class:`Plan`, or raises :class:`NotRollable` when it cannot be rolled up;
- :meth:`Plan.query` is the ``select`` of the partial aggregates of some days, grouped by day and
  by the *cells* a tuple needs (dimension values, and the fields a dashboard filters by);
- :meth:`Plan.payloads` files its rows by day, as JSON-ready lists (the platform stores them);
- :meth:`Plan.merge` merges the tuples of several days into one payload (a month's days, when
  no dimension tells them apart: :attr:`Plan.monthly`);
- :meth:`Plan.rows` merges the payloads of a range of days, keeps the tuples whose filtered
  fields hold a chosen value, and finishes the measures: the rows the dataset's own query would
  give for the same records.

Measures: ``count``, ``sum``, ``avg`` (a sum and a count), ``min`` and ``max`` of integer and
float fields, ``ratio`` (two counts), ``nps`` (three counts), ``median`` and ``percentile`` (the
sorted values of each day, from which :func:`percentile` finds the exact ``percentile_cont`` of
any set of days by bisection), ``duration`` with any of its aggregates, and ``calculated``
measures over these. Distinct counts are not rolled up: their partials would be every distinct
value. Dimensions: scalar fields of the form (text, numbers, yes/no, sub-table fields) and date
buckets (day, week, month, quarter, year, derived from the local day). Joined fields of referenced
forms are not held: the referenced record can change without its referrers. Rows whose day field
is empty belong to no day and are left out, so the platform uses a rollup only for a range on its
day field, or for all the rows with the form's ``_created_at``, which is never empty.
"""

from __future__ import annotations

import functools
import itertools
import operator
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Float, Select, and_, bindparam, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from tangram.engines.forms import ColumnKind
from tangram.engines.reports.dataset import (
    TEMPORAL,
    UNIT_SECONDS,
    Ref,
    Source,
    _Compiler,
    nps_counts,
    ratio_counts,
)
from tangram.engines.reports.sql import Seconds, Values, percentile

#: Dimension and filter values a payload holds as they are (JSON keeps them exactly).
SCALAR = frozenset({ColumnKind.TEXT, ColumnKind.INTEGER, ColumnKind.FLOAT, ColumnKind.BOOLEAN})
#: Fields whose min and max a payload keeps (a money field's min would come back a float).
ORDERED = frozenset({ColumnKind.INTEGER, ColumnKind.FLOAT})
#: How each kind of partial reduces the values of several tuples (``None`` when none has one;
#: the sorted runs of a percentile's values are kept apart until it is finished).
_REDUCE: dict[str, Callable[[list[Any]], Any]] = {
    "sum": lambda values: functools.reduce(operator.add, values) if values else None,
    "min": lambda values: min(values) if values else None,
    "max": lambda values: max(values) if values else None,
    "values": lambda runs: [run for run in runs if run],
}
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class NotRollable(Exception):
    """The dataset cannot be answered from daily partial aggregates (the reason says why)."""


def bucket_of(day: str, unit: str) -> str:
    """The label of the ``unit`` a local day (``YYYY-MM-DD``) falls in, as the dataset's SQL
    writes it: the day, the ISO week's Monday, ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``."""
    if unit == "day":
        return day
    if unit == "week":
        d = date.fromisoformat(day)
        return (d - timedelta(days=d.weekday())).isoformat()
    if unit == "month":
        return day[:7]
    if unit == "quarter":
        return f"{day[:4]}-Q{(int(day[5:7]) + 2) // 3}"
    return day[:4]


@dataclass(frozen=True)
class _Dim:
    key: str
    cell: int | None  # the tuple's cell holding it; None: the payload's own day
    unit: str | None  # a date bucket derived from a day text, or None for the value itself


@dataclass(frozen=True)
class _Measure:
    key: str
    kind: str  # count, sum, avg, min, max, ratio, nps, percentile, calculated
    at: int  # its first partial
    expression: Any = None  # calculated: +, -, *, / over earlier measures
    fraction: float = 0.5  # percentile: 0–1


@dataclass(frozen=True)
class Plan:
    """How one dataset is rolled up by day, and how the days are merged back."""

    form: str
    day_field: str
    #: Fields a tuple holds so that rows can be kept by their value (dashboard select filters).
    keys: tuple[str, ...]
    #: The output: dimension keys, then measure keys (as the dataset's query names them).
    columns: tuple[str, ...]
    _day: ColumnElement[Any]
    _cells: tuple[ColumnElement[Any], ...]
    _partials: tuple[ColumnElement[Any], ...]
    _merges: tuple[str, ...]
    _dims: tuple[_Dim, ...]
    _measures: tuple[_Measure, ...]
    _key_cells: Mapping[str, int]
    _from: Any
    _where: tuple[ColumnElement[bool], ...]
    day_column: ColumnElement[Any]
    day_is_date: bool

    def query(self, *, where: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
        """The partial aggregates of the rows ``where`` keeps: day, cells, partials."""
        groups = (self._day, *self._cells)
        return (
            select(
                self._day.label("_day"),
                *(c.label(f"_c{i}") for i, c in enumerate(self._cells)),
                *(p.label(f"_p{i}") for i, p in enumerate(self._partials)),
            )
            .select_from(self._from)
            .where(and_(*self._where, self.day_column.is_not(None), *where))
            .group_by(*groups)
        )

    @functools.cached_property
    def days_query(self) -> Select[Any]:
        """:meth:`query` of the rows of some local days, built once per plan (building a
        statement costs more than running it): a date day field's days are bound as
        ``rollup_days`` (a list), a timestamp's run of consecutive days as the instants
        ``rollup_from`` (included) and ``rollup_to`` (excluded)."""
        column = self.day_column
        if self.day_is_date:
            return self.query(where=[column.in_(bindparam("rollup_days", expanding=True))])
        return self.query(
            where=[column >= bindparam("rollup_from"), column < bindparam("rollup_to")]
        )

    def payloads(self, rows: Iterable[Sequence[Any]]) -> dict[str, list[list[Any]]]:
        """The query's rows filed by day: each tuple is its cells, then its partials."""
        out: dict[str, list[list[Any]]] = {}
        listed = {len(self._cells) + i for i, m in enumerate(self._merges) if m == "values"}
        for row in rows:
            out.setdefault(str(row[0]), []).append(
                [_run(v) if i in listed else _plain(v) for i, v in enumerate(row[1:])]
            )
        return out

    @property
    def monthly(self) -> bool:
        """Whether the days of a month may be merged into one payload (no dimension tells the
        days or weeks of the day field apart)."""
        return all(d.cell is not None or d.unit in ("month", "quarter", "year") for d in self._dims)

    def merge(self, payloads: Iterable[Sequence[Sequence[Any]]]) -> list[list[Any]]:
        """Tuples of several days merged by their cells: one payload standing for them all (of
        days in one month, for a :attr:`monthly` plan)."""
        width = len(self._cells)
        groups = self._fold(((tuple(t[:width]), t) for tuples in payloads for t in tuples), width)
        listed = [i for i, m in enumerate(self._merges) if m == "values"]
        for partials in groups.values():
            for i in listed:  # one sorted run of the values (runs merge fast: timsort)
                partials[i] = array("d", sorted(itertools.chain.from_iterable(partials[i] or ())))
        return [[*key, *partials] for key, partials in groups.items()]

    def rows(
        self,
        payloads: Iterable[tuple[str, Sequence[Sequence[Any]]]],
        selects: Mapping[str, Collection[str]] = {},
        *,
        nulls_first: bool = True,
    ) -> list[list[Any]]:
        """The dataset's rows over the days of ``payloads`` (day, tuples): tuples whose field in
        ``selects`` holds none of its values are left out; rows come in dimension order, with
        empty values first (SQLite) or last (PostgreSQL), as the database would order them. A
        merged month comes as its first day."""
        width = len(self._cells)
        wanted = [(self._key_cells[k], frozenset(v)) for k, v in selects.items()]
        dims = self._dims
        plain = [(at, d.cell) for at, d in enumerate(dims) if d.cell is not None and d.unit is None]
        bucketed = [
            (at, d.cell, d.unit) for at, d in enumerate(dims) if d.cell is not None and d.unit
        ]
        from_day = [(at, d.unit or "day") for at, d in enumerate(dims) if d.cell is None]
        labels: dict[tuple[str, str], str] = {}

        def label(day: str, unit: str) -> str:
            found = labels.get((day, unit))
            if found is None:
                found = labels[(day, unit)] = bucket_of(day, unit)
            return found

        def keyed() -> Iterator[tuple[tuple[Any, ...], Sequence[Any]]]:
            for day, tuples in payloads:
                template: list[Any] = [None] * len(dims)
                for at, unit in from_day:
                    template[at] = label(day, unit)
                for t in tuples:
                    if wanted and not all(t[i] in allowed for i, allowed in wanted):
                        continue
                    key = template.copy()
                    for at, cell in plain:
                        key[at] = t[cell]
                    for at, cell, unit in bucketed:
                        key[at] = None if t[cell] is None else label(t[cell], unit)
                    yield tuple(key), t

        groups = self._fold(keyed(), width)
        if not groups and not dims:  # no rows: one row of empty aggregates, as SQL gives
            groups[()] = [None] * len(self._merges)
        out = [[*key, *self._finish(partials)] for key, partials in groups.items()]
        out.sort(key=lambda r: _order(r, len(dims), nulls_first))
        return out

    def _fold(
        self,
        keyed: Iterable[tuple[tuple[Any, ...], Sequence[Any]]],
        width: int,
    ) -> dict[tuple[Any, ...], list[Any]]:
        """Partials merged by key (``None`` is no value: it gives way to any other).

        The tuples are grouped first, then each partial is reduced over its group in one call:
        the additions, minimums and maximums run in C rather than one Python step per tuple.
        """
        grouped: dict[tuple[Any, ...], list[Sequence[Any]]] = {}
        for key, t in keyed:
            found = grouped.get(key)
            if found is None:
                grouped[key] = [t]
            else:
                found.append(t)
        reducers = [(width + i, _REDUCE[m]) for i, m in enumerate(self._merges)]
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for key, tuples in grouped.items():
            partials: list[Any] = []
            for at, reduce_ in reducers:
                present = [v for t in tuples if (v := t[at]) is not None]
                partials.append(reduce_(present))
            groups[key] = partials
        return groups

    def _finish(self, p: Sequence[Any]) -> list[Any]:
        done: dict[str, Any] = {}
        for m in self._measures:
            i = m.at
            value: Any
            if m.kind == "count":
                value = p[i] or 0
            elif m.kind == "sum":
                value = None if p[i] is None else float(p[i])
            elif m.kind in ("min", "max"):
                value = p[i]
            elif m.kind == "avg":
                value = float(p[i]) / p[i + 1] if p[i + 1] else None
            elif m.kind == "ratio":
                value = float(p[i]) * 100.0 / p[i + 1] if p[i + 1] else None
            elif m.kind == "nps":
                value = float(p[i] - p[i + 1]) * 100.0 / p[i + 2] if p[i + 2] else None
            elif m.kind == "percentile":
                value = percentile(p[i] or [], m.fraction)
            else:
                value = _calculate(m.expression, done)
            done[m.key] = value
        return list(done.values())


def _order(row: Sequence[Any], width: int, nulls_first: bool) -> tuple[Any, ...]:
    return tuple(
        ((0 if nulls_first else 1), 0) if v is None else ((1 if nulls_first else 0), v)
        for v in row[:width]
    )


def _run(value: Any) -> list[float]:
    """The values a ``Values`` aggregate collected, as one sorted run of floats."""
    if value is None:
        return []
    if isinstance(value, str):  # SQLite's JSON array
        value = orjson.loads(value)
    return sorted(float(v) for v in value if v is not None)


def _plain(value: Any) -> Any:
    """A value JSON keeps: numbers as numbers (PostgreSQL's sums of numerics are decimals)."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


def _calculate(node: Any, done: Mapping[str, Any]) -> Any:
    """A calculated measure as SQL computes it: empty when a part is, division by zero empty."""
    if isinstance(node, int | float) and not isinstance(node, bool):
        return float(node)
    ((op, args),) = node.items()
    if op == "var":
        return done[args[0] if isinstance(args, list) else args]
    left, right = (_calculate(a, done) for a in args)
    if left is None or right is None:
        return None
    if op == "/":
        return float(left) / right if right else None
    return _ARITHMETIC[op](left, right)


class _RollupCompiler(_Compiler):
    """Partial aggregates for the measures a dataset compiles (it was compiled already: every
    name here is known to be good)."""

    def known(self, path: Any) -> Ref:
        """A field the compiled dataset names."""
        ref = self.ref(path, "/field")
        if ref is None:
            raise NotRollable(f"{path!r} is not a field of the form")
        return ref

    def partials(self, raw: Mapping[str, Any]) -> tuple[str, list[tuple[ColumnElement[Any], str]]]:
        kind = str(raw.get("type"))
        gate = self.condition(raw["filter"], "/filter") if raw.get("filter") is not None else None

        def gated(value: ColumnElement[Any]) -> ColumnElement[Any]:
            return value if gate is None else case((gate, value))

        if kind == "count":
            return "count", [
                (func.count() if gate is None else func.count(gated(literal(1))), "sum")
            ]
        if kind in ("sum", "avg", "min", "max"):
            ref = self.known(raw.get("field"))
            if kind in ("min", "max") and ref.kind not in ORDERED:
                raise NotRollable(f"{kind} of {ref.path!r} ({ref.kind.value})")
            return self._spread(kind, gated(ref.column))
        if kind in ("median", "percentile"):
            ref = self.known(raw.get("field"))
            return "percentile", [(Values(cast(gated(ref.column), Float)), "values")]
        if kind == "duration":
            start, end = self.ref(raw.get("from"), "/from"), self.ref(raw.get("to"), "/to")
            if start is None or end is None:
                raise NotRollable("a duration between unknown fields")
            how = str(raw.get("aggregate", "avg"))
            if how not in ("avg", "sum", "min", "max", "median", "percentile"):
                raise NotRollable(f"a duration's {how}")
            seconds = gated(
                Seconds(start.column, end.column) / UNIT_SECONDS[str(raw.get("unit", "hours"))]
            )
            if how in ("median", "percentile"):
                return "percentile", [(Values(seconds), "values")]
            return self._spread(how, seconds)
        if kind == "ratio":
            numerator = self.condition(raw.get("numerator"), "/numerator")
            denominator = (
                self.condition(raw["denominator"], "/denominator")
                if "denominator" in raw
                else literal(True)
            )
            if numerator is None or denominator is None:
                raise NotRollable("a ratio of conditions that do not compile")
            if gate is not None:
                denominator = and_(gate, denominator)
            return "ratio", [(count, "sum") for count in ratio_counts(numerator, denominator)]
        if kind == "nps":
            ref = self.known(raw.get("field"))
            return "nps", [(count, "sum") for count in nps_counts(gated(ref.column))]
        if kind == "calculated":
            return "calculated", []
        raise NotRollable(f"a {kind} does not add up from day to day")

    @staticmethod
    def _spread(
        kind: str, value: ColumnElement[Any]
    ) -> tuple[str, list[tuple[ColumnElement[Any], str]]]:
        if kind == "avg":
            return "avg", [(func.sum(value), "sum"), (func.count(value), "sum")]
        return kind, [(getattr(func, kind)(value), kind)]


def compile_rollup(
    definition: Mapping[str, Any],
    sources: Mapping[str, Source],
    *,
    day_field: str,
    keys: Sequence[str] = (),
    time_zone: str = "Asia/Shanghai",
) -> Plan:
    """The rollup of a dataset that compiles (check it with ``compile_dataset`` first) by the
    local day of ``day_field``, holding the values of ``keys`` (fields to filter by)."""
    form_key = str(definition.get("form"))
    zone = ZoneInfo(time_zone)
    c = _RollupCompiler(sources, form_key, zone)
    day_ref = c.ref(day_field, "/day_field")
    if day_ref is None or day_ref.kind not in TEMPORAL or day_ref.via or day_ref.child:
        raise NotRollable(f"{day_field!r} is not a date field of the form")
    cells: list[ColumnElement[Any]] = []
    dims: list[_Dim] = []
    for raw in definition.get("dimensions") or []:
        ref = c.known(raw.get("field"))
        if ref.via:
            raise NotRollable(f"{ref.path!r} is a field of another form")
        unit = raw.get("bucket")
        if unit is not None and ref.path == day_field:
            dims.append(_Dim(str(raw["key"]), None, str(unit)))
            continue
        if unit is not None:
            cells.append(c.bucket(ref, "day"))
        elif ref.kind in SCALAR:
            cells.append(ref.column)
        else:
            raise NotRollable(f"{ref.path!r} ({ref.kind.value}) as a dimension")
        dims.append(_Dim(str(raw["key"]), len(cells) - 1, None if unit is None else str(unit)))
    key_cells: dict[str, int] = {}
    for name in keys:
        held_ref = c.ref(name, "/keys")
        if (
            held_ref is None
            or held_ref.via
            or held_ref.child
            or held_ref.kind is not ColumnKind.TEXT
        ):
            raise NotRollable(f"{name!r} cannot be held for filtering")
        held = next(
            (
                d.cell
                for d in dims
                if d.cell is not None and d.unit is None and cells[d.cell] is held_ref.column
            ),
            None,
        )
        if held is None:
            cells.append(held_ref.column)
            held = len(cells) - 1
        key_cells[name] = held
    partials: list[ColumnElement[Any]] = []
    merges: list[str] = []
    measures: list[_Measure] = []
    for raw in definition.get("measures") or []:
        kind, parts = c.partials(raw)
        fraction = 0.5
        if kind == "percentile":
            how = raw.get("aggregate") if raw.get("type") == "duration" else raw.get("type")
            fraction = c.fraction(raw, str(how), "/measures") or 0.0
        measures.append(
            _Measure(str(raw["key"]), kind, len(partials), raw.get("expression"), fraction)
        )
        partials += [p for p, _ in parts]
        merges += [m for _, m in parts]
    where: list[ColumnElement[bool]] = []
    if definition.get("filter") is not None:
        condition = c.condition(definition["filter"], "/filter")
        if condition is None:
            raise NotRollable("a filter that does not compile")
        where.append(condition)
    if c.problems:
        raise NotRollable("; ".join(p.message for p in c.problems))
    if c.joins:
        raise NotRollable("fields of referenced forms")
    from_clause, live = c.frame()
    return Plan(
        form=form_key,
        day_field=day_field,
        keys=tuple(keys),
        columns=tuple(str(raw["key"]) for raw in definition.get("dimensions") or [])
        + tuple(m.key for m in measures),
        _day=c.bucket(day_ref, "day"),
        _cells=tuple(cells),
        _partials=tuple(partials),
        _merges=tuple(merges),
        _dims=tuple(dims),
        _measures=tuple(measures),
        _key_cells=key_cells,
        _from=from_clause,
        _where=(*live, *where),
        day_column=day_ref.column,
        day_is_date=day_ref.kind is ColumnKind.DATE,
    )
