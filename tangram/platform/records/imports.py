"""Records from a spreadsheet, as Jiandaoyun imports them: upload an Excel workbook (or a CSV
file), map its columns to the form's fields (suggested from the headers), check every row —
each problem named by row, column and field — and then import all of it or nothing.

Cells are read as people type them: option labels or values; 是/否, yes/no, true/false, 1/0 for
switches; people by user name or display name, groups by name or key, referenced records by
their display value or ``#id``; dates as ``2026-12-01``, ``2026/12/1`` or a date cell; times
without an offset in the app's time zone; several choices separated by commas or 、. Sub-tables,
files and signatures are not imported (their columns cannot be mapped). A check runs the same
checks as creating a record (required fields, formats, ranges, references, unique values —
also against the file's own earlier rows) and writes nothing; an import creates every row in
one transaction, so a row refused at the last moment (a number taken meanwhile) leaves nothing
behind.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from tangram.engines.forms import FieldDef, FieldType, Form
from tangram.engines.forms.fields import text
from tangram.engines.forms.messages import message
from tangram.platform.identity.perms import Action, Actor
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import App, Group, Record, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import app_ref, compiled
from tangram.platform.records import service

#: The largest file taken, and the most rows: an import runs in one request and one transaction
#: (the request may follow it step by step: see :func:`run_steps`).
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 2000
#: Field types a column can fill.
IMPORTABLE = frozenset(FieldType) - {
    FieldType.SUB_TABLE,
    FieldType.ATTACHMENT,
    FieldType.ATTACHMENTS,
    FieldType.SIGNATURE,
    FieldType.FORMULA,
    FieldType.SERIAL,
}
YES = frozenset({"是", "yes", "y", "true", "1", "✓", "√", "对"})
NO = frozenset({"否", "no", "n", "false", "0", "✗", "×", "不"})
SEPARATORS = re.compile(r"[,，、;；\n]")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class Sheet:
    """A spreadsheet's header row and its data rows (empty rows left out)."""

    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row: its number as the spreadsheet shows it (the header is row 1),
    the column and the field it concerns (when one does) and the message."""

    row: int
    column: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API."""
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


@dataclass(slots=True)
class Report:
    """What a check or an import found."""

    columns: list[str]
    mapping: dict[str, str | None]
    rows: int
    problems: list[Problem] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    #: The first few values of each column, as text, to map columns by what they hold.
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> int:
        """Rows without a problem."""
        return self.rows - len({p.row for p in self.problems})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API."""
        return {
            "columns": self.columns,
            "mapping": self.mapping,
            "rows": self.rows,
            "valid": self.valid,
            "problems": [p.as_dict() for p in self.problems],
            "created": self.created,
            "samples": self.samples,
        }


def _refused(detail: str, code: str, path: str = "file") -> ValidationFailed:
    return ValidationFailed(detail, code=code, errors=[{"path": path, "message": detail}])


def read_sheet(name: str, content: bytes) -> Sheet:
    """The first sheet of an ``.xlsx`` workbook, or a ``.csv`` file (UTF-8, with or without a
    byte-order mark, or GB 18030 as Chinese Excel writes it)."""
    if len(content) > MAX_BYTES:
        raise _refused(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", "import.too_large"
        )
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif lowered.endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise _refused("Import an Excel workbook (.xlsx) or a CSV file (.csv).", "import.type")
    rows = [row for row in table if any(_blank(c) is False for c in row)]
    if not rows:
        raise _refused("The file holds no rows: its first row names the columns.", "import.empty")
    header = [("" if c is None else str(c)).strip() for c in rows[0]]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise _refused("The first row names no columns.", "import.empty")
    data = [list(row[: len(header)]) + [None] * (len(header) - len(row)) for row in rows[1:]]
    if len(data) > MAX_ROWS:
        raise _refused(
            f"The file has {len(data)} rows; import at most {MAX_ROWS} at a time.",
            "import.too_many",
        )
    return Sheet(header, data)


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook  # only imports need it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise _refused(
            f"The file is not an Excel workbook that can be read ({type(exc).__name__}).",
            "import.unreadable",
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        out: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True):
            out.append(list(row))
            if len(out) > MAX_ROWS + 1:
                break
        return out
    finally:
        book.close()


def _csv_rows(content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in decoded:
            raise _refused("The file holds NUL characters.", "import.unreadable")
        return [list(row) for row in csv.reader(io.StringIO(decoded))][: MAX_ROWS + 2]
    raise _refused("The CSV file is neither UTF-8 nor GB 18030 text.", "import.unreadable")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normal(name: str) -> str:
    return re.sub(r"[\s*＊:：()（）]", "", name).lower()


def importable(form: Form) -> list[FieldDef]:
    """The form's fields a column can fill."""
    return [f for f in form.fields if f.type in IMPORTABLE and not f.computed]


def suggest(form: Form, columns: Sequence[str]) -> dict[str, str | None]:
    """Each column's field: the one whose label (in any language) or key the header names."""
    names: dict[str, str] = {}
    for f in importable(form):
        for label in (f.key, *f.label.values()):
            names.setdefault(_normal(label), f.key)
    out: dict[str, str | None] = {}
    taken: set[str] = set()
    for column in columns:
        key = names.get(_normal(column))
        out[column] = key if key is not None and key not in taken else None
        if key is not None:
            taken.add(key)
    return out


@dataclass(slots=True)
class _Lookups:
    """People, groups and referenced records by the words a sheet names them with."""

    users: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    references: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)


def _lookups(
    uow: UnitOfWork, app_id: int, fields: Sequence[FieldDef], sheet: Sheet, at: dict[str, int]
) -> _Lookups:
    """One query per kind for every name the sheet's mapped columns hold."""
    found = _Lookups()
    words = {
        f.key: {str(row[at[f.key]]).strip() for row in sheet.rows if not _blank(row[at[f.key]])}
        for f in fields
    }
    kinds = {f.key: f for f in fields}
    users = {w for key, ws in words.items() if kinds[key].type is FieldType.USER for w in ws}
    if users:
        for row in uow.session.execute(
            select(User.id, User.username, User.display_name).where(
                or_(User.username.in_(users), User.display_name.in_(users))
            )
        ):
            found.users.setdefault(row.username, row.id)
            found.users.setdefault(row.display_name, row.id)
    groups = {w for key, ws in words.items() if kinds[key].type is FieldType.GROUP for w in ws}
    if groups:
        for row in uow.session.execute(
            select(Group.id, Group.key, Group.name).where(
                or_(Group.key.in_(groups), Group.name.in_(groups))
            )
        ):
            found.groups.setdefault(row.key, row.id)
            found.groups.setdefault(row.name, row.id)
    for f in fields:
        if f.type is not FieldType.REFERENCE or not f.reference_form or not f.reference_display:
            continue
        shown = Record.data[f.reference_display].as_string()
        target = (f.reference_form, f.reference_display)
        found.references[target] = {
            str(row[1]): int(row[0])
            for row in uow.session.execute(
                select(Record.id, shown).where(
                    Record.app_id == app_id,
                    Record.form_key == f.reference_form,
                    Record.deleted_at.is_(None),
                    shown.in_(words[f.key]),
                )
            )
        }
    return found


class _Cell(ValueError):
    """A cell that cannot be read as its field's type: a message code and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _as_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    words = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(words, pattern).date().isoformat()
        except ValueError:
            continue
    raise _Cell("import.date")


def _as_datetime(value: Any, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        words = str(value).strip()
        try:
            moment = datetime.fromisoformat(words)
        except ValueError:
            for pattern in (*DATETIME_FORMATS, *DATE_FORMATS):
                try:
                    moment = datetime.strptime(words, pattern)
                    break
                except ValueError:
                    continue
            else:
                raise _Cell("import.datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def _as_number(value: Any, whole: bool) -> int | float:
    if isinstance(value, bool):
        raise _Cell("import.number")
    if isinstance(value, int | float):
        number: int | float = value
    else:
        words = str(value).strip().replace(",", "").replace("，", "")
        try:
            number = float(words)
        except ValueError:
            raise _Cell("import.integer" if whole else "import.number") from None
    if whole:
        if float(number) != int(number):
            raise _Cell("import.integer")
        return int(number)
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _option(f: FieldDef, words: str, lang: str) -> str:
    for o in f.options:
        if words == o.value or words in o.label.values():
            return o.value
    raise _Cell(
        "import.option", options="、".join(text(o.label, lang) or o.value for o in f.options)
    )


def _convert(f: FieldDef, value: Any, zone: ZoneInfo, names: _Lookups, lang: str) -> Any:
    """A cell's value as the field stores it (``_Cell`` when it cannot be read so)."""
    words = value.strip() if isinstance(value, str) else value
    match f.type:
        case FieldType.NUMBER | FieldType.MONEY:
            return _as_number(value, whole=False)
        case FieldType.INTEGER:
            return _as_number(value, whole=True)
        case FieldType.DATE:
            return _as_date(value)
        case FieldType.DATETIME:
            return _as_datetime(value, zone)
        case FieldType.CHECKBOX:
            if isinstance(value, bool):
                return value
            lowered = str(words).lower()
            if lowered in YES:
                return True
            if lowered in NO:
                return False
            raise _Cell("import.yes_no")
        case FieldType.SELECT | FieldType.RADIO:
            return _option(f, str(words), lang)
        case FieldType.MULTI_SELECT:
            parts = SEPARATORS.split(str(words))
            return [_option(f, part.strip(), lang) for part in parts if part.strip()]
        case FieldType.USER:
            found = names.users.get(str(words))
            if found is None:
                raise _Cell("import.user")
            return found
        case FieldType.GROUP:
            found = names.groups.get(str(words))
            if found is None:
                raise _Cell("import.group")
            return found
        case FieldType.REFERENCE:
            label = str(words)
            if label.startswith("#") and label[1:].isascii() and label[1:].isdigit():
                return int(label[1:])
            target = (f.reference_form or "", f.reference_display or "")
            found = names.references.get(target, {}).get(label)
            if found is None:
                raise _Cell(
                    "import.reference", target=f.reference_form, display=f.reference_display
                )
            return found
        case _:
            if isinstance(value, datetime):
                return value.isoformat(sep=" ", timespec="minutes")
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(words)


def _column_of(mapping: Mapping[str, str | None], key: str) -> str | None:
    return next((column for column, field_key in mapping.items() if field_key == key), None)


def _rows(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    sheet: Sheet,
    mapping: Mapping[str, str | None] | None,
    lang: str,
) -> tuple[Form, dict[str, str | None], list[Row]]:
    """Each row's values for the form, and what could not be read."""
    service.require_scope(actor, Action.CREATE, app_key, form_key)
    _, form = compiled.form(uow, app_key, form_key)
    chosen = dict(suggest(form, sheet.columns) if mapping is None else mapping)
    fields = {f.key: f for f in importable(form)}
    problems: list[dict[str, str]] = []
    for column, key in chosen.items():
        if column not in sheet.columns:
            problems.append({"path": f"mapping/{column}", "message": "no such column"})
        elif key is not None and key not in fields:
            problems.append({"path": f"mapping/{column}", "message": f"{key!r} cannot be imported"})
    used = [key for key in chosen.values() if key is not None]
    for key in {k for k in used if used.count(k) > 1}:
        problems.append({"path": "mapping", "message": f"{key!r} is mapped from two columns"})
    if problems:
        raise ValidationFailed("The mapping does not fit the file and the form.", errors=problems)
    for column in sheet.columns:
        chosen.setdefault(column, None)
    at = {key: sheet.columns.index(column) for column, key in chosen.items() if key is not None}
    mapped = [fields[key] for key in at]
    app = app_ref(uow, actor, app_key)
    zone = ZoneInfo(
        uow.session.scalar(select(App.time_zone).where(App.id == app.id)) or uow.settings.time_zone
    )
    names = _lookups(uow, app.id, mapped, sheet, at)
    out = []
    for number, row in enumerate(sheet.rows, start=2):
        data: dict[str, Any] = {}
        wrong: list[Problem] = []
        for f in mapped:
            value = row[at[f.key]]
            if _blank(value):
                continue
            try:
                data[f.key] = _convert(f, value, zone, names, lang)
            except _Cell as exc:
                wrong.append(
                    Problem(
                        number,
                        _column_of(chosen, f.key),
                        f.key,
                        message(exc.code, lang, value=str(value)[:60], **exc.params),
                    )
                )
        out.append((number, data, wrong))
    return form, chosen, out


def _unique_in_file(
    form: Form,
    rows: Iterable[Row],
    mapping: Mapping[str, str | None],
    lang: str,
) -> None:
    """A unique field's value repeated in the file: the later rows get the problem."""
    seen: dict[tuple[str, str], int] = {}
    for number, data, wrong in rows:
        for f in form.unique_fields:
            value = data.get(f.key)
            if value is None:
                continue
            first = seen.setdefault((f.key, str(value)), number)
            if first != number:
                wrong.append(
                    Problem(
                        number,
                        _column_of(mapping, f.key),
                        f.key,
                        message("import.repeated", lang, row=first),
                    )
                )


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a check or an import has come: ``done`` of ``total`` rows at ``stage``
    (``check``, then ``write`` for an import)."""

    stage: str
    done: int
    total: int


#: A row of the file: its number as the spreadsheet shows it, its values for the form, and the
#: problems of the cells that could not be read.
Row = tuple[int, dict[str, Any], list[Problem]]

#: A check or an import, step by step: what it has done so far, then its report.
Steps = Generator[Progress, None, Report]


def _paced(
    stage: str, rows: Sequence[Row], work: Callable[[Row], None]
) -> Generator[Progress, None, None]:
    """Do ``work`` on each row, saying how far it has come: at the start, about fifty times on
    the way and at the end."""
    total = len(rows)
    every = max(1, total // 50)
    yield Progress(stage, 0, total)
    for done, row in enumerate(rows, start=1):
        work(row)
        if done % every == 0 and done < total:
            yield Progress(stage, done, total)
    yield Progress(stage, total, total)


def finish(steps: Steps) -> Report:
    """The report of a check or an import, its steps run without looking at them."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            report: Report = done.value
            return report


def check_steps(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    sheet: Sheet,
    mapping: Mapping[str, str | None] | None = None,
    *,
    lang: str = "zh-CN",
) -> Steps:
    """Every row's problems (none written), step by step: the cells that cannot be read, then
    what creating the row would refuse. Without ``mapping`` the columns map as :func:`suggest`
    says. Its first step comes once the file, the mapping and the caller's grant are known to fit
    (what refuses the whole file is raised before it); :func:`finish` runs it to its report."""
    form, chosen, rows = _rows(uow, actor, app_key, form_key, sheet, mapping, lang)
    _unique_in_file(form, rows, chosen, lang)
    report = Report(list(sheet.columns), chosen, len(rows), samples=samples(sheet))

    def check_row(row: Row) -> None:
        number, data, wrong = row
        report.problems.extend(wrong)
        unread = {p.field for p in wrong}
        _, errors = service.check_new_record(uow, actor, app_key, form_key, data, lang=lang)
        for e in errors:
            key = e.path.split("/")[0]
            if key in unread:
                continue  # already said: the cell could not be read
            report.problems.append(
                Problem(
                    number,
                    _column_of(chosen, key),
                    key or None,
                    f"{_label(form, key, lang)}{e.message}",
                )
            )

    yield from _paced("check", rows, check_row)
    report.problems.sort(key=lambda p: (p.row, p.column or ""))
    return report


def samples(sheet: Sheet, count: int = 3) -> dict[str, list[str]]:
    """The first ``count`` values of each column that are not blank, as text."""
    out: dict[str, list[str]] = {}
    for i, column in enumerate(sheet.columns):
        values = (row[i] for row in sheet.rows if not _blank(row[i]))
        out[column] = [
            v.isoformat(sep=" ", timespec="minutes") if isinstance(v, datetime) else str(v)[:80]
            for _, v in zip(range(count), values, strict=False)
        ]
    return out


def _label(form: Form, key: str, lang: str) -> str:
    f = form.by_key.get(key)
    return f"{text(f.label, lang) or key}：" if f is not None else ""


def run_steps(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    sheet: Sheet,
    mapping: Mapping[str, str | None] | None = None,
    *,
    lang: str = "zh-CN",
) -> Steps:
    """Create every row, in order, or refuse the whole file, step by step: the check's steps
    (422 with every row's problems when there is one), then the writing's, in the caller's
    transaction; a row refused while writing (a value taken meanwhile) refuses the file with its
    row named. Nothing is committed here: the caller commits after the last step, or abandons the
    steps and rolls back."""
    report = yield from check_steps(uow, actor, app_key, form_key, sheet, mapping, lang=lang)
    if report.problems:
        raise _import_refused(report)
    _, _, rows = _rows(uow, actor, app_key, form_key, sheet, report.mapping, lang)

    def write_row(row: Row) -> None:
        number, data, _ = row
        try:
            written = service.create_record(uow, actor, app_key, form_key, data, lang=lang)
        except ValidationFailed as exc:
            report.problems.extend(
                Problem(number, None, str(e.get("path") or "") or None, str(e.get("message")))
                for e in exc.errors
            )
            raise _import_refused(report) from None
        report.created.append(written.record.id)

    yield from _paced("write", rows, write_row)
    return report


def _import_refused(report: Report) -> ValidationFailed:
    rows = len({p.row for p in report.problems})
    return ValidationFailed(
        f"Nothing was imported: {rows} of {report.rows} rows have problems.",
        code="import.invalid",
        errors=[
            {"path": f"rows/{p.row}" + (f"/{p.field}" if p.field else ""), "message": p.message}
            for p in report.problems[:500]
        ],
    )


def template_columns(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, shown: set[str], lang: str
) -> tuple[list[str], str]:
    """The headers of an import template (the labels of the fields in ``shown`` a column can
    fill, in form order) and the form's label, for the sheet's title."""
    service.require_scope(actor, Action.CREATE, app_key, form_key)
    _, form = compiled.form(uow, app_key, form_key)
    columns = [text(f.label, lang) or f.key for f in importable(form) if f.key in shown]
    return columns, text(form.label, lang) or form_key
