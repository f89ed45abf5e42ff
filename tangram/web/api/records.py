"""Records of a published form: list, create, read, update, delete, restore, timeline."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import INCLUDE, Schema, fields, validate

from tangram.engines.forms import Form
from tangram.platform import records
from tangram.platform.identity.perms import Actor, hidden_fields
from tangram.platform.kernel.models import AuditEntry, Record, SavedView
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import app_search, exports, related, saved_views
from tangram.platform.records.listing import SortKey
from tangram.web.api.audit import EntrySchema
from tangram.web.api.common import (
    LOCATION,
    MAX_PAGE,
    StrictSchema,
    created,
    download,
    filters_from_query,
)
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("records", __name__, description="Business records of published forms")


def lang_of() -> str:
    """zh-CN unless the caller asks for English (``?lang=en`` or ``Accept-Language: en``)."""
    asked = request.args.get("lang") or request.accept_languages.best_match(["zh-CN", "en"])
    return "en" if asked == "en" else "zh-CN"


class RecordSchema(Schema):
    """A record."""

    id = fields.Integer(required=True)
    form = fields.String(required=True, attribute="form_key")
    form_version = fields.Integer(required=True)
    data = fields.Dict(required=True)
    lock_version = fields.Integer(required=True)
    owner_id = fields.Integer(allow_none=True)
    group_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    overdue = fields.Boolean(
        metadata={"description": "In a list: an SLA target of the record is past due, not met"}
    )
    removed_fields = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Keys the record holds that the form's current version no longer "
            "has (kept in the document, not validated)."
        },
    )


class RecordPageSchema(Schema):
    """One page of records."""

    items = fields.List(fields.Nested(RecordSchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )
    total = fields.Integer(
        allow_none=True, required=True, metadata={"description": "With `count=true`."}
    )


class RecordCreateSchema(StrictSchema):
    """A new record: its field values."""

    data = fields.Dict(required=True)


class RecordUpdateSchema(StrictSchema):
    """Changes to a record (``null`` clears a field), based on ``lock_version``."""

    data = fields.Dict(required=True)
    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


class LockArgs(StrictSchema):
    """The lock version a deletion is based on."""

    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


class LangArgs(StrictSchema):
    """Language of validation messages."""

    lang = fields.String(load_default=None, validate=validate.OneOf(["zh-CN", "en"]))


class RecordListArgs(Schema):
    """Paging, sorting and counting; every other parameter is a filter.

    Filters: `field=value` (equals), `field__ne`, `field__lt`, `field__lte`, `field__gt`,
    `field__gte`, `field__in=a,b`, `field__contains=text`, `field__empty=true|false`. A
    sub-table's fields are `table.field` (any row matches); the record's own `_id`,
    `_created_at`, `_updated_at`, `_owner`, `_group` and `_form_version` work too.
    """

    class Meta:
        unknown = INCLUDE

    cursor = fields.String(load_default=None, metadata={"description": "From `next_cursor`."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    sort = fields.String(
        load_default="",
        metadata={"description": "Comma-separated keys, `-` for descending; default `-_id`."},
    )
    count = fields.Boolean(load_default=False, metadata={"description": "Also return `total`."})
    lang = fields.String(load_default=None, validate=validate.OneOf(["zh-CN", "en"]))


_LIST_PARAMS = frozenset(RecordListArgs().fields)


def record_out(record: Record, form: Form, hidden: frozenset[str]) -> dict[str, Any]:
    """A record as the API answers it, without the fields its viewer may not read (``hidden``)."""
    return {
        "id": record.id,
        "form_key": record.form_key,
        "form_version": record.form_version,
        "data": records.shown(record.data, hidden),
        "lock_version": record.lock_version,
        "owner_id": record.owner_id,
        "group_id": record.group_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "removed_fields": records.removed_fields(form, record.data),
    }


def _current(uow: UnitOfWork, actor: Actor, app: str, form: str, record: Record) -> dict[str, Any]:
    return record_out(record, compiled.form(uow, app, form)[1], hidden_fields(actor, app, form))


BASE = "/<string:app>/records/<string:form>"


@blp.route(BASE)
class Records(MethodView):
    """The records of one form."""

    @blp.arguments(RecordListArgs, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """Live records the caller may read: filtered, sorted, a page at a time (keyset)."""
        actor = require_actor()
        filters = filters_from_query(_LIST_PARAMS)
        p = platform()
        with p.unit_of_work(write=False) as uow:
            page = records.list_records(
                uow,
                actor,
                app,
                form,
                filters=filters,
                sort=SortKey.parse(args["sort"]),
                cursor=args["cursor"],
                limit=args["limit"],
                count=args["count"],
            )
            late = records.overdue(uow, [r.id for r in page.items])
        return {
            "items": [
                {**record_out(r, page.form, page.hidden), "overdue": r.id in late}
                for r in page.items
            ],
            "next_cursor": page.next_cursor,
            "total": page.total,
        }

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(RecordCreateSchema)
    @blp.response(201, RecordSchema, headers=LOCATION)
    def post(
        self, _args: dict[str, Any], body: dict[str, Any], app: str, form: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Create a record; 422 lists every problem by field path in the caller's language."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work() as uow:
            written = records.create_record(uow, actor, app, form, body["data"], lang=lang_of())
            out = _current(uow, actor, app, form, written.record)
            uow.commit()
        return created(out, "records.RecordItem", app=app, form=form, record_id=out["id"])


class ExportArgs(Schema):
    """The format and language of an export; every other parameter is a list filter."""

    class Meta:
        unknown = INCLUDE

    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    sort = fields.String(load_default="")
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))


_EXPORT_PARAMS = frozenset(ExportArgs().fields)


@blp.route(f"{BASE}/export")
class RecordExport(MethodView):
    """A record list as a spreadsheet."""

    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, description="CSV (UTF-8 with BOM) or XLSX", content_type="text/csv")
    def get(self, args: dict[str, Any], app: str, form: str) -> Response:
        """The records the list would show (same filters, sort and read scope), a column per field
        with its label and option labels for values; at most 100,000 rows (``X-Truncated`` says
        when there were more)."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            sheet = exports.record_sheet(
                uow,
                actor,
                app,
                form,
                filters=filters_from_query(_EXPORT_PARAMS),
                sort=SortKey.parse(args["sort"]),
                lang=args["lang"],
            )
        return download(
            form,
            args["format"],
            sheet.csv_chunks,
            sheet.xlsx,
            {"X-Truncated": "true" if sheet.truncated else "false"},
        )


class SavedViewInSchema(StrictSchema):
    """A view to save: its name, the list's filters as query parameters, and the sort."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    filters = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        load_default=dict,
        metadata={"description": '`{"status__in": "new,assigned"}`, as the list takes them.'},
    )
    sort = fields.String(load_default="")
    shared = fields.Boolean(
        load_default=False,
        metadata={"description": "Everyone who reads the form sees it (admins)."},
    )


class SavedViewSchema(Schema):
    """A saved view of the list."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    filters = fields.Dict(required=True)
    sort = fields.String(required=True)
    shared = fields.Boolean(required=True)
    mine = fields.Boolean(required=True, metadata={"description": "Saved by the caller."})
    updated_at = fields.DateTime(required=True)


def _view_out(view: SavedView, user_id: int | None) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "filters": view.filters,
        "sort": view.sort,
        "shared": view.shared,
        "mine": view.user_id == user_id,
        "updated_at": view.updated_at,
    }


@blp.route(f"{BASE}/views")
class SavedViews(MethodView):
    """Named filters and sorts of the list: the caller's own and the shared ones."""

    @blp.response(200, SavedViewSchema(many=True))
    def get(self, app: str, form: str) -> list[dict[str, Any]]:
        """The caller's views of the form, then the shared ones."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            views = saved_views.list_views(uow, actor, app, form)
            return [_view_out(v, actor.user_id) for v in views]

    @blp.arguments(SavedViewInSchema)
    @blp.response(200, SavedViewSchema)
    def post(self, body: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """Save a view (a view of the same name is replaced); its filters and sort are checked
        against the form, 422 naming each bad one."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work() as uow:
            view = saved_views.save_view(uow, actor, app, form, **body)
            out = _view_out(view, actor.user_id)
            uow.commit()
        return out


@blp.route(f"{BASE}/views/<int:view_id>")
class SavedViewItem(MethodView):
    """One saved view."""

    @blp.response(204)
    def delete(self, app: str, form: str, view_id: int) -> None:
        """Delete one of the caller's views (administrators: shared ones too)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            saved_views.delete_view(uow, actor, app, form, view_id)
            uow.commit()


@blp.route(f"{BASE}/<int:record_id>")
class RecordItem(MethodView):
    """One record."""

    @blp.response(200, RecordSchema)
    def get(self, app: str, form: str, record_id: int) -> dict[str, Any]:
        """Read a record (``removed_fields``: what later form versions dropped)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return _current(
                uow, actor, app, form, records.get_record(uow, actor, app, form, record_id)
            )

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(RecordUpdateSchema)
    @blp.response(200, RecordSchema)
    def patch(
        self, _args: dict[str, Any], body: dict[str, Any], app: str, form: str, record_id: int
    ) -> dict[str, Any]:
        """Change fields; a stale lock_version gets 409 with the current record."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work() as uow:
            written = records.update_record(
                uow,
                actor,
                app,
                form,
                record_id,
                body["data"],
                lock_version=body["lock_version"],
                lang=lang_of(),
            )
            out = _current(uow, actor, app, form, written.record)
            uow.commit()
        return out

    @blp.arguments(LockArgs, location="query")
    @blp.response(204)
    def delete(self, args: dict[str, Any], app: str, form: str, record_id: int) -> None:
        """Soft-delete a record (``?lock_version=``); administrators can restore it."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            records.delete_record(
                uow, actor, app, form, record_id, lock_version=args["lock_version"]
            )
            uow.commit()


@blp.route(f"{BASE}/<int:record_id>/restore")
class Restore(MethodView):
    """Undo a deletion."""

    @blp.response(200, RecordSchema)
    def post(self, app: str, form: str, record_id: int) -> dict[str, Any]:
        """Restore a soft-deleted record (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            record = records.restore_record(uow, actor, app, form, record_id)
            out = _current(uow, actor, app, form, record)
            uow.commit()
        return out


class RelatedItemSchema(Schema):
    """One related record."""

    id = fields.Integer(required=True)
    title = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    summary = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        required=True,
        metadata={"description": "the summary fields' values as text, by field"},
    )


class RelatedColumnSchema(Schema):
    """A summary field shown beside related records' titles."""

    field = fields.String(required=True)
    label = fields.String(required=True)


class RelatedSchema(Schema):
    """The records of one form that name this record in one reference field."""

    form = fields.String(required=True)
    form_label = fields.String(required=True)
    field = fields.String(required=True, metadata={"description": "the reference field"})
    field_label = fields.String(required=True)
    total = fields.Integer(required=True, metadata={"description": "those the caller may read"})
    columns = fields.List(
        fields.Nested(RelatedColumnSchema),
        required=True,
        metadata={"description": "the form's summary fields (options.summary_fields)"},
    )
    items = fields.List(
        fields.Nested(RelatedItemSchema), required=True, metadata={"description": "newest first"}
    )


@blp.route(f"{BASE}/<int:record_id>/related")
class Related(MethodView):
    """What references a record."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, RelatedSchema(many=True))
    def get(
        self, _args: dict[str, Any], app: str, form: str, record_id: int
    ) -> list[dict[str, Any]]:
        """The records of every form that names this one in a reference field (a customer's
        tickets and callbacks), by form and field: how many the caller may read and the newest
        five; list them all with the form's list filtered by the field (``?customer=12``)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return related.related(uow, actor, app, form, record_id, lang=lang_of())


class AppSearchArgs(StrictSchema):
    """A search across an app."""

    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=app_search.MAX_QUERY),
        metadata={"description": "the words (Chinese, Latin, numbers and codes); `#12` a number"},
    )
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=app_search.MAX_LIMIT))
    lang = fields.String(load_default=None, validate=validate.OneOf(["zh-CN", "en"]))


class SearchItemSchema(Schema):
    """One matching record."""

    id = fields.Integer(required=True)
    title = fields.String(allow_none=True, required=True)
    field = fields.String(
        allow_none=True, required=True, metadata={"description": "the field the snippet is from"}
    )
    field_label = fields.String(allow_none=True, required=True)
    snippet = fields.String(allow_none=True, required=True)
    highlights = fields.List(
        fields.List(fields.Integer()),
        required=True,
        metadata={"description": "[start, end) offsets of the query's words in the snippet"},
    )


class SearchGroupSchema(Schema):
    """The matching records of one form."""

    form = fields.String(required=True)
    form_label = fields.String(required=True)
    total = fields.Integer(required=True, metadata={"description": "those the caller may read"})
    items = fields.List(
        fields.Nested(SearchItemSchema), required=True, metadata={"description": "newest first"}
    )


class SearchResultSchema(Schema):
    """What a search across an app found."""

    query = fields.String(required=True)
    total = fields.Integer(required=True)
    groups = fields.List(fields.Nested(SearchGroupSchema), required=True)


@blp.route("/<string:app>/search")
class AppSearch(MethodView):
    """Search across an app."""

    @blp.arguments(AppSearchArgs, location="query")
    @blp.response(200, SearchResultSchema)
    def get(self, args: dict[str, Any], app: str) -> dict[str, Any]:
        """The records of every form the caller may read whose readable fields hold every word
        of ``q`` (or numbered ``#q``), by form: how many match and the newest ``limit``, each
        with its title and a snippet of the field that matched."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return app_search.search_app(
                uow, actor, app, args["q"], limit=args["limit"], lang=lang_of()
            )


@blp.route(f"{BASE}/<int:record_id>/timeline")
class Timeline(MethodView):
    """What happened to a record."""

    @blp.response(200, EntrySchema(many=True))
    def get(self, app: str, form: str, record_id: int) -> list[AuditEntry]:
        """Creation, every change (old → new), deletion and restoration, oldest first."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return records.timeline(uow, actor, app, form, record_id)


class SlaSchema(Schema):
    """One SLA target of a record: its state, due time and why."""

    policy = fields.String(required=True)
    target = fields.String(required=True)
    state = fields.String(
        required=True, metadata={"description": "running, paused, warned, met or breached"}
    )
    due_at = fields.DateTime(allow_none=True, required=True)
    warn_at = fields.DateTime(allow_none=True, required=True)
    breached_at = fields.DateTime(allow_none=True, required=True)
    met_at = fields.DateTime(allow_none=True, required=True)
    cycle = fields.Integer(
        required=True,
        metadata={"description": "the current cycle (a repeating target starts one per reopening)"},
    )
    breaches = fields.Integer(
        required=True, metadata={"description": "how many of the target's cycles breached"}
    )
    explanation = fields.String(required=True)
    detail = fields.Dict(required=True)


@blp.route(f"{BASE}/<int:record_id>/sla")
class Sla(MethodView):
    """A record's SLA targets."""

    @blp.response(200, SlaSchema(many=True))
    def get(self, app: str, form: str, record_id: int) -> list[dict[str, Any]]:
        """Every target of every policy, with its explanation ("due 14:05 because …")."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return [
                {
                    "policy": s.policy,
                    "target": s.target,
                    "state": s.state,
                    "due_at": s.due_at,
                    "warn_at": s.warn_at,
                    "breached_at": s.breached_at,
                    "met_at": s.met_at,
                    "cycle": s.cycle,
                    "breaches": s.breaches,
                    "explanation": s.detail.get("explanation", ""),
                    "detail": s.detail,
                }
                for s in records.sla_of(uow, actor, app, form, record_id)
            ]
