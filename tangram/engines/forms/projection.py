"""What a form projects to: typed columns per scalar field, a child table per sub-table.

The platform turns this description into real tables (DESIGN.md §4); the engine only says which
fields are projected, with which column kind, and how a stored value becomes a column value.
Files (attachments, signatures) are not projected: nothing filters or sums them.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from tangram.engines.common import checksum
from tangram.engines.forms.fields import FILE_TYPES, TEXT_TYPES, FieldDef, FieldType


class ColumnKind(StrEnum):
    """The portable kinds of projected columns (the platform maps them to SQL types)."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    #: A JSON array of option values (multi-select), matched element by element.
    ARRAY = "array"


_BY_TYPE = {
    **dict.fromkeys(TEXT_TYPES, ColumnKind.TEXT),
    FieldType.SELECT: ColumnKind.TEXT,
    FieldType.RADIO: ColumnKind.TEXT,
    FieldType.EMAIL: ColumnKind.TEXT,
    FieldType.PHONE: ColumnKind.TEXT,
    FieldType.SERIAL: ColumnKind.TEXT,
    FieldType.INTEGER: ColumnKind.INTEGER,
    FieldType.USER: ColumnKind.INTEGER,
    FieldType.GROUP: ColumnKind.INTEGER,
    FieldType.REFERENCE: ColumnKind.INTEGER,
    FieldType.NUMBER: ColumnKind.FLOAT,
    FieldType.MONEY: ColumnKind.DECIMAL,
    FieldType.CHECKBOX: ColumnKind.BOOLEAN,
    FieldType.DATE: ColumnKind.DATE,
    FieldType.DATETIME: ColumnKind.DATETIME,
    FieldType.MULTI_SELECT: ColumnKind.ARRAY,
}
_BY_RESULT = {
    "number": ColumnKind.FLOAT,
    "integer": ColumnKind.INTEGER,
    "text": ColumnKind.TEXT,
    "boolean": ColumnKind.BOOLEAN,
    "date": ColumnKind.DATE,
    "datetime": ColumnKind.DATETIME,
}


def column_kind(f: FieldDef) -> ColumnKind | None:
    """The column kind a field projects to, or ``None`` (files, sub-tables)."""
    if f.type is FieldType.FORMULA:
        return _BY_RESULT.get(f.result)
    if f.type in FILE_TYPES or f.type is FieldType.SUB_TABLE:
        return None
    return _BY_TYPE[f.type]


@dataclass(frozen=True, slots=True)
class Column:
    """A projected field: its key (the column name), kind and index wishes."""

    key: str
    kind: ColumnKind
    indexed: bool = False
    unique: bool = False

    def value(self, raw: Any) -> Any:
        """The column value of a stored field value (``None`` when empty or of another type).

        Empty text and empty lists become ``None`` so that "empty" means one thing in queries;
        a value written under an older form version with another type is not projected.
        """
        return to_column(self.kind, raw)


@dataclass(frozen=True, slots=True)
class Child:
    """A sub-table: one row per element, with the row's scalar fields as columns."""

    key: str
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class Projection:
    """The projection of a form; ``digest`` changes exactly when the tables must change."""

    columns: tuple[Column, ...]
    children: tuple[Child, ...]
    digest: str

    @property
    def by_key(self) -> dict[str, Column]:
        """Columns of the main table by field key."""
        return {c.key: c for c in self.columns}

    def describe(self) -> dict[str, Any]:
        """A JSON description (what the platform records beside the tables)."""
        return _describe(self.columns, self.children)

    def row(self, data: Mapping[str, Any], keys: Container[str] | None = None) -> dict[str, Any]:
        """Main-table values of a record document (only the columns of ``keys``, if given)."""
        return {
            c.key: c.value(data.get(c.key)) for c in self.columns if keys is None or c.key in keys
        }

    def child_rows(self, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """Child-table rows of a record document, per sub-table, numbered from 0."""
        out: dict[str, list[dict[str, Any]]] = {}
        for child in self.children:
            rows = data.get(child.key)
            out[child.key] = [
                {"_row": i, **{c.key: c.value(row.get(c.key)) for c in child.columns}}
                for i, row in enumerate(rows if isinstance(rows, list) else [])
                if isinstance(row, Mapping)
            ]
        return out

    @classmethod
    def from_description(cls, described: Mapping[str, Any]) -> Projection:
        """Rebuild a projection from :meth:`describe` output."""

        def columns(items: Any) -> tuple[Column, ...]:
            return tuple(
                Column(c["key"], ColumnKind(c["kind"]), bool(c["indexed"]), bool(c["unique"]))
                for c in items
            )

        cols = columns(described["columns"])
        children = tuple(Child(c["key"], columns(c["columns"])) for c in described["children"])
        return cls(cols, children, checksum(_describe(cols, children)))


def _describe(columns: tuple[Column, ...], children: tuple[Child, ...]) -> dict[str, Any]:
    def cols(items: tuple[Column, ...]) -> list[dict[str, Any]]:
        return [
            {"key": c.key, "kind": c.kind.value, "indexed": c.indexed, "unique": c.unique}
            for c in items
        ]

    return {
        "columns": cols(columns),
        "children": [{"key": c.key, "columns": cols(c.columns)} for c in children],
    }


def _columns(fields: tuple[FieldDef, ...], *, top: bool) -> tuple[Column, ...]:
    out = []
    for f in fields:
        kind = column_kind(f)
        if kind is None:
            continue
        # References are always indexed: "records pointing at X" is the commonest join.
        indexed = f.indexed or f.unique or f.type is FieldType.REFERENCE
        out.append(Column(f.key, kind, indexed, f.unique and top))
    return tuple(out)


def project(fields: tuple[FieldDef, ...]) -> Projection:
    """The projection of a form with these fields."""
    columns = _columns(fields, top=True)
    children = tuple(
        Child(f.key, _columns(f.fields, top=False)) for f in fields if f.type is FieldType.SUB_TABLE
    )
    return Projection(columns, children, checksum(_describe(columns, children)))


def to_column(kind: ColumnKind, raw: Any) -> Any:
    """Convert a JSON value to the Python value of a column of ``kind`` (``None`` if it cannot)."""
    if raw is None or raw == "" or raw == []:
        return None
    try:
        return _CONVERT[kind](raw)
    except (TypeError, ValueError):
        return None


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def _integer(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
        raise TypeError(raw)
    return int(raw)


def _float(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError(raw)
    return float(raw)


def _boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise TypeError(raw)
    return raw


def _date(raw: Any) -> date:
    return date.fromisoformat(_text(raw))


def _datetime(raw: Any) -> datetime:
    value = datetime.fromisoformat(_text(raw))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _array(raw: Any) -> str:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise TypeError(raw)
    return array_text(sorted(raw))


def array_text(values: list[str]) -> str:
    """How a multi-select value is stored: a JSON array (one element is ``json.dumps(value)``)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


_CONVERT: dict[ColumnKind, Any] = {
    ColumnKind.TEXT: _text,
    ColumnKind.INTEGER: _integer,
    ColumnKind.FLOAT: _float,
    ColumnKind.DECIMAL: _float,
    ColumnKind.BOOLEAN: _boolean,
    ColumnKind.DATE: _date,
    ColumnKind.DATETIME: _datetime,
    ColumnKind.ARRAY: _array,
}
