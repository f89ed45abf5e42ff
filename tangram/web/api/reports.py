"""Reports, KPI cards and dashboards over HTTP: ECharts-ready data, drill-down, CSV and XLSX."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import records, reports
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.records.listing import Filter
from tangram.platform.reports import dashboards, kpis
from tangram.web.api.common import MAX_PAGE, StrictSchema, download
from tangram.web.api.records import RecordPageSchema, record_out
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint(
    "reports", __name__, description="Reports, KPIs and dashboards: data, drill-down, exports"
)
#: Query parameters that are neither filters nor points.
RESERVED = {"format", "lang", "cursor", "limit"}
FORMATS = ("json", "csv", "xlsx")


class ReportDataSchema(Schema):
    """A report's rows, ready for ECharts, and how long the query took."""

    key = fields.String(required=True)
    label = fields.Dict(required=True, metadata={"description": "the report's label by language"})
    labels = fields.Dict(
        required=True,
        metadata={"description": "dimension → value → name by language (options, users, groups)"},
    )
    version = fields.Integer(required=True)
    widget = fields.Dict(required=True)
    columns = fields.List(fields.String(), required=True)
    rows = fields.List(fields.List(fields.Raw()), required=True)
    echarts = fields.Dict(
        required=True, metadata={"description": "{dataset: {dimensions, source}} for ECharts"}
    )
    elapsed_ms = fields.Float(required=True)
    cached = fields.Boolean(required=True, metadata={"description": "served from the cache"})
    rollup = fields.Boolean(
        required=True, metadata={"description": "computed from the daily rollup, not the rows"}
    )


class KpiCardSchema(Schema):
    """A KPI over a period beside the period before."""

    key = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.Dict(required=True)
    unit = fields.String(allow_none=True)
    direction = fields.String(required=True, metadata={"description": "higher or lower is better"})
    decimals = fields.Integer(required=True)
    target = fields.Float(allow_none=True)
    value = fields.Float(allow_none=True, required=True)
    previous = fields.Float(allow_none=True, required=True)
    change = fields.Float(allow_none=True, required=True)
    change_pct = fields.Float(allow_none=True, required=True)
    better = fields.Boolean(
        allow_none=True, required=True, metadata={"description": "null when unchanged or unknown"}
    )
    period = fields.Dict(required=True)
    previous_period = fields.Dict(required=True)
    elapsed_ms = fields.Float(required=True)
    cached = fields.Boolean(required=True)
    rollup = fields.Boolean(
        required=True, metadata={"description": "computed from the daily rollup, not the rows"}
    )


class DashboardDataSchema(Schema):
    """Every widget of a dashboard: a KPI card or report data, or the widget's own error."""

    key = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.Dict(required=True)
    columns = fields.Integer(required=True, metadata={"description": "grid width"})
    filters = fields.List(fields.Dict(), required=True, metadata={"description": "with values"})
    widgets = fields.List(fields.Dict(), required=True)
    elapsed_ms = fields.Float(required=True)


class DrillArgs(Schema):
    """Paging of a drill-down; `at.<dimension>=value` names the data point, every other
    parameter is a filter (reports) or a dashboard filter (dashboards)."""

    class Meta:
        unknown = "include"

    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


def _format() -> str:
    kind = request.args.get("format", "json")
    if kind not in FORMATS:
        raise ValidationFailed(
            f"Unknown format {kind!r}: use json, csv or xlsx.",
            code="query.invalid",
            errors=[{"path": "format", "message": "json, csv or xlsx"}],
        )
    return kind


def _filters() -> list[Filter]:
    return [
        Filter.parse(name, request.args.getlist(name))
        for name in request.args
        if name not in RESERVED and not name.startswith("at.")
    ]


def _values() -> dict[str, list[str]]:
    return {
        name: request.args.getlist(name)
        for name in request.args
        if name not in RESERVED and not name.startswith("at.")
    }


def _point() -> dict[str, str]:
    return reports.point_of({k: v for k, v in request.args.items() if k.startswith("at.")})


def _export(result: reports.Result, kind: str, name: str) -> Any:
    if kind == "json":
        return result.as_dict()
    return download(name, kind, result.csv_chunks, result.xlsx)


def _page(page: records.Page) -> dict[str, Any]:
    return {
        "items": [record_out(r, page.form, page.hidden) for r in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
    }


@blp.route("/<string:app>/reports/<string:key>/data")
class ReportData(MethodView):
    """Run a published report."""

    @blp.response(200, ReportDataSchema)
    @blp.alt_response(200, description="CSV or XLSX export (?format=csv|xlsx)", success=True)
    def get(self, app: str, key: str) -> Any:
        """The report for the caller (their read scope applies), filtered like record lists
        (``status=open``, ``_created_at__gte=2026-11-01``); ``?format=csv|xlsx`` exports it."""
        actor = require_actor()
        kind = _format()
        filters = _filters()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            result = reports.run(uow, actor, app, key, filters=filters)
        return _export(result, kind, key)


@blp.route("/<string:app>/reports/<string:key>/records")
class ReportRecords(MethodView):
    """The records behind one data point of a report."""

    @blp.arguments(DrillArgs, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Drill down: ``at.<dimension>=<value>`` for each dimension of the point (as the data
        shows it; empty for no value), plus the report's filters; a page of records with the
        total."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            page = reports.drill(
                uow,
                actor,
                app,
                key,
                point=_point(),
                filters=_filters(),
                cursor=args["cursor"],
                limit=args["limit"],
            )
            return _page(page)


@blp.route("/<string:app>/kpis/<string:key>/data")
class KpiData(MethodView):
    """A KPI card."""

    @blp.response(200, KpiCardSchema)
    def get(self, app: str, key: str) -> dict[str, Any]:
        """The KPI over ``period`` (a preset such as ``this_month`` or ``2026-11-01..2026-11-30``;
        this month by default) beside the period before."""
        actor = require_actor()
        unknown = [name for name in request.args if name not in ("period", "lang")]
        if unknown:
            raise ValidationFailed(
                "Only 'period' can be chosen for a KPI card.",
                code="query.invalid",
                errors=[{"path": name, "message": "not a parameter"} for name in unknown],
            )
        p = platform()
        with p.unit_of_work(write=False) as uow:
            period = kpis.card_period(uow, request.args.get("period"))
            return kpis.kpi_card(uow, actor, app, key, period=period)


class RecordKpiCardSchema(KpiCardSchema):
    """A KPI measured in the scope of one record."""

    via = fields.String(
        required=True, metadata={"description": "the KPI form's reference field naming the record"}
    )


@blp.route("/<string:app>/records/<string:form>/<int:record_id>/kpis")
class RecordKpis(MethodView):
    """The KPI cards of one record."""

    @blp.response(200, RecordKpiCardSchema(many=True))
    def get(self, app: str, form: str, record_id: int) -> list[dict[str, Any]]:
        """The KPIs the form declares for its records (``options.record_kpis``), each over only
        the records that name this one (a customer's CSAT over its callbacks, its open tickets),
        for its period beside the period before. KPIs the caller may not read are left out."""
        actor = require_actor()
        unknown = [name for name in request.args if name != "lang"]
        if unknown:
            raise ValidationFailed(
                "A record's KPI cards take no parameters.",
                code="query.invalid",
                errors=[{"path": name, "message": "not a parameter"} for name in unknown],
            )
        with platform().unit_of_work(write=False) as uow:
            return kpis.record_cards(uow, actor, app, form, record_id)


@blp.route("/<string:app>/dashboards/<string:key>/data")
class DashboardData(MethodView):
    """A dashboard's widgets."""

    @blp.response(200, DashboardDataSchema)
    def get(self, app: str, key: str) -> dict[str, Any]:
        """Every widget under the dashboard's filters, given by their keys (``period=this_month``,
        ``line=A&line=B``); filters not given take their defaults."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            return dashboards.run_dashboard(
                uow,
                actor,
                app,
                key,
                values=_values(),
                open_unit=lambda: p.unit_of_work(write=False),
            )


@blp.route("/<string:app>/dashboards/<string:key>/widgets/<string:widget>/data")
class WidgetData(MethodView):
    """One widget of a dashboard, for export."""

    @blp.response(200, ReportDataSchema)
    @blp.alt_response(200, description="CSV or XLSX export (?format=csv|xlsx)", success=True)
    def get(self, app: str, key: str, widget: str) -> Any:
        """The widget's data under the dashboard's filters; ``?format=csv|xlsx`` exports it."""
        actor = require_actor()
        kind = _format()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            result = dashboards.widget_result(uow, actor, app, key, widget, values=_values())
        return _export(result, kind, f"{key}-{widget}")


@blp.route("/<string:app>/dashboards/<string:key>/widgets/<string:widget>/records")
class WidgetRecords(MethodView):
    """The records behind a widget's data point."""

    @blp.arguments(DrillArgs, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any], app: str, key: str, widget: str) -> dict[str, Any]:
        """Drill down from a chart (``at.<dimension>=<value>``) or a KPI card (no point) to its
        records, under the dashboard's filters."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            page = dashboards.drill_widget(
                uow,
                actor,
                app,
                key,
                widget,
                point=_point(),
                values=_values(),
                cursor=args["cursor"],
                limit=args["limit"],
            )
            return _page(page)


class PreviewSchema(StrictSchema):
    """What a designer previews."""

    body = fields.Dict(
        load_default=None,
        metadata={"description": "the definition to run; the saved draft by default"},
    )
    period = fields.String(
        load_default=None,
        metadata={"description": "a KPI card's period (a preset or FIRST..LAST); this month"},
    )


@blp.route("/<string:app>/reports/<string:key>/preview")
class ReportPreview(MethodView):
    """A report's draft, run."""

    @blp.arguments(PreviewSchema)
    @blp.response(200, ReportDataSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Run the draft (or ``body``) as the designer's own reader would see it once
        published — version 0, never cached — with the query's time; a draft that does not fit
        its forms is a 422 with every problem's path. Designers only."""
        actor = require_actor()
        if body["period"] is not None:
            raise ValidationFailed.at("period", "a report has no period: filter its dataset")
        with platform().unit_of_work(write=False) as uow:
            return reports.preview(uow, actor, app, key, body=body["body"]).as_dict()


@blp.route("/<string:app>/kpis/<string:key>/preview")
class KpiPreview(MethodView):
    """A KPI's draft as a card."""

    @blp.arguments(PreviewSchema)
    @blp.response(200, KpiCardSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """The draft (or ``body``) over ``period`` (this month by default) beside the period
        before, as its card would show it to the designer once published (version 0); a draft
        that does not fit its form is a 422 with every problem's path. Designers only."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            period = kpis.card_period(uow, body["period"])
            return kpis.preview(uow, actor, app, key, period=period, body=body["body"])


class DashboardPreviewSchema(StrictSchema):
    """What a designer previews of a dashboard."""

    body = fields.Dict(
        load_default=None,
        metadata={"description": "the dashboard to show; the saved draft by default"},
    )
    values = fields.Dict(
        keys=fields.String(),
        values=fields.List(
            fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=50)
        ),
        load_default=dict,
        metadata={"description": "filter values by filter key: {'period': ['this_month']}"},
    )
    as_role = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "show it as a holder of this role would see it"},
    )


class DashboardPreviewOutSchema(DashboardDataSchema):
    """A dashboard's draft as a viewer sees it; each widget names its form and the filters that
    apply to it (``filtered_by``)."""

    as_role = fields.String(allow_none=True, required=True)


@blp.route("/<string:app>/dashboards/<string:key>/preview")
class DashboardPreview(MethodView):
    """A dashboard's draft, shown."""

    @blp.arguments(DashboardPreviewSchema)
    @blp.response(200, DashboardPreviewOutSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Every widget of the draft (or ``body``) under the filter ``values``, as the designer
        sees it or as a holder of ``as_role`` would (that role's grants and row-level scopes;
        administrators may choose any role, others one they hold). Designers only; a draft that
        cannot be published is a 422 with every problem's path."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            return dashboards.preview(
                uow,
                actor,
                app,
                key,
                body=body["body"],
                values=body["values"],
                role=body["as_role"],
                open_unit=lambda: p.unit_of_work(write=False),
            )
