"""Record lists as spreadsheets: the records a list shows (same filters, sort and read scope), a
column per field with its label, option labels instead of stored values."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tangram.engines.forms import FieldDef, FieldType
from tangram.engines.forms.fields import text
from tangram.platform import records, spreadsheets
from tangram.platform.listing import Filter, SortKey
from tangram.platform.perms import Actor
from tangram.platform.uow import UnitOfWork

#: At most this many records per export (the list's filters narrow it).
MAX_ROWS = 100_000
PAGE = 500
SKIPPED = (FieldType.SUB_TABLE, FieldType.SIGNATURE)


@dataclass(frozen=True)
class Sheet:
    """An export: its title, column names and rows."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool

    def csv_chunks(self) -> Iterator[str]:
        """CSV text a chunk at a time."""
        return spreadsheets.csv_chunks(self.columns, self.rows)

    def xlsx(self) -> bytes:
        """An Excel workbook."""
        return spreadsheets.xlsx(self.title or "records", self.columns, self.rows)


def _cell(field: FieldDef, value: Any, lang: str) -> Any:
    if value is None:
        return None
    if field.options:
        names = {o.value: text(o.label, lang) for o in field.options}
        values = value if isinstance(value, list) else [value]
        return ", ".join(names.get(str(v), str(v)) for v in values)
    if field.type in (FieldType.ATTACHMENT, FieldType.ATTACHMENTS):
        files = value if isinstance(value, list) else [value]
        return ", ".join(str(f.get("name") or f.get("id")) for f in files if isinstance(f, dict))
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record_sheet(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    *,
    filters: Sequence[Filter] = (),
    sort: Sequence[SortKey] = (),
    lang: str = "zh-CN",
    time_zone: str = records.DEFAULT_TIME_ZONE,
) -> Sheet:
    """The records of a list (its filters, sort and the actor's read scope), a page at a time."""
    rows: list[list[Any]] = []
    cursor: str | None = None
    shown: list[FieldDef] = []
    title = form_key
    truncated = False
    while True:
        page = records.list_records(
            uow,
            actor,
            app_key,
            form_key,
            filters=filters,
            sort=sort,
            cursor=cursor,
            limit=PAGE,
            time_zone=time_zone,
        )
        if not shown:
            shown = [f for f in page.form.fields if f.type not in SKIPPED]
            title = text(page.form.label, lang)
        for record in page.items:
            rows.append(
                [
                    record.id,
                    record.created_at.isoformat(),
                    *(_cell(f, record.data.get(f.key), lang) for f in shown),
                ]
            )
        cursor = page.next_cursor
        if cursor is None:
            break
        if len(rows) >= MAX_ROWS:
            truncated = True
            break
    columns = ["#", "created_at", *(text(f.label, lang) for f in shown)]
    return Sheet(title, columns, rows, truncated)
