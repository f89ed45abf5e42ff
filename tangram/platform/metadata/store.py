"""The metadata store: apps and their versioned definitions.

A definition is keyed by (app, kind, key). It has one mutable **draft** and immutable **published
versions** 1, 2, 3…, each with its checksum, author, time and change note. Every body is validated
against the meta-schema of its kind before anything is stored; the engines load published versions
through :func:`published_body`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update

from tangram.engines.common import DefinitionError, Diagnostic, checksum, diff
from tangram.engines.forms import Form, compile_form
from tangram.engines.meta import KINDS, validate_definition
from tangram.platform.identity.perms import Actor, can_read_app, require_admin, require_design
from tangram.platform.identity.users import check_lock
from tangram.platform.kernel.errors import Conflict, NotFound, ValidationFailed
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import App, Definition, DefinitionVersion
from tangram.platform.kernel.uow import UnitOfWork

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
DRAFT = "draft"


# --- apps ------------------------------------------------------------------------------------


def _check_text(path: str, value: Any, *, required: bool) -> list[dict[str, str]]:
    if value is None and not required:
        return []
    if not isinstance(value, Mapping) or not value.get("zh-CN"):
        return [{"path": path, "message": 'give at least {"zh-CN": "..."} (and optionally "en")'}]
    unknown = set(value) - {"zh-CN", "en"}
    if unknown:
        return [
            {"path": path, "message": f"unknown language {sorted(unknown)[0]!r}; use zh-CN or en"}
        ]
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        return [{"path": path, "message": "texts must be non-empty strings"}]
    return []


def create_app(
    uow: UnitOfWork,
    actor: Actor,
    *,
    key: str,
    name: Mapping[str, str],
    description: Mapping[str, str] | None = None,
    version: str = "0.1.0",
) -> App:
    """Create an empty app (administrators only)."""
    require_admin(actor, "create apps")
    errors = []
    if not KEY.match(key):
        errors.append(
            {
                "path": "key",
                "message": "use a lowercase letter, then lowercase letters, digits or '_'",
            }
        )
    errors += _check_text("name", name, required=True)
    errors += _check_text("description", description, required=False)
    if not SEMVER.match(version):
        errors.append({"path": "version", "message": "use a semantic version such as 1.2.0"})
    if errors:
        raise ValidationFailed("The app is not valid.", errors=errors)
    if uow.session.scalar(select(App.id).where(App.key == key)) is not None:
        raise Conflict(f"An app with key {key!r} already exists.", code="app.duplicate")
    app = App(
        key=key,
        metadata_tag=uuid.uuid4().hex,
        name=dict(name),
        description=dict(description or {}),
        version=version,
        created_at=uow.now,
        updated_at=uow.now,
        created_by=actor.user_id,
    )
    uow.session.add(app)
    uow.flush()
    uow.audit(actor.user_id, actor.label, "app.created", "app", key, {"version": version})
    return app


def list_apps(uow: UnitOfWork, actor: Actor) -> list[App]:
    """The apps the actor can see, by key."""
    apps = uow.session.scalars(select(App).order_by(App.key))
    return [a for a in apps if can_read_app(actor, a.key)]


#: Statements on every record write, built once (building them costs more than running them).
_APP_BY_KEY = select(App).where(App.key == bindparam("key"))
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


class AppRef(NamedTuple):
    """An app's id and key: what record writes need, read without the ORM."""

    id: int
    key: str


_APP_REF = select(App.id, App.metadata_tag).where(App.key == bindparam("key"))
#: Where a unit of work remembers the apps' metadata tags it read.
TAGS = "app_tags"
#: Where a platform keeps published definitions' references by (app, kind, key, tag).
_REFS = "published_refs"
_REFS_SIZE = 4096


def app_ref(uow: UnitOfWork, actor: Actor, key: str) -> AppRef:
    """Like :func:`get_app`, for hot paths: one Core query, no ORM object (it also notes the
    app's metadata tag for the rest of the unit of work)."""
    found = uow.session.connection().execute(_APP_REF, {"key": key}).first()
    if found is None or not can_read_app(actor, key):
        raise NotFound(f"App {key!r} does not exist.", code="app.not_found")
    uow.scratch.setdefault(TAGS, {})[key] = str(found[1])
    return AppRef(int(found[0]), key)


def note_tag(uow: UnitOfWork, key: str, tag: str) -> None:
    """Remember the app's metadata tag read along with something else (unless already known)."""
    uow.scratch.setdefault(TAGS, {}).setdefault(key, tag)


def app_tag(uow: UnitOfWork, key: str) -> str | None:
    """The app's metadata tag as this unit of work first saw it (``None``: no such app). It
    changes with every publication, so what is cached under it is what is published."""
    tags: dict[str, str] = uow.scratch.setdefault(TAGS, {})
    if key not in tags:
        found = uow.session.connection().execute(_APP_REF, {"key": key}).first()
        if found is None:
            return None
        tags[key] = str(found[1])
    return tags[key] or None


def get_app(uow: UnitOfWork, actor: Actor, key: str) -> App:
    """An app by key; a missing app and one the actor may not see look the same."""
    app = uow.session.scalar(_APP_BY_KEY, {"key": key})
    if app is None or not can_read_app(actor, key):
        raise NotFound(f"App {key!r} does not exist.", code="app.not_found")
    return app


def update_app(
    uow: UnitOfWork, actor: Actor, key: str, changes: Mapping[str, Any], *, lock_version: int
) -> App:
    """Change an app's name, description or version."""
    app = get_app(uow, actor, key)
    require_design(actor, key)
    check_lock(app, lock_version)
    errors = []
    if "name" in changes:
        errors += _check_text("name", changes["name"], required=True)
    if "description" in changes:
        errors += _check_text("description", changes["description"], required=False)
    if "version" in changes and not SEMVER.match(str(changes["version"])):
        errors.append({"path": "version", "message": "use a semantic version such as 1.2.0"})
    if errors:
        raise ValidationFailed("The change is not valid.", errors=errors)
    for field in ("name", "description", "version"):
        if field in changes:
            setattr(
                app, field, changes[field] if field == "version" else dict(changes[field] or {})
            )
    app.updated_at = uow.now
    uow.audit(actor.user_id, actor.label, "app.updated", "app", key, dict(changes))
    uow.flush()
    return app


# --- definitions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefinitionView:
    """A definition with what a client needs to edit it."""

    definition: Definition
    latest_checksum: str | None

    @property
    def dirty(self) -> bool:
        """Whether the draft differs from the newest published version (or was never published)."""
        return self.latest_checksum != self.definition.draft_checksum


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(
            f"There is no definition kind {kind!r}; use one of {', '.join(KINDS)}.",
            code="definition.kind_unknown",
        )


def _validated(kind: str, body: Any, *, key: str | None = None) -> dict[str, Any]:
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


def _definition(uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str) -> Definition:
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


def _latest(uow: UnitOfWork, definition: Definition) -> DefinitionVersion | None:
    if definition.published_version is None:
        return None
    return uow.session.scalar(
        select(DefinitionVersion).where(
            DefinitionVersion.definition_id == definition.id,
            DefinitionVersion.version == definition.published_version,
        )
    )


def _view(uow: UnitOfWork, definition: Definition) -> DefinitionView:
    latest = _latest(uow, definition)
    return DefinitionView(definition, latest.checksum if latest else None)


def _object_id(app_key: str, kind: str, key: str) -> str:
    return f"{app_key}/{kind}/{key}"


def create_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, body: Any
) -> DefinitionView:
    """Create a definition whose draft is ``body`` (its key is ``body["key"]``)."""
    _check_kind(kind)
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    document = _validated(kind, body)
    key = str(document["key"])
    exists = uow.session.scalar(
        select(Definition.id).where(
            Definition.app_id == app.id, Definition.kind == kind, Definition.key == key
        )
    )
    if exists is not None:
        raise Conflict(
            f"App {app_key!r} already has a {kind} {key!r}.", code="definition.duplicate"
        )
    definition = Definition(
        app_id=app.id,
        kind=kind,
        key=key,
        draft=document,
        draft_checksum=checksum(document),
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
        _object_id(app_key, kind, key),
        {"checksum": definition.draft_checksum},
    )
    return DefinitionView(definition, None)


def get_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str
) -> DefinitionView:
    """A definition's draft and status."""
    return _view(uow, _definition(uow, actor, app_key, kind, key))


def list_definitions(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str
) -> list[DefinitionView]:
    """Every definition of one kind in an app, by key (two queries, whatever their number)."""
    _check_kind(kind)
    app = get_app(uow, actor, app_key)
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


def update_draft(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    body: Any,
    *,
    lock_version: int,
) -> DefinitionView:
    """Replace the draft; a stale ``lock_version`` is refused with the current draft."""
    definition = _definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version, current={"body": definition.draft})
    document = _validated(kind, body, key=key)
    digest = checksum(document)
    if digest != definition.draft_checksum:
        definition.draft = document
        definition.draft_checksum = digest
        definition.updated_at = uow.now
        definition.updated_by = actor.user_id
        uow.audit(
            actor.user_id,
            actor.label,
            "definition.draft_saved",
            "definition",
            _object_id(app_key, kind, key),
            {"checksum": digest},
        )
        uow.flush()
    return _view(uow, definition)


def delete_definition(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str, *, lock_version: int
) -> None:
    """Delete a definition that was never published (published history is kept forever)."""
    definition = _definition(uow, actor, app_key, kind, key)
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
        _object_id(app_key, kind, key),
        {},
    )
    uow.flush()


#: The event a publication sends (``subject`` is the kind; the payload has ``app_id``, ``key``,
#: ``version`` and ``body``): projections, rule schedules and caches follow it.
PUBLISHED = "definition.published"
#: Where a unit of work remembers compiled definitions (forgotten when it publishes).
MEMOS = ("compiled_forms", "rulebooks", "processes")


def forget_in(uow: UnitOfWork) -> None:
    """Forget what this unit of work remembered of compiled definitions (after a publication)."""
    for name in MEMOS:
        uow.scratch.pop(name, None)


def publish(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    note: str = "",
    lock_version: int | None = None,
) -> DefinitionVersion:
    """Publish the draft as the next immutable version; an unchanged draft is refused."""
    definition = _definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version)
    document = _validated(kind, definition.draft, key=key)  # meta-schemas may have tightened
    latest = _latest(uow, definition)
    if latest is not None and latest.checksum == definition.draft_checksum:
        raise Conflict(
            f"The draft of {kind} {key!r} equals version {latest.version}: there is nothing to "
            "publish.",
            code="definition.unchanged",
            current_version=latest.version,
        )
    if kind == "form":
        _compiled_form(uow, app_key, document)
    uow.checks.run(uow, app_key, kind, key, document)
    number = (definition.published_version or 0) + 1
    version = DefinitionVersion(
        definition_id=definition.id,
        version=number,
        body=document,
        checksum=definition.draft_checksum,
        note=note,
        author_id=actor.user_id,
        created_at=uow.now,
    )
    uow.session.add(version)
    definition.published_version = number
    tag = uuid.uuid4().hex  # caches of the app's published definitions start afresh
    uow.session.execute(update(App).where(App.id == definition.app_id).values(metadata_tag=tag))
    uow.scratch.setdefault(TAGS, {})[app_key] = tag
    forget_in(uow)
    definition.updated_at = uow.now
    uow.flush()
    uow.publish(
        Event(
            PUBLISHED,
            app_key,
            kind,
            definition.id,
            actor.user_id,
            {"app_id": definition.app_id, "key": key, "version": number, "body": document},
        )
    )
    uow.audit(
        actor.user_id,
        actor.label,
        "definition.published",
        "definition",
        _object_id(app_key, kind, key),
        {"version": number, "checksum": version.checksum, "note": note},
    )
    return version


def form_catalog(uow: UnitOfWork, app_key: str) -> dict[str, list[str]]:
    """Field keys of every published form of an app (for reference checks), in one query."""
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
    return {key: [f.get("key") for f in body.get("fields", [])] for key, body in rows}


def _compiled_form(uow: UnitOfWork, app_key: str, document: Mapping[str, Any]) -> Form:
    """Compile a form about to be published, against the app's published forms and itself."""
    catalog = form_catalog(uow, app_key)
    catalog[document["key"]] = [f.get("key") for f in document.get("fields", [])]
    try:
        return compile_form(document, forms=catalog)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The form cannot be published: {len(exc.diagnostics)} problem(s).",
            exc.diagnostics,
            code="definition.invalid",
        ) from None


def list_versions(
    uow: UnitOfWork, actor: Actor, app_key: str, kind: str, key: str
) -> list[DefinitionVersion]:
    """Published versions, newest first."""
    definition = _definition(uow, actor, app_key, kind, key)
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
    """One published version."""
    definition = _definition(uow, actor, app_key, kind, key)
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
    definition = _definition(uow, actor, app_key, kind, key)

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
    refs: dict[tuple[str, str, str, str], tuple[int, int, str]] = uow.shared.setdefault(_REFS, {})
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
        if len(refs) >= _REFS_SIZE:
            refs.clear()
        refs[(app_key, kind, key, tag)] = ref
    return ref


def version_body(uow: UnitOfWork, row_id: int) -> dict[str, Any]:
    """The body of a published version by its row id (from :func:`published_ref`)."""
    body = uow.session.scalar(select(DefinitionVersion.body).where(DefinitionVersion.id == row_id))
    return dict(body or {})


def published_body(
    uow: UnitOfWork, app_key: str, kind: str, key: str, version: int | None = None
) -> tuple[int, str, dict[str, Any]]:
    """``(version, checksum, body)`` of a published definition (the newest unless ``version``).

    For the engines and the platform itself; permission checks belong to the caller.
    """
    row_id, number, digest = published_ref(uow, app_key, kind, key, version)
    return number, digest, version_body(uow, row_id)


def published_all(
    uow: UnitOfWork, app_id: int
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """(kind, key) → (newest version, body) of every published definition of an app, in one
    query."""
    rows = uow.session.execute(
        select(Definition.kind, Definition.key, DefinitionVersion.version, DefinitionVersion.body)
        .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
        .where(
            Definition.app_id == app_id,
            DefinitionVersion.version == Definition.published_version,
        )
    )
    return {(k, key): (int(v), dict(body)) for k, key, v, body in rows}


def published_in(uow: UnitOfWork, app_key: str) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → key → body of the newest published version of every definition of an app."""
    app_id = uow.session.scalar(select(App.id).where(App.key == app_key))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (kind, key), (_, body) in published_all(uow, int(app_id or 0)).items():
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
