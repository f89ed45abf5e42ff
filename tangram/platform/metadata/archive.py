"""Archiving published definitions: retired from what starts new work, kept for history.

An administrator archives a published definition (any kind) and may restore it. While archived:

- it leaves the app's launchers (the navigation's forms, dashboards and flows), its rule book
  (its rules, decision tables, SLA policies and calendars no longer run) and its exports;
- its draft, its versions and their diffs stay readable by key and number, and its reports,
  KPIs and dashboards still answer by key;
- flow instances pinned to its versions run on to their end, and a running parent may still
  start it as a sub-process; nobody else starts it;
- an archived form takes no new records; its records stay readable and writable, so the work
  running on them can finish.

Live definitions never name archived ones: archiving is refused while a live definition names
the definition (archive or change that one first), restoring while the definition names an
archived one, and publishing a live definition that names an archived one. An export therefore
installs elsewhere as it is. Every archive and restore changes the app's metadata tag (what is
cached of the app is looked up afresh) and is audited (``definition.archived``,
``definition.restored``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, select

from tangram.engines.common import Diagnostic
from tangram.engines.meta import DEFINITION_KINDS, Reference, app_references, references
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import Conflict, ValidationFailed, check_lock
from tangram.platform.kernel.models import App, Definition
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.apps import app_tag, retag
from tangram.platform.metadata.store import (
    DefinitionView,
    latest_version,
    load_definition,
    object_id,
    published_all,
    version_body,
)

_ARCHIVED = (
    select(Definition.kind, Definition.key)
    .join(App, App.id == Definition.app_id)
    .where(App.key == bindparam("app"), Definition.archived_at.is_not(None))
)


def archived_in(uow: UnitOfWork, app_key: str) -> frozenset[tuple[str, str]]:
    """``(kind, key)`` of the app's archived definitions (cached under its metadata tag)."""
    tag = app_tag(uow, app_key)
    cached = uow.caches.archived.get((app_key, tag)) if tag is not None else None
    if cached is not None:
        return cached
    rows = uow.session.connection().execute(_ARCHIVED, {"app": app_key})
    found = frozenset((str(kind), str(key)) for kind, key in rows)
    if tag is not None:
        uow.caches.archived.put((app_key, tag), found)
    return found


def require_live(uow: UnitOfWork, app_key: str, kind: str, key: str) -> None:
    """Refuse (409 ``definition.archived``) what would start new work on an archived
    definition."""
    if (kind, key) in archived_in(uow, app_key):
        raise Conflict(
            f"The {kind} {key!r} of app {app_key!r} is archived: an administrator can restore it.",
            code="definition.archived",
        )


def archived_references(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any]
) -> list[Diagnostic]:
    """The archived definitions a definition about to be live names (none when it is archived
    itself: its versions are history)."""
    archived = archived_in(uow, app_key)
    if not archived or (kind, key) in archived:
        return []
    return [
        Diagnostic(
            r.path,
            "definition.archived",
            f"{r.kind} {r.key!r} is archived: restore it, or name another",
        )
        for r in references(kind, body)
        if r.kind in DEFINITION_KINDS and (r.kind, r.key) in archived
    ]


def _where(kind: str, key: str, reference: Reference) -> str:
    return f"{kind}s/{key}:{reference.path or '/'}"


def _load_published(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, lock_version: int | None
) -> Definition:
    definition = load_definition(uow, actor, app_key, kind, key)
    require_admin(actor, "archive or restore definitions")
    check_lock(definition, lock_version)
    if definition.published_version is None:
        raise Conflict(
            f"The {kind} {key!r} was never published: delete its draft instead.",
            code="definition.not_published",
        )
    return definition


def _done(
    uow: UnitOfWork, actor: Actor, app_key: str, definition: Definition, action: str, note: str
) -> DefinitionView:
    retag(uow, definition.app_id, app_key)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        action,
        "definition",
        object_id(app_key, definition.kind, definition.key),
        {"version": definition.published_version, "note": note},
    )
    latest = latest_version(uow, definition)
    return DefinitionView(definition, latest.checksum if latest else None)


def _refuse(detail: str, code: str, errors: Iterable[dict[str, str]]) -> Conflict:
    return Conflict(detail, code=code, errors=sorted(errors, key=lambda e: e["path"]))


def archive(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    note: str = "",
    lock_version: int | None = None,
) -> DefinitionView:
    """Archive a published definition (administrators); refused while a live definition of the
    app names it."""
    definition = _load_published(uow, actor, app_key, kind, key, lock_version)
    if definition.archived_at is not None:
        raise Conflict(f"The {kind} {key!r} is already archived.", code="definition.archived")
    live = {
        k: body
        for k, (_, body) in published_all(uow, definition.app_id, archived=False).items()
        if k != (kind, key)
    }
    users = [f for f in app_references(live) if (f.reference.kind, f.reference.key) == (kind, key)]
    if users:
        raise _refuse(
            f"The {kind} {key!r} is named by {len(users)} live definition(s): archive or change "
            "them first.",
            "definition.in_use",
            (
                {"path": _where(f.kind, f.key, f.reference), "message": f"names {kind} {key!r}"}
                for f in users
            ),
        )
    definition.archived_at = uow.now
    return _done(uow, actor, app_key, definition, "definition.archived", note)


def restore(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    note: str = "",
    lock_version: int | None = None,
) -> DefinitionView:
    """Make an archived definition live again (administrators); refused while its newest version
    names an archived definition."""
    definition = _load_published(uow, actor, app_key, kind, key, lock_version)
    if definition.archived_at is None:
        raise Conflict(f"The {kind} {key!r} is not archived.", code="definition.not_archived")
    latest = latest_version(uow, definition)
    body = version_body(uow, latest.id) if latest is not None else {}
    archived = archived_in(uow, app_key) - {(kind, key)}
    blocked = [
        r
        for r in references(kind, body)
        if r.kind in DEFINITION_KINDS and (r.kind, r.key) in archived
    ]
    if blocked:
        raise _refuse(
            f"The {kind} {key!r} names {len(blocked)} archived definition(s): restore them first.",
            "definition.archived_reference",
            (
                {"path": _where(kind, key, r), "message": f"names {r.kind} {r.key!r}, archived"}
                for r in blocked
            ),
        )
    definition.archived_at = None
    return _done(uow, actor, app_key, definition, "definition.restored", note)


def refuse_archived_references(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any]
) -> None:
    """Refuse to publish a live definition that names an archived one."""
    problems = archived_references(uow, app_key, kind, key, body)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The {kind} names {len(problems)} archived definition(s).",
            problems,
            code="definition.invalid",
        )
