"""Records of a published form: list, create, read, update, delete, restore, timeline."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from tangram.platform import records
from tangram.platform.models import AuditEntry, Record
from tangram.web.api.audit import EntrySchema
from tangram.web.api.common import PageArgs, StrictSchema, next_after
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("records", __name__, description="Business records of published forms")


def _lang() -> str:
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


class RecordPageSchema(Schema):
    """One page of records."""

    items = fields.List(fields.Nested(RecordSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


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


class RecordPageArgs(PageArgs):
    """Paging (filters on fields come with the projection tables)."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


BASE = "/<string:app>/records/<string:form>"


@blp.route(BASE)
class Records(MethodView):
    """The records of one form."""

    @blp.arguments(RecordPageArgs, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """Live records the caller may read, by id (keyset paging)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            items = records.list_records(
                uow, actor, app, form, after=args["after"], limit=args["limit"]
            )
        return {"items": items, "next_after": next_after(list(items), args["limit"])}

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(RecordCreateSchema)
    @blp.response(201, RecordSchema)
    def post(self, _args: dict[str, Any], body: dict[str, Any], app: str, form: str) -> Record:
        """Create a record; 422 lists every problem by field path in the caller's language."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work() as uow:
            written = records.create_record(
                uow, actor, app, form, body["data"], lang=_lang(), time_zone=p.settings.time_zone
            )
            uow.commit()
        return written.record


@blp.route(f"{BASE}/<int:record_id>")
class RecordItem(MethodView):
    """One record."""

    @blp.response(200, RecordSchema)
    def get(self, app: str, form: str, record_id: int) -> Record:
        """Read a record."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return records.get_record(uow, actor, app, form, record_id)

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(RecordUpdateSchema)
    @blp.response(200, RecordSchema)
    def patch(
        self, _args: dict[str, Any], body: dict[str, Any], app: str, form: str, record_id: int
    ) -> Record:
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
                lang=_lang(),
                time_zone=p.settings.time_zone,
            )
            uow.commit()
        return written.record

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
    def post(self, app: str, form: str, record_id: int) -> Record:
        """Restore a soft-deleted record (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            record = records.restore_record(uow, actor, app, form, record_id)
            uow.commit()
        return record


@blp.route(f"{BASE}/<int:record_id>/timeline")
class Timeline(MethodView):
    """What happened to a record."""

    @blp.response(200, EntrySchema(many=True))
    def get(self, app: str, form: str, record_id: int) -> list[AuditEntry]:
        """Creation, every change (old → new), deletion and restoration, oldest first."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return records.timeline(uow, actor, app, form, record_id)
