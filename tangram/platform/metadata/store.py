"""Versioned definitions: drafts, published versions, their history and diffs, and the cheap
reads of what is published that every other room uses.

A definition is keyed by (app, kind, key). It has one mutable **draft** and immutable **published
versions** 1, 2, 3…, each with its checksum, author, time and change note. Every body is validated
against the meta-schema of its kind before anything is stored; the engines load published versions
through :func:`published_body`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

from tangram.engines.common import Diagnostic, checksum, diff
from tangram.engines.meta import KINDS, validate_definition
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import Conflict, NotFound, ValidationFailed, check_lock
from tangram.platform.kernel.models import App, Definition, DefinitionVersion
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.apps import app_tag, get_app

DRAFT = "draft"


_PUBLISHED = (
    select(DefinitionVersion.id, DefinitionVersion.version, DefinitionVersion.checksum)
    .join(Definition, Definition.id == DefinitionVersion.definition_id)
    .join(App, App.id == Definition.app_id)
    .where(
        App.key == bindparam("app"),
        Definition.kind == bindparam("kind"),
        Definition.key == bindparam("key"),
    )
)


_NEWEST = _PUBLISHED.where(DefinitionVersion.version == Definition.published_version)


_NUMBERED = _PUBLISHED.where(DefinitionVersion.version == bindparam("version"))


@dataclass(frozen=True, slots=True)
class DefinitionView:
    """A definition with what a client needs to edit it."""

    definition: Definition
    latest_checksum: str | None
    #: The engine's problems with the draft, where they were judged (reads of one draft).
    problems: tuple[dict[str, str], ...] | None = None
    #: Who saved the draft last (their display name).
    updated_by_name: str | None = None
    #: Field keys (``table.column`` for columns) some published version of a form has: fixed.
    published_keys: tuple[str, ...] = ()

    @property
    def dirty(self) -> bool:
        """Whether the draft differs from the newest published version (or was never published)."""
        return self.latest_checksum != self.definition.draft_checksum


#: Parts of a body the engine of its kind ignores: changing only them changes nothing the
#: definition means (a flow's ``layout``: where the designer drew its nodes).
_LAYOUT_ONLY: dict[str, tuple[str, ...]] = {"flow": ("layout",)}


def draft_digest(kind: str, body: Mapping[str, Any]) -> str:
    """The checksum of what a body means: of the whole body, but for the parts its engine
    ignores. A draft whose only change is one of those parts is not "changed since vN"; it is
    still saved, and may still be published as a version of its own."""
    ignored = _LAYOUT_ONLY.get(kind, ())
    return checksum({k: v for k, v in body.items() if k not in ignored} if ignored else body)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(
            f"There is no definition kind {kind!r}; use one of {', '.join(KINDS)}.",
            code="definition.kind_unknown",
        )


def validated(kind: str, body: Any, *, key: str | None = None) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise ValidationFailed.from_diagnostics(
            "A definition body must be a JSON object.",
            [Diagnostic("", "definition.not_object", "must be a JSON object")],
            code="definition.invalid",
        )
    diagnostics = validate_definition(kind, body)
    if key is not None and body.get("key") != key:
        diagnostics.append(
            Diagnostic(
                "/key",
                "definition.key_mismatch",
                f"must be {key!r}: the key of a definition cannot change",
            )
        )
    if diagnostics:
        raise ValidationFailed.from_diagnostics(
            f"The {kind} definition has {len(diagnostics)} problem(s).",
            diagnostics,
            code="definition.invalid",
        )
    return dict(body)


def load_definition(uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str) -> Definition:
    _check_kind(kind)
    app = get_app(uow, actor, app_key)
    found = uow.session.scalar(
        select(Definition).where(
            Definition.app_id == app.id, Definition.kind == kind, Definition.key == key
        )
    )
    if found is None:
        raise NotFound(f"App {app_key!r} has no {kind} {key!r}.", code="definition.not_found")
    return found


def latest_version(uow: UnitOfWork, definition: Definition) -> DefinitionVersion | None:
    if definition.published_version is None:
        return None
    return uow.session.scalar(
        select(DefinitionVersion).where(
            DefinitionVersion.definition_id == definition.id,
            DefinitionVersion.version == definition.published_version,
        )
    )


def view(uow: UnitOfWork, definition: Definition) -> DefinitionView:
    latest = latest_version(uow, definition)
    return DefinitionView(definition, latest.checksum if latest else None)


def object_id(app_key: str, kind: str, key: str) -> str:
    return f"{app_key}/{kind}/{key}"


def get_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str
) -> DefinitionView:
    """A definition's draft and status."""
    return view(uow, load_definition(uow, actor, app_key, kind, key))


def list_definitions(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str
) -> list[DefinitionView]:
    """Every definition of one kind in an app, by key (two queries, whatever their number)."""
    _check_kind(kind)
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    rows = list(
        uow.session.scalars(
            select(Definition)
            .where(Definition.app_id == app.id, Definition.kind == kind)
            .order_by(Definition.key)
        )
    )
    published = [d.id for d in rows if d.published_version is not None]
    checksums: dict[int, str] = {}
    if published:
        for definition_id, digest in uow.session.execute(
            select(DefinitionVersion.definition_id, DefinitionVersion.checksum)
            .join(Definition, Definition.id == DefinitionVersion.definition_id)
            .where(
                DefinitionVersion.definition_id.in_(published),
                DefinitionVersion.version == Definition.published_version,
            )
        ):
            checksums[definition_id] = digest
    return [DefinitionView(d, checksums.get(d.id)) for d in rows]


def delete_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, *, lock_version: int
) -> None:
    """Delete a definition that was never published (published history is kept forever)."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version)
    if definition.published_version is not None:
        raise Conflict(
            f"{kind} {key!r} has published versions and cannot be deleted.",
            code="definition.published",
        )
    uow.session.delete(definition)
    uow.audit(
        actor.user_id,
        actor.label,
        "definition.deleted",
        "definition",
        object_id(app_key, kind, key),
        {},
    )
    uow.flush()


def form_catalog(uow: UnitOfWork, app_key: str) -> dict[str, list[str]]:
    """Field keys of every published form of an app (for reference checks), in one query; while
    a package is being published, its forms too (they may refer to each other).

    A read unit takes it from the process's cache, under the app's metadata tag (which every
    publication changes); a write unit, which may be publishing, reads it."""
    tag = None if uow.write else app_tag(uow, app_key)
    kept = uow.caches.form_catalogs.get((app_key, tag)) if tag is not None else None
    if kept is None:
        rows = uow.session.execute(
            select(Definition.key, DefinitionVersion.body)
            .join(App, App.id == Definition.app_id)
            .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
            .where(
                App.key == app_key,
                Definition.kind == "form",
                DefinitionVersion.version == Definition.published_version,
            )
        )
        kept = {key: tuple(f.get("key") for f in body.get("fields", [])) for key, body in rows}
        if tag is not None:
            uow.caches.form_catalogs.put((app_key, tag), kept)
    found = {key: list(keys) for key, keys in kept.items()}
    return {**found, **uow.memo.package_forms.get(app_key, {})}


def list_versions(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str
) -> list[DefinitionVersion]:
    """Published versions, newest first (designers of the app)."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    return list(
        uow.session.scalars(
            select(DefinitionVersion)
            .where(DefinitionVersion.definition_id == definition.id)
            .order_by(DefinitionVersion.version.desc())
        )
    )


def get_version(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, number: int
) -> DefinitionVersion:
    """One published version (designers of the app)."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    found = uow.session.scalar(
        select(DefinitionVersion).where(
            DefinitionVersion.definition_id == definition.id, DefinitionVersion.version == number
        )
    )
    if found is None:
        raise NotFound(
            f"{kind} {key!r} has no version {number}.", code="definition.version_not_found"
        )
    return found


def diff_versions(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    from_: int | str,
    to: int | str,
) -> list[dict[str, Any]]:
    """What changed between two versions (a number, or ``"draft"``), as JSON-pointer paths."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)

    def body(side: int | str) -> Any:
        if side == DRAFT:
            return definition.draft
        return get_version(uow, actor, app_key, kind, key, int(side)).body

    return [change.as_dict() for change in diff(body(from_), body(to))]


def published_ref(
    uow: UnitOfWork, app_key: str, kind: str, key: str, version: int | None = None
) -> tuple[int, int, str]:
    """``(row id, version, checksum)`` of a published definition (the newest unless ``version``).

    Cheap: the body is not loaded (callers holding a compiled copy of that checksum skip it).
    """
    _check_kind(kind)
    tag = app_tag(uow, app_key) if version is None else None
    refs = uow.caches.published_refs
    if tag is not None:
        cached = refs.get((app_key, kind, key, tag))
        if cached is not None:
            return cached
    params: dict[str, Any] = {"app": app_key, "kind": kind, "key": key}
    if version is not None:
        params["version"] = version
    statement = _NEWEST if version is None else _NUMBERED
    found = uow.session.connection().execute(statement, params).first()
    if found is None:
        raise NotFound(
            f"App {app_key!r} has no published {kind} {key!r}"
            + (f" version {version}." if version is not None else "."),
            code="definition.not_published",
        )
    ref = (int(found[0]), int(found[1]), str(found[2]))
    if tag is not None:
        refs.put((app_key, kind, key, tag), ref)
    return ref


_BODY = select(DefinitionVersion.body).where(DefinitionVersion.id == bindparam("id"))


def version_body(uow: UnitOfWork, row_id: int, digest: str | None = None) -> dict[str, Any]:
    """The body of a published version by its row id (from :func:`published_ref`).

    With the version's ``digest`` (also from :func:`published_ref`) the body is kept in the
    process's cache: a published version never changes, and the digest tells a row id reused
    after a deletion apart. Each caller gets a body of its own (decoded from the kept text)."""
    if digest is not None:
        kept = uow.caches.version_bodies.get((row_id, digest))
        if kept is not None:
            return dict(json.loads(kept))
    body = dict(uow.session.scalar(_BODY, {"id": row_id}) or {})
    if digest is not None:
        uow.caches.version_bodies.put((row_id, digest), json.dumps(body))
    return body


def published_body(
    uow: UnitOfWork, app_key: str, kind: str, key: str, version: int | None = None
) -> tuple[int, str, dict[str, Any]]:
    """``(version, checksum, body)`` of a published definition (the newest unless ``version``).

    For the engines and the platform itself; permission checks belong to the caller.
    """
    row_id, number, digest = published_ref(uow, app_key, kind, key, version)
    return number, digest, version_body(uow, row_id)


def published_all(
    uow: UnitOfWork, app_id: int, *, archived: bool = True
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """(kind, key) → (newest version, body) of every published definition of an app, in one
    query (without the archived ones unless ``archived``)."""
    query = (
        select(Definition.kind, Definition.key, DefinitionVersion.version, DefinitionVersion.body)
        .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
        .where(
            Definition.app_id == app_id,
            DefinitionVersion.version == Definition.published_version,
        )
    )
    if not archived:
        query = query.where(Definition.archived_at.is_(None))
    rows = uow.session.execute(query)
    return {(k, key): (int(v), dict(body)) for k, key, v, body in rows}


def published_in(
    uow: UnitOfWork, app_key: str, *, archived: bool = True
) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → key → body of the newest published version of every definition of an app
    (without the archived ones unless ``archived``)."""
    app_id = uow.session.scalar(select(App.id).where(App.key == app_key))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (kind, key), (_, body) in published_all(uow, int(app_id or 0), archived=archived).items():
        out.setdefault(kind, {})[key] = body
    return out


def count_definitions(uow: UnitOfWork, app_id: int) -> int:
    """Number of definitions in an app."""
    return int(
        uow.session.scalar(
            select(func.count()).select_from(Definition).where(Definition.app_id == app_id)
        )
        or 0
    )
