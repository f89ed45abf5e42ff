"""Records: create, read, update, soft-delete and restore business records of a published form.

Every write: checks the actor's grant and scope, refuses writes to computed and read-only
fields, sanitises rich text, draws serial numbers, computes defaults and formulas, validates
against the form (every problem at once), checks references, stores the JSON document with the
form version it was written under, audits the changed fields (old → new) and publishes a domain
event for the rule and flow engines — all in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from sqlalchemy import and_, or_, select

from tangram.engines.forms import FieldDef, FieldError, FieldType, Form
from tangram.platform import compiled, serials
from tangram.platform.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from tangram.platform.events import Event
from tangram.platform.metadata import get_app
from tangram.platform.models import App, AuditEntry, Record, Scope
from tangram.platform.perms import Action, Actor, check_record, group_subtree, scope_for
from tangram.platform.uow import UnitOfWork

DEFAULT_TIME_ZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Written:
    """A record after a write, with the fields that changed (``{field: [old, new]}``)."""

    record: Record
    changes: Mapping[str, list[Any]]


def _refuse(errors: list[FieldError], detail: str = "The record has invalid fields.") -> None:
    if errors:
        raise ValidationFailed(
            detail, code="record.invalid", errors=[e.as_dict() for e in sorted(set(errors))]
        )


def _sanitise(form: Form, data: dict[str, Any]) -> dict[str, Any]:
    def clean(fields: tuple[FieldDef, ...], values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for f in fields:
            value = out.get(f.key)
            if f.type is FieldType.RICH_TEXT and isinstance(value, str):
                out[f.key] = nh3.clean(value)
            elif f.fields and isinstance(value, list):
                out[f.key] = [
                    clean(f.fields, row) if isinstance(row, dict) else row for row in value
                ]
        return out

    return clean(form.fields, data)


def _references(
    uow: UnitOfWork, app: App, form: Form, data: Mapping[str, Any], lang: str
) -> list[FieldError]:
    errors = []
    for f in form.reference_fields:
        value = data.get(f.key)
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        target = uow.session.get(Record, value)
        if (
            target is None
            or target.deleted_at is not None
            or target.app_id != app.id
            or target.form_key != f.reference_form
        ):
            message = (
                "引用的记录不存在"
                if lang != "en"
                else f"no {f.reference_form} record {value} exists in this app"
            )
            errors.append(FieldError(f.key, "reference.missing", message))
    return errors


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


def _local_now(uow: UnitOfWork, time_zone: str) -> datetime:
    return uow.now.astimezone(ZoneInfo(time_zone))


def _require(actor: Actor, action: Action, app_key: str, form_key: str) -> Scope:
    scope = scope_for(actor, action, app_key, form_key)
    if scope is None:
        raise PermissionDenied(
            f"You may not {action.value} records of form {form_key!r}.", code="permission.record"
        )
    return scope


def create_record(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    data: Any,
    *,
    lang: str = "zh-CN",
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Written:
    """Create a record of the newest published version of ``form_key``."""
    app = get_app(uow, actor, app_key)
    _require(actor, Action.CREATE, app_key, form_key)
    version, form = compiled.form(uow, app_key, form_key)
    if not isinstance(data, Mapping):
        raise ValidationFailed("A record must be a JSON object.", code="record.not_object")
    _refuse(form.check_write(None, data, lang=lang))
    local_now = _local_now(uow, time_zone)
    computed = form.compute(
        _sanitise(form, dict(data)),
        now=local_now,
        serials=serials.draw(uow, app_key, form, local_now),
        lang=lang,
    )
    _refuse(
        [
            *computed.errors,
            *form.validate(computed.data, lang=lang),
            *_references(uow, app, form, computed.data, lang),
        ]
    )
    record = Record(
        app_id=app.id,
        form_key=form_key,
        form_version=version,
        data=computed.data,
        owner_id=actor.user_id,
        group_id=min(actor.group_ids) if actor.group_ids else None,
        created_at=uow.now,
        updated_at=uow.now,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    uow.session.add(record)
    uow.flush()
    changes = _diff({}, computed.data)
    uow.audit(
        actor.user_id,
        actor.label,
        "record.created",
        "record",
        record.id,
        {"app": app_key, "form": form_key, "version": version, "changes": changes},
    )
    uow.publish(
        Event("record.created", app_key, form_key, record.id, actor.user_id, {"changes": changes})
    )
    return Written(record, changes)


def _load(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    action: Action,
    *,
    deleted: bool = False,
) -> tuple[App, Record]:
    app = get_app(uow, actor, app_key)
    record = uow.session.get(Record, record_id)
    if (
        record is None
        or record.app_id != app.id
        or record.form_key != form_key
        or (record.deleted_at is not None) != deleted
    ):
        raise NotFound(f"Form {form_key!r} has no record {record_id}.", code="record.not_found")
    try:
        check_record(
            uow.session,
            actor,
            action.value,
            app_key=app_key,
            form_key=form_key,
            owner_id=record.owner_id,
            group_id=record.group_id,
        )
    except PermissionDenied:
        if action is Action.READ:  # records one may not read do not exist for them
            raise NotFound(
                f"Form {form_key!r} has no record {record_id}.", code="record.not_found"
            ) from None
        raise
    return app, record


def get_record(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> Record:
    """One live record the actor may read."""
    return _load(uow, actor, app_key, form_key, record_id, Action.READ)[1]


def update_record(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    changes: Any,
    *,
    lock_version: int,
    lang: str = "zh-CN",
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Written:
    """Apply ``changes`` (``null`` clears a field) to a record based on ``lock_version``.

    The record is validated against the newest form version and moves to it; a stale lock
    version is refused with the current record.
    """
    app, record = _load(uow, actor, app_key, form_key, record_id, Action.UPDATE)
    if lock_version != record.lock_version:
        raise StaleVersion(
            f"Someone else changed record {record_id} (your version {lock_version}, current "
            f"{record.lock_version}). Reload it and apply your change again.",
            current={"id": record.id, "data": record.data, "lock_version": record.lock_version},
            current_version=record.lock_version,
        )
    if not isinstance(changes, Mapping):
        raise ValidationFailed("Changes must be a JSON object.", code="record.not_object")
    version, form = compiled.form(uow, app_key, form_key)
    old = dict(record.data)
    _refuse(form.check_write(old, changes, lang=lang))
    merged = {**old, **_sanitise(form, dict(changes))}
    computed = form.compute(merged, now=_local_now(uow, time_zone), lang=lang, defaults=False)
    _refuse(
        [
            *computed.errors,
            *form.validate(computed.data, lang=lang),
            *_references(uow, app, form, computed.data, lang),
        ]
    )
    diff = _diff(old, computed.data)
    if not diff and version == record.form_version:
        return Written(record, {})
    record.data = computed.data
    record.form_version = version
    record.updated_at = uow.now
    record.updated_by = actor.user_id
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "record.updated",
        "record",
        record.id,
        {"app": app_key, "form": form_key, "version": version, "changes": diff},
    )
    uow.publish(
        Event(
            "record.updated",
            app_key,
            form_key,
            record.id,
            actor.user_id,
            {"changes": diff, "changed": sorted(diff)},
        )
    )
    return Written(record, diff)


def delete_record(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int, *, lock_version: int
) -> Record:
    """Soft-delete a record (administrators can restore it)."""
    _, record = _load(uow, actor, app_key, form_key, record_id, Action.DELETE)
    if lock_version != record.lock_version:
        raise StaleVersion(
            f"Someone else changed record {record_id}; reload it first.",
            current_version=record.lock_version,
        )
    record.deleted_at = uow.now
    record.updated_at = uow.now
    record.updated_by = actor.user_id
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "record.deleted",
        "record",
        record.id,
        {"app": app_key, "form": form_key},
    )
    uow.publish(Event("record.deleted", app_key, form_key, record.id, actor.user_id))
    return record


def restore_record(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> Record:
    """Bring back a soft-deleted record (administrators only)."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators may restore deleted records.", code="permission.admin_required"
        )
    _, record = _load(uow, actor, app_key, form_key, record_id, Action.UPDATE, deleted=True)
    record.deleted_at = None
    record.updated_at = uow.now
    record.updated_by = actor.user_id
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "record.restored",
        "record",
        record.id,
        {"app": app_key, "form": form_key},
    )
    uow.publish(Event("record.restored", app_key, form_key, record.id, actor.user_id))
    return record


def list_records(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, *, after: int = 0, limit: int = 50
) -> list[Record]:
    """Live records the actor may read, by id (keyset paging; one query)."""
    app = get_app(uow, actor, app_key)
    scope = _require(actor, Action.READ, app_key, form_key)
    compiled.form(uow, app_key, form_key)  # an unknown or unpublished form is a 404, not a blank
    query = select(Record).where(
        Record.app_id == app.id,
        Record.form_key == form_key,
        Record.deleted_at.is_(None),
        Record.id > after,
    )
    if scope is Scope.OWN:
        query = query.where(Record.owner_id == actor.user_id)
    elif scope is Scope.GROUP:
        groups = group_subtree(uow.session, actor.group_ids)
        query = query.where(
            or_(
                Record.owner_id == actor.user_id,
                and_(Record.group_id.is_not(None), Record.group_id.in_(groups)),
            )
        )
    return list(uow.session.scalars(query.order_by(Record.id).limit(limit)))


def timeline(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> list[AuditEntry]:
    """The record's audit entries (creation, changes old → new, deletion, restoration)."""
    get_record(uow, actor, app_key, form_key, record_id)
    return list(
        uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "record", AuditEntry.object_id == str(record_id))
            .order_by(AuditEntry.seq)
        )
    )
