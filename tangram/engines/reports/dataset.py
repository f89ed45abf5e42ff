"""Datasets: a form's records grouped by dimensions and aggregated by measures, compiled to SQL.

(Over 600 lines on purpose: one compiler whose parts — fields, conditions, dimensions,
measures — share its state and its checks; apart, they would export its internals.)

A definition::

    {"form": "ticket",
     "filter": {"!=": [{"var": "status"}, "cancelled"]},
     "dimensions": [{"key": "type", "field": "issue_type"},
                    {"key": "week", "field": "_created_at", "bucket": "week"},
                    {"key": "tier", "field": "customer.tier"}],
     "measures": [{"key": "tickets", "type": "count"},
                  {"key": "mttr_h", "type": "duration", "from": "_created_at",
                   "to": "resolved_at", "unit": "hours", "aggregate": "avg"},
                  {"key": "frt_p90", "type": "percentile", "percent": 90, "field": "frt_minutes"},
                  {"key": "fcr", "type": "ratio",
                   "numerator": {"==": [{"var": "reopen_count"}, 0]},
                   "denominator": {"==": [{"var": "status"}, "closed"]}},
                  {"key": "nps", "type": "nps", "field": "score"},
                  {"key": "per_day", "type": "calculated",
                   "expression": {"/": [{"var": "tickets"}, 7]}}]}

Fields are the form's projected fields, its own ``_id``, ``_created_at``, ``_updated_at``,
``_owner`` and ``_group``, sub-table fields as ``table.field`` (the rows are unnested: one row per
sub-table row) and fields of a referenced form as ``reference.field`` (joined through the
reference). Every name is checked against the forms when the dataset is compiled and becomes a
column object: no name ever reaches SQL as text. Measures: ``count``, ``count_distinct``,
``sum``, ``avg``, ``min``, ``max``, ``median``, ``percentile``, ``duration`` (seconds, minutes,
hours or days between two datetime fields, aggregated by ``avg``, ``median``, ``percentile`` (with
``percent``), ``min``, ``max`` or ``sum``), ``ratio`` (two filtered counts), ``nps`` (% of 9–10 minus % of 0–6) and
``calculated`` (``+ - * /`` over other measures). Ratios and NPS are percentages. Every measure
but ``calculated`` may have its own ``filter`` (JsonLogic): only the rows it keeps reach that
measure's aggregate, so one query can count open and overdue tickets side by side.

:meth:`Dataset.records` selects the records behind one data point (the dimension values of a row):
the drill-down from a chart to the record list.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Column,
    Float,
    Select,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from tangram.engines.common import DefinitionError, Diagnostic, settle
from tangram.engines.forms import ColumnKind, FieldType, Form, array_text
from tangram.engines.reports.sql import UNITS, Bucket, Percentile, Seconds

MEASURES = (
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "median",
    "percentile",
    "duration",
    "ratio",
    "nps",
    "calculated",
)
NUMERIC = frozenset({ColumnKind.INTEGER, ColumnKind.FLOAT, ColumnKind.DECIMAL})
#: Decimal places of money in the projection tables (``Numeric(20, 4)``): sums of money are exact
#: to them.
MONEY_PLACES = 4
TEMPORAL = frozenset({ColumnKind.DATE, ColumnKind.DATETIME})
META = {
    "_id": ColumnKind.INTEGER,
    "_owner": ColumnKind.INTEGER,
    "_group": ColumnKind.INTEGER,
    "_created_at": ColumnKind.DATETIME,
    "_updated_at": ColumnKind.DATETIME,
}
#: The columns the projection's index of live records on ``_created_at`` answers by itself.
COVERED = frozenset({"_created_at", "_deleted_at"})
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
COMPARISONS = ("==", "===", "!=", "!==", "<", "<=", ">", ">=")
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


#: The conditions a row of a referenced form must meet to be joined, given the form's key and its
#: table in the statement (the platform's row-level rule for the viewer); a referenced record that
#: fails them reads as no reference at all: its fields are empty.
JoinLimit = Callable[[str, FromClause], Sequence[ColumnElement[bool]]]


@dataclass(frozen=True)
class Source:
    """A form and its projection tables (what the platform hands the engine)."""

    form: Form
    main: Table
    children: Mapping[str, Table] = field(default_factory=dict)


@dataclass(frozen=True)
class Ref:
    """A resolved field reference: its column, kind and how it joins."""

    path: str
    column: ColumnElement[Any]
    kind: ColumnKind
    child: str | None = None  # sub-table unnested
    via: str | None = None  # reference field joined
    options: frozenset[str] | None = None


@dataclass(frozen=True)
class Output:
    """One column of the result: a dimension or a measure."""

    key: str
    role: str  # "dimension" or "measure"
    kind: str  # dimension: text, number, date bucket unit...; measure: its type
    field: str | None = None
    bucket: str | None = None
    unit: str | None = None  # measures: "%" for ratios and NPS, the duration unit, ...
    #: measures: decimal places a value is rounded to (sums, minima and maxima of money: the
    #: projection's scale), ``None`` for the 15 significant digits of any computed number
    places: int | None = None


@dataclass(frozen=True)
class Dataset:
    """A compiled dataset: call :meth:`query` for the ``select``."""

    form: str
    dimensions: tuple[Output, ...]
    measures: tuple[Output, ...]
    _columns: tuple[ColumnElement[Any], ...]
    _groups: tuple[ColumnElement[Any], ...]
    _from: Any  # the form's table, joined to the sub-table it unnests
    _where: tuple[ColumnElement[bool], ...]
    _key: ColumnElement[Any]
    _zone: ZoneInfo
    #: (reference field, referenced form, its table in the statement) for each form joined
    _joins: tuple[tuple[str, str, FromClause], ...] = ()
    #: (form, field) of every field the dataset reads (a reference followed reads both ends)
    reads: frozenset[tuple[str, str]] = frozenset()

    @property
    def forms(self) -> tuple[str, ...]:
        """Every form the dataset reads: its own, then each form it joins through a reference."""
        return (self.form, *sorted({form for _, form, _ in self._joins} - {self.form}))

    def settle(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """The result rows with each measure's numbers as the decimals they stand for: a sum of
        money to its places (``0.1 + 0.2`` is ``0.3``), any other computed number to 15
        significant digits (see :func:`tangram.engines.common.settle`)."""
        at = [(columns.index(m.key), m.places) for m in self.measures if m.key in columns]
        settled = []
        for row in rows:
            row = list(row)
            for j, places in at:
                if isinstance(row[j], float):
                    row[j] = settle(row[j], places)
            settled.append(row)
        return settled

    def _source(self, joined: JoinLimit | None) -> Any:
        """The form's table joined to the referenced forms, each under its ``joined`` limit."""
        from_clause = self._from
        main = self._key.table
        for via, form, table in self._joins:
            limits = list(joined(form, table)) if joined is not None else []
            from_clause = from_clause.outerjoin(table, and_(table.c._id == main.c[via], *limits))
        return from_clause

    def query(
        self, *, where: Sequence[ColumnElement[bool]] = (), joined: JoinLimit | None = None
    ) -> Select[Any]:
        """The statement: dimensions then measures, grouped and ordered by the dimensions.

        ``where`` adds conditions (the viewer's row-level filter, dashboard filters); ``joined``
        limits the rows of the referenced forms that are joined (see :data:`JoinLimit`). On SQLite
        the form's table is read in one pass (``NOT INDEXED``): an aggregate over a date range
        otherwise becomes an index range scan with a lookup per row, several times slower for
        the wide ranges reports ask for, unless the query reads nothing but what the index of
        live records on ``_created_at`` holds (a trend of counts). PostgreSQL chooses by its
        statistics.
        """
        statement = select(*self._columns).select_from(self._source(joined))
        conditions = [*self._where, *where]
        if conditions:
            statement = statement.where(and_(*conditions))
        if self._groups:
            statement = statement.group_by(*self._groups).order_by(*self._groups)
        if self._beyond_index or any(_reads_beyond_index(self._key.table, c) for c in where):
            statement = statement.with_hint(self._key.table, "NOT INDEXED", dialect_name="sqlite")
        return statement

    @cached_property
    def _beyond_index(self) -> bool:
        """Whether the dataset's own parts read a column of the form's table that the index of
        live records on ``_created_at`` does not hold (a join reads the reference field). Walked
        once per compiled dataset: a walk of the whole statement cost as much as building it."""
        main = self._key.table
        parts = (*self._columns, *self._groups, *self._where, self._from)
        return bool(self._joins) or any(_reads_beyond_index(main, part) for part in parts)

    def point(self, values: Mapping[str, str]) -> list[ColumnElement[bool]]:
        """Conditions selecting one data point: dimension key → its value as text (as the result
        shows it; an empty text is the empty value). Every bad value is reported at once."""
        problems = []
        conditions: list[ColumnElement[bool]] = []
        known = {d.key: (d, e) for d, e in zip(self.dimensions, self._groups, strict=True)}
        for key, text in values.items():
            if key not in known:
                problems.append(Diagnostic(f"at.{key}", "report.point", f"{key!r} is no dimension"))
                continue
            output, expression = known[key]
            if text == "":
                conditions.append(expression.is_(None))
                continue
            value = _parse(output, text, self._zone)
            if value is None:
                problems.append(
                    Diagnostic(f"at.{key}", "report.point", f"{text!r} does not fit {key!r}")
                )
                continue
            conditions.append(expression == value)
        if problems:
            raise DefinitionError(problems)
        return conditions

    def records(
        self, *, where: Sequence[ColumnElement[bool]] = (), joined: JoinLimit | None = None
    ) -> Select[Any]:
        """The ids of the records behind the rows ``where`` selects (use :meth:`point`), the
        referenced forms joined under ``joined`` as in :meth:`query`."""
        conditions = [*self._where, *where]
        return (
            select(self._key).select_from(self._source(joined)).where(and_(*conditions)).distinct()
        )


def _reads_beyond_index(main: FromClause, element: Any) -> bool:
    """Whether ``element`` reads a column of ``main`` beyond :data:`COVERED`."""
    return any(
        isinstance(e, Column) and e.table is main and e.name not in COVERED
        for e in visitors.iterate(element)
    )


def _parse(output: Output, text: str, zone: ZoneInfo) -> Any:
    """A dimension value from its text, or ``None`` when it does not fit the dimension."""
    if output.bucket is not None:
        return text
    kind = ColumnKind(output.kind)
    try:
        if kind is ColumnKind.INTEGER:
            return int(text)
        if kind in (ColumnKind.FLOAT, ColumnKind.DECIMAL):
            return float(text)
        if kind is ColumnKind.BOOLEAN:
            return {"true": True, "false": False}.get(text.lower())
        if kind is ColumnKind.DATE:
            return datetime.fromisoformat(text).date()
        if kind is ColumnKind.DATETIME:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.astimezone(UTC)
    except ValueError:
        return None
    return text


class _Compiler:
    def __init__(self, sources: Mapping[str, Source], form_key: str, zone: ZoneInfo) -> None:
        self.sources = sources
        self.source = sources[form_key]
        self.zone = zone
        self.problems: list[Diagnostic] = []
        self.refs: dict[str, Ref] = {}
        self.children: set[str] = set()
        self.joins: dict[str, tuple[str, FromClause]] = {}

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Diagnostic(path, code, message))

    # --- fields ---------------------------------------------------------------------------

    def ref(self, path: Any, where: str) -> Ref | None:
        if not isinstance(path, str) or not path:
            self.problem(where, "report.field", "name a field")
            return None
        if path in self.refs:
            return self.refs[path]
        found = self._resolve(path, where)
        if found is not None:
            self.refs[path] = found
            if found.child:
                self.children.add(found.child)
        return found

    def reads(self) -> frozenset[tuple[str, str]]:
        """(form, field) of every field resolved so far."""
        own = self.source.form.key
        out: set[tuple[str, str]] = set()
        for path, ref in self.refs.items():
            head, _, rest = path.partition(".")
            if path in META:
                continue
            out.add((own, head))
            if ref.via is not None and rest not in META:
                out.add((self.joins[ref.via][0], rest))
        return frozenset(out)

    def _resolve(self, path: str, where: str) -> Ref | None:
        main, form = self.source.main, self.source.form
        if path in META:
            return Ref(path, main.c[path], META[path])
        head, _, rest = path.partition(".")
        f = form.by_key.get(head)
        if f is None:
            self.problem(
                where, "report.field", f"{head!r} is not a field of form {self.source.form.key!r}"
            )
            return None
        if not rest:
            column = form.projection.by_key.get(head)
            if column is None:
                self.problem(where, "report.field", f"{head!r} ({f.type.value}) is not reportable")
                return None
            options = frozenset(o.value for o in f.options) if f.options else None
            return Ref(path, main.c[head], column.kind, options=options)
        if f.type is FieldType.SUB_TABLE:
            table = self.source.children.get(head)
            child = next((c for c in form.projection.children if c.key == head), None)
            column = next((c for c in child.columns if c.key == rest), None) if child else None
            if table is None or column is None:
                self.problem(
                    where, "report.field", f"{rest!r} is not a reportable field of {head!r} rows"
                )
                return None
            return Ref(path, table.c[rest], column.kind, child=head)
        target_key = f.reference_form if f.type is FieldType.REFERENCE else None
        if target_key is not None and target_key in self.sources:
            target = self.sources[target_key]
            projected = target.form.projection.by_key.get(rest)
            kind = META.get(rest, projected.kind if projected is not None else None)
            if kind is None:
                self.problem(
                    where,
                    "report.field",
                    f"{rest!r} is not a reportable field of form {f.reference_form!r}",
                )
                return None
            joined = target.main.alias(f"ref_{head}")
            self.joins[head] = (target_key, joined)
            return Ref(path, joined.c[rest], kind, via=head)
        self.problem(where, "report.field", f"{head!r} has no fields to follow")
        return None

    def bucket(self, ref: Ref, unit: str) -> ColumnElement[Any]:
        """The label of the ``unit`` a date or datetime field's value falls in, in the zone."""
        offset = self.zone.utcoffset(datetime(2026, 1, 15)) or timedelta()
        return Bucket(
            ref.column,
            unit,
            self.zone.key,
            int(offset.total_seconds() // 60),
            ref.kind is ColumnKind.DATE,
        )

    def frame(self) -> tuple[Any, list[ColumnElement[bool]]]:
        """What the dataset reads: the form's table joined to the sub-table unnested (the
        referenced forms are joined per statement: see :meth:`Dataset.query`), and the
        conditions that keep live records only."""
        main = self.source.main
        from_clause: Any = main
        for child in sorted(self.children):
            table = self.source.children[child]
            from_clause = from_clause.join(table, table.c._record == main.c._id)
        live: list[ColumnElement[bool]] = [main.c._deleted_at.is_(None)]
        for _, joined in self.joins.values():
            live.append(or_(joined.c._id.is_(None), joined.c._deleted_at.is_(None)))
        return from_clause, live

    # --- filters: JsonLogic to SQL ----------------------------------------------------------

    def condition(self, node: Any, where: str) -> ColumnElement[bool] | None:
        if isinstance(node, bool):
            return literal(node)
        if not isinstance(node, Mapping) or len(node) != 1:
            self.problem(where, "report.filter", "a JsonLogic condition ({operator: arguments})")
            return None
        ((op, args),) = node.items()
        path = f"{where}/{op}"
        items = args if isinstance(args, list) else [args]
        if op in ("and", "or"):
            parts = [self.condition(a, f"{path}/{i}") for i, a in enumerate(items)]
            if any(p is None for p in parts) or not parts:
                return None
            return and_(*parts) if op == "and" else or_(*parts)  # type: ignore[arg-type]
        if op == "!":
            inner = items[0] if items else None
            if isinstance(inner, Mapping) and set(inner) == {"var"}:
                ref = self.ref(inner["var"], f"{path}/0/var")
                return None if ref is None else self.empty(ref)
            part = self.condition(inner, f"{path}/0")
            return None if part is None else ~part
        if op == "!!":
            inner = items[0] if items else None
            if isinstance(inner, Mapping) and set(inner) == {"var"}:
                ref = self.ref(inner["var"], f"{path}/0/var")
                return None if ref is None else ~self.empty(ref)
            return self.condition(inner, f"{path}/0")
        if op == "var":
            ref = self.ref(args if not isinstance(args, list) else args[0], path)
            if ref is None:
                return None
            if ref.kind is not ColumnKind.BOOLEAN:
                self.problem(
                    path, "report.filter", f"{ref.path!r} is not a yes/no field; compare it"
                )
                return None
            return ref.column.is_(True)
        if op in COMPARISONS:
            return self.compare(op, items, path)
        if op == "in":
            return self.membership(items, path)
        self.problem(
            path,
            "report.operator",
            f"{op!r} cannot be computed in SQL; use and, or, !, !!, comparisons or in",
        )
        return None

    def empty(self, ref: Ref) -> ColumnElement[bool]:
        if ref.kind is ColumnKind.BOOLEAN:
            return or_(ref.column.is_(None), ref.column.is_(False))
        return ref.column.is_(None)

    def value(self, ref: Ref, raw: Any, where: str) -> Any:
        kind = ref.kind
        ok = True
        value = raw
        if raw is None:
            return None
        if kind in NUMERIC:
            ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        elif kind is ColumnKind.BOOLEAN:
            ok = isinstance(raw, bool)
        elif kind is ColumnKind.DATE:
            try:
                value = datetime.fromisoformat(str(raw)).date() if isinstance(raw, str) else None
            except ValueError:
                value = None
            ok = value is not None
        elif kind is ColumnKind.DATETIME:
            try:
                value = datetime.fromisoformat(str(raw)) if isinstance(raw, str) else None
            except ValueError:
                value = None
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=self.zone)
            value = value.astimezone(UTC) if value is not None else None
            ok = value is not None
        else:
            ok = isinstance(raw, str)
            if ok and ref.options is not None and raw not in ref.options:
                self.problem(where, "report.value", f"{raw!r} is not an option of {ref.path!r}")
                return None
        if not ok:
            self.problem(where, "report.value", f"{raw!r} does not fit {ref.path!r} ({kind.value})")
            return None
        return value

    def compare(self, op: str, items: list[Any], path: str) -> ColumnElement[bool] | None:
        if len(items) == 3 and op in ("<", "<="):  # between
            low = self.compare(op, items[:2], path)
            high = self.compare(op, items[1:], path)
            return None if low is None or high is None else and_(low, high)
        if len(items) != 2:
            self.problem(path, "report.filter", "compare a field with a value")
            return None
        left, right = items
        flipped = False
        if not (isinstance(left, Mapping) and set(left) == {"var"}):
            left, right, flipped = right, left, True
        if not (isinstance(left, Mapping) and set(left) == {"var"}):
            self.problem(path, "report.filter", "one side must be a field ({var: ...})")
            return None
        ref = self.ref(left["var"], f"{path}/{1 if flipped else 0}/var")
        if ref is None:
            return None
        value = self.value(ref, right, f"{path}/{0 if flipped else 1}")
        if value is None and right is not None:
            return None
        column = ref.column
        if op in ("==", "==="):
            return column.is_(None) if value is None else column == value
        if op in ("!=", "!=="):
            return column.is_not(None) if value is None else or_(column != value, column.is_(None))
        if value is None:
            self.problem(path, "report.filter", "order comparisons need a value")
            return None
        if flipped:
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        ordered: ColumnElement[bool] = _ORDER[op](column, value)
        return ordered

    def membership(self, items: list[Any], path: str) -> ColumnElement[bool] | None:
        if len(items) != 2:
            self.problem(path, "report.filter", "in takes a value and a list (or a field)")
            return None
        needle, haystack = items
        if isinstance(needle, Mapping) and set(needle) == {"var"} and isinstance(haystack, list):
            ref = self.ref(needle["var"], f"{path}/0/var")
            if ref is None:
                return None
            values = [self.value(ref, v, f"{path}/1/{i}") for i, v in enumerate(haystack)]
            if any(v is None for v in values) or not values:
                return None
            return ref.column.in_(values)
        if isinstance(haystack, Mapping) and set(haystack) == {"var"} and isinstance(needle, str):
            ref = self.ref(haystack["var"], f"{path}/1/var")
            if ref is None:
                return None
            if ref.kind is ColumnKind.ARRAY:
                return ref.column.contains(array_text([needle])[1:-1], autoescape=True)
            if ref.kind is ColumnKind.TEXT:
                return ref.column.contains(needle, autoescape=True)
            self.problem(path, "report.filter", f"{ref.path!r} holds no text to search")
            return None
        self.problem(path, "report.filter", "in: {var} in a list, or a text in {var}")
        return None

    # --- dimensions and measures -------------------------------------------------------------

    def dimension(self, raw: Any, where: str) -> tuple[Output, ColumnElement[Any]] | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
            self.problem(where, "report.dimension", "a dimension has a key and a field")
            return None
        ref = self.ref(raw.get("field"), f"{where}/field")
        if ref is None:
            return None
        bucket = raw.get("bucket")
        if bucket is not None:
            if bucket not in UNITS:
                self.problem(f"{where}/bucket", "report.bucket", f"use one of {', '.join(UNITS)}")
                return None
            if ref.kind not in TEMPORAL:
                self.problem(
                    f"{where}/bucket",
                    "report.bucket",
                    f"{ref.path!r} is not a date or datetime field",
                )
                return None
            expression: ColumnElement[Any] = self.bucket(ref, bucket)
        else:
            expression = ref.column
        return Output(raw["key"], "dimension", ref.kind.value, ref.path, bucket), expression.label(
            raw["key"]
        )

    def measure(
        self, raw: Any, where: str, done: Mapping[str, ColumnElement[Any]]
    ) -> tuple[Output, ColumnElement[Any]] | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
            self.problem(where, "report.measure", "a measure has a key and a type")
            return None
        key, kind = raw["key"], raw.get("type")
        if kind not in MEASURES:
            self.problem(f"{where}/type", "report.measure", f"use one of {', '.join(MEASURES)}")
            return None
        gate: ColumnElement[bool] | None = None
        if raw.get("filter") is not None:
            if kind == "calculated":
                self.problem(
                    f"{where}/filter", "report.filter", "filter the measures it combines instead"
                )
                return None
            gate = self.condition(raw["filter"], f"{where}/filter")
            if gate is None:
                return None
        built = _MEASURES[kind](self, _Measure(raw, where, str(kind), gate, done))
        if built is None:
            return None
        expression, unit = built
        field = raw.get("field")
        ref = self.refs.get(field) if isinstance(field, str) else None
        places = (
            MONEY_PLACES
            if kind in ("sum", "min", "max") and ref is not None and ref.kind is ColumnKind.DECIMAL
            else None
        )
        return Output(
            key, "measure", str(kind), raw.get("field"), unit=unit or raw.get("unit"), places=places
        ), expression.label(key)

    def fraction(self, raw: Mapping[str, Any], kind: str, where: str) -> float | None:
        if kind == "median":
            return 0.5
        percent = raw.get("percent")
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 <= percent <= 100
        ):
            self.problem(f"{where}/percent", "report.percentile", "a percentile between 0 and 100")
            return None
        return float(percent) / 100

    def arithmetic(
        self, node: Any, where: str, done: Mapping[str, ColumnElement[Any]]
    ) -> ColumnElement[Any] | None:
        if isinstance(node, int | float) and not isinstance(node, bool):
            return literal(node, Float)
        if isinstance(node, Mapping) and len(node) == 1:
            ((op, args),) = node.items()
            if op == "var":
                name = args[0] if isinstance(args, list) else args
                if name not in done:
                    self.problem(
                        f"{where}/var",
                        "report.measure",
                        f"{name!r} is not a measure defined before this one",
                    )
                    return None
                return done[name]
            if op in ("+", "-", "*", "/") and isinstance(args, list) and len(args) == 2:
                left = self.arithmetic(args[0], f"{where}/{op}/0", done)
                right = self.arithmetic(args[1], f"{where}/{op}/1", done)
                if left is None or right is None:
                    return None
                if op == "/":
                    return cast(left, Float) / func.nullif(right, 0)
                return {"+": left + right, "-": left - right, "*": left * right}[op]
        self.problem(
            where, "report.calculated", "+, -, *, / over measures ({var: key}) and numbers"
        )
        return None


# --- one function per measure type: its aggregate expression and its unit ----------------------


@dataclass(frozen=True)
class _Measure:
    """A measure being compiled: its definition, path, type, own filter and the measures before."""

    raw: Mapping[str, Any]
    where: str
    kind: str
    gate: ColumnElement[bool] | None
    done: Mapping[str, ColumnElement[Any]]

    def gated(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """Only the rows the measure's own filter keeps reach its aggregate."""
        return value if self.gate is None else case((self.gate, value))


#: A measure's aggregate and its unit (None: the definition's ``unit``, if any).
_Built = tuple[ColumnElement[Any], str | None] | None


def _count(_c: _Compiler, m: _Measure) -> _Built:
    return (func.count() if m.gate is None else func.count(m.gated(literal(1)))), None


def _count_distinct(c: _Compiler, m: _Measure) -> _Built:
    ref = c.ref(m.raw.get("field"), f"{m.where}/field")
    if ref is None:
        return None
    return func.count(m.gated(ref.column).distinct()), None


def _numeric(c: _Compiler, m: _Measure, *, temporal: bool = False) -> Ref | None:
    """The measure's field, which must hold numbers (or dates and times, when ``temporal``)."""
    ref = c.ref(m.raw.get("field"), f"{m.where}/field")
    if ref is None:
        return None
    if ref.kind not in NUMERIC and not (temporal and ref.kind in TEMPORAL):
        c.problem(
            f"{m.where}/field",
            "report.numeric",
            f"{m.kind} needs a number field; {ref.path!r} is {ref.kind.value}",
        )
        return None
    return ref


def _aggregate(c: _Compiler, m: _Measure) -> _Built:
    """sum, avg, min and max (min and max of dates and times too)."""
    ref = _numeric(c, m, temporal=m.kind in ("min", "max"))
    if ref is None:
        return None
    expression: ColumnElement[Any] = getattr(func, m.kind)(m.gated(ref.column))
    if m.kind in ("avg", "sum"):
        expression = cast(expression, Float)
    return expression, None


def _percentile(c: _Compiler, m: _Measure) -> _Built:
    """median and percentile (with ``percent``)."""
    ref = _numeric(c, m)
    if ref is None:
        return None
    fraction = c.fraction(m.raw, m.kind, m.where)
    if fraction is None:
        return None
    return Percentile(cast(m.gated(ref.column), Float), fraction), None


def _seconds(c: _Compiler, m: _Measure) -> ColumnElement[Any] | None:
    """The time from ``from`` to ``to`` (two datetime fields) in the measure's ``unit``."""
    start = c.ref(m.raw.get("from"), f"{m.where}/from")
    end = c.ref(m.raw.get("to"), f"{m.where}/to")
    if start is None or end is None:
        return None
    for name, ref in (("from", start), ("to", end)):
        if ref.kind is not ColumnKind.DATETIME:
            c.problem(
                f"{m.where}/{name}", "report.duration", f"{ref.path!r} is not a datetime field"
            )
            return None
    unit = m.raw.get("unit", "hours")
    if unit not in UNIT_SECONDS:
        c.problem(f"{m.where}/unit", "report.duration", f"use one of {', '.join(UNIT_SECONDS)}")
        return None
    return m.gated(Seconds(start.column, end.column) / UNIT_SECONDS[unit])


def _duration(c: _Compiler, m: _Measure) -> _Built:
    seconds = _seconds(c, m)
    if seconds is None:
        return None
    how = m.raw.get("aggregate", "avg")
    if how in ("median", "percentile"):
        fraction = c.fraction(m.raw, how, m.where)
        if fraction is None:
            return None
        return Percentile(seconds, fraction), m.raw.get("unit", "hours")
    if how in ("avg", "min", "max", "sum"):
        return cast(getattr(func, how)(seconds), Float), m.raw.get("unit", "hours")
    c.problem(
        f"{m.where}/aggregate",
        "report.duration",
        "avg, median, percentile (with percent), min, max or sum",
    )
    return None


def _ratio(c: _Compiler, m: _Measure) -> _Built:
    numerator = c.condition(m.raw.get("numerator"), f"{m.where}/numerator")
    denominator = (
        c.condition(m.raw["denominator"], f"{m.where}/denominator")
        if "denominator" in m.raw
        else literal(True)
    )
    if numerator is None or denominator is None:
        return None
    if m.gate is not None:
        denominator = and_(m.gate, denominator)
    top, bottom = ratio_counts(numerator, denominator)
    return cast(top, Float) * 100.0 / func.nullif(bottom, 0), "%"


def _nps(c: _Compiler, m: _Measure) -> _Built:
    ref = c.ref(m.raw.get("field"), f"{m.where}/field")
    if ref is None:
        return None
    if ref.kind not in NUMERIC:
        c.problem(
            f"{m.where}/field",
            "report.numeric",
            f"nps needs a 0–10 score field; {ref.path!r} is {ref.kind.value}",
        )
        return None
    promoters, detractors, answered = nps_counts(m.gated(ref.column))
    return cast(promoters - detractors, Float) * 100.0 / func.nullif(answered, 0), "%"


def _calculated(c: _Compiler, m: _Measure) -> _Built:
    expression = c.arithmetic(m.raw.get("expression"), f"{m.where}/expression", m.done)
    return None if expression is None else (expression, None)


_MEASURES: dict[str, Callable[[_Compiler, _Measure], _Built]] = {
    "count": _count,
    "count_distinct": _count_distinct,
    "sum": _aggregate,
    "avg": _aggregate,
    "min": _aggregate,
    "max": _aggregate,
    "median": _percentile,
    "percentile": _percentile,
    "duration": _duration,
    "ratio": _ratio,
    "nps": _nps,
    "calculated": _calculated,
}


def ratio_counts(
    numerator: ColumnElement[bool], denominator: ColumnElement[bool]
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The two counts of a ratio: rows meeting both conditions, rows meeting the denominator."""
    return (
        func.sum(case((and_(numerator, denominator), 1), else_=0)),
        func.sum(case((denominator, 1), else_=0)),
    )


def nps_counts(
    score: ColumnElement[Any],
) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]]:
    """The three counts of an NPS: promoters (9–10), detractors (0–6) and answers."""
    return (
        func.sum(case((score >= 9, 1), else_=0)),
        func.sum(case((score <= 6, 1), else_=0)),
        func.count(score),
    )


def compile_dataset(
    definition: Mapping[str, Any],
    sources: Mapping[str, Source],
    *,
    time_zone: str = "Asia/Shanghai",
) -> Dataset:
    """Check a dataset against its forms (every problem with its path) and compile it."""
    form_key = definition.get("form")
    if form_key not in sources:
        raise DefinitionError(
            [Diagnostic("/form", "report.form", f"no published form {form_key!r}")]
        )
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            [Diagnostic("/time_zone", "report.zone", f"{time_zone!r} is not a time zone")]
        ) from None
    c = _Compiler(sources, str(form_key), zone)
    dims: list[tuple[Output, ColumnElement[Any]]] = []
    keys: set[str] = set()
    for i, raw in enumerate(definition.get("dimensions") or []):
        found = c.dimension(raw, f"/dimensions/{i}")
        if found is not None:
            if found[0].key in keys:
                c.problem(
                    f"/dimensions/{i}/key", "report.duplicate", f"{found[0].key!r} is used twice"
                )
            keys.add(found[0].key)
            dims.append(found)
    measures: list[tuple[Output, ColumnElement[Any]]] = []
    done: dict[str, ColumnElement[Any]] = {}
    raw_measures = definition.get("measures") or []
    if not raw_measures:
        c.problem("/measures", "report.measures", "needs at least one measure")
    for i, raw in enumerate(raw_measures):
        found = c.measure(raw, f"/measures/{i}", done)
        if found is not None:
            if found[0].key in keys:
                c.problem(
                    f"/measures/{i}/key", "report.duplicate", f"{found[0].key!r} is used twice"
                )
            keys.add(found[0].key)
            done[found[0].key] = found[1].element
            measures.append(found)
    where: list[ColumnElement[bool]] = []
    if definition.get("filter") is not None:
        condition = c.condition(definition["filter"], "/filter")
        if condition is not None:
            where.append(condition)
    if len(c.children) > 1:
        c.problem(
            "/dimensions",
            "report.unnest",
            f"rows of one sub-table at a time ({', '.join(sorted(c.children))})",
        )
    if c.problems:
        raise DefinitionError(c.problems)
    from_clause, live = c.frame()
    where = [live[0], *where, *live[1:]]
    return Dataset(
        form=str(form_key),
        dimensions=tuple(d for d, _ in dims),
        measures=tuple(m for m, _ in measures),
        _columns=tuple(e for _, e in dims) + tuple(e for _, e in measures),
        _groups=tuple(e.element for _, e in dims),
        _from=from_clause,
        _where=tuple(where),
        _key=c.source.main.c._id,
        _zone=zone,
        _joins=tuple((via, form, table) for via, (form, table) in sorted(c.joins.items())),
        reads=c.reads(),
    )
