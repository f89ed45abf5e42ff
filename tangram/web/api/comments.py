"""Comments on a record, with mentions that notify (see :mod:`tangram.platform.records.comments`
for who may comment and why mentions are user ids)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.records import comments
from tangram.web.api.common import PageArgs, StrictSchema, next_after
from tangram.web.api.records import LangArgs, lang_of
from tangram.web.decoding import ID_MAX, Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("comments", __name__, description="Comments on records, with mentions")
PATH = "/<string:app>/records/<string:form>/<int:record_id>/comments"


class PersonSchema(Schema):
    """A user as a comment names them."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)


class CommentSchema(Schema):
    """A comment."""

    id = fields.Integer(required=True)
    body = fields.String(required=True)
    author = fields.Nested(
        PersonSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "null for a customer's reply (`from_customer`) and when the "
            "author's account is gone"
        },
    )
    mentions = fields.List(
        fields.Nested(PersonSchema),
        required=True,
        metadata={"description": "the people it mentions (each was notified)"},
    )
    created_at = fields.DateTime(required=True)
    public = fields.Boolean(
        required=True,
        metadata={"description": "the customer reads it on the record's status page"},
    )
    from_customer = fields.Boolean(
        required=True,
        metadata={"description": "the customer's reply through the record's status link"},
    )
    attachments = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "its files (a customer reply's), as a file field stores them"},
    )


class CommentPageSchema(Schema):
    """One page of a record's comments, oldest first."""

    items = fields.List(fields.Nested(CommentSchema), required=True)
    next_after = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as `after` for the next page; null on the last page."},
    )


class CommentCreateSchema(StrictSchema):
    """A new comment."""

    body = fields.String(
        required=True,
        metadata={
            "description": f"The text, at most {comments.MAX_BODY} characters once surrounding "
            "white space is removed; mentions are usually written in it as `@username`"
        },
    )
    mentions = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=ID_MAX)),
        load_default=list,
        metadata={
            "description": f"Ids of the users to notify (at most {comments.MAX_MENTIONS}); each "
            "must be active and able to read the record"
        },
    )
    public = fields.Boolean(
        load_default=False,
        metadata={
            "description": "A public reply (公开回复): the customer reads it on the record's "
            "status page; only on a form with a `public` block. Internal by default"
        },
    )


@blp.route(PATH)
class Comments(MethodView):
    """A record's comments."""

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CommentPageSchema)
    def get(self, args: dict[str, Any], app: str, form: str, record_id: int) -> dict[str, Any]:
        """The comments on a record the caller may read, oldest first (404 for a record they may
        not read, as for the record itself)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            items = comments.list_comments(
                uow, actor, app, form, record_id, after=args["after"], limit=args["limit"]
            )
        return {"items": items, "next_after": next_after(list(items), args["limit"])}

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(CommentCreateSchema)
    @blp.response(201, CommentSchema)
    def post(
        self, _args: dict[str, Any], body: dict[str, Any], app: str, form: str, record_id: int
    ) -> comments.Shown:
        """Comment on a record the caller may read, and notify the people it mentions (their
        notification's title is a sentence in their own language, linking to the record).

        Refused with 422 ``comment.invalid`` and every problem by path (``body``,
        ``mentions/N``), nothing written, when the text is empty or too long, or a mentioned user
        does not exist, is deactivated or may not read the record (named in the message)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            shown = comments.add_comment(
                uow,
                actor,
                app,
                form,
                record_id,
                body["body"],
                mentions=body["mentions"],
                lang=lang_of(),
                public=body["public"],
            )
            uow.commit()
        return shown
