"""Writing a package: an installed app exported as the package it would install from (with every
group, role and calendar its definitions name, so it installs into an empty database), and a
folder packed into its zip (the same bytes for the same files).
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version
from sqlalchemy import or_, select

from tangram import __version__
from tangram.engines.meta import DEFINITION_KINDS, Found, app_references
from tangram.platform import metadata
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import (
    App,
    AppInstall,
    Grant,
    Group,
    Role,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.packages.reader import FOLDERS, parse, read

#: Zip timestamps of packed packages: the same folder always packs to the same bytes.
PACKED_AT = (2020, 1, 1, 0, 0, 0)


def zip_entries(entries: Mapping[str, bytes]) -> bytes:
    """A plain zip of the files, sorted and timestamped alike: the same files, the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=PACKED_AT)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, entries[name])
    return out.getvalue()


def pack(folder: Path) -> bytes:
    """The zip of a package folder, after checking it reads as a package."""
    package = read(folder)
    return zip_entries(package.files)


def _text(value: str, fallback: str) -> str:
    """A name or description as package text: never empty, at most 500 characters."""
    return (value.strip() or fallback)[:500]


def _problem(f: Found, message: str) -> dict[str, str]:
    folder = {v: k for k, v in FOLDERS.items()}
    return {"path": f"{folder[f.kind]}/{f.key}.json:{f.reference.path or '/'}", "message": message}


#: Why ids cannot travel, by kind of reference.
_BY_ID = {
    "user": "names user {key} by id; another database has other users: name a group, a role or"
    " a field instead",
    "group_id": "names group id {key} as a default; another database numbers its groups"
    " differently: leave the default empty and set the group with a rule",
}


def _definition_problems(
    found: list[Found],
    definitions: Mapping[tuple[str, str], Any],
    archived: frozenset[tuple[str, str]],
) -> list[dict[str, str]]:
    """References to definitions the export does not carry, and ids that cannot travel."""
    problems = []
    for f in found:
        kind, key = f.reference.kind, f.reference.key
        if kind in _BY_ID:
            problems.append(_problem(f, _BY_ID[kind].format(key=key)))
        elif kind in DEFINITION_KINDS and (kind, key) in archived:
            problems.append(_problem(f, f"{kind} {key!r} is archived: restore it, or name another"))
        elif kind in DEFINITION_KINDS and (kind, key) not in definitions:
            problems.append(_problem(f, f"the app has no published {kind} {key!r} to export"))
    return problems


@dataclass
class _Directory:
    """The groups (parents included) and roles an export carries, and what did not resolve."""

    groups: dict[str, Group] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)


def _directory(
    uow: UnitOfWork, app_key: str, found: list[Found], shipped: Mapping[str, Any]
) -> _Directory:
    """Every group and role the definitions name (each must exist), the groups the installed
    package expected, each group's parents up to the root, and the roles granted on the app."""
    out = _Directory()
    named = {kind: [f for f in found if f.reference.kind == kind] for kind in ("group", "role")}
    wanted = {f.reference.key for f in named["group"]}
    wanted |= {str(g["key"]) for g in shipped.get("groups", [])}
    out.groups = {g.key: g for g in uow.session.scalars(select(Group).where(Group.key.in_(wanted)))}
    parents = {g.parent_id for g in out.groups.values()} - {None}
    while parents - {g.id for g in out.groups.values()}:
        above = uow.session.scalars(
            select(Group).where(Group.id.in_(parents - {g.id for g in out.groups.values()}))
        )
        out.groups |= {g.key: g for g in above}
        parents = {g.parent_id for g in out.groups.values()} - {None}
    granted = select(Grant.role_id).where(Grant.app_key == app_key)
    roles = uow.session.scalars(
        select(Role).where(
            or_(Role.key.in_({f.reference.key for f in named["role"]}), Role.id.in_(granted))
        )
    )
    out.roles = {r.key: r for r in roles}
    for kind, have in (("group", out.groups), ("role", out.roles)):
        out.problems += [
            _problem(f, f"there is no {kind} {f.reference.key!r}")
            for f in named[kind]
            if f.reference.key not in have
        ]
    return out


def _group_document(group: Group, by_id: Mapping[int, Group], shipped: Mapping[str, Any]) -> Any:
    doc: dict[str, Any] = {
        "key": group.key,
        "name": {**shipped.get("name", {}), "zh-CN": _text(group.name, group.key)},
    }
    if group.parent_id is not None:
        doc["parent"] = by_id[group.parent_id].key
    return doc


def _role_document(
    uow: UnitOfWork, app_key: str, role: Role, shipped: Mapping[str, Any]
) -> dict[str, Any]:
    grants = uow.session.scalars(
        select(Grant).where(Grant.role_id == role.id, Grant.app_key == app_key).order_by(Grant.id)
    )
    doc: dict[str, Any] = {
        "key": role.key,
        "name": {**shipped.get("name", {}), "zh-CN": _text(role.name, role.key)},
        "grants": [
            {
                "form": g.form_key,
                "actions": sorted(g.actions),
                "scope": g.scope,
                **({"fields": dict(g.field_rules)} if g.field_rules else {}),
            }
            for g in grants
        ],
    }
    if role.description or shipped.get("description"):
        doc["description"] = {
            **shipped.get("description", {}),
            "zh-CN": _text(role.description, role.key),
        }
    return doc


def _manifest(app: App, contents: list[str]) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "key": app.key,
        "name": app.name,
        "version": app.version,
        "platform": (app.manifest or {}).get("platform", f">={Version(__version__).base_version}"),
        "contents": contents,
    }
    if app.description:
        manifest["description"] = app.description
    for extra in ("depends", "time_zone"):
        if (app.manifest or {}).get(extra):
            manifest[extra] = (app.manifest or {})[extra]
    return manifest


def export(uow: UnitOfWork, actor: Actor, app_key: str) -> bytes:
    """The installed app as a package zip that installs into an empty database: its published
    definitions that are not archived (designers' changes included), every group and role they
    name (groups with their
    parents, roles with their grants on the app), the groups its package expected, the roles
    granted on it, its UI strings. A reference that does not resolve (a group or role that does
    not exist, a definition the app has not published, a user or group named by id) refuses the
    export with every such problem at its file and pointer."""
    require_admin(actor, "export apps")
    app = metadata.get_app(uow, actor, app_key)
    published = metadata.published_all(uow, app.id, archived=False)
    definitions = {k: body for k, (_, body) in published.items()}
    found = app_references(definitions)
    last = uow.session.scalars(
        select(AppInstall).where(AppInstall.app_id == app.id).order_by(AppInstall.id.desc())
    ).first()
    shipped = last.report if last is not None else {}
    directory = _directory(uow, app_key, found, shipped)
    archived = metadata.archived_in(uow, app_key)
    problems = _definition_problems(found, definitions, archived) + directory.problems
    if problems:
        raise ValidationFailed(
            f"App {app_key!r} cannot be exported: {len(problems)} reference(s) do not resolve.",
            code="package.unresolved",
            errors=sorted(problems, key=lambda p: p["path"]),
        )
    files: dict[str, bytes] = {}
    folder = {v: k for k, v in FOLDERS.items()}

    def put(name: str, body: Any) -> None:
        files[name] = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    for (kind, key), body in sorted(definitions.items()):
        put(f"{folder[kind]}/{key}.json", body)
    shipped_docs = {
        kind: {str(d["key"]): d for d in shipped.get(kind, [])} for kind in ("groups", "roles")
    }
    for key, role in sorted(directory.roles.items()):
        if not role.is_system:  # the system role exists in every database
            doc = _role_document(uow, app_key, role, shipped_docs["roles"].get(key, {}))
            put(f"roles/{key}.json", doc)
    by_id = {g.id: g for g in directory.groups.values()}
    for key, group in sorted(directory.groups.items()):
        put(
            f"groups/{key}.json", _group_document(group, by_id, shipped_docs["groups"].get(key, {}))
        )
    for lang, strings in (app.i18n or {}).items():
        put(f"i18n/{lang}.json", strings)
    put("manifest.json", _manifest(app, sorted(files)))
    parse(files)  # what is exported reads back as a package
    return zip_entries(files)
