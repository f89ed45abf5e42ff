"""Reports at run time: published report definitions run on the projection tables.

A report definition (kind ``reports``) holds a ``dataset`` (see
:mod:`tangram.engines.reports.dataset`) and a ``widget`` saying how to show it::

    {"key": "by_type", "label": {...},
     "dataset": {"form": "ticket", "dimensions": [...], "measures": [...]},
     "widget": {"type": "pareto", "x": "type", "y": "tickets", "top": 8}}

Running a report applies the viewer's row-level permission (own, group or all records of the form,
as in record lists) and any filters of the request (record-list syntax: ``status=open``,
``_created_at__gte=2026-11-01``), and returns the rows with an ECharts-ready ``dataset`` and the
query's elapsed time. Widgets: ``kpi``, ``bar``, ``line``, ``area``, ``pie``, ``stacked``,
``table``, ``pareto`` (sorted, with the cumulative share); ``top`` keeps the first N rows by the
widget's measure and folds the rest into "others".
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import FieldType
from tangram.engines.reports import Dataset, Source, compile_dataset
from tangram.platform import compiled, listing, metadata, projections, records
from tangram.platform.errors import NotFound, ValidationFailed
from tangram.platform.listing import Filter
from tangram.platform.metadata import app_ref
from tangram.platform.perms import Action, Actor
from tangram.platform.uow import UnitOfWork

WIDGETS = ("kpi", "bar", "line", "area", "pie", "stacked", "table", "pareto")
OTHERS = "others"


def _sources(uow: UnitOfWork, app_key: str, form_key: str) -> dict[str, Source]:
    """The dataset's form and the forms its references point to, with their projection tables."""
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise DefinitionError(
            [Diagnostic("/dataset/form", "report.form", f"form {form_key!r} is not published")]
        ) from None
    app = app_ref(uow, Actor.system("reports"), app_key)
    wanted = [form_key] + [
        f.reference_form
        for f in form.fields
        if f.type is FieldType.REFERENCE and f.reference_form is not None
    ]
    out = {}
    for key in dict.fromkeys(wanted):
        _, found = compiled.form(uow, app_key, key)
        t = projections.ready(uow, app.id, key, found)
        out[key] = Source(found, t.main, t.children)
    return out


def _dataset(
    uow: UnitOfWork, app_key: str, body: Mapping[str, Any], time_zone: str
) -> tuple[Dataset, projections.Tables]:
    """The compiled dataset and the tables of its form."""
    definition = body.get("dataset") or {}
    form_key = str(definition.get("form"))
    sources = _sources(uow, app_key, form_key)
    main = sources[form_key]
    tables = projections.Tables(main.form.projection, main.main, main.children)
    try:
        return compile_dataset(definition, sources, time_zone=time_zone), tables
    except DefinitionError as exc:
        raise DefinitionError(
            [Diagnostic(f"/dataset{d.path}", d.code, d.message) for d in exc.diagnostics]
        ) from None


def _widget_problems(body: Mapping[str, Any], dataset: Dataset) -> list[Diagnostic]:
    widget = body.get("widget") or {"type": "table"}
    problems = []
    if widget.get("type", "table") not in WIDGETS:
        problems.append(
            Diagnostic("/widget/type", "report.widget", f"use one of {', '.join(WIDGETS)}")
        )
    dims = {d.key for d in dataset.dimensions}
    measures = {m.key for m in dataset.measures}
    if "x" in widget and widget["x"] not in dims:
        problems.append(
            Diagnostic("/widget/x", "report.widget", f"{widget['x']!r} is no dimension")
        )
    if "y" in widget and widget["y"] not in measures:
        problems.append(Diagnostic("/widget/y", "report.widget", f"{widget['y']!r} is no measure"))
    top = widget.get("top")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        problems.append(Diagnostic("/widget/top", "report.widget", "a positive number of rows"))
    return problems


def check(uow: UnitOfWork, app_key: str, body: Mapping[str, Any], time_zone: str) -> None:
    """Refuse a report whose dataset or widget does not fit the forms (every problem's path)."""
    try:
        dataset, _ = _dataset(uow, app_key, body, time_zone)
    except DefinitionError as exc:
        problems = list(exc.diagnostics)
    else:
        problems = _widget_problems(body, dataset)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The report cannot be published: {len(problems)} problem(s).",
            problems,
            code="definition.invalid",
        )


@dataclass(frozen=True)
class Result:
    """A report's data, ready for a chart or an export."""

    key: str
    version: int
    widget: Mapping[str, Any]
    columns: list[str]
    rows: list[list[Any]]
    elapsed_ms: float

    def as_dict(self) -> dict[str, Any]:
        """The API answer: rows and the ECharts ``dataset`` (``dimensions`` + ``source``)."""
        return {
            "key": self.key,
            "version": self.version,
            "widget": dict(self.widget),
            "columns": self.columns,
            "rows": self.rows,
            "echarts": {"dataset": {"dimensions": self.columns, "source": self.rows}},
            "elapsed_ms": round(self.elapsed_ms, 2),
        }

    def csv(self) -> str:
        """The rows as CSV (UTF-8 with a byte-order mark so spreadsheets keep Chinese text)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    def xlsx(self) -> bytes:
        """The rows as an Excel workbook."""
        from openpyxl import Workbook  # only exports need it

        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.key[:31])
        sheet.append(self.columns)
        for row in self.rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def run(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    filters: Sequence[Filter] = (),
    time_zone: str = "Asia/Shanghai",
) -> Result:
    """Run a published report for ``actor`` (their read scope on the form applies)."""
    row_id, version, _digest = metadata.published_ref(uow, app_key, "report", key)
    body = metadata.version_body(uow, row_id)
    form_key = str((body.get("dataset") or {}).get("form"))
    scope = records.require_scope(actor, Action.READ, app_key, form_key)  # before anything runs
    try:
        dataset, t = _dataset(uow, app_key, body, time_zone)
    except DefinitionError as exc:  # a form changed under a published report
        raise ValidationFailed.from_diagnostics(
            f"Report {key!r} no longer fits its forms; publish it again.",
            exc.diagnostics,
            code="report.stale",
        ) from None
    where = [
        *listing.conditions(t, filters, time_zone=time_zone),
        *records.visible(uow, actor, t.main, scope),
    ]
    started = time.perf_counter()
    result = uow.session.execute(dataset.query(where=where))
    columns = list(result.keys())
    rows = [list(r) for r in result]
    elapsed = (time.perf_counter() - started) * 1000
    widget = dict(body.get("widget") or {"type": "table"})
    rows = _shape(widget, dataset, columns, rows)
    if widget.get("type") == "pareto":
        columns = [*columns, "cumulative_share"]
    return Result(key, version, widget, columns, rows, elapsed)


def _shape(
    widget: Mapping[str, Any], dataset: Dataset, columns: list[str], rows: list[list[Any]]
) -> list[list[Any]]:
    kind = widget.get("type", "table")
    measure = widget.get("y") or (dataset.measures[0].key if dataset.measures else None)
    if measure is None or measure not in columns or not dataset.dimensions:
        return rows
    at = columns.index(measure)
    if kind == "pareto" or widget.get("top"):
        rows = sorted(rows, key=lambda r: (r[at] is None, -(r[at] or 0)))
    top = widget.get("top")
    if top and len(rows) > top:
        kept, rest = rows[:top], rows[top:]
        other: list[Any] = [None] * len(columns)
        other[0] = OTHERS
        for m in dataset.measures:  # what adds up is added up; averages and shares are not
            if m.kind in ("count", "sum"):
                j = columns.index(m.key)
                other[j] = sum(r[j] or 0 for r in rest)
        rows = [*kept, other]
    if kind == "pareto":
        total = sum(r[at] or 0 for r in rows)
        running = 0.0
        shaped = []
        for r in rows:
            running += r[at] or 0
            shaped.append([*r, round(100 * running / total, 2) if total else None])
        rows = shaped
    return rows
