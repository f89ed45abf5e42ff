"""What the web runtime needs to draw an app: its menu and each form's schemas."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from tangram.engines.forms import FieldDef
from tangram.engines.forms.fields import text
from tangram.platform import compiled, directory, metadata, records
from tangram.platform.errors import NotFound, PermissionDenied
from tangram.platform.models import User
from tangram.platform.perms import Action
from tangram.web.api.common import StrictSchema
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
    fields_ = fields.List(fields.Dict(), required=True, data_key="fields")
    title_field = fields.String(allow_none=True, required=True)
    can = fields.Dict(required=True, metadata={"description": "create, update, delete: booleans"})


class NavigationSchema(Schema):
    """The forms, dashboards and flows of an app the caller may use."""

    app = fields.Dict(required=True)
    forms = fields.List(fields.Dict(), required=True)
    dashboards = fields.List(fields.Dict(), required=True)
    flows = fields.List(fields.Dict(), required=True)


def _field(f: FieldDef, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": f.key,
        "type": f.type.value,
        "label": text(f.label, lang),
        "required": f.required,
        "indexed": f.indexed or f.unique,
    }
    if f.default is not None:
        out["default"] = f.default
    if f.options:
        out["options"] = [{"value": o.value, "label": text(o.label, lang)} for o in f.options]
    if f.reference_form:
        out["reference"] = {"form": f.reference_form, "display": f.reference_display}
    if f.fields:
        out["fields"] = [_field(s, lang) for s in f.fields]
    return out


def _conditions(fields_: tuple[FieldDef, ...]) -> dict[str, dict[str, Any]]:
    """visible_when / required_when / formula by field key (``table.field`` inside rows)."""
    out: dict[str, dict[str, Any]] = {}
    for f in fields_:
        for g, key in [(f, f.key), *((s, f"{f.key}.{s.key}") for s in f.fields)]:
            entry = {
                name: value
                for name, value in (
                    ("visible_when", g.visible_when),
                    ("required_when", g.required_when),
                    ("formula", g.formula),
                )
                if value is not None
            }
            if entry:
                out[key] = entry
    return out


def _allowed(actor: Any, action: Action, app: str, form: str) -> bool:
    try:
        records.require_scope(actor, action, app, form)
    except PermissionDenied:
        return False
    return True


@blp.route("/<string:app>/forms/<string:form>/schema")
class FormSchema(MethodView):
    """A form's runtime schemas."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, FormSchemaSchema)
    def get(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """The published form's JSON Schema, UI schema (labels in ``lang``), conditions and field
        list, and what the caller may do with its records (they must be able to read them)."""
        actor = require_actor()
        lang = args["lang"]
        with platform().unit_of_work(write=False) as uow:
            records.require_scope(actor, Action.READ, app, form)
            version, compiled_form = compiled.form(uow, app, form)
            _, _, body = metadata.published_body(uow, app, "form", form)
        return {
            "key": form,
            "version": version,
            "label": text(compiled_form.label, lang),
            "json_schema": compiled_form.json_schema,
            "ui_schema": compiled_form.ui_schema(lang),
            "conditions": _conditions(compiled_form.fields),
            "fields_": [_field(f, lang) for f in compiled_form.fields],
            "title_field": (body.get("options") or {}).get("title_field"),
            "can": {
                action.value: _allowed(actor, action, app, form)
                for action in (Action.CREATE, Action.UPDATE, Action.DELETE)
            },
        }


@blp.route("/<string:app>/navigation")
class Navigation(MethodView):
    """An app's menu."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, NavigationSchema)
    def get(self, args: dict[str, Any], app: str) -> dict[str, Any]:
        """The forms whose records the caller may read, and the dashboards and flows of those
        forms, labelled in ``lang``."""
        actor = require_actor()
        lang = args["lang"]
        with platform().unit_of_work(write=False) as uow:
            found = metadata.get_app(uow, actor, app) if actor.is_admin else None
            if found is None:
                apps = {a.key: a for a in metadata.list_apps(uow, actor)}
                if app not in apps:
                    raise NotFound(f"There is no app {app!r}.", code="app.not_found")
                found = apps[app]
            published = metadata.published_in(uow, app)
            forms = []
            readable = set()
            for key, body in sorted(published.get("form", {}).items()):
                if not _allowed(actor, Action.READ, app, key):
                    continue
                readable.add(key)
                forms.append(
                    {
                        "key": key,
                        "label": text(body.get("label"), lang),
                        "can_create": _allowed(actor, Action.CREATE, app, key),
                    }
                )

            def form_of(kind: str, body: dict[str, Any]) -> str | None:
                if kind == "dashboard":
                    return None
                return str(body.get("form"))

            dashboards = [
                {"key": key, "label": text(body.get("label"), lang)}
                for key, body in sorted(published.get("dashboard", {}).items())
                if readable
            ]
            flow_list = [
                {"key": key, "label": text(body.get("label"), lang), "form": form_of("flow", body)}
                for key, body in sorted(published.get("flow", {}).items())
                if body.get("form") in readable
            ]
            return {
                "app": {
                    "key": found.key,
                    "name": text(found.name, lang),
                    "version": found.version,
                    "strings": (found.i18n or {}).get(lang, {}),
                },
                "forms": forms,
                "dashboards": dashboards,
                "flows": flow_list,
            }


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
            published = metadata.published_in(uow, app)
            if not actor.is_admin and not any(
                _allowed(actor, Action.READ, app, key) for key in published.get("form", {})
            ):
                raise PermissionDenied(f"You may read nothing in app {app!r}.")
            found = {
                u.id: u for u in directory.list_users(uow, limit=20, q=args["q"]) if u.is_active
            }
            if args["ids"]:
                found.update(
                    {
                        u.id: u
                        for u in uow.session.scalars(select(User).where(User.id.in_(args["ids"])))
                    }
                )
            groups = directory.list_groups(uow)
        return {
            "users": [
                {"id": u.id, "username": u.username, "display_name": u.display_name}
                for u in sorted(found.values(), key=lambda u: u.id)
            ],
            "groups": [
                {"id": g.id, "key": g.key, "name": g.name, "parent_id": g.parent_id} for g in groups
            ],
        }
