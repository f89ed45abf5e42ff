"""Record lists as spreadsheets: the records a list shows (same filters, sort and read scope), a
column per field with its label, option labels instead of stored values, names instead of ids
for people, groups and referenced records, yes or no for switches, and times in the app's time
zone as people read them (``2026-12-04 09:30``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tangram.engines.forms import FieldDef, FieldType
from tangram.engines.forms.fields import text
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import spreadsheets
from tangram.platform.kernel.errors import NotFound, PermissionDenied
from tangram.platform.kernel.models import App, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records import reading
from tangram.platform.records.listing import Filter, SortKey

#: At most this many records per export (the list's filters narrow it).
MAX_ROWS = 100_000
PAGE = 500
SKIPPED = (FieldType.SUB_TABLE, FieldType.SIGNATURE)
#: How a switch reads, by language.
YES_NO = {"zh-CN": ("是", "否"), "en": ("Yes", "No")}
#: The two columns every export starts with, by language.
LEADING = {"zh-CN": ("编号", "创建时间"), "en": ("No.", "Created at")}
MINUTES = "%Y-%m-%d %H:%M"


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


#: ``field key → id → name`` for the user, group and reference fields of one page.
Names = dict[str, dict[int, str]]


def page_names(
    uow: UnitOfWork, actor: Actor, app_key: str, fields: Sequence[FieldDef], page: Sequence[Record]
) -> Names:
    """People's and groups' names, and referenced records' display values, for one page: a query
    per field kind (a reference per target form, in the viewer's read scope; one they may not
    read keeps its ids)."""
    wanted: dict[str, set[int]] = {}
    for f in fields:
        if f.type in (FieldType.USER, FieldType.GROUP, FieldType.REFERENCE):
            ids = {v for r in page if isinstance(v := r.data.get(f.key), int)}
            if ids:
                wanted[f.key] = ids
    out: Names = {}
    by_key = {f.key: f for f in fields}
    people = {i for k, ids in wanted.items() if by_key[k].type is FieldType.USER for i in ids}
    groups = {i for k, ids in wanted.items() if by_key[k].type is FieldType.GROUP for i in ids}
    user_names, group_names = users.names_of(uow, users=people, groups=groups)
    for key, ids in wanted.items():
        f = by_key[key]
        if f.type is FieldType.USER:
            out[key] = {i: user_names[i] for i in ids if i in user_names}
        elif f.type is FieldType.GROUP:
            out[key] = {i: group_names[i] for i in ids if i in group_names}
        elif f.reference_form and f.reference_display:
            try:
                found = reading.list_records(
                    uow,
                    actor,
                    app_key,
                    f.reference_form,
                    filters=[Filter("_id", "in", [str(i) for i in sorted(ids)])],
                    limit=len(ids),
                )
            except (PermissionDenied, NotFound):
                continue
            display = f.reference_display
            out[key] = {
                r.id: str(r.data[display]) for r in found.items if r.data.get(display) is not None
            }
    return out


def local_time(value: datetime | str, zone: ZoneInfo) -> str:
    """An instant as people read it in ``zone`` (``2026-12-04 09:30``); text that is not an
    instant with its offset stays as it is."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return value
        value = parsed
    return value.astimezone(zone).strftime(MINUTES)


def cell(field: FieldDef, value: Any, lang: str, names: Names, zone: ZoneInfo) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        yes, no = YES_NO.get(lang, YES_NO["zh-CN"])
        return yes if value else no
    if field.type is FieldType.DATETIME and isinstance(value, str):
        return local_time(value, zone)
    if isinstance(value, int) and value in names.get(field.key, {}):
        return names[field.key][value]
    if field.options:
        labels = {o.value: text(o.label, lang) for o in field.options}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
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
) -> Sheet:
    """The records of a list (its filters, sort and the actor's read scope), a page at a time."""
    zone = ZoneInfo(
        uow.session.scalar(select(App.time_zone).where(App.key == app_key))
        or uow.settings.time_zone
    )
    rows: list[list[Any]] = []
    cursor: str | None = None
    shown: list[FieldDef] = []
    title = form_key
    truncated = False
    while True:
        page = reading.list_records(
            uow,
            actor,
            app_key,
            form_key,
            filters=filters,
            sort=sort,
            cursor=cursor,
            limit=PAGE,
        )
        if not shown:
            shown = [
                f for f in page.form.fields if f.type not in SKIPPED and f.key not in page.hidden
            ]
            title = text(page.form.label, lang)
        names = page_names(uow, actor, app_key, shown, page.items)
        for record in page.items:
            rows.append(
                [
                    record.id,
                    local_time(record.created_at, zone),
                    *(cell(f, record.data.get(f.key), lang, names, zone) for f in shown),
                ]
            )
        cursor = page.next_cursor
        if cursor is None:
            break
        if len(rows) >= MAX_ROWS:
            truncated = True
            break
    columns = [*LEADING.get(lang, LEADING["zh-CN"]), *(text(f.label, lang) for f in shown)]
    return Sheet(title, columns, rows, truncated)
