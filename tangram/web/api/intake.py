"""Public intake forms: designers manage links; anyone with a link submits the exposed fields."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.kernel.models import Attachment, IntakeLink
from tangram.platform.records import attachments, intake
from tangram.web.api.common import I18nText, LockedSchema, StrictSchema
from tangram.web.api.files import UPLOAD_DOC, AttachmentSchema, uploaded_file
from tangram.web.api.records import LangArgs, lang_of
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public, remote_addr, require_actor

PREFIX = ""
blp = Blueprint("intake", __name__, description="Public intake forms (anonymous submission)")


class LinkSchema(Schema):
    """A public intake link (its token is shown only when it is created)."""

    id = fields.Integer(required=True)
    form = fields.String(required=True, attribute="form_key")
    title = I18nText
    exposed = fields.List(fields.String(), required=True, attribute="fields", data_key="fields")
    owner_id = fields.Integer(allow_none=True)
    enabled = fields.Boolean(required=True)
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class NewLinkSchema(LinkSchema):
    """A new link with its token and path: share them now, they are not shown again."""

    token = fields.String(required=True)
    path = fields.String(required=True)


class LinkCreateSchema(StrictSchema):
    """A link for a form, exposing some of its fields."""

    form = fields.String(required=True)
    exposed = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1), data_key="fields"
    )
    title = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    owner_id = fields.Integer(load_default=None, allow_none=True)


class LinkUpdateSchema(LockedSchema):
    """Changes to a link; only what is sent changes."""

    enabled = fields.Boolean()
    exposed = fields.List(fields.String(), validate=validate.Length(min=1), data_key="fields")
    title = fields.Dict(keys=fields.String(), values=fields.String())


class PublicFormSchema(Schema):
    """What a visitor's browser renders: the exposed fields only."""

    title = fields.String(required=True)
    form = fields.String(required=True)
    json_schema = fields.Dict(required=True)
    ui_schema = fields.Dict(required=True)
    conditions = fields.Dict(required=True)
    fields_ = fields.List(
        fields.Dict(),
        required=True,
        data_key="fields",
        attribute="fields",
        metadata={"description": "exposed ones"},
    )
    messages = fields.Dict(
        required=True,
        metadata={"description": "The server's validation messages by code, in the language asked"},
    )


class SuggestTargetSchema(Schema):
    """The help center an intake page suggests articles from."""

    app = fields.String(required=True)
    form = fields.String(required=True)
    fields_ = fields.List(fields.String(), required=True, data_key="fields", attribute="fields")


class IntakeFormSchema(PublicFormSchema):
    """An intake link's page: the exposed fields, and where its suggestions come from."""

    suggest = fields.Nested(
        SuggestTargetSchema,
        allow_none=True,
        required=True,
        metadata={
            "description": "Deflection: while the visitor types into `fields`, suggest the help "
            "center's articles (`GET /api/v1/help/{app}/{form}/suggestions?q=`); null when the "
            "form suggests none or the link exposes none of its fields"
        },
    )


class SubmissionSchema(StrictSchema):
    """The visitor's field values."""

    data = fields.Dict(required=True)


class ReceiptSchema(Schema):
    """What a visitor gets back: the record's number, its serial numbers and its private status
    link, nothing else."""

    id = fields.Integer(required=True)
    serials = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    status_path = fields.String(
        required=True,
        metadata={
            "description": "The web app's path of the record's status page (`/status/{token}`): "
            "a private link, shown only here, through which the visitor follows the record and "
            "replies (`GET /api/v1/status/{token}`)"
        },
    )


@blp.route("/apps/<string:app>/intake")
class Links(MethodView):
    """The intake links of an app (designers)."""

    @blp.response(200, LinkSchema(many=True))
    def get(self, app: str) -> list[IntakeLink]:
        """List the app's links."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return intake.list_links(uow, actor, app)

    @blp.arguments(LinkCreateSchema)
    @blp.response(201, NewLinkSchema)
    def post(self, body: dict[str, Any], app: str) -> dict[str, Any]:
        """Create a link; required fields without defaults must be exposed."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            link, token = intake.create_link(
                uow,
                actor,
                app,
                body["form"],
                fields=body["exposed"],
                title=body["title"],
                owner_id=body["owner_id"],
            )
            uow.commit()
        return _shown(link, token)


def _shown(link: IntakeLink, token: str) -> dict[str, Any]:
    """A link with its token and path, the one time they are shown."""
    names = ("id", "form_key", "title", "fields", "owner_id", "enabled", "lock_version")
    return {
        **{name: getattr(link, name) for name in names},
        "created_at": link.created_at,
        "updated_at": link.updated_at,
        "token": token,
        "path": f"/intake/{token}",
    }


@blp.route("/apps/<string:app>/intake/<int:link_id>")
class LinkItem(MethodView):
    """One link."""

    @blp.arguments(LinkUpdateSchema)
    @blp.response(200, LinkSchema)
    def patch(self, body: dict[str, Any], app: str, link_id: int) -> IntakeLink:
        """Turn a link off or on, or change its fields or title."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            link = intake.update_link(
                uow,
                actor,
                app,
                link_id,
                lock_version=body["lock_version"],
                enabled=body.get("enabled"),
                fields=body.get("exposed"),
                title=body.get("title"),
            )
            uow.commit()
        return link


class RenewSchema(LockedSchema):
    """The link's version as the designer saw it."""


@blp.route("/apps/<string:app>/intake/<int:link_id>/token")
class LinkToken(MethodView):
    """A link's token."""

    @blp.arguments(RenewSchema)
    @blp.response(200, NewLinkSchema)
    def post(self, body: dict[str, Any], app: str, link_id: int) -> dict[str, Any]:
        """Give the link a new token: the old one stops opening it at once; the new one is shown
        in this answer only."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            link, token = intake.renew_token(
                uow, actor, app, link_id, lock_version=body["lock_version"]
            )
            uow.commit()
        return _shown(link, token)


@blp.route("/intake/<string:token>")
@public
class PublicForm(MethodView):
    """The public side of a link: no sign-in."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, IntakeFormSchema)
    def get(self, _args: dict[str, Any], token: str) -> dict[str, Any]:
        """The form a visitor fills in."""
        with platform().unit_of_work(write=False) as uow:
            return intake.public_form(uow, token, lang=lang_of())

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(SubmissionSchema)
    @blp.response(201, ReceiptSchema)
    def post(self, _args: dict[str, Any], body: dict[str, Any], token: str) -> dict[str, Any]:
        """Submit; 422 lists problems by field, 429 when this address submitted too often."""
        p = platform()
        with p.unit_of_work() as uow:
            receipt = intake.submit(
                uow,
                token,
                body["data"],
                remote_addr=remote_addr(),
                lang=lang_of(),
                max_per_hour=p.settings.intake_max_per_hour,
            )
            uow.commit()
        return receipt


class LookupArgs(LangArgs):
    """What a visitor typed into a reference field's picker."""

    q = fields.String(load_default="", validate=validate.Length(max=intake.LOOKUP_TEXT))


class ChoiceSchema(Schema):
    """A record a visitor may choose: its id and its display value, nothing else."""

    id = fields.Integer(required=True)
    label = fields.String(required=True)


@blp.route("/intake/<string:token>/choices/<string:field>")
@public
class PublicChoices(MethodView):
    """The choices of a reference field a link exposes."""

    @blp.arguments(LookupArgs, location="query")
    @blp.response(200, ChoiceSchema(many=True))
    def get(self, args: dict[str, Any], token: str, field: str) -> list[dict[str, Any]]:
        """Records of the referenced form whose display field contains ``q`` (at most 20, the
        newest first); 404 ``intake.no_lookup`` for a field the link does not expose as a
        reference."""
        with platform().unit_of_work(write=False) as uow:
            return intake.lookup(uow, token, field, args["q"])


@blp.route("/intake/<string:token>/attachments")
@public
class PublicUpload(MethodView):
    """Files for a submission."""

    @blp.doc(**UPLOAD_DOC)
    @blp.response(201, AttachmentSchema)
    def post(self, token: str) -> Attachment:
        """Upload a file for an exposed file field (``field`` is required here)."""
        stream, name = uploaded_file()
        p = platform()
        with p.unit_of_work(write=False) as uow:
            target = intake.upload_target(
                uow,
                token,
                name,
                field_key=request.form.get("field") or "",
                remote_addr=remote_addr(),
                max_bytes=p.settings.max_upload_bytes,
                max_per_hour=p.settings.intake_max_per_hour,
            )
        received = attachments.receive(p.files, stream, target)
        with p.unit_of_work() as uow:
            attachment = intake.record_upload(uow, token, target, received)
            uow.commit()
        return attachment
