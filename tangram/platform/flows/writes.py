"""What a task's submission writes to its record.

A submission is based on the record version its task showed (``lock_version``). What its holder
changed is the difference between that version and what they send; it is merged onto the record
as it is now, field by field and, in sub-tables, row by row by row identity, so holders of
parallel tasks who submit one after the other keep each other's work. A change that disagrees
with one made since is refused with 409 and the current record: nothing is dropped silently.

A task opened for one sub-table row (multi-instance over a table) may change that row only, and
what its node lets it change outside the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tangram.engines.flows import Node
from tangram.engines.forms import Form, Permission, changed_rows, merge, position_of
from tangram.engines.forms.messages import message
from tangram.platform.kernel.errors import StaleVersion, ValidationFailed
from tangram.platform.kernel.models import Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records.versions import document_at


def own_row(node: Node, task_state: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ``(table, row id)`` a task of a multi-instance node over a table belongs to."""
    multi = node.multi
    row_id = task_state.get("row_id")
    if multi is None or multi.over is None or not isinstance(row_id, str):
        return None
    return multi.over, row_id


def _stale(record: Record, detail: str, conflicts: list[str] | None = None) -> StaleVersion:
    return StaleVersion(
        detail,
        current={
            "id": record.id,
            "data": record.data,
            "lock_version": record.lock_version,
            **({"conflicts": conflicts} if conflicts else {}),
        },
        current_version=record.lock_version,
    )


def submitted_changes(
    uow: UnitOfWork,
    form: Form,
    record: Record,
    data: Mapping[str, Any],
    *,
    lock_version: int | None,
    permissions: Mapping[str, Permission],
    row: tuple[str, str] | None,
    lang: str,
) -> dict[str, Any]:
    """The changes a submission of ``data`` based on ``lock_version`` makes to the record now
    (``null`` clears a field); raises when it may not make them or they conflict."""
    if lock_version is None:
        raise ValidationFailed(
            "Say which version of the record the task showed.",
            code="task.lock_version",
            errors=[{"path": "lock_version", "message": "the record's lock_version"}],
        )
    base = document_at(uow, record, lock_version)
    if base is None:
        raise _stale(
            record,
            f"The record changed in a way this task cannot merge (your version {lock_version}, "
            f"current {record.lock_version}). Reload the task and apply your change again.",
        )
    seen = {k: v for k, v in base.items() if k in form.by_key}
    errors = form.check_write(seen, data, permissions, lang=lang, flow=True)
    if errors:
        raise ValidationFailed(
            "This task may not change these fields.",
            code="record.invalid",
            errors=[e.as_dict() for e in errors],
        )
    mine = {**base, **data}
    if row is not None:
        _only_own_row(base, mine, row)
    current = dict(record.data)
    merged = merge(form, base, mine, current)
    if merged.conflicts:
        raise _stale(
            record,
            "Someone changed the same fields since this task was shown: "
            + ", ".join(merged.conflicts)
            + ". Reload the task and apply your change again.",
            list(merged.conflicts),
        )
    return {
        key: merged.data.get(key) for key in form.by_key if merged.data.get(key) != current.get(key)
    }


def _only_own_row(base: Mapping[str, Any], mine: Mapping[str, Any], row: tuple[str, str]) -> None:
    table, row_id = row
    changed, added, removed = changed_rows(base.get(table), mine.get(table))
    others = sorted(changed - {row_id})
    if not (others or added or removed):
        return
    rows = mine.get(table)
    rows = rows if isinstance(rows, list) else []
    at = [position_of(rows, rid) for rid in others]
    errors = [
        {"path": f"{table}/{i}", "message": "another owner's row"} for i in at if i is not None
    ]
    if added or removed:
        errors.append({"path": table, "message": "rows are added and removed elsewhere"})
    before = base.get(table)
    own = position_of(before if isinstance(before, list) else [], row_id)
    raise ValidationFailed(
        f"This task may change only its own row of {table!r}"
        + (f" (row {own + 1})." if own is not None else "."),
        code="task.row",
        errors=errors,
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def require_filled(form: Form, node: Node, data: Mapping[str, Any], *, lang: str) -> None:
    """Refuse a submission or approval that leaves a field the node requires empty (a field its
    visible-when hides for ``data`` is not asked for): the record as it would be after the
    change, ``data``, is what is judged."""
    visible = set(form.visible_fields(data))
    missing = [key for key in node.required if key in visible and _blank(data.get(key))]
    if missing:
        raise ValidationFailed(
            "This step needs these fields filled in: " + ", ".join(missing) + ".",
            code="task.required",
            errors=[{"path": key, "message": message("required", lang)} for key in missing],
        )
