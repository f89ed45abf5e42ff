"""Drafts: what the designers edit. A draft may be incomplete — saving it stores any JSON object
with a valid key and answers the engine's problems with it (the workbench judges the drafts that
differ from their published version again when it lists them, as other definitions change), while publishing refuses a draft with problems. Reading a draft, saving it, checking
a body and restoring a version as the draft are for the app's designers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import Conflict, check_lock
from tangram.platform.kernel.models import Definition, DefinitionVersion, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.apps import get_app
from tangram.platform.metadata.store import (
    DefinitionView,
    _check_kind,
    draft_digest,
    get_version,
    latest_version,
    load_definition,
    object_id,
)
from tangram.platform.metadata.verdict import Verdict, judge, require_key


def _name(uow: UnitOfWork, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return uow.session.scalar(select(User.display_name).where(User.id == user_id))


def _published_keys(uow: UnitOfWork, definition: Definition) -> tuple[str, ...]:
    if definition.kind != "form" or definition.published_version is None:
        return ()
    keys: set[str] = set()
    for body in uow.session.scalars(
        select(DefinitionVersion.body).where(DefinitionVersion.definition_id == definition.id)
    ):
        for f in body.get("fields", []):
            keys.add(str(f.get("key")))
            keys.update(f"{f.get('key')}.{c.get('key')}" for c in f.get("fields") or [])
    return tuple(sorted(keys))


def draft_view(
    uow: UnitOfWork, app_key: str, definition: Definition, verdict: Verdict | None = None
) -> DefinitionView:
    """The draft with its problems (judged now unless given), who saved it and its fixed keys."""
    if verdict is None:
        verdict = judge(uow, app_key, definition.kind, definition.key, definition.draft)
    latest = latest_version(uow, definition)
    return DefinitionView(
        definition,
        latest.checksum if latest else None,
        problems=tuple(verdict.problems),
        updated_by_name=_name(uow, definition.updated_by),
        published_keys=_published_keys(uow, definition),
    )


def current(uow: UnitOfWork, definition: Definition) -> dict[str, Any]:
    """What a 409 shows of a draft someone else saved: enough to say who and to reload."""
    return {
        "key": definition.key,
        "kind": definition.kind,
        "body": definition.draft,
        "lock_version": definition.lock_version,
        "updated_at": definition.updated_at.isoformat(),
        "updated_by": _name(uow, definition.updated_by),
    }


def read_draft(uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str) -> DefinitionView:
    """A definition's draft and the engine's problems with it (designers of the app)."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    return draft_view(uow, app_key, definition)


def create_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, body: Any, *, judged: bool = True
) -> DefinitionView:
    """Create a definition whose draft is ``body`` (its key is ``body["key"]``); the draft may
    hold problems, which the answer lists. ``judged=False`` skips the verdict (the answer then
    lists none): for a caller that publishes the draft at once, which judges it anyway."""
    _check_kind(kind)
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    key = require_key(body)
    document = dict(body)
    exists = uow.session.scalar(
        select(Definition.id).where(
            Definition.app_id == app.id, Definition.kind == kind, Definition.key == key
        )
    )
    if exists is not None:
        raise Conflict(
            f"App {app_key!r} already has a {kind} {key!r}.", code="definition.duplicate"
        )
    verdict = judge(uow, app_key, kind, key, document) if judged else Verdict()
    definition = Definition(
        app_id=app.id,
        kind=kind,
        key=key,
        draft=document,
        draft_checksum=draft_digest(kind, document),
        published_version=None,
        created_at=uow.now,
        updated_at=uow.now,
        updated_by=actor.user_id,
    )
    uow.session.add(definition)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "definition.created",
        "definition",
        object_id(app_key, kind, key),
        {"checksum": definition.draft_checksum, "problems": len(verdict.problems)},
    )
    return draft_view(uow, app_key, definition, verdict)


def _replace(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    definition: Definition,
    document: dict[str, Any],
    action: str,
    details: dict[str, Any],
    *,
    judged: bool = True,
) -> DefinitionView:
    verdict = (
        judge(uow, app_key, definition.kind, definition.key, document) if judged else Verdict()
    )
    digest = draft_digest(definition.kind, document)
    if digest != definition.draft_checksum or document != definition.draft:
        definition.draft = document
        definition.draft_checksum = digest
        definition.updated_at = uow.now
        definition.updated_by = actor.user_id
        uow.audit(
            actor.user_id,
            actor.label,
            action,
            "definition",
            object_id(app_key, definition.kind, definition.key),
            {"checksum": digest, "problems": len(verdict.problems)} | details,
        )
        uow.flush()
    return draft_view(uow, app_key, definition, verdict)


def update_draft(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    body: Any,
    *,
    lock_version: int,
    judged: bool = True,
) -> DefinitionView:
    """Replace the draft (it may hold problems); a stale ``lock_version`` is refused with the
    draft as it is now and who saved it. ``judged`` as for :func:`create_definition`."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version, current=current(uow, definition))
    require_key(body, key)
    return _replace(
        uow, actor, app_key, definition, dict(body), "definition.draft_saved", {}, judged=judged
    )


def restore_version(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    number: int,
    *,
    lock_version: int,
) -> DefinitionView:
    """Make published version ``number`` the draft again."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version, current=current(uow, definition))
    version = get_version(uow, actor, app_key, kind, key, number)
    return _replace(
        uow,
        actor,
        app_key,
        definition,
        dict(version.body),
        "definition.draft_restored",
        {"version": number},
    )


def check_body(uow: UnitOfWork, actor: Actor, app_key: str, kind: str, body: Any) -> Verdict:
    """The verdict publishing would give ``body`` (with its warnings); nothing is saved."""
    _check_kind(kind)
    get_app(uow, actor, app_key)
    require_design(actor, app_key)
    key = require_key(body)
    return judge(uow, app_key, kind, key, body, advise=True)
