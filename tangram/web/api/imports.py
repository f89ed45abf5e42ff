"""Records from a spreadsheet: check a file against a form, then import all of it or nothing;
and a template workbook with the columns a new record takes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import flows
from tangram.platform.kernel import spreadsheets
from tangram.platform.kernel.errors import TangramError, ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.records import imports, navigation
from tangram.platform.records.imports import MAX_BYTES
from tangram.web.api.common import XLSX
from tangram.web.api.records import lang_of
from tangram.web.decoding import Blueprint, decode_body
from tangram.web.problems import tangram_problem
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("imports", __name__, description="Records from spreadsheets")

IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "An Excel workbook (.xlsx, its first sheet) or a CSV "
                            "file; the first row names the columns; at most 10 MB and 2,000 rows",
                        },
                        "mapping": {
                            "type": "string",
                            "description": 'JSON: column → field key or null, e.g. `{"标题": '
                            '"title", "备注": null}`; without it the columns map by their headers',
                        },
                        "dry_run": {
                            "type": "string",
                            "enum": ["true", "false"],
                            "description": "true (the default): check and write nothing; false: "
                            "import every row or, when any has a problem, none (422)",
                        },
                        "progress": {
                            "type": "string",
                            "enum": ["true", "false"],
                            "description": "true: answer `application/x-ndjson`, a line per "
                            "step as the work goes; false (the default): the report at the end",
                        },
                    },
                }
            }
        },
    },
    "responses": {
        "200": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ImportReport"}},
                "application/x-ndjson": {
                    "schema": {
                        "description": "With progress=true, one JSON object a line: "
                        '`{"stage": "check"|"write", "done": n, "total": rows}` about fifty '
                        'times a stage, then `{"report": <the report>}`, or `{"problem": '
                        "<a problem>}` when the file is refused on the way (nothing written). "
                        "What refuses the whole file before its rows are read answers as usual.",
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["stage", "done", "total"],
                                "properties": {
                                    "stage": {"type": "string", "enum": ["check", "write"]},
                                    "done": {"type": "integer", "minimum": 0},
                                    "total": {"type": "integer", "minimum": 0},
                                },
                                "additionalProperties": False,
                            },
                            {
                                "type": "object",
                                "required": ["report"],
                                "properties": {
                                    "report": {"$ref": "#/components/schemas/ImportReport"}
                                },
                                "additionalProperties": False,
                            },
                            {
                                "type": "object",
                                "required": ["problem"],
                                "properties": {"problem": {"$ref": "#/components/schemas/Problem"}},
                                "additionalProperties": False,
                            },
                        ],
                    }
                },
            }
        }
    },
}


class ImportProblemSchema(Schema):
    """One problem of a row: its number as the spreadsheet shows it (the header is row 1)."""

    row = fields.Integer(required=True)
    column = fields.String(allow_none=True, required=True)
    field = fields.String(allow_none=True, required=True)
    message = fields.String(required=True)


class ImportReportSchema(Schema):
    """What a check or an import found."""

    columns = fields.List(fields.String(), required=True)
    mapping = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        required=True,
        metadata={"description": "Each column's field (null: not imported)"},
    )
    rows = fields.Integer(required=True)
    valid = fields.Integer(required=True, metadata={"description": "Rows without a problem"})
    problems = fields.List(fields.Nested(ImportProblemSchema), required=True)
    created = fields.List(
        fields.Integer(), required=True, metadata={"description": "The new records' ids, in order"}
    )
    samples = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "The first values of each column, as text"},
    )


def _mapping() -> dict[str, str | None] | None:
    """The ``mapping`` part: a JSON object of column → field key or null."""
    raw = request.form.get("mapping")
    if raw is None or raw == "":
        return None
    value = decode_body(raw.encode("utf-8"))
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise ValidationFailed(
            "The mapping names each column's field key (or null).",
            errors=[{"path": "mapping", "message": "an object of column → field key or null"}],
        )
    return value


def _file() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(
            "Send the spreadsheet as the multipart/form-data part named 'file'.",
            code="import.missing",
            errors=[{"path": "file", "message": "is required"}],
        )
    content = upload.stream.read(MAX_BYTES + 1)
    return upload.filename, content


def _line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _streamed(
    held: ExitStack, uow: UnitOfWork, steps: imports.Steps, first: imports.Progress, write: bool
) -> Response:
    """A check or an import as it goes, one JSON object a line: ``{"stage", "done", "total"}``
    about fifty times a stage, then ``{"report": …}``, or ``{"problem": …}`` when the file is
    refused on the way (nothing written). A caller that goes away ends the stream, and the unit
    of work rolls back."""

    def lines() -> Iterator[str]:
        with held:
            step: imports.Progress | None = first
            try:
                while step is not None:
                    yield _line({"stage": step.stage, "done": step.done, "total": step.total})
                    try:
                        step = next(steps)
                    except StopIteration as done:
                        report: imports.Report = done.value
                        step = None
                if write:
                    uow.commit()
            except TangramError as error:
                yield _line({"problem": tangram_problem(error)})
                return
            yield _line({"report": report.as_dict()})

    response = Response(
        stream_with_context(lines()),
        mimetype="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    # a stream closed before it started still ends its unit of work
    response.call_on_close(held.close)
    return response


@blp.route("/<string:app>/records/<string:form>/import")
class RecordImport(MethodView):
    """Records of a form from a spreadsheet."""

    @blp.doc(**IMPORT_DOC)
    @blp.response(200, ImportReportSchema)
    def post(self, app: str, form: str) -> dict[str, Any] | Response:
        """Check a spreadsheet (``dry_run``, the default: every row's problems, nothing written)
        or import it: every row becomes a record in one transaction, or, when a row has a
        problem, nothing is written and the answer is 422 naming each row's problems
        (``rows/{row}/{field}``). With ``progress=true`` the answer follows the work as it
        goes (``application/x-ndjson``, see the 200 answer's second form)."""
        actor = require_actor()
        name, content = _file()
        mapping = _mapping()
        dry_run = request.form.get("dry_run", "true")
        if dry_run not in ("true", "false"):
            raise ValidationFailed(
                "dry_run is true or false.",
                errors=[{"path": "dry_run", "message": "true or false"}],
            )
        progress = request.form.get("progress", "false")
        if progress not in ("true", "false"):
            raise ValidationFailed(
                "progress is true or false.",
                errors=[{"path": "progress", "message": "true or false"}],
            )
        sheet = imports.read_sheet(name, content)
        lang = lang_of()
        write = dry_run == "false"
        uow = platform().unit_of_work(write=write)
        with ExitStack() as stack:
            stack.enter_context(uow)
            steps = (imports.run_steps if write else imports.check_steps)(
                uow, actor, app, form, sheet, mapping, lang=lang
            )
            if progress == "true":
                # what refuses the whole file (the mapping, the grant) answers as a problem
                # before the stream starts; the unit of work then lives as long as the stream
                first = next(steps)
                return _streamed(stack.pop_all(), uow, steps, first, write)
            report = imports.finish(steps)
            if write:
                uow.commit()
        return report.as_dict()


class TemplateArgs(Schema):
    """The language of the template's headers."""

    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))


@blp.route("/<string:app>/records/<string:form>/import/template")
class ImportTemplate(MethodView):
    """An empty workbook to fill in."""

    @blp.arguments(TemplateArgs, location="query")
    @blp.response(200, description="An XLSX workbook", content_type=XLSX)
    def get(self, args: dict[str, Any], app: str, form: str) -> Response:
        """A workbook whose header row names the fields a new record takes (their labels in
        ``lang``): what the caller may write on creation that a column can fill."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            shown = set(
                navigation.create_fields(uow, actor, app, form, flows.start_fields(uow, app, form))
            )
            columns, title = imports.template_columns(uow, actor, app, form, shown, args["lang"])
        return Response(
            spreadsheets.xlsx(title, columns, []),
            mimetype=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{form}-import.xlsx"'},
        )
