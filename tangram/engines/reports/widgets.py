"""Report widgets: which there are, what a widget needs of its dataset, and how a query's rows
are shaped for it (sorted, cut to the top N, cumulated, spread into series, crossed, compared).
Pure: the platform runs the queries and hands the rows in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tangram.engines.common import Diagnostic, settle
from tangram.engines.forms import FieldDef, FieldType
from tangram.engines.reports.dataset import Dataset, Source

WIDGETS = (
    "kpi",
    "bar",
    "line",
    "area",
    "pie",
    "donut",
    "stacked",
    "table",
    "pivot",
    "pareto",
    "before_after",
)
OTHERS = "others"
TOTAL = "total"
#: Measures whose value for a group of rows is the sum of the values of its parts.
ADDITIVE = ("count", "sum")


def widget_problems(body: Mapping[str, Any], dataset: Dataset) -> list[Diagnostic]:
    """What is wrong with a report's widget for its dataset (paths under ``/widget``)."""
    widget = body.get("widget") or {"type": "table"}
    problems = []
    kind = widget.get("type", "table")
    if kind not in WIDGETS:
        problems.append(
            Diagnostic("/widget/type", "report.widget", f"use one of {', '.join(WIDGETS)}")
        )
    dims = [d.key for d in dataset.dimensions]
    measures = {m.key for m in dataset.measures}
    for name in ("x", "series", "rows", "columns"):
        if name in widget and widget[name] not in dims:
            problems.append(
                Diagnostic(f"/widget/{name}", "report.widget", f"{widget[name]!r} is no dimension")
            )
    if "y" in widget and widget["y"] not in measures and kind != "before_after":
        problems.append(Diagnostic("/widget/y", "report.widget", f"{widget['y']!r} is no measure"))
    needs = {"stacked": ("x", "series"), "pivot": ("rows", "columns")}.get(kind, ())
    if needs and len(dims) != 2:
        problems.append(
            Diagnostic(
                "/dataset/dimensions", "report.widget", f"a {kind} widget needs two dimensions"
            )
        )
    for name in needs:
        if name not in widget:
            problems.append(
                Diagnostic(f"/widget/{name}", "report.widget", f"name the {name} dimension")
            )
    top = widget.get("top")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        problems.append(Diagnostic("/widget/top", "report.widget", "a positive number of rows"))
    return problems


def field_of(sources: Mapping[str, Source], form_key: str, path: str) -> FieldDef | None:
    """The field a dimension names (``table.field`` and ``reference.field`` included)."""
    form = sources[form_key].form
    head, _, rest = path.partition(".")
    found = form.by_key.get(head)
    if found is None or not rest:
        return found
    if found.type is FieldType.SUB_TABLE:
        return next((f for f in found.fields if f.key == rest), None)
    target = sources.get(found.reference_form or "")
    return target.form.by_key.get(rest) if target is not None else None


def shape(
    widget: Mapping[str, Any], dataset: Dataset, columns: list[str], rows: list[list[Any]]
) -> list[list[Any]]:
    """Sort, keep the ``top`` rows (folding the rest into ``others``) and add a Pareto's
    cumulative share, as the widget asks."""
    kind = widget.get("type", "table")
    measure = widget.get("y") or (dataset.measures[0].key if dataset.measures else None)
    if measure is None or measure not in columns or not dataset.dimensions:
        return rows
    at = columns.index(measure)
    if kind == "pareto" or widget.get("top") or widget.get("sort"):
        ascending = widget.get("sort") == "asc" and kind != "pareto"
        rows = sorted(
            rows, key=lambda r: (r[at] is None, (r[at] or 0) if ascending else -(r[at] or 0))
        )
    top = widget.get("top")
    if top and len(rows) > top:
        kept, rest = rows[:top], rows[top:]
        other: list[Any] = [None] * len(columns)
        other[0] = OTHERS
        for m in dataset.measures:  # what adds up is added up; averages and shares are not
            if m.kind in ADDITIVE:
                j = columns.index(m.key)
                total = sum(r[j] or 0 for r in rest)
                other[j] = settle(total, m.places) if isinstance(total, float) else total
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


def spread(
    widget: Mapping[str, Any], dataset: Dataset, columns: list[str], rows: list[list[Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Stacked bars: one row per ``x`` value, one column per ``series`` value."""
    x, series = columns.index(widget["x"]), columns.index(widget["series"])
    measure = widget.get("y") or dataset.measures[0].key
    at = columns.index(measure)
    names = list(dict.fromkeys(str(r[series]) for r in rows))
    table: dict[Any, dict[str, Any]] = {}
    for r in rows:
        table.setdefault(r[x], {})[str(r[series])] = r[at]
    return [widget["x"], *names], [[k, *(v.get(n) for n in names)] for k, v in table.items()]


def changes(
    dataset: Dataset, columns: list[str], rows: list[list[Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Before/after: each measure's two values side by side, then the change."""
    dims = [d.key for d in dataset.dimensions]
    bases = list(dict.fromkeys(m.key.rsplit("_", 1)[0] for m in dataset.measures))
    out_columns = [*dims]
    for base in bases:
        out_columns += [f"{base}_before", f"{base}_after", f"{base}_change"]
    out = []
    for r in rows:
        values = dict(zip(columns, r, strict=True))
        line = [values[d] for d in dims]
        for base in bases:
            before, after = values[f"{base}_before"], values[f"{base}_after"]
            change = after - before if before is not None and after is not None else None
            line += [before, after, change]
        out.append(line)
    return out_columns, out


def cross_table(
    widget: Mapping[str, Any],
    measure: str,
    columns: list[str],
    rows: list[list[Any]],
    totals: Callable[[list[str]], dict[Any, Any]],
) -> tuple[list[str], list[list[Any]]]:
    """A cross table of the widget's ``rows`` × ``columns``, with the totals by row, by column
    and overall that ``totals(dimensions kept)`` answers (``{value: total}``, ``{TOTAL: total}``
    when none is kept): the caller computes them exactly, averages too."""
    down, across = widget["rows"], widget["columns"]
    at, d, a = columns.index(measure), columns.index(down), columns.index(across)
    names = list(dict.fromkeys(r[a] for r in rows))
    cells: dict[Any, dict[Any, Any]] = {}
    for r in rows:
        cells.setdefault(r[d], {})[r[a]] = r[at]
    by_row, by_column, overall = totals([down]), totals([across]), totals([])
    out = [[k, *(v.get(n) for n in names), by_row.get(k)] for k, v in cells.items()]
    out.append([TOTAL, *(by_column.get(n) for n in names), overall.get(TOTAL)])
    return [down, *(str(n) for n in names), TOTAL], out
