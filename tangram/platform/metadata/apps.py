"""Apps: create, list, read and change them; their metadata tag, which changes with every
publication, keys the caches of what an app has published.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, select, update

from tangram.platform.identity.perms import (
    Action,
    Actor,
    can_read_app,
    require_admin,
    require_design,
    scope_for,
)
from tangram.platform.kernel.errors import Conflict, NotFound, ValidationFailed, check_lock
from tangram.platform.kernel.models import App
from tangram.platform.kernel.names import KEY, KEY_HINT
from tangram.platform.kernel.uow import UnitOfWork

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


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


DEFAULT_TIME_ZONE = "Asia/Shanghai"


def _check_look(changes: Mapping[str, Any]) -> list[dict[str, str]]:
    """Problems with an app's icon (an antd icon name or an emoji) and time zone (IANA)."""
    errors = []
    icon = changes.get("icon")
    if icon is not None and (not isinstance(icon, str) or not 0 < len(icon) <= 64):
        errors.append(
            {"path": "icon", "message": "an icon name or an emoji, at most 64 characters"}
        )
    if "time_zone" in changes:
        zone = changes["time_zone"]
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(
                {
                    "path": "time_zone",
                    "message": f"{zone!r} is not a time zone such as Asia/Shanghai",
                }
            )
    return errors


def create_app(
    uow: UnitOfWork,
    actor: Actor,
    *,
    key: str,
    name: Mapping[str, str],
    description: Mapping[str, str] | None = None,
    version: str = "0.1.0",
    icon: str | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> App:
    """Create an empty app (administrators only)."""
    require_admin(actor, "create apps")
    errors = []
    if not KEY.match(key):
        errors.append(
            {
                "path": "key",
                "message": KEY_HINT,
            }
        )
    errors += _check_text("name", name, required=True)
    errors += _check_text("description", description, required=False)
    if not SEMVER.match(version):
        errors.append({"path": "version", "message": "use a semantic version such as 1.2.0"})
    errors += _check_look({"icon": icon, "time_zone": time_zone})
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
        icon=icon,
        time_zone=time_zone,
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


def design_apps(uow: UnitOfWork, actor: Actor) -> list[str]:
    """The keys of the apps whose definitions the actor may change (every app for
    administrators)."""
    keys = uow.session.scalars(select(App.key).order_by(App.key))
    return [k for k in keys if actor.is_admin or scope_for(actor, Action.DESIGN, k) is not None]


#: Statements on every record write, built once (building them costs more than running them).
_APP_BY_KEY = select(App).where(App.key == bindparam("key"))


class AppRef(NamedTuple):
    """An app's id and key: what record writes need, read without the ORM."""

    id: int
    key: str


_APP_REF = select(App.id, App.metadata_tag).where(App.key == bindparam("key"))


def app_ref(uow: UnitOfWork, actor: Actor, key: str) -> AppRef:
    """Like :func:`get_app`, for hot paths: one Core query, no ORM object, once per unit of work
    (a registration's writes, rules and flow start all ask); it also notes the app's metadata
    tag, as :func:`app_tag` would."""
    if not can_read_app(actor, key) or (key not in uow.memo.app_ids and not _remember(uow, key)):
        raise NotFound(f"App {key!r} does not exist.", code="app.not_found")
    return AppRef(uow.memo.app_ids[key], key)


def _remember(uow: UnitOfWork, key: str) -> bool:
    """Read the app's id and metadata tag into the unit's memo (the tag unless one is noted
    already); whether the app exists."""
    found = uow.session.connection().execute(_APP_REF, {"key": key}).first()
    if found is None:
        return False
    uow.memo.app_ids[key] = int(found[0])
    uow.memo.app_tags.setdefault(key, str(found[1]))
    return True


def note_tag(uow: UnitOfWork, key: str, tag: str) -> None:
    """Remember the app's metadata tag read along with something else (unless already known)."""
    uow.memo.app_tags.setdefault(key, tag)


def retag(uow: UnitOfWork, app_id: int, key: str) -> None:
    """Give the app a new metadata tag: what is cached of its published definitions (compiled
    forms, its rule book, its archived definitions) is looked up afresh."""
    tag = uuid.uuid4().hex
    uow.session.execute(update(App).where(App.id == app_id).values(metadata_tag=tag))
    uow.memo.app_tags[key] = tag
    uow.memo.forget_compiled()


def app_tag(uow: UnitOfWork, key: str) -> str | None:
    """The app's metadata tag as this unit of work first saw it (``None``: no such app). It
    changes with every publication, so what is cached under it is what is published."""
    tags = uow.memo.app_tags
    if key not in tags and not _remember(uow, key):
        return None
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
    errors += _check_look(changes)
    if errors:
        raise ValidationFailed("The change is not valid.", errors=errors)
    for field in ("name", "description"):
        if field in changes:
            setattr(app, field, dict(changes[field] or {}))
    for field in ("version", "icon", "time_zone"):
        if field in changes:
            setattr(app, field, changes[field])
    app.updated_at = uow.now
    uow.audit(actor.user_id, actor.label, "app.updated", "app", key, dict(changes))
    uow.flush()
    return app
