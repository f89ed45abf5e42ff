"""Projection tables: the typed tables each published form gets (built per form by
:mod:`tangram.platform.records.projections`), and the names they and their indexes take."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Insert, Table, Update, bindparam, insert, update

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


#: How many sets of changed columns a projection keeps an update statement for.
UPDATES_KEPT = 64


@dataclass(frozen=True)
class Tables:
    """The SQLAlchemy tables of one projection (never bound to a session's metadata).

    Its write statements are built on first use and kept: a new construct per write would
    compute its cache key every time, and readers (reports make a ``Tables`` per widget) never
    build them."""

    projection: Projection
    main: Table
    children: Mapping[str, Table]

    @cached_property
    def main_insert(self) -> Insert:
        """The main table's insert."""
        return insert(self.main)

    @cached_property
    def child_inserts(self) -> Mapping[str, Insert]:
        """Each child table's insert, by sub-table key."""
        return {key: insert(table) for key, table in self.children.items()}

    @cached_property
    def main_update(self) -> Update:
        """The main row's update of every column (its values coerced into a SET clause per write
        cost more than the statement's execution): every column but ``_id``, each bound as
        ``set_<column>``, the row's id as ``row_id`` (see :meth:`update_params`)."""
        return self._update_of(tuple(c.key for c in self.main.c if c.key != "_id"))

    @cached_property
    def _updates(self) -> dict[frozenset[str], Update]:
        return {}

    def main_update_of(self, columns: Collection[str]) -> Update:
        """The main row's update of ``columns`` only, built once per set of columns. A ticket's
        row has some fifty columns and a write changes a few: its statement binds a few values,
        and psycopg keeps its parsed form (it parses again every statement of more than 50
        parameters). Beyond :data:`UPDATES_KEPT` sets, the update of every column."""
        key = frozenset(columns)
        found = self._updates.get(key)
        if found is None:
            if len(self._updates) >= UPDATES_KEPT:
                return self.main_update
            found = self._updates[key] = self._update_of(tuple(sorted(key)))
        return found

    def _update_of(self, columns: tuple[str, ...]) -> Update:
        return (
            update(self.main)
            .where(self.main.c._id == bindparam("row_id"))
            .values({key: bindparam(f"set_{key}") for key in columns})
        )

    def update_params(self, row: Mapping[str, object]) -> dict[str, object]:
        """The parameters of :attr:`main_update` writing ``row`` (every column, ``_id`` too), or
        of :meth:`main_update_of` the columns ``row`` has."""
        params = {f"set_{key}": value for key, value in row.items() if key != "_id"}
        params["row_id"] = row["_id"]
        return params

    def all(self) -> list[Table]:
        """Main table first, then the child tables."""
        return [self.main, *self.children.values()]
