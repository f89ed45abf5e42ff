"""Writing a package: an installed app exported as the package it would install from, and a folder
packed into its zip (the same bytes for the same files).
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import Version
from sqlalchemy import select

from tangram import __version__
from tangram.platform import metadata
from tangram.platform.identity.perms import Actor, require_admin
from tangram.platform.kernel.models import (
    AppInstall,
    Grant,
    Group,
    Role,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.packages.reader import FOLDERS, read

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


def export(uow: UnitOfWork, actor: Actor, app_key: str) -> bytes:
    """The installed app as a package zip: its published definitions (designers' changes
    included), its roles and grants, the groups its package expected, its UI strings."""
    require_admin(actor, "export apps")
    app = metadata.get_app(uow, actor, app_key)
    files: dict[str, bytes] = {}
    folder = {v: k for k, v in FOLDERS.items()}

    def put(name: str, body: Any) -> None:
        files[name] = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    for (kind, key), (_, body) in sorted(metadata.published_all(uow, app.id).items()):
        put(f"{folder[kind]}/{key}.json", body)
    last = uow.session.scalars(
        select(AppInstall).where(AppInstall.app_id == app.id).order_by(AppInstall.id.desc())
    ).first()
    shipped = last.report if last is not None else {}
    roles = {d["key"]: d for d in shipped.get("roles", [])}
    for role in uow.session.scalars(
        select(Role)
        .where(Role.id.in_(select(Grant.role_id).where(Grant.app_key == app_key)))
        .order_by(Role.key)
    ):
        grants = uow.session.scalars(
            select(Grant)
            .where(Grant.role_id == role.id, Grant.app_key == app_key)
            .order_by(Grant.id)
        )
        doc: dict[str, Any] = {
            "key": role.key,
            "name": {**roles.get(role.key, {}).get("name", {}), "zh-CN": role.name},
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
        if role.description or roles.get(role.key, {}).get("description"):
            doc["description"] = {
                **roles.get(role.key, {}).get("description", {}),
                "zh-CN": role.description or "",
            }
        put(f"roles/{role.key}.json", doc)
    for shipped_group in shipped.get("groups", []):
        group = uow.session.scalar(select(Group).where(Group.key == shipped_group["key"]))
        if group is None:
            continue
        shown: dict[str, Any] = {
            "key": group.key,
            "name": {**shipped_group["name"], "zh-CN": group.name},
        }
        if group.parent_id is not None:
            shown["parent"] = uow.session.scalar(
                select(Group.key).where(Group.id == group.parent_id)
            )
        put(f"groups/{group.key}.json", shown)
    for lang, strings in (app.i18n or {}).items():
        put(f"i18n/{lang}.json", strings)
    manifest: dict[str, Any] = {
        "key": app.key,
        "name": app.name,
        "version": app.version,
        "platform": (app.manifest or {}).get("platform", f">={Version(__version__).base_version}"),
        "contents": sorted(files),
    }
    if app.description:
        manifest["description"] = app.description
    for extra in ("depends", "time_zone"):
        if (app.manifest or {}).get(extra):
            manifest[extra] = (app.manifest or {})[extra]
    put("manifest.json", manifest)
    return zip_entries(files)
