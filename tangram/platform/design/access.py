"""Who reads and writes which fields of a form: the form designer's permission matrix.

The matrix is not part of the form's definition: it reads and writes the field rules of the roles'
grants on the form, which the record service already enforces (``read_only``: not written;
``hidden``: neither read nor written — left out of records, lists, exports, timelines, task views
and the form itself). A field a role's grant leaves out of its rules is writable by that role as
far as its actions go. Roles whose grant covers every form of the app (``*``) have no field rules:
the matrix shows them and says so. Designers of the app read the matrix; administrators change
it, and a change applies at once (no publication), audited on each role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select

from tangram.platform.identity import roles
from tangram.platform.identity.perms import ADMIN_ROLE, FIELD_LEVELS, Actor, require_admin
from tangram.platform.identity.perms import require_design as _require_design
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import Grant, Role
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import get_app, load_definition, published_body

#: The actions that make a role's field rules on a form mean something.
_RECORD_ACTIONS = frozenset({"create", "read", "update"})


def _grants(uow: UnitOfWork, app_key: str, form_key: str) -> list[tuple[Grant, Role]]:
    rows = uow.session.execute(
        select(Grant, Role)
        .join(Role, Role.id == Grant.role_id)
        .where(
            Role.key != ADMIN_ROLE,
            or_(Grant.app_key == app_key, Grant.app_key == "*"),
            or_(Grant.form_key == form_key, Grant.form_key == "*"),
        )
        .order_by(Role.id, Grant.id)
    ).all()
    return [(g, r) for g, r in rows if _RECORD_ACTIONS & set(g.actions)]


def _field_keys(uow: UnitOfWork, actor: Actor, app_key: str, form_key: str) -> set[str]:
    """The form's field keys, in its draft and its published version (a rule may be set on a
    field before it is published)."""
    definition = load_definition(uow, actor, app_key, "form", form_key)
    keys = {f.get("key") for f in (definition.draft or {}).get("fields", [])}
    if definition.published_version is not None:
        _, _, published = published_body(uow, app_key, "form", form_key)
        keys |= {f.get("key") for f in published.get("fields", [])}
    return {k for k in keys if isinstance(k, str)}


def form_access(uow: UnitOfWork, actor: Actor, app_key: str, form_key: str) -> dict[str, Any]:
    """Every role that may create, read or update the form's records (administrators aside, who
    do everything), with its grant and field rules; ``editable`` says whether the actor may
    change them (administrators)."""
    get_app(uow, actor, app_key)
    _require_design(actor, app_key)
    load_definition(uow, actor, app_key, "form", form_key)
    return {
        "levels": list(FIELD_LEVELS),
        "editable": actor.is_admin,
        "roles": [
            {
                "role_id": role.id,
                "key": role.key,
                "name": role.name,
                "grant_id": grant.id,
                "app_key": grant.app_key,
                "form_key": grant.form_key,
                "actions": sorted(grant.actions),
                "scope": grant.scope,
                "field_rules": dict(sorted((grant.field_rules or {}).items())),
                "settable": grant.form_key == form_key and grant.app_key == app_key,
            }
            for grant, role in _grants(uow, app_key, form_key)
        ],
    }


def set_form_access(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    rules: Mapping[int, Mapping[str, str]],
) -> dict[str, Any]:
    """Replace the field rules of the named grants (grant id → field → level) of the form, all or
    none: 422 listing every grant that is not the form's own and every unknown field or level."""
    require_admin(actor, "change who reads and writes a form's fields")
    get_app(uow, actor, app_key)
    keys = _field_keys(uow, actor, app_key, form_key)
    own = {
        g.id: g
        for g, _ in _grants(uow, app_key, form_key)
        if g.form_key == form_key and g.app_key == app_key
    }
    errors = []
    for grant_id, fields in rules.items():
        if grant_id not in own:
            errors.append(
                {
                    "path": f"roles/{grant_id}",
                    "message": "not a grant of this form's own (a grant on every form has no "
                    "field rules)",
                }
            )
            continue
        for key, level in fields.items():
            if key not in keys:
                errors.append(
                    {"path": f"roles/{grant_id}/{key}", "message": "not a field of this form"}
                )
            elif level not in FIELD_LEVELS:
                errors.append(
                    {
                        "path": f"roles/{grant_id}/{key}",
                        "message": f"must be {' or '.join(FIELD_LEVELS)}",
                    }
                )
    if errors:
        raise ValidationFailed("The field permissions are not valid.", errors=errors)
    for grant_id, fields in rules.items():
        roles.set_field_rules(uow, actor, own[grant_id].role_id, grant_id, fields)
    return form_access(uow, actor, app_key, form_key)
