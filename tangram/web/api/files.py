"""Attachments: upload a file for a form's file fields, download one you may read."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView
from marshmallow import Schema, fields
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.files import StoredFile
from tangram.platform.kernel.models import Attachment
from tangram.platform.records import attachments
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("files", __name__, description="Attachments of records")

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "field": {
                            "type": "string",
                            "description": "The file field it is for (its accept and max_size "
                            "apply at once); `table.field` inside a sub-table.",
                        },
                    },
                }
            }
        },
    }
}


class AttachmentSchema(Schema):
    """An uploaded file: put ``{"id": ...}`` in a file field of a record to use it."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    sha256 = fields.String(required=True)


def uploaded_file() -> tuple[Any, str]:
    """The ``file`` part of a multipart request and its name (422 when missing)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(
            "Send the file as the multipart/form-data part named 'file'.",
            code="attachment.missing",
            errors=[{"path": "file", "message": "is required"}],
        )
    return upload.stream, upload.filename


@blp.route("/<string:app>/records/<string:form>/attachments")
class Upload(MethodView):
    """Uploads for a form."""

    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, AttachmentSchema)
    def post(self, app: str, form: str) -> Attachment:
        """Upload a file (multipart ``file``); 413 over the size limit, 422 for a refused type."""
        actor = require_actor()
        stream, name = uploaded_file()
        p = platform()
        with p.unit_of_work(write=False) as uow:  # checked before any byte is read
            target = attachments.upload_target(
                uow,
                actor,
                app,
                form,
                name,
                max_bytes=p.settings.max_upload_bytes,
                field_key=request.form.get("field") or None,
            )
        # the bytes go to the store outside any transaction: a slow upload holds no connection
        # (nor SQLite's write lock)
        received = attachments.receive(p.files, stream, target)
        with p.unit_of_work() as uow:  # still allowed after a long upload?
            attachments.upload_target(
                uow, actor, app, form, name, max_bytes=target.limit, field_key=target.field_key
            )
            attachment = attachments.record_upload(uow, actor, app, target, received)
            uow.commit()
        return attachment


@blp.route("/<string:app>/attachments/<string:attachment_id>")
class Download(MethodView):
    """One file."""

    @blp.response(
        200,
        content_type="application/octet-stream",
        description="The file; images and PDFs inline, everything else as a download.",
    )
    @blp.alt_response(
        206,
        description="The part a `Range: bytes=…` header asked for (`Content-Range` says which).",
        content_type="application/octet-stream",
        success=True,
    )
    @blp.alt_response(304, response=HTTPStatus(304).name, success=True)
    @blp.alt_response(416, response=HTTPStatus(416).name)
    def get(self, app: str, attachment_id: str) -> Response:
        """Download a file of a record you may read (or your own upload not yet used); answers
        conditional (``If-None-Match``) and range requests."""
        actor = require_actor()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            attachment, stored = attachments.open_download(
                uow, actor, app, attachment_id, files=p.files
            )
        return send_stored(attachment, stored)


def send_stored(attachment: Attachment, stored: StoredFile) -> Response:
    """The response carrying a stored file, alike for every file store.

    The bytes come from the store as the response is sent (a path the server sends itself, or
    the S3 store's stream, fetched only when read), after the permission was checked: the same
    content type (decided at upload, never the store's), disposition, ETag (the SHA-256),
    ``nosniff``, sandboxing CSP and ``private, no-cache`` whichever store holds the file.
    Conditional and range requests are answered here for both, from the size the store reported.
    """
    response = send_file(
        stored.source,
        mimetype=attachment.content_type,
        as_attachment=attachment.content_type not in attachments.INLINE_TYPES,
        download_name=attachment.name,
        etag=attachment.sha256,
        last_modified=stored.modified,
        conditional=False,
        max_age=0,
    )
    response.content_length = stored.size
    try:
        response.make_conditional(request.environ, accept_ranges=True, complete_length=stored.size)
    except RequestedRangeNotSatisfiable:
        response.close()  # the store's file or stream, opened for nothing
        raise
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
