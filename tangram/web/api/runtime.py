"""What the web runtime draws an app from: its menu, each form's schemas, the pickers' people
(computed by :mod:`tangram.platform.records.navigation`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import flows
from tangram.platform.records import navigation
from tangram.web.api.common import StrictSchema
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("runtime", __name__, description="What the web runtime draws an app from")
LANGS = ("zh-CN", "en")


class LangArgs(StrictSchema):
    """The language of labels."""

    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGS))


class FormSchemaSchema(Schema):
    """A published form as the browser renders and validates it."""

    key = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.String(required=True)
    json_schema = fields.Dict(required=True, metadata={"description": "draft 2020-12"})
    ui_schema = fields.Dict(required=True, metadata={"description": "react-jsonschema-form"})
    conditions = fields.Dict(
        required=True,
        metadata={"description": "visible_when / required_when / formula (JsonLogic) by field key"},
    )
    messages = fields.Dict(
        required=True,
        metadata={"description": "The server's validation messages by code, in the language asked"},
    )
    fields_ = fields.List(fields.Dict(), required=True, data_key="fields")
    title_field = fields.String(allow_none=True, required=True)
    public_fields = fields.List(
        fields.String(),
        allow_none=True,
        required=True,
        metadata={
            "description": "The fields its records' public status page shows (the form's "
            "`public` block); null when its records have no public side (no public replies)"
        },
    )
    help_center = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the form publishes a help center (its `help` block): "
            "`/help/{app}` shows its articles, `GET /api/v1/apps/{app}/help/{form}/feedback` "
            "what visitors answered"
        },
    )
    can = fields.Dict(required=True, metadata={"description": "create, update, delete: booleans"})
    create_fields = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "The fields a new record's form shows the caller: those they may write "
            "on creation and, when a flow starts by itself on the form, its start node lets edit"
        },
    )


class NavigationSchema(Schema):
    """The forms, dashboards and flows of an app the caller may use."""

    app = fields.Dict(required=True)
    forms = fields.List(fields.Dict(), required=True)
    dashboards = fields.List(fields.Dict(), required=True)
    flows = fields.List(fields.Dict(), required=True)


@blp.route("/<string:app>/forms/<string:form>/schema")
class FormSchema(MethodView):
    """A form's runtime schemas."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, FormSchemaSchema)
    def get(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """The published form's JSON Schema, UI schema (labels in ``lang``), conditions and field
        list, and what the caller may do with its records (they must be able to read them)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            found = navigation.form_schema(uow, actor, app, form, args["lang"])
            start = flows.start_fields(uow, app, form)
            found["create_fields"] = navigation.create_fields(uow, actor, app, form, start)
        return {**found, "fields_": found.pop("fields")}


class PreviewArgs(StrictSchema):
    """A form body to draw as the runtime would."""

    body = fields.Dict(required=True, metadata={"description": "the form definition"})
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGS))


@blp.route("/<string:app>/forms/<string:form>/preview")
class FormPreview(MethodView):
    """A form draft's runtime schemas, for the designer's live preview."""

    @blp.arguments(PreviewArgs)
    @blp.response(200, FormSchemaSchema)
    def post(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """Compile a form body (``body.key`` must be ``form``) without storing anything and answer
        what ``GET .../schema`` would once it is published (``version`` 0): the designer draws
        its preview with the runtime's own renderer. Designers of the app only; a body that does
        not compile gets 422 with the engine's diagnostics."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            found = navigation.preview_schema(uow, actor, app, form, args["body"], args["lang"])
        return {**found, "fields_": found.pop("fields")}


@blp.route("/<string:app>/navigation")
class Navigation(MethodView):
    """An app's menu."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, NavigationSchema)
    def get(self, args: dict[str, Any], app: str) -> dict[str, Any]:
        """The forms whose records the caller may read, and the dashboards and flows of those
        forms, labelled in ``lang``."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return navigation.menu(uow, actor, app, args["lang"])


class PeopleArgs(StrictSchema):
    """Who to look up."""

    q = fields.String(load_default=None, validate=validate.Length(max=100))
    ids = fields.List(
        fields.Integer(), load_default=list, metadata={"description": "users to name, by id"}
    )


class PeopleSchema(Schema):
    """Names for user and group pickers."""

    users = fields.List(fields.Dict(), required=True)
    groups = fields.List(fields.Dict(), required=True)


@blp.route("/<string:app>/people")
class People(MethodView):
    """Users and groups, for pickers."""

    @blp.arguments(PeopleArgs, location="query")
    @blp.response(200, PeopleSchema)
    def get(self, args: dict[str, Any], app: str) -> dict[str, Any]:
        """Active users matching ``q`` (at most 20) and the ones named in ``ids``, and every group,
        for anyone who may read some form of the app (names and ids only)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return navigation.people(uow, actor, app, q=args["q"], ids=args["ids"])
