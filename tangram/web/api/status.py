"""A record's public status page: the customer follows it and replies through the private link
an intake submission returned (no sign-in; see :mod:`tangram.platform.public.status`)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import public as pages
from tangram.platform.kernel.models import Attachment
from tangram.platform.public import surveys
from tangram.platform.records import attachments, comments
from tangram.web.api.common import StrictSchema
from tangram.web.api.files import UPLOAD_DOC, AttachmentSchema, send_stored, uploaded_file
from tangram.web.api.records import LangArgs, lang_of
from tangram.web.api.surveys import AnswerSchema, SurveySchema, ThanksSchema
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public, remote_addr

PREFIX = "/status"
blp = Blueprint(
    "status", __name__, description="A record's public status page (its private link, no sign-in)"
)


class FileRefSchema(Schema):
    """A file the page shows (download it through the same link)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    size = fields.Integer(allow_none=True, required=True)


class PublicFieldSchema(Schema):
    """A field the form marks public, as a customer reads it."""

    key = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True)
    value = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "The value as people read it in the language asked (options by "
            "label, references by their display field, rich text as plain text); null when empty"
        },
    )
    files = fields.List(
        fields.Nested(FileRefSchema), metadata={"description": "file fields: their files"}
    )


class StateSchema(Schema):
    """Where the record's flow stands."""

    status = fields.String(
        required=True, metadata={"description": "running, completed, cancelled or terminated"}
    )
    label = fields.String(required=True, metadata={"description": "the status in words"})
    steps = fields.List(
        fields.String(), required=True, metadata={"description": "the steps waiting, by name"}
    )


class PublicEntrySchema(Schema):
    """One entry of the public timeline."""

    kind = fields.String(
        required=True,
        validate=validate.OneOf(["created", "changed", "step", "reply", "customer_reply"]),
        metadata={
            "description": "`created` (registered), `changed` (a public field with options "
            "moved on), `step` (flow steps started or done, by name), `reply` (the service "
            "team's public reply), `customer_reply`"
        },
    )
    at = fields.DateTime(required=True)
    text = fields.String(required=True)
    by = fields.String(
        metadata={"description": "replies: 客服 / 客户 (never a person's name)"},
    )
    attachments = fields.List(fields.Nested(FileRefSchema))


class PendingSurveySchema(Schema):
    """A survey waiting for the customer's answer."""

    title = fields.String(required=True, metadata={"description": "the survey form's title"})
    expires_at = fields.DateTime(allow_none=True, required=True)


class StatusSchema(Schema):
    """What the status page shows."""

    number = fields.String(
        required=True, metadata={"description": "the record's serial number, else `#id`"}
    )
    title = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "its title field's value when that field is public"},
    )
    form = fields.String(required=True, metadata={"description": "the form's title"})
    created_at = fields.DateTime(required=True)
    state = fields.Nested(StateSchema, allow_none=True, required=True)
    fields_ = fields.List(
        fields.Nested(PublicFieldSchema), required=True, data_key="fields", attribute="fields"
    )
    timeline = fields.List(
        fields.Nested(PublicEntrySchema),
        required=True,
        metadata={"description": "oldest first"},
    )
    max_reply = fields.Integer(
        required=True, metadata={"description": "the longest reply, in characters"}
    )
    survey = fields.Nested(
        PendingSurveySchema,
        allow_none=True,
        required=True,
        metadata={
            "description": "a survey sent about the record, neither answered nor expired: "
            "answer it at `/status/{token}/survey`"
        },
    )


class ReplyCreateSchema(StrictSchema):
    """A customer's reply."""

    body = fields.String(
        required=True,
        metadata={
            "description": f"Plain text, at most {comments.MAX_BODY} characters once tags and "
            "control characters are stripped"
        },
    )
    attachments = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        metadata={
            "description": f"Ids of files uploaded through this link (at most "
            f"{comments.MAX_REPLY_FILES})"
        },
    )


@blp.route("/<string:token>")
@public
class Status(MethodView):
    """The status page."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, StatusSchema)
    def get(self, _args: dict[str, Any], token: str) -> dict[str, Any]:
        """The record as its customer sees it: number, form, state, the fields the form marks
        public and the public timeline, in the language asked. 404 ``access.not_found`` for
        any link that opens nothing (unknown, forged, expired, its record deleted), alike."""
        with platform().unit_of_work(write=False) as uow:
            return pages.status_view(uow, token, lang=lang_of())


@blp.route("/<string:token>/replies")
@public
class Replies(MethodView):
    """The customer's replies."""

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(ReplyCreateSchema)
    @blp.response(201, PublicEntrySchema)
    def post(self, _args: dict[str, Any], body: dict[str, Any], token: str) -> dict[str, Any]:
        """Reply: the text (tags and control characters stripped) and files uploaded through
        this link land on the record's timeline as a customer reply, the holders of its open
        tasks (else its owner) are notified, and rules with a ``customer_replied`` trigger run.
        422 ``reply.invalid`` by path, nothing written; 429 when this address sent as many
        replies in the last hour as the intake limit allows (``TANGRAM_INTAKE_MAX_PER_HOUR``)."""
        p = platform()
        with p.unit_of_work() as uow:
            entry = pages.reply(
                uow,
                token,
                body["body"],
                attachment_ids=body["attachments"],
                remote_addr=remote_addr(),
                lang=lang_of(),
                max_per_hour=p.settings.intake_max_per_hour,
            )
            uow.commit()
        return entry


@blp.route("/<string:token>/survey")
@public
class PendingSurvey(MethodView):
    """The survey waiting for an answer, through the status link."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, SurveySchema)
    def get(self, _args: dict[str, Any], token: str) -> dict[str, Any]:
        """The pending survey (as ``GET /surveys/{token}``); 404 ``survey.none`` when none is
        waiting (answered, expired or never sent), ``access.not_found`` for a link that opens
        nothing."""
        with platform().unit_of_work(write=False) as uow:
            return surveys.view_for_status(uow, token, lang=lang_of())

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(AnswerSchema)
    @blp.response(201, ThanksSchema)
    def post(self, _args: dict[str, Any], body: dict[str, Any], token: str) -> dict[str, Any]:
        """Answer the pending survey (as ``POST /surveys/{token}``: the same checks and
        problems, and the same single use: an answer by either link ends both)."""
        p = platform()
        with p.unit_of_work() as uow:
            thanks = surveys.answer_for_status(
                uow,
                token,
                body["data"],
                remote_addr=remote_addr(),
                lang=lang_of(),
                max_per_hour=p.settings.intake_max_per_hour,
            )
            uow.commit()
        return thanks


@blp.route("/<string:token>/attachments")
@public
class Upload(MethodView):
    """Files for a reply."""

    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, AttachmentSchema)
    def post(self, token: str) -> Attachment:
        """Upload a file for a reply (multipart ``file``; the upload limits of intake: size,
        types, and the per-address limit of replies); put its id in the reply's
        ``attachments``."""
        stream, name = uploaded_file()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            target = pages.upload_target(
                uow,
                token,
                name,
                remote_addr=remote_addr(),
                max_bytes=p.settings.max_upload_bytes,
                max_per_hour=p.settings.intake_max_per_hour,
            )
        received = attachments.receive(p.files, stream, target)
        with p.unit_of_work() as uow:
            attachment = pages.record_upload(uow, token, target, received)
            uow.commit()
        return attachment


@blp.route("/<string:token>/attachments/<string:attachment_id>")
@public
class Download(MethodView):
    """A file the page shows."""

    @blp.response(
        200,
        content_type="application/octet-stream",
        description="The file; images and PDFs inline, everything else as a download.",
    )
    def get(self, token: str, attachment_id: str) -> Response:
        """Download a file of a public reply or a public file field of the link's record (404
        for any other)."""
        p = platform()
        with p.unit_of_work(write=False) as uow:
            attachment, stored = pages.status_download(uow, token, attachment_id, files=p.files)
        return send_stored(attachment, stored)
