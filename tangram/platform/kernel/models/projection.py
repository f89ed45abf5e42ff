"""Projection tables: the typed tables each published form gets (built per form by
:mod:`tangram.platform.records.projections`), and the names they and their indexes take."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Insert, Table, insert

from tangram.engines.forms import Projection


def identifier(*parts: str) -> str:
    """A table or index name of at most 63 characters (PostgreSQL's limit), unique for its parts
    (the names of projection tables and their indexes are made of app ids and field keys)."""
    joined = "_".join(parts)
    if len(joined) <= 63:
        return joined
    return f"{joined[:54]}_{hashlib.sha256(joined.encode()).hexdigest()[:8]}"


def created_index_name(table: str) -> str:
    """The index every main projection table has on the ``_created_at`` of its live records."""
    return identifier("ix", table, "_created_at")


@dataclass(frozen=True, slots=True)
class Tables:
    """The SQLAlchemy tables of one projection (never bound to a session's metadata)."""

    projection: Projection
    main: Table
    children: Mapping[str, Table]
    #: Insert statements built once (a new construct per write would compute its cache key
    #: every time): the main table's, and each child table's by sub-table key.
    main_insert: Insert = field(init=False)
    child_inserts: Mapping[str, Insert] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "main_insert", insert(self.main))
        children = {key: insert(table) for key, table in self.children.items()}
        object.__setattr__(self, "child_inserts", children)

    def all(self) -> list[Table]:
        """Main table first, then the child tables."""
        return [self.main, *self.children.values()]
