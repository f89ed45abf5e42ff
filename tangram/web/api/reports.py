"""Report data over HTTP: ECharts-ready rows, CSV and XLSX exports."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from tangram.platform import reports
from tangram.platform.errors import ValidationFailed
from tangram.platform.listing import Filter
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("reports", __name__, description="Report data and exports")
#: Query parameters that are not filters.
RESERVED = {"format", "lang"}


class ReportDataSchema(Schema):
    """A report's rows, ready for ECharts, and how long the query took."""

    key = fields.String(required=True)
    version = fields.Integer(required=True)
    widget = fields.Dict(required=True)
    columns = fields.List(fields.String(), required=True)
    rows = fields.List(fields.List(fields.Raw()), required=True)
    echarts = fields.Dict(
        required=True, metadata={"description": "{dataset: {dimensions, source}} for ECharts"}
    )
    elapsed_ms = fields.Float(required=True)


@blp.route("/<string:app>/reports/<string:key>/data")
class ReportData(MethodView):
    """Run a published report."""

    @blp.response(200, ReportDataSchema)
    @blp.alt_response(200, description="CSV or XLSX export (?format=csv|xlsx)", success=True)
    def get(self, app: str, key: str) -> Any:
        """The report for the caller (their read scope applies), filtered like record lists
        (``status=open``, ``_created_at__gte=2026-11-01``); ``?format=csv|xlsx`` exports it."""
        actor = require_actor()
        kind = request.args.get("format", "json")
        if kind not in ("json", "csv", "xlsx"):
            raise ValidationFailed(
                f"Unknown format {kind!r}: use json, csv or xlsx.",
                code="query.invalid",
                errors=[{"path": "format", "message": "json, csv or xlsx"}],
            )
        filters = [
            Filter.parse(name, request.args.getlist(name))
            for name in request.args
            if name not in RESERVED
        ]
        p = platform()
        with p.unit_of_work(write=False) as uow:
            result = reports.run(
                uow, actor, app, key, filters=filters, time_zone=p.settings.time_zone
            )
        if kind == "csv":
            return Response(
                result.csv(),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{key}.csv"'},
            )
        if kind == "xlsx":
            return Response(
                result.xlsx(),
                mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{key}.xlsx"'},
            )
        return result.as_dict()
