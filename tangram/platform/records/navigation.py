"""What the web runtime draws an app from, for one viewer: its menu, a form's schemas, the people
its pickers offer. Labels come in the language asked for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tangram.engines.common import DefinitionError
from tangram.engines.forms import FieldDef, Form, compile_form
from tangram.engines.forms.fields import text
from tangram.engines.forms.messages import catalogue
from tangram.platform import metadata
from tangram.platform.identity import groups, users
from tangram.platform.identity.perms import (
    Action,
    Actor,
    field_permissions,
    hidden_fields,
    require_design,
)
from tangram.platform.kernel.errors import PermissionDenied, ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import service

#: Users a picker lists for one search.
PICKER_SIZE = 20


def allowed(actor: Actor, action: Action, app_key: str, form_key: str) -> bool:
    """Whether the actor may do ``action`` on the form's records (in some scope)."""
    try:
        service.require_scope(actor, action, app_key, form_key)
    except PermissionDenied:
        return False
    return True


def field_info(f: FieldDef, lang: str) -> dict[str, Any]:
    """A field as the web app's renderer reads it: key, type, label, options, reference, columns."""
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
        out["fields"] = [field_info(s, lang) for s in f.fields]
    return out


def _conditions(fields: tuple[FieldDef, ...]) -> dict[str, dict[str, Any]]:
    """visible_when / required_when / formula by field key (``table.field`` inside rows)."""
    out: dict[str, dict[str, Any]] = {}
    for f in fields:
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


def _schemas(
    form_key: str, version: int, form: Form, body: dict[str, Any], lang: str
) -> dict[str, Any]:
    return {
        "key": form_key,
        "version": version,
        "label": text(form.label, lang),
        "json_schema": form.json_schema,
        "ui_schema": form.ui_schema(lang),
        "conditions": _conditions(form.fields),
        "messages": catalogue(lang),
        "fields": [field_info(f, lang) for f in form.fields],
        "title_field": (body.get("options") or {}).get("title_field"),
        "public_fields": list(form.public_fields) if form.public_fields is not None else None,
        "help_center": form.help is not None,
    }


def _without(schemas: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """The schemas without the fields the viewer may not read (as if the form had none)."""
    if not hidden:
        return schemas
    js = dict(schemas["json_schema"])
    js["properties"] = {k: v for k, v in js["properties"].items() if k not in hidden}
    if "required" in js:
        js["required"] = [k for k in js["required"] if k not in hidden]
    ui = {k: v for k, v in schemas["ui_schema"].items() if k not in hidden}
    if "ui:order" in ui:
        ui["ui:order"] = [k for k in ui["ui:order"] if k not in hidden]
    if "ui:layout" in ui:
        ui["ui:layout"] = {
            "sections": [
                {**s, "fields": [k for k in s.get("fields", []) if k not in hidden]}
                for s in ui["ui:layout"]["sections"]
            ]
        }
    return schemas | {
        "json_schema": js,
        "ui_schema": ui,
        "conditions": {
            k: v for k, v in schemas["conditions"].items() if k.partition(".")[0] not in hidden
        },
        "fields": [f for f in schemas["fields"] if f["key"] not in hidden],
        "title_field": None if schemas["title_field"] in hidden else schemas["title_field"],
    }


def form_schema(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, lang: str
) -> dict[str, Any]:
    """A published form's JSON Schema, UI schema, conditions and fields, and what the actor may
    do with its records (they must be able to read them); fields the actor's roles hide are left
    out, as if the form had none."""
    service.require_scope(actor, Action.READ, app_key, form_key)
    version, form = compiled.form(uow, app_key, form_key)
    _, _, body = metadata.published_body(uow, app_key, "form", form_key)
    hidden = hidden_fields(actor, app_key, form_key)
    return _without(_schemas(form_key, version, form, body, lang), hidden) | {
        "can": {
            action.value: allowed(actor, action, app_key, form_key)
            for action in (Action.CREATE, Action.UPDATE, Action.DELETE)
        },
    }


def create_fields(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    start: frozenset[str] | None,
) -> list[str]:
    """The fields a new record's form shows the actor: what they may write on creation (not the
    fields only a flow's steps write, unless they administer; not those every grant of theirs
    marks read-only), and, when a flow starts by itself on the form, only what its start node
    lets the initiator edit (``start``) — an agent registering a ticket is not shown the
    engineer's or the callback's fields. Computed fields show with the fields they follow."""
    _, form = compiled.form(uow, app_key, form_key)
    locked = field_permissions(actor, Action.CREATE.value, app_key, form_key)
    hidden = hidden_fields(actor, app_key, form_key)
    out = []
    for f in form.fields:
        if f.key in hidden:
            continue
        if f.computed or (
            f.key not in locked
            and not (f.flow_only and not actor.is_admin)
            and (start is None or f.key in start)
        ):
            out.append(f.key)
    return out


def preview_schema(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, body: Any, lang: str
) -> dict[str, Any]:
    """What :func:`form_schema` would answer for a form body not yet published (the designer's
    live preview draws it with the runtime's renderer): compiled against the app's published
    forms and itself, nothing stored. Its ``version`` is 0; designers of the app only. A body that
    does not compile gets 422 with the engine's diagnostics."""
    metadata.get_app(uow, actor, app_key)
    require_design(actor, app_key)
    document = metadata.validated("form", body, key=form_key)
    catalog = metadata.form_catalog(uow, app_key)
    catalog[form_key] = [f.get("key") for f in document.get("fields", [])]
    try:
        form = compile_form(document, forms=catalog)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The form cannot be drawn: {len(exc.diagnostics)} problem(s).",
            exc.diagnostics,
            code="definition.invalid",
        ) from None
    return _schemas(form_key, 0, form, document, lang) | {
        "can": {action.value: True for action in (Action.CREATE, Action.UPDATE, Action.DELETE)},
        "create_fields": [f.key for f in form.fields],
    }


def menu(uow: UnitOfWork, actor: Actor, app_key: str, lang: str) -> dict[str, Any]:
    """The forms whose records the actor may read, the app's dashboards (when any form is
    readable) and the flows of the readable forms; archived definitions are left out."""
    app = metadata.get_app(uow, actor, app_key)
    published = metadata.published_in(uow, app_key, archived=False)
    forms = [
        {
            "key": key,
            "label": text(body.get("label"), lang),
            "can_create": allowed(actor, Action.CREATE, app_key, key),
        }
        for key, body in sorted(published.get("form", {}).items())
        if allowed(actor, Action.READ, app_key, key)
    ]
    readable = {f["key"] for f in forms}
    return {
        "app": {
            "key": app.key,
            "name": text(app.name, lang),
            "version": app.version,
            "strings": (app.i18n or {}).get(lang, {}),
        },
        "forms": forms,
        "dashboards": [
            {"key": key, "label": text(body.get("label"), lang)}
            for key, body in sorted(published.get("dashboard", {}).items())
            if readable
        ],
        "flows": [
            {"key": key, "label": text(body.get("label"), lang), "form": body.get("form")}
            for key, body in sorted(published.get("flow", {}).items())
            if body.get("form") in readable
        ],
    }


def people(
    uow: UnitOfWork, actor: Actor, app_key: str, *, q: str | None, ids: Sequence[int]
) -> dict[str, Any]:
    """Active users matching ``q`` and those named in ``ids``, and every group: names for the
    pickers of anyone who may read some form of the app."""
    forms = metadata.published_in(uow, app_key).get("form", {})
    if not actor.is_admin and not any(allowed(actor, Action.READ, app_key, k) for k in forms):
        raise PermissionDenied(f"You may read nothing in app {app_key!r}.")
    found = {u.id: u for u in users.list_users(uow, limit=PICKER_SIZE, q=q) if u.is_active}
    found.update({u.id: u for u in users.users_by_ids(uow, ids)})
    return {
        "users": [
            {"id": u.id, "username": u.username, "display_name": u.display_name}
            for u in sorted(found.values(), key=lambda u: u.id)
        ],
        "groups": [
            {"id": g.id, "key": g.key, "name": g.name, "parent_id": g.parent_id}
            for g in groups.list_groups(uow)
        ],
    }
