"""Record lists on projection tables: filters, sorting, keyset cursors and counts.

Filters and sort keys name fields of the form (or the record's own ``_id``, ``_created_at``,
``_updated_at``, ``_owner``, ``_group``, ``_form_version``); a sub-table's fields are named
``table.field`` and match when any row matches. Names are looked up in the projection, never
pasted into SQL. Values arrive as text (query parameters) and are converted by the column's
kind; every bad filter is reported at once, with its parameter as the path.

Sorting puts empty values last in both directions and always ends with ``_id``, so a page
boundary is exact; the cursor carries the last row's sort values.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, exists, false, not_, or_, select

from tangram.engines.forms import ColumnKind, array_text
from tangram.engines.forms.search import query_tokens
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.records import search
from tangram.platform.records.projections import Tables

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "empty")
#: The list's search box: a record whose number is the text or whose fields hold its words.
KEYWORD = "_q"
MAX_KEYWORD = 100
MAX_SORT_KEYS = 3
MAX_IN_VALUES = 100
META_KINDS = {
    "_id": ColumnKind.INTEGER,
    "_form_version": ColumnKind.INTEGER,
    "_owner": ColumnKind.INTEGER,
    "_group": ColumnKind.INTEGER,
    "_created_at": ColumnKind.DATETIME,
    "_updated_at": ColumnKind.DATETIME,
}
_ORDERED = {
    ColumnKind.TEXT,
    ColumnKind.INTEGER,
    ColumnKind.FLOAT,
    ColumnKind.DECIMAL,
    ColumnKind.DATE,
    ColumnKind.DATETIME,
}


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition: ``field`` (``table.field`` for sub-table rows), operator and raw value(s)."""

    field: str
    op: str
    value: str | Sequence[str]
    #: Where the condition came from (the query parameter), for error paths.
    source: str = ""

    @classmethod
    def parse(cls, name: str, values: Sequence[str]) -> Filter:
        """A filter from a query parameter: ``field=v``, ``field__op=v`` (``in``: ``a,b`` or repeats)."""
        field, _, op = name.partition("__")
        op = op or "eq"
        value: str | Sequence[str] = values[-1] if values else ""
        if op == "in":
            value = [part for v in values for part in v.split(",") if part != ""]
        return cls(field, op, value, name)


@dataclass(frozen=True, slots=True)
class SortKey:
    """A sort key: a column of the main table, descending or not."""

    field: str
    descending: bool = False

    @classmethod
    def parse(cls, text: str) -> list[SortKey]:
        """``-priority,_created_at`` → keys."""
        keys = []
        for part in (p.strip() for p in text.split(",")):
            if part:
                keys.append(cls(part.lstrip("-"), part.startswith("-")))
        return keys

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field


class _Problems:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, path: str, message: str, code: str = "filter.invalid") -> None:
        self.errors.append({"path": path, "code": code, "message": message})

    def raise_any(self, detail: str) -> None:
        if self.errors:
            raise ValidationFailed(detail, code="query.invalid", errors=self.errors)


def _convert(kind: ColumnKind, raw: str, tz: ZoneInfo) -> Any:
    """A query-string value as a column value; raises ValueError with a message."""
    if kind in (ColumnKind.TEXT, ColumnKind.ARRAY):
        return raw
    if kind is ColumnKind.INTEGER:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
    if kind in (ColumnKind.FLOAT, ColumnKind.DECIMAL):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if kind is ColumnKind.BOOLEAN:
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"{raw!r} is not true or false")
    if kind is ColumnKind.DATE:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a date like 2026-11-22") from None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        try:  # a bare date means its midnight in the app's time zone
            value = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise ValueError(f"{raw!r} is not an ISO 8601 date or time") from None
    return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _Target:
    table: Table
    column: str
    kind: ColumnKind | None  # None: the sub-table itself
    child: bool


def _target(t: Tables, name: str) -> _Target | None:
    if name in META_KINDS:
        return _Target(t.main, name, META_KINDS[name], False)
    columns = t.projection.by_key
    if name in columns:
        return _Target(t.main, name, columns[name].kind, False)
    if name in t.children:
        return _Target(t.children[name], "_record", None, True)
    table_key, _, field = name.partition(".")
    child = next((c for c in t.projection.children if c.key == table_key), None)
    if child is not None and field:
        kinds = {c.key: c.kind for c in child.columns}
        if field in kinds:
            return _Target(t.children[table_key], field, kinds[field], True)
    return None


def has_field(t: Tables, name: str) -> bool:
    """Whether ``name`` can be filtered on in these tables (a field, ``table.field`` or meta)."""
    return _target(t, name) is not None


def _condition(target: _Target, op: str, value: Any, raw_empty: bool | None) -> ColumnElement[bool]:
    column: ColumnElement[Any] = target.table.c[target.column]
    kind = target.kind
    if op == "empty":
        return column.is_(None) if raw_empty else column.is_not(None)
    if kind is ColumnKind.ARRAY:
        # One option inside the stored JSON array: its JSON text, quotes included, is unique.
        def has(option: str) -> ColumnElement[bool]:
            return column.contains(array_text([option])[1:-1], autoescape=True)

        if op in ("eq", "contains"):
            return has(value)
        if op == "ne":
            return or_(column.is_(None), not_(has(value)))
        return or_(*(has(v) for v in value)) if value else false()
    if op == "eq":
        return cast(ColumnElement[bool], column == value)
    if op == "ne":
        return or_(column.is_(None), column != value)
    if op == "in":
        return column.in_(value) if value else false()
    if op == "contains":
        return column.icontains(value, autoescape=True)
    return cast(
        ColumnElement[bool],
        {
            "lt": column < value,
            "lte": column <= value,
            "gt": column > value,
            "gte": column >= value,
        }[op],
    )


def _keyword(t: Tables, words: str, hidden: frozenset[str]) -> ColumnElement[bool]:
    """The search box's condition: the record numbered ``#12``; for other text, the record
    numbered so (``12``) or holding every word of the text in some field the viewer reads (the full-text index, words matching as prefixes; see
    :mod:`tangram.platform.records.search`). Text without words (only punctuation) is looked for
    as it is in the text fields the viewer reads."""
    number = words.lstrip("#")
    is_number = number.isascii() and number.isdigit() and len(number) < 19
    if is_number and words.startswith("#"):  # "#12" names a record, nothing else
        return t.main.c._id == int(number)
    found: list[ColumnElement[bool]] = []
    wanted = query_tokens(words, search.segmenter())
    if wanted:
        fields = search.field_names(t.projection, hidden)
        found.append(search.matches(t.main.c._id, wanted, fields))
    else:
        texts = [
            c for c in t.projection.columns if c.kind is ColumnKind.TEXT and c.key not in hidden
        ]
        found.extend(t.main.c[c.key].icontains(words, autoescape=True) for c in texts)
    if is_number:
        found.append(t.main.c._id == int(number))
    return or_(*found) if found else false()


def conditions(
    t: Tables, filters: Sequence[Filter], *, time_zone: str, hidden: frozenset[str] = frozenset()
) -> list[ColumnElement[bool]]:
    """SQL conditions on the main table for ``filters``; 422 listing every bad one. A field in
    ``hidden`` (the viewer may not read it) cannot be filtered on, nor searched."""
    tz = ZoneInfo(time_zone)
    problems = _Problems()
    out: list[ColumnElement[bool]] = []
    for f in filters:
        path = f.source or f.field
        if f.field == KEYWORD:
            words = (f.value if isinstance(f.value, str) else " ".join(f.value)).strip()
            if len(words) > MAX_KEYWORD:
                problems.add(path, f"at most {MAX_KEYWORD} characters")
            elif words:
                out.append(_keyword(t, words, hidden))
            continue
        target = None if f.field.partition(".")[0] in hidden else _target(t, f.field)
        if target is None:
            problems.add(path, f"{f.field!r} is not a field of this form that can be filtered")
            continue
        if f.op not in OPERATORS:
            problems.add(path, f"unknown operator {f.op!r}; use one of {', '.join(OPERATORS)}")
            continue
        kind = target.kind
        if kind is None and f.op != "empty":
            problems.add(path, "a sub-table can only be tested for empty (or filter its fields)")
            continue
        if f.op in ("lt", "lte", "gt", "gte") and kind not in _ORDERED:
            problems.add(path, f"{f.op!r} needs a field with an order (number, date, text)")
            continue
        if f.op == "contains" and kind not in (ColumnKind.TEXT, ColumnKind.ARRAY):
            problems.add(path, "'contains' works on text and multi-select fields")
            continue
        empty: bool | None = None
        value: Any = None
        try:
            if f.op == "empty":
                empty = _convert(ColumnKind.BOOLEAN, str(f.value), tz)
            elif f.op == "in":
                values = [f.value] if isinstance(f.value, str) else list(f.value)
                if len(values) > MAX_IN_VALUES:
                    raise ValueError(f"at most {MAX_IN_VALUES} values")
                value = [_convert(kind, v, tz) for v in values]  # type: ignore[arg-type]
            else:
                raw = f.value if isinstance(f.value, str) else ",".join(f.value)
                value = _convert(kind, raw, tz)  # type: ignore[arg-type]
        except ValueError as exc:
            problems.add(path, str(exc))
            continue
        if target.child:
            child = target.table
            linked = child.c._record == t.main.c._id
            if kind is None:  # the sub-table itself: rows or none
                has_rows = exists(select(child.c._record).where(linked))
                out.append(not_(has_rows) if empty else has_rows)
            else:
                out.append(
                    exists(
                        select(child.c._record).where(
                            linked, _condition(target, f.op, value, empty)
                        )
                    )
                )
        else:
            out.append(_condition(target, f.op, value, empty))
    problems.raise_any(f"The list query has {len(problems.errors)} problem(s).")
    return out


@dataclass(frozen=True, slots=True)
class Ordering:
    """Resolved sort keys: (column name, kind, descending, nullable), ending with ``_id``."""

    keys: tuple[tuple[str, ColumnKind, bool, bool], ...]
    signature: str

    def order_by(self, main: Table) -> list[Any]:
        """ORDER BY terms: empty values last in both directions, ``_id`` breaking ties."""
        terms: list[Any] = []
        for name, _kind, descending, nullable in self.keys:
            column = main.c[name]
            if nullable:
                terms.append(column.is_(None))
            terms.append(column.desc() if descending else column.asc())
        return terms

    def after(self, main: Table, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows that sort strictly after the row with these sort values."""
        predicate: ColumnElement[bool] | None = None
        for (name, _kind, descending, nullable), value in reversed(
            list(zip(self.keys, values, strict=True))
        ):
            column = main.c[name]
            strict: ColumnElement[bool]
            if value is None:
                strict, equal = false(), column.is_(None)
            else:
                strict = column < value if descending else column > value
                if nullable:
                    strict = or_(strict, column.is_(None))
                equal = column == value
            predicate = strict if predicate is None else or_(strict, and_(equal, predicate))
        assert predicate is not None
        return predicate

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        """The sort values of a result row (a mapping of the main table's columns)."""
        return [row[name] for name, *_ in self.keys]

    def encode(self, values: Sequence[Any]) -> str:
        """An opaque cursor for the page after the row with these sort values."""
        payload = {"s": self.signature, "v": [_jsonable(v) for v in values]}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        """Sort values from a cursor made by :meth:`encode` for the same sort."""
        bad = ValidationFailed(
            "The cursor is not valid for this list (it belongs to another sort or was altered).",
            code="query.invalid",
            errors=[{"path": "cursor", "code": "cursor.invalid", "message": "not a valid cursor"}],
        )
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError):
            raise bad from None
        if (
            not isinstance(payload, dict)
            or payload.get("s") != self.signature
            or not isinstance(payload.get("v"), list)
            or len(payload["v"]) != len(self.keys)
        ):
            raise bad
        out: list[Any] = []
        for (_name, kind, _desc, nullable), raw in zip(self.keys, payload["v"], strict=True):
            if raw is None:
                if not nullable:
                    raise bad
                out.append(None)
                continue
            try:
                out.append(_from_json(kind, raw))
            except (TypeError, ValueError):
                raise bad from None
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _from_json(kind: ColumnKind, raw: Any) -> Any:
    if kind is ColumnKind.DATETIME:
        return datetime.fromisoformat(str(raw)).astimezone(UTC)
    if kind is ColumnKind.DATE:
        return date.fromisoformat(str(raw))
    if kind is ColumnKind.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise TypeError(raw)
        return raw
    if kind in (ColumnKind.FLOAT, ColumnKind.DECIMAL):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TypeError(raw)
        return float(raw)
    if kind is ColumnKind.BOOLEAN:
        if not isinstance(raw, bool):
            raise TypeError(raw)
        return raw
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def ordering(t: Tables, keys: Sequence[SortKey], hidden: frozenset[str] = frozenset()) -> Ordering:
    """Resolve sort keys against the projection (422 for unknown or unsortable fields, and for
    those in ``hidden``: the viewer may not read them)."""
    problems = _Problems()
    if len(keys) > MAX_SORT_KEYS:
        problems.add("sort", f"at most {MAX_SORT_KEYS} sort keys", "sort.invalid")
    columns = t.projection.by_key
    resolved: list[tuple[str, ColumnKind, bool, bool]] = []
    for key in keys:
        if key.field in META_KINDS:
            nullable = bool(t.main.c[key.field].nullable)
            resolved.append((key.field, META_KINDS[key.field], key.descending, nullable))
        elif (
            key.field in columns
            and key.field not in hidden
            and columns[key.field].kind in _ORDERED | {ColumnKind.BOOLEAN}
        ):
            resolved.append((key.field, columns[key.field].kind, key.descending, True))
        else:
            problems.add(
                "sort", f"{key.field!r} is not a field of this form that can sort", "sort.invalid"
            )
    problems.raise_any("The sort is not valid.")
    if not any(name == "_id" for name, *_ in resolved):
        resolved.append(("_id", ColumnKind.INTEGER, False, False))
    signature = ",".join(("-" if d else "") + n for n, _k, d, _n in resolved)
    return Ordering(tuple(resolved), signature)
