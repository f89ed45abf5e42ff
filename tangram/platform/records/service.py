"""Records: create, read, update, soft-delete and restore business records of a published form.

Every write: checks the actor's grant and scope, refuses writes to computed and read-only
fields, sanitises rich text, draws serial numbers, computes defaults and formulas, validates
against the form (every problem at once), checks references, stores the JSON document with the
form version it was written under, audits the changed fields (old → new) and publishes a domain
event for the rule and flow engines — all in the caller's unit of work.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from sqlalchemy import bindparam, select

from tangram.config import Settings
from tangram.engines.forms import (
    ROW_ID,
    FieldDef,
    FieldError,
    FieldType,
    Form,
    map_values,
    with_row_ids,
)
from tangram.engines.forms.messages import message
from tangram.engines.logic import EvalContext
from tangram.platform.identity.perms import (
    Action,
    Actor,
    check_record,
    field_permissions,
    hidden_fields,
    scope_for,
)
from tangram.platform.kernel import serials
from tangram.platform.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.models import (
    App,
    Definition,
    Group,
    Record,
    Scope,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import PUBLISHED, AppRef, app_ref, compiled, require_live
from tangram.platform.records import attachments, projections, search


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


def _sanitise(form: Form, data: Mapping[str, Any]) -> Mapping[str, Any]:
    if not form.has_rich_text:
        return data

    def clean(_path: str, f: FieldDef, value: Any) -> Any:
        return (
            nh3.clean(value) if f.type is FieldType.RICH_TEXT and isinstance(value, str) else value
        )

    return map_values(form.fields, data, clean)


_REFERENCED = select(Record.id, Record.app_id, Record.form_key, Record.deleted_at).where(
    Record.id.in_(bindparam("ids", expanding=True))
)


def _references(
    uow: UnitOfWork, app: AppRef, form: Form, data: Mapping[str, Any], lang: str
) -> list[FieldError]:
    wanted = {
        f.key: (value, f.reference_form)
        for f in form.reference_fields
        if isinstance(value := data.get(f.key), int) and not isinstance(value, bool)
    }
    if not wanted:
        return []
    found = {
        row.id: row
        for row in uow.session.connection().execute(
            _REFERENCED, {"ids": sorted({value for value, _ in wanted.values()})}
        )
    }
    errors = []
    for key, (value, target_form) in wanted.items():
        target = found.get(value)
        if (
            target is None
            or target.deleted_at is not None
            or target.app_id != app.id
            or target.form_key != target_form
        ):
            errors.append(
                FieldError(
                    key,
                    "reference.missing",
                    message("reference.missing", lang, form=target_form, id=value),
                )
            )
    return errors


def _group_of(
    uow: UnitOfWork, form: Form, data: Mapping[str, Any], current: int | None, lang: str
) -> tuple[int | None, list[FieldError]]:
    """The group a record belongs to when its form names a group field holding one (else
    ``current``); a group that does not exist is a field error."""
    held = data.get(form.group_field) if form.group_field else None
    if not isinstance(held, int) or isinstance(held, bool) or held == current:
        return current, []
    if uow.session.connection().execute(_GROUP_EXISTS, {"id": held}).first() is None:
        key = str(form.group_field)
        return current, [FieldError(key, "group.missing", message("group.missing", lang, id=held))]
    return held, []


_GROUP_EXISTS = select(Group.id).where(Group.id == bindparam("id"))


def _unique(
    uow: UnitOfWork,
    t: projections.Tables,
    data: Mapping[str, Any],
    record_id: int | None,
    lang: str,
) -> list[FieldError]:
    return [
        FieldError(key, "unique", message("unique", lang, id=other))
        for key, other in projections.taken(uow, t, data, record_id).items()
    ]


def removed_fields(form: Form, data: Mapping[str, Any]) -> list[str]:
    """Keys a record holds that the form's current version no longer has (kept, reported)."""
    return sorted(k for k in data if k not in form.by_key)


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


def new_row_id() -> str:
    """A new sub-table row's identity: 12 URL-safe random characters."""
    return secrets.token_urlsafe(9)


def shown(data: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """A record's values without the fields the viewer may not read."""
    return {k: v for k, v in data.items() if k not in hidden} if hidden else dict(data)


def require_scope(actor: Actor, action: Action, app_key: str, form_key: str) -> Scope:
    """The actor's widest scope for ``action`` on a form's records; 403 without any grant."""
    scope = scope_for(actor, action, app_key, form_key)
    if scope is None:
        raise PermissionDenied(
            f"You may not {action.value} records of form {form_key!r}.", code="permission.record"
        )
    return scope


def _new_record(
    uow: UnitOfWork,
    actor: Actor,
    app: AppRef,
    form: Form,
    t: projections.Tables,
    data: Any,
    *,
    serials: Mapping[str, str],
    lang: str,
    intake_id: int | None = None,
) -> tuple[attachments.Resolved, int | None, list[FieldError]]:
    """A new record's values as they would be stored (defaults, formulas, ``serials``, files),
    its group and every problem with them; nothing is written."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("A record must be a JSON object.", code="record.not_object")
    denied = field_permissions(actor, Action.CREATE.value, app.key, form.key)
    _refuse(form.check_write(None, data, denied, lang=lang, flow=actor.is_admin))
    context = eval_context(uow, actor)
    computed = form.compute(
        with_row_ids(form, _sanitise(form, data), new_row_id),
        now=uow.local_now,
        serials=serials,
        context=context,
        lang=lang,
    )
    files = attachments.resolve(
        uow, actor, app, form, computed.data, record_id=None, lang=lang, intake_id=intake_id
    )
    group_id, group_errors = _group_of(
        uow, form, files.data, min(actor.group_ids) if actor.group_ids else None, lang
    )
    errors = [
        *computed.errors,
        *files.errors,
        *form.validate(files.data, lang=lang, context=context),
        *_references(uow, app, form, files.data, lang),
        *_unique(uow, t, files.data, None, lang),
        *group_errors,
    ]
    return files, group_id, errors


def check_new_record(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, data: Any, *, lang: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """What :func:`create_record` would store for ``data`` (serial numbers left out: none is
    drawn) and what it would refuse, field by field, without writing anything: an import's
    dry run asks this of every row."""
    app = app_ref(uow, actor, app_key)
    require_scope(actor, Action.CREATE, app_key, form_key)
    _, form = compiled.form(uow, app_key, form_key)
    require_live(uow, app_key, "form", form_key)
    t = projections.ready(uow, app.id, form_key, form)
    try:
        files, _, errors = _new_record(uow, actor, app, form, t, data, serials={}, lang=lang)
    except ValidationFailed as exc:  # refused before the values were computed
        found = [
            FieldError(str(e.get("path", "")), str(e.get("code", "invalid")), str(e.get("message")))
            for e in exc.errors
        ]
        return dict(data) if isinstance(data, Mapping) else {}, found
    return dict(files.data), sorted(set(errors))


def create_record(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    data: Any,
    *,
    lang: str = "zh-CN",
    owner_id: int | None = None,
    intake_id: int | None = None,
) -> Written:
    """Create a record of the newest published version of ``form_key`` (an archived form takes
    none: 409 ``definition.archived``).

    ``owner_id`` sets the owner when the actor is not a user (public intake); ``intake_id`` names
    the intake link whose uploads the record may use.
    """
    app = app_ref(uow, actor, app_key)
    require_scope(actor, Action.CREATE, app_key, form_key)
    version, form = compiled.form(uow, app_key, form_key)
    require_live(uow, app_key, "form", form_key)
    t = projections.ready(uow, app.id, form_key, form)
    if not isinstance(data, Mapping):
        raise ValidationFailed("A record must be a JSON object.", code="record.not_object")
    files, group_id, errors = _new_record(
        uow,
        actor,
        app,
        form,
        t,
        data,
        serials=serials.draw(uow, app_key, form, uow.local_now),
        lang=lang,
        intake_id=intake_id,
    )
    _refuse(errors)
    values = {
        "app_id": app.id,
        "form_key": form_key,
        "form_version": version,
        "data": files.data,
        "owner_id": actor.user_id if owner_id is None else owner_id,
        "group_id": group_id,
        "created_at": uow.now,
        "updated_at": uow.now,
        "created_by": actor.user_id,
        "updated_by": actor.user_id,
        "lock_version": 1,
        "deleted_at": None,
    }
    record = uow.insert(Record, values)
    attachments.link(files.files, record.id)
    projections.insert_record(uow, t, record)
    changes = _diff({}, files.data)
    uow.audit(
        actor.user_id,
        actor.label,
        "record.created",
        "record",
        record.id,
        {
            "app": app_key,
            "form": form_key,
            "version": version,
            "lock_version": record.lock_version,
            "changes": changes,
        },
    )
    uow.publish(
        Event(
            "record.created",
            app_key,
            form_key,
            record.id,
            actor.user_id,
            {"changes": changes, "before": None, "after": record.data},
        )
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
) -> tuple[AppRef, Record]:
    """The record for ``action``: 404 ``record.not_found`` when it does not exist or the actor may
    not read it (records one may not read do not exist for them, whatever the action); 403
    ``permission.record`` when they may read it but not do ``action``."""
    app = app_ref(uow, actor, app_key)
    record = uow.session.get(Record, record_id)
    missing = NotFound(f"Form {form_key!r} has no record {record_id}.", code="record.not_found")
    if (
        record is None
        or record.app_id != app.id
        or record.form_key != form_key
        or (record.deleted_at is not None) != deleted
    ):
        raise missing

    def reaches(what: Action) -> bool:
        try:
            check_record(
                uow.session,
                actor,
                what.value,
                app_key=app_key,
                form_key=form_key,
                owner_id=record.owner_id,
                group_id=record.group_id,
            )
        except PermissionDenied:
            return False
        return True

    if reaches(action):
        return app, record
    if action is Action.READ or not reaches(Action.READ):
        raise missing
    raise PermissionDenied(
        f"You may read record {record_id} of form {form_key!r} but not {action.value} it.",
        code="permission.record",
    )


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
            current={
                "id": record.id,
                "data": shown(record.data, hidden_fields(actor, app_key, form_key)),
                "lock_version": record.lock_version,
            },
            current_version=record.lock_version,
        )
    if not isinstance(changes, Mapping):
        raise ValidationFailed("Changes must be a JSON object.", code="record.not_object")
    version, form = compiled.form(uow, app_key, form_key)
    current = {k: v for k, v in record.data.items() if k in form.by_key}
    denied = field_permissions(actor, Action.UPDATE.value, app_key, form_key)
    _refuse(form.check_write(current, changes, denied, lang=lang, flow=actor.is_admin))
    return _write_update(uow, actor, app, form_key, record, changes, version, form, lang=lang)


_GROUP_KEYS = select(Group.key).where(Group.id.in_(bindparam("ids", expanding=True)))


def eval_context(uow: UnitOfWork, actor: Actor) -> EvalContext:
    """What a form's formulas and conditions read besides the record: the clock, who writes, the
    keys of their groups and their roles."""
    groups: frozenset[str] = frozenset()
    if actor.group_ids:
        groups = frozenset(uow.read(_GROUP_KEYS, {"ids": sorted(actor.group_ids)}).scalars())
    return EvalContext(now=uow.now, user=actor.user_id, groups=groups, roles=actor.roles)


def system_update(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record: Record,
    changes: Mapping[str, Any],
    *,
    lang: str = "zh-CN",
) -> Written:
    """Write fields on behalf of the platform (rules, flows, SLA): no grant or read-only check,
    since these write what users may not (status, assignee, due times); validated like any write."""
    app = app_ref(uow, actor, app_key)
    version, form = compiled.form(uow, app_key, form_key)
    return _write_update(uow, actor, app, form_key, record, changes, version, form, lang=lang)


def _write_update(
    uow: UnitOfWork,
    actor: Actor,
    app: AppRef,
    form_key: str,
    record: Record,
    changes: Mapping[str, Any],
    version: int,
    form: Form,
    *,
    lang: str,
) -> Written:
    app_key = app.key
    t = projections.ready(uow, app.id, form_key, form)
    old = dict(record.data)
    # Fields a later version removed stay in the document, untouched and outside validation.
    kept = {k: old.pop(k) for k in removed_fields(form, old)}
    merged = with_row_ids(form, {**old, **_sanitise(form, changes)}, new_row_id)
    context = eval_context(uow, actor)
    computed = form.compute(
        merged,
        now=uow.local_now,
        context=context,
        lang=lang,
        defaults=False,
        added_rows=_added_rows(form, old, merged),
    )
    files = attachments.resolve(
        uow, actor, app, form, computed.data, record_id=record.id, lang=lang
    )
    group_id, group_errors = _group_of(uow, form, files.data, record.group_id, lang)
    _refuse(
        [
            *computed.errors,
            *files.errors,
            *form.validate(files.data, lang=lang, context=context),
            *_references(uow, app, form, files.data, lang),
            *_unique(uow, t, files.data, record.id, lang),
            *group_errors,
        ]
    )
    diff = _diff(old, files.data)
    if not diff and version == record.form_version:
        return Written(record, {})
    moved = version != record.form_version
    attachments.link(files.files, record.id)
    uow.update(
        record,
        {
            "data": {**files.data, **kept},
            "group_id": group_id,
            "form_version": version,
            "updated_at": uow.now,
            "updated_by": actor.user_id,
        },
    )
    projections.update_record(uow, t, record, diff, moved=moved)
    uow.audit(
        actor.user_id,
        actor.label,
        "record.updated",
        "record",
        record.id,
        {
            "app": app_key,
            "form": form_key,
            "version": version,
            "lock_version": record.lock_version,
            "changes": diff,
        },
    )
    uow.publish(
        Event(
            "record.updated",
            app_key,
            form_key,
            record.id,
            actor.user_id,
            {"changes": diff, "changed": sorted(diff), "before": old, "after": record.data},
        )
    )
    return Written(record, diff)


def _added_rows(form: Form, old: Mapping[str, Any], new: Mapping[str, Any]) -> frozenset[str]:
    """The ids of the sub-table rows ``new`` has and ``old`` had not (they get their defaults)."""
    added: set[str] = set()
    for f in form.fields:
        if f.type is FieldType.SUB_TABLE:
            before = {r.get(ROW_ID) for r in old.get(f.key) or [] if isinstance(r, Mapping)}
            added |= {
                r[ROW_ID]
                for r in new.get(f.key) or []
                if isinstance(r, Mapping) and r.get(ROW_ID) not in before
            }
    return frozenset(added)


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
    _mark(uow, app_key, form_key, record)
    uow.audit(
        actor.user_id,
        actor.label,
        "record.deleted",
        "record",
        record.id,
        {"app": app_key, "form": form_key, "lock_version": record.lock_version},
    )
    uow.publish(
        Event(
            "record.deleted",
            app_key,
            form_key,
            record.id,
            actor.user_id,
            {"before": record.data, "after": None},
        )
    )
    return record


def restore_record(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, record_id: int
) -> Record:
    """Bring back a soft-deleted record (administrators only)."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators may restore deleted records.", code="permission.admin_required"
        )
    app, record = _load(uow, actor, app_key, form_key, record_id, Action.UPDATE, deleted=True)
    _, form = compiled.form(uow, app_key, form_key)
    t = projections.ready(uow, app.id, form_key, form)
    taken = projections.taken(uow, t, record.data, record.id)
    if taken:
        key, other = next(iter(taken.items()))
        raise Conflict(
            f"Record {record_id} cannot be restored: its {key!r} value is now used by record "
            f"{other}. Change one of them first.",
            code="record.unique_taken",
        )
    record.deleted_at = None
    record.updated_at = uow.now
    record.updated_by = actor.user_id
    uow.flush()
    projections.mark_record(uow, t, record)
    uow.audit(
        actor.user_id,
        actor.label,
        "record.restored",
        "record",
        record.id,
        {"app": app_key, "form": form_key, "lock_version": record.lock_version},
    )
    uow.publish(
        Event(
            "record.restored",
            app_key,
            form_key,
            record.id,
            actor.user_id,
            {"before": None, "after": record.data},
        )
    )
    return record


def reindex(
    uow: UnitOfWork,
    *,
    app_key: str | None = None,
    form_key: str | None = None,
    only_missing: bool = False,
    progress: Callable[[str, str, int], None] | None = None,
) -> list[tuple[str, str, projections.SyncReport]]:
    """Rebuild the projections of published forms from the record documents.

    ``only_missing`` builds just the projections that do not exist or are out of date, and
    the search rows of forms that have records but none indexed (what ``tangram db upgrade``
    runs: the search's migration leaves its index empty); otherwise every selected projection
    is dropped and rebuilt, and so are the forms' full-text search rows.
    """
    query = (
        select(App.id, App.key, Definition.key)
        .join(Definition, Definition.app_id == App.id)
        .where(Definition.kind == "form", Definition.published_version.is_not(None))
        .order_by(App.key, Definition.key)
    )
    if app_key is not None:
        query = query.where(App.key == app_key)
    if form_key is not None:
        query = query.where(Definition.key == form_key)
    done = []
    for app_id, akey, fkey in uow.session.execute(query).all():
        version, form = compiled.form(uow, akey, fkey)

        def step(count: int, akey: str = akey, fkey: str = fkey) -> None:
            if progress:
                progress(akey, fkey, count)

        if only_missing:
            report = projections.sync(uow, app_id, fkey, version, form, progress=step)
            if search.never_indexed(uow, app_id, fkey):
                search.rebuild(uow, app_id, fkey, form)
        else:
            report = projections.rebuild(uow, app_id, fkey, version, form, progress=step)
            search.rebuild(uow, app_id, fkey, form)
        done.append((akey, fkey, report))
    if (app_key or form_key) and not done:
        raise NotFound(
            "No published form matches "
            + " ".join(f"{k}={v!r}" for k, v in (("app", app_key), ("form", form_key)) if v),
            code="definition.not_published",
        )
    return done


def _mark(uow: UnitOfWork, app_key: str, form_key: str, record: Record) -> None:
    _, form = compiled.form(uow, app_key, form_key)
    projections.mark_record(uow, projections.ready(uow, record.app_id, form_key, form), record)


def install(hooks: Hooks, _settings: Settings) -> None:
    """Keep each published form's projection tables in step with its newest version."""

    def on_published(uow: UnitOfWork, event: Event) -> None:
        if event.subject != "form":
            return
        key = str(event.payload["key"])
        version, form = compiled.form(uow, event.app, key)
        projections.sync(uow, int(event.payload["app_id"]), key, version, form)

    hooks.events.subscribe(PUBLISHED, on_published)
    search.install(hooks.events)
