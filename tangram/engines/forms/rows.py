"""Sub-table rows by identity, and the three-way merge of a record's documents.

Every sub-table row carries ``_id``, a short identifier the platform gives it when it is first
written (:func:`with_row_ids`); a row keeps it through every later write, wherever it moves in
the table. So a change can be merged by row, not by position: :func:`merge` applies what one
writer changed between the version they saw (``base``) and what they send (``mine``) to the
record as it is now (``current``), row by row and field by field, and names the places where a
later change and theirs disagree. Nobody's change is lost: it is merged, or refused as a
conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tangram.engines.forms.fields import ROW_ID, FieldType
from tangram.engines.forms.form import Form


def with_row_ids(form: Form, data: Mapping[str, Any], new_id: Callable[[], str]) -> dict[str, Any]:
    """``data`` with an ``_id`` on every row of every sub-table: rows keep theirs; a row
    without one, or with one an earlier row of the table already uses, gets ``new_id()``."""
    out = dict(data)
    for f in form.fields:
        rows = data.get(f.key)
        if f.type is not FieldType.SUB_TABLE or not isinstance(rows, list):
            continue
        seen: set[Any] = set()
        fixed = []
        for row in rows:
            if not isinstance(row, Mapping):
                fixed.append(row)
                continue
            rid = row.get(ROW_ID)
            if not isinstance(rid, str) or not rid or rid in seen:
                rid = new_id()
                row = {**row, ROW_ID: rid}
            seen.add(rid)
            fixed.append(row)
        out[f.key] = fixed
    return out


def identified(rows: Any) -> dict[str, Mapping[str, Any]] | None:
    """A table's rows by ``_id`` (``None`` when a row has none: rows written before ids)."""
    if rows is None:
        return {}
    if not isinstance(rows, list):
        return None
    out: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        rid = row.get(ROW_ID) if isinstance(row, Mapping) else None
        if not isinstance(rid, str):
            return None
        out[rid] = row
    return out


@dataclass(frozen=True, slots=True)
class Merged:
    """The current document with one writer's changes applied, and where they conflict."""

    data: dict[str, Any]
    #: JSON pointers (into the writer's document) where a later change disagrees with theirs.
    conflicts: tuple[str, ...]


def merge(
    form: Form, base: Mapping[str, Any], mine: Mapping[str, Any], current: Mapping[str, Any]
) -> Merged:
    """Apply what changed from ``base`` to ``mine`` onto ``current``, field by field and, in
    sub-tables, row by row (by ``_id``) and field by field within a row. A field (or row field)
    that both ``mine`` and a later change set to different values is a conflict; so is a row
    one side removed and the other changed."""
    out = dict(current)
    conflicts: list[str] = []
    for f in form.fields:
        key = f.key
        b, m, c = base.get(key), mine.get(key), current.get(key)
        if m == b:
            continue  # the writer left it alone: it stays as it is now
        if f.type is FieldType.SUB_TABLE:
            rows = _merge_rows(key, b, m, c, conflicts)
            if rows is not None:
                out[key] = rows
                continue
        if c in (b, m):
            _put(out, key, m)
        else:
            conflicts.append(f"/{key}")
    return Merged(out, tuple(conflicts))


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _merge_rows(
    key: str, base: Any, mine: Any, current: Any, conflicts: list[str]
) -> list[Any] | None:
    """The table merged by row identity, or ``None`` when a side has rows without ids (then
    the table merges as one value)."""
    by_base, by_current = identified(base), identified(current)
    if by_base is None or by_current is None or not isinstance(mine, list | type(None)):
        return None
    result = [dict(r) for r in (current or [])]
    at = {r[ROW_ID]: i for i, r in enumerate(result)}
    kept_ids: set[str] = set()
    for position, row in enumerate(mine or []):
        if not isinstance(row, Mapping):
            return None
        rid = row.get(ROW_ID)
        before = by_base.get(rid) if isinstance(rid, str) else None
        if before is None:
            result.append(dict(row))  # a row the writer added
            continue
        kept_ids.add(str(rid))
        if row == before:
            continue
        if rid not in at:
            conflicts.append(f"/{key}/{position}")  # removed since, changed by the writer
            continue
        now = result[at[str(rid)]]
        for name in set(before) | set(row):
            wanted, was = row.get(name), before.get(name)
            if wanted == was:
                continue
            if now.get(name) in (was, wanted):
                _put(now, name, wanted)
            else:
                conflicts.append(f"/{key}/{position}/{name}")
    removed = [rid for rid in by_base if rid not in kept_ids]
    gone = set()
    for rid in removed:
        if rid not in at:
            continue  # removed by both
        if by_current[rid] == by_base[rid]:
            gone.add(rid)
        else:
            conflicts.append(f"/{key}")  # the writer removed a row a later change edited
    return [r for r in result if r.get(ROW_ID) not in gone]


def changed_rows(base: Any, mine: Any) -> tuple[set[str], int, set[str]]:
    """What a writer did to a table: the ids of rows they changed, how many rows they added and
    the ids of rows they removed (rows without ids count as added)."""
    before = identified(base) or {}
    changed: set[str] = set()
    added = 0
    present: set[str] = set()
    for row in mine if isinstance(mine, list) else []:
        rid = row.get(ROW_ID) if isinstance(row, Mapping) else None
        if not isinstance(rid, str) or rid not in before:
            added += 1
            continue
        present.add(rid)
        if row != before[rid]:
            changed.add(rid)
    return changed, added, set(before) - present


def position_of(rows: Sequence[Any], rid: str) -> int | None:
    """Where the row ``rid`` is in ``rows``."""
    return next(
        (i for i, r in enumerate(rows) if isinstance(r, Mapping) and r.get(ROW_ID) == rid), None
    )
