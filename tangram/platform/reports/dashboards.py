"""KPI cards and dashboards at run time.

A KPI (kind ``kpis``, see :mod:`tangram.engines.reports.kpi`) is measured for a period and the
period before it in one query, over the records the viewer may read: its card shows both values,
the change, and whether the change is for the better (the KPI's ``direction``).

A dashboard (kind ``dashboards``) lays KPI cards and reports out on a grid and applies its global
filters to every widget that has the filtered field::

    {"key": "cockpit", "label": {...}, "columns": 24,
     "filters": [{"key": "period", "type": "date_range", "field": "_created_at",
                  "default": "last_30_days"},
                 {"key": "line", "type": "select", "field": "product_line"}],
     "widgets": [{"id": "open", "kpi": "open_tickets", "layout": {"x": 0, "y": 0, "w": 6, "h": 3}},
                 {"id": "by_type", "report": "by_issue_type", "layout": {...}}]}

Filter values come as query parameters named by the filter keys (``period=this_month`` or
``period=2026-11-01..2026-11-30``, ``line=A&line=B``). A date range filters a report on the
filter's field; a KPI card takes the range as its period, dated by the KPI's own period field, and
compares it with the period before (cards default to this month on a dashboard without a date
range). A widget the viewer may not read (they lack the read grant on a form it touches: see
:mod:`tangram.platform.reports.sources`), or one whose definition no longer fits, answers with
its error in place and no data; the rest of the dashboard still renders. Its export and its
drill-down answer that error as a problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table

from tangram.config import Settings
from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import ColumnKind
from tangram.engines.reports import (
    Period,
    compile_dataset,
    kpi_dataset,
    resolve_period,
)
from tangram.platform import metadata, records
from tangram.platform.identity import roles
from tangram.platform.identity.perms import Action, Actor
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    TangramError,
    ValidationFailed,
)
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import listing, projections
from tangram.platform.records.listing import Filter
from tangram.platform.reports import datasets as reports
from tangram.platform.reports import rollups
from tangram.platform.reports.drill import drill_condition
from tangram.platform.reports.kpis import (
    _CHECK_ZONE,
    _invalid,
    _kpi,
    card_period,
    check_kpi_definition,
    kpi_card,
)
from tangram.platform.reports.sources import reach, require_app, sources_of, tables_of

TEMPORAL = (ColumnKind.DATE, ColumnKind.DATETIME)


@dataclass(frozen=True)
class Applied:
    """A dashboard's filters with their values for one request."""

    period: Period | None = None
    period_filter: str | None = None  # the date range filter's field
    selects: tuple[tuple[str, tuple[str, ...]], ...] = ()
    shown: list[dict[str, Any]] = field(default_factory=list)
    #: The fields of every select filter of the dashboard, chosen or not.
    select_fields: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[Any, ...]:
        """The filters' values, for cache keys."""
        span = self.period.as_dict() if self.period else None
        return (self.period_filter, span and (span["from"], span["to"]), self.selects)

    def conditions(self, t: projections.Tables, dated: bool) -> list[ColumnElement[bool]]:
        """Conditions for a widget's tables: only the filters whose field the tables have; the
        date range only where ``dated`` (not KPI cards, not before/after widgets)."""
        part = self.sliced(t, dated)
        wanted = []
        if part.period_field is not None and part.first is not None and part.last is not None:
            after = (part.last + timedelta(days=1)).isoformat()
            wanted += [
                Filter(part.period_field, "gte", part.first.isoformat()),
                Filter(part.period_field, "lt", after),
            ]
        wanted += [Filter(name, "in", list(values)) for name, values in part.selects]
        zone = self.period.zone.key if self.period else "UTC"
        return listing.conditions(t, wanted, time_zone=zone)

    def sliced(self, t: projections.Tables, dated: bool) -> rollups.Slice:
        """The filters that apply to a widget's tables, as a rollup keeps them (see
        :meth:`conditions`), with every select field of the dashboard that the tables have."""
        period = self.period
        ranged = (
            dated
            and period is not None
            and self.period_filter is not None
            and listing.has_field(t, self.period_filter)
        )
        return rollups.Slice(
            period_field=self.period_filter if ranged else None,
            first=period.first if ranged and period else None,
            last=period.last if ranged and period else None,
            selects=tuple((n, v) for n, v in self.selects if listing.has_field(t, n)),
            keys=tuple(n for n in self.select_fields if listing.has_field(t, n)),
        )


def _options(uow: UnitOfWork, app_key: str, field_key: str) -> list[dict[str, Any]]:
    """The options of a select filter's field (from the first form that gives it options), with
    their labels by language, so a viewer picks "Product line A" rather than typing ``A``."""
    for form_key, keys in sorted(metadata.form_catalog(uow, app_key).items()):
        if field_key not in keys:
            continue
        found = compiled.form(uow, app_key, form_key)[1].by_key.get(field_key)
        if found is not None and found.options:
            return [{"value": o.value, "label": dict(o.label)} for o in found.options]
    return []


def _applied(
    body: Mapping[str, Any], values: Mapping[str, Sequence[str]], uow: UnitOfWork, zone: ZoneInfo
) -> Applied:
    filters = body.get("filters") or []
    known = {f["key"] for f in filters}
    problems = [
        Diagnostic(name, "query.invalid", "not a filter of this dashboard")
        for name in values
        if name not in known
    ]
    period = period_filter = None
    selects = []
    shown = []
    for f in filters:
        given = values.get(f["key"])
        if f["type"] == "date_range":
            spec = given[-1] if given else f.get("default")
            if spec:
                try:
                    period = resolve_period(str(spec), now=uow.now, zone=zone, path=f["key"])
                    period_filter = f["field"]
                except DefinitionError as exc:
                    problems.extend(exc.diagnostics)
            shown.append({**f, "value": spec, "period": period.as_dict() if period else None})
        else:
            chosen = [p for v in given for p in v.split(",") if p] if given else f.get("default")
            if isinstance(chosen, str):
                chosen = [chosen]
            if chosen:
                selects.append((f["field"], tuple(chosen)))
            shown.append({**f, "value": list(chosen or [])})
    if problems:
        raise ValidationFailed.from_diagnostics(
            "The dashboard filters are not valid.", problems, code="query.invalid"
        )
    fields = tuple(dict.fromkeys(f["field"] for f in filters if f["type"] != "date_range"))
    return Applied(period, period_filter, tuple(selects), shown, fields)


def _bound(
    body: Mapping[str, Any],
    widget_id: str,
    values: Mapping[str, Sequence[str]],
    uow: UnitOfWork,
    applied: Applied,
) -> Applied:
    """The filters that apply to one widget: a filter naming its ``widgets`` applies to those
    only; one naming none applies wherever its field is (``applied``, the dashboard's whole)."""
    filters = body.get("filters") or []
    if not any("widgets" in f for f in filters):
        return applied
    mine = [f for f in filters if "widgets" not in f or widget_id in f["widgets"]]
    keys = {f["key"] for f in mine}
    chosen = {k: v for k, v in values.items() if k in keys}
    return _applied({"filters": mine}, chosen, uow, uow.zone)


def _dashboard(uow: UnitOfWork, app_key: str, key: str) -> tuple[int, dict[str, Any]]:
    row_id, version, digest = metadata.published_ref(uow, app_key, "dashboard", key)
    return version, metadata.version_body(uow, row_id, digest)


def _widget(body: Mapping[str, Any], widget_id: str) -> Mapping[str, Any]:
    for w in body.get("widgets") or []:
        if w.get("id") == widget_id:
            return w  # type: ignore[no-any-return]
    raise NotFound(
        f"Dashboard {body.get('key')!r} has no widget {widget_id!r}.", code="widget.not_found"
    )


def _fixed_period(uow: UnitOfWork, widget: Mapping[str, Any]) -> Period | None:
    """The period a KPI widget always shows (its ``period``: renewals this quarter), whatever
    the dashboard's date range; ``None`` when it follows the range."""
    spec = widget.get("period")
    return None if not spec else card_period(uow, str(spec), path=f"widgets/{widget.get('id')}")


def _widget_data(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    widget: Mapping[str, Any],
    applied: Applied,
) -> dict[str, Any]:
    if "kpi" in widget:
        fixed = _fixed_period(uow, widget)
        return kpi_card(
            uow,
            actor,
            app_key,
            widget["kpi"],
            period=fixed or applied.period or card_period(uow),
            extra=applied.conditions,
            extra_key=(applied.key, fixed and fixed.as_dict()["from"]),
            sliced=applied.sliced if fixed is None else None,
        )
    return report_result(uow, actor, app_key, widget, applied).as_dict()


def report_result(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    widget: Mapping[str, Any],
    applied: Applied,
) -> reports.Result:
    """A report widget's data under the dashboard's filters."""
    return reports.run(
        uow,
        actor,
        app_key,
        widget["report"],
        extra=applied.conditions,
        extra_key=applied.key,
        sliced=applied.sliced,
    )


#: A widget whose query took this long (ms) runs in a unit of its own, beside the others.
APART_MS = 50.0


def run_dashboard(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    values: Mapping[str, Sequence[str]] = {},
    open_unit: Callable[[], AbstractContextManager[UnitOfWork]] | None = None,
    workers: int = 4,
    apart_ms: float = APART_MS,
    draft: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every widget of a dashboard under its filters; a widget that fails shows its error.
    A ``draft`` body (checked by the caller) is shown instead of the published version.

    Widgets are computed in the request's unit, one after the other, except long ones: with
    ``open_unit`` (a read unit of work per call), the widgets that took ``apart_ms`` or more the
    last time this process computed them, and that the result cache or a rollup does not answer
    now, run up to ``workers`` at once, each in a unit of its own (when there are two or more),
    so that the database works on several long queries while one waits; the request's unit
    computes the others meanwhile. A unit of its own costs a transaction and the reads that
    start one: more than a short query (``docs/performance.md``).
    """
    started = time.perf_counter()
    require_app(uow, actor, app_key)
    version, body = _dashboard(uow, app_key, key) if draft is None else (0, dict(draft))
    applied = _applied(body, values, uow, uow.zone)
    chosen = list(body.get("widgets") or [])

    def timed(w: Mapping[str, Any], unit: UnitOfWork) -> dict[str, Any]:
        began = time.perf_counter()
        out = compute(w, unit)
        took = (time.perf_counter() - began) * 1000
        uow.caches.widget_queries.put((app_key, key, str(w["id"])), took)
        return out

    def compute(w: Mapping[str, Any], unit: UnitOfWork) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": w["id"],
            "kind": "kpi" if "kpi" in w else "report",
            "source": w.get("kpi") or w.get("report"),
            "title": w.get("title"),
            "layout": w.get("layout"),
        }
        try:
            mine = _bound(body, w["id"], values, unit, applied)
            out["data"] = _widget_data(unit, actor, app_key, w, mine)
        except (PermissionDenied, NotFound, ValidationFailed) as exc:
            out["error"] = _error(exc)
        return out

    def apart(w: Mapping[str, Any]) -> dict[str, Any]:
        assert open_unit is not None
        with open_unit() as unit:
            return timed(w, unit)

    last = uow.caches.widget_queries
    long = [w for w in chosen if (last.get((app_key, key, str(w["id"]))) or 0) >= apart_ms]
    slow: list[Mapping[str, Any]] = []
    done: dict[str, dict[str, Any]] = {}
    if open_unit is not None and workers > 1 and len(long) > 1:
        uow.memo.queries_later = True
        try:
            for w in long:  # answered from the result cache or a rollup after all?
                try:
                    done[w["id"]] = compute(w, uow)
                except reports.QueryLater:
                    slow.append(w)
        finally:
            uow.memo.queries_later = False
    if len(slow) < 2:  # one query apart would only wait beside the request's unit
        slow = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(slow)))) as pool:
        running = {w["id"]: pool.submit(apart, w) for w in slow}
        for w in chosen:
            if w["id"] not in done and w["id"] not in running:
                done[w["id"]] = timed(w, uow)
        done.update((widget, future.result()) for widget, future in running.items())
    widgets = [done[w["id"]] for w in chosen]
    return {
        "key": key,
        "version": version,
        "label": body.get("label"),
        "columns": body.get("columns", 24),
        # the dashboard itself (not a drill-down or one widget's export) offers select options
        "filters": [
            {**f, "options": _options(uow, app_key, f["field"])} if f["type"] == "select" else f
            for f in applied.shown
        ],
        "widgets": widgets,
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def preview(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    body: Mapping[str, Any] | None = None,
    values: Mapping[str, Sequence[str]] = {},
    role: str | None = None,
    open_unit: Callable[[], AbstractContextManager[UnitOfWork]] | None = None,
) -> dict[str, Any]:
    """A dashboard's draft (or ``body``) as its viewers will see it: as the designer, or as a
    holder of ``role`` would (that role's grants and row-level scopes only; see
    :func:`tangram.platform.identity.roles.acting_as`). Each widget names the filters that apply
    to it (those bound to it, or to every widget, whose field its form has). Designers only; a draft that cannot be published is
    a 422 with every problem's path."""
    draft = reports.draft_body(uow, actor, app_key, "dashboard", key, body)
    check_dashboard(uow, app_key, "dashboard", key, draft)
    viewer = roles.acting_as(uow, actor, role) if role else actor
    out = run_dashboard(uow, viewer, app_key, key, values=values, open_unit=open_unit, draft=draft)
    filters = draft.get("filters") or []
    for widget, raw in zip(out["widgets"], draft.get("widgets") or [], strict=True):
        kind = "kpi" if "kpi" in raw else "report"
        _, _, found = metadata.published_body(uow, app_key, kind, raw[kind])
        form_key = str(
            found.get("form") if kind == "kpi" else (found.get("dataset") or {}).get("form")
        )
        tables = tables_of(sources_of(uow, app_key, form_key), form_key)
        widget["form"] = form_key
        widget["filtered_by"] = [
            f["key"]
            for f in filters
            if listing.has_field(tables, f["field"])
            and ("widgets" not in f or raw["id"] in f["widgets"])
        ]
    out["as_role"] = role
    return out


def _error(exc: TangramError) -> dict[str, Any]:
    return {"status": exc.status, "code": exc.code, "detail": str(exc)}


def widget_result(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    widget_id: str,
    *,
    values: Mapping[str, Sequence[str]] = {},
) -> reports.Result:
    """One widget's data as a report result (for exports); a KPI card becomes one row."""
    require_app(uow, actor, app_key)
    _, body = _dashboard(uow, app_key, key)
    widget = _widget(body, widget_id)
    applied = _bound(body, widget_id, values, uow, _applied(body, values, uow, uow.zone))
    if "report" in widget:
        return report_result(uow, actor, app_key, widget, applied)
    card = _widget_data(uow, actor, app_key, widget, applied)
    columns = ["kpi", "value", "previous", "change", "change_pct", "unit", "from", "to"]
    row = [
        card["key"],
        card["value"],
        card["previous"],
        card["change"],
        card["change_pct"],
        card["unit"],
        card["period"]["from"],
        card["period"]["to"],
    ]
    return reports.Result(
        widget_id, card["version"], {"type": "kpi"}, columns, [row], card["elapsed_ms"]
    )


def drill_widget(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    widget_id: str,
    *,
    point: Mapping[str, str],
    values: Mapping[str, Sequence[str]] = {},
    cursor: str | None = None,
    limit: int = 50,
) -> records.Page:
    """The records behind one data point of a widget, under the dashboard's filters: for a KPI
    card, the records its value counts in the period (its filter and period field)."""
    require_app(uow, actor, app_key)
    _, body = _dashboard(uow, app_key, key)
    widget = _widget(body, widget_id)
    applied = _bound(body, widget_id, values, uow, _applied(body, values, uow, uow.zone))
    if "report" in widget:
        prepared, seen = reports.load(uow, actor, app_key, widget["report"])
        condition = drill_condition(
            uow, actor, prepared, seen, point=point, extra=applied.conditions
        )
        form_key = prepared.dataset.form
    else:
        if point:
            raise ValidationFailed(
                "A KPI card has no data points to choose: drill into the card itself.",
                code="report.point",
                errors=[{"path": f"at.{k}", "message": "not a dimension"} for k in point],
            )
        period = _fixed_period(uow, widget) or applied.period or card_period(uow)
        form_key, condition = _kpi_records(uow, actor, app_key, widget["kpi"], applied, period)
    return records.list_records(
        uow,
        actor,
        app_key,
        form_key,
        cursor=cursor,
        limit=limit,
        count=True,
        within=condition,
    )


def _kpi_records(
    uow: UnitOfWork, actor: Actor, app_key: str, key: str, applied: Applied, period: Period
) -> tuple[str, Callable[[Table], ColumnElement[bool]]]:
    """The KPI's form and the condition selecting the records its card counts in the period."""
    _, kpi = _kpi(uow, app_key, key)
    form_key = str(kpi.get("form"))
    records.require_scope(actor, Action.READ, app_key, form_key)  # before anything compiles
    try:
        sources = sources_of(uow, app_key, form_key)
        dataset = compile_dataset(
            kpi_dataset(kpi, {"value": period}), sources, time_zone=uow.settings.time_zone
        )
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"KPI {key!r} no longer fits its form; publish it again.",
            exc.diagnostics,
            code="report.stale",
        ) from None
    seen = reach(actor, app_key, dataset.forms, dataset.reads)
    t = tables_of(sources, form_key)
    where = [*records.visible(uow, actor, t.main, seen.scope), *applied.conditions(t, False)]
    ids = dataset.records(where=where, joined=seen.joined(uow, actor))

    def condition(main: Table) -> ColumnElement[bool]:
        return main.c._id.in_(ids)

    return form_key, condition


def _period_problems(uow: UnitOfWork, widget: Mapping[str, Any], i: int) -> list[Diagnostic]:
    """What is wrong with a widget's own ``period``: a report widget has none, a KPI card's
    must resolve."""
    if widget.get("period") is None:
        return []
    path = f"/widgets/{i}/period"
    if "kpi" not in widget:
        return [Diagnostic(path, "dashboard.period", "only a KPI card has its own period")]
    try:
        resolve_period(str(widget["period"]), now=uow.now, zone=uow.zone, path=path)
    except DefinitionError as exc:
        return list(exc.diagnostics)
    return []


def check_dashboard(
    uow: UnitOfWork, app_key: str, _what: str, _key: str, body: Mapping[str, Any]
) -> None:
    """Refuse a dashboard naming unpublished KPIs or reports, filters no widget can apply (or
    bound to widgets that are not there or lack the field), bad defaults, duplicate widget ids or
    a layout wider than the grid."""
    problems: list[Diagnostic] = []
    columns = int(body.get("columns", 24))
    seen: set[str] = set()
    tables: list[projections.Tables] = []
    by_id: dict[str, projections.Tables] = {}
    for i, w in enumerate(body.get("widgets") or []):
        if w["id"] in seen:
            problems.append(
                Diagnostic(f"/widgets/{i}/id", "dashboard.duplicate", f"{w['id']!r} is used twice")
            )
        seen.add(w["id"])
        layout = w.get("layout")
        if layout and layout["x"] + layout["w"] > columns:
            problems.append(
                Diagnostic(
                    f"/widgets/{i}/layout", "dashboard.layout", f"wider than the {columns} columns"
                )
            )
        kind = "kpi" if "kpi" in w else "report"
        problems += _period_problems(uow, w, i)
        try:
            _, _, found = metadata.published_body(uow, app_key, kind, w[kind])
        except NotFound:
            problems.append(
                Diagnostic(
                    f"/widgets/{i}/{kind}", "dashboard.widget", f"no published {kind} {w[kind]!r}"
                )
            )
            continue
        form_key = found.get("form") if kind == "kpi" else (found.get("dataset") or {}).get("form")
        try:
            tables.append(tables_of(sources_of(uow, app_key, str(form_key)), str(form_key)))
            by_id[w["id"]] = tables[-1]
        except DefinitionError:
            problems.append(
                Diagnostic(
                    f"/widgets/{i}/{kind}",
                    "dashboard.widget",
                    f"its form {form_key!r} is not published",
                )
            )
    keys: set[str] = set()
    ranges = 0
    for i, f in enumerate(body.get("filters") or []):
        path = f"/filters/{i}"
        if f["key"] in keys:
            problems.append(
                Diagnostic(f"{path}/key", "dashboard.duplicate", f"{f['key']!r} is used twice")
            )
        keys.add(f["key"])
        for j, bound in enumerate(f.get("widgets") or []):
            if bound not in seen:
                problems.append(
                    Diagnostic(f"{path}/widgets/{j}", "dashboard.filter", f"no widget {bound!r}")
                )
            elif bound in by_id and not listing.has_field(by_id[bound], f["field"]):
                problems.append(
                    Diagnostic(
                        f"{path}/widgets/{j}",
                        "dashboard.filter",
                        f"widget {bound!r} has no field {f['field']!r}",
                    )
                )
        having = [t for t in tables if listing.has_field(t, f["field"])]
        if tables and not having:
            problems.append(
                Diagnostic(
                    f"{path}/field", "dashboard.filter", f"no widget has a field {f['field']!r}"
                )
            )
        if f["type"] == "date_range":
            ranges += 1
            kinds = {_kind(t, f["field"]) for t in having}
            if kinds - set(TEMPORAL):
                problems.append(
                    Diagnostic(
                        f"{path}/field",
                        "dashboard.filter",
                        f"{f['field']!r} is not a date or datetime field",
                    )
                )
            if f.get("default") is not None:
                try:
                    resolve_period(
                        str(f["default"]),
                        now=uow.now,
                        zone=ZoneInfo(_CHECK_ZONE),
                        path=f"{path}/default",
                    )
                except DefinitionError as exc:
                    problems.extend(exc.diagnostics)
        elif f.get("default") is not None and not (
            isinstance(f["default"], list) and all(isinstance(v, str) for v in f["default"])
        ):
            problems.append(Diagnostic(f"{path}/default", "dashboard.filter", "a list of values"))
    if ranges > 1:
        problems.append(Diagnostic("/filters", "dashboard.filter", "one date range per dashboard"))
    if problems:
        raise _invalid("dashboard", problems)


def _kind(t: projections.Tables, name: str) -> ColumnKind | None:
    if name in listing.META_KINDS:
        return listing.META_KINDS[name]
    column = t.projection.by_key.get(name)
    return column.kind if column is not None else None


def install(hooks: Hooks, _settings: Settings) -> None:
    """Refuse reports, KPIs and dashboards that do not fit their forms at publication."""
    hooks.checks.register("report", reports.check)
    hooks.checks.register("kpi", check_kpi_definition)
    hooks.checks.register("dashboard", check_dashboard)


__all__ = [
    "Applied",
    "check_dashboard",
    "check_kpi_definition",
    "drill_widget",
    "kpi_card",
    "run_dashboard",
    "widget_result",
]
