"""Public intake forms: a tokened link where anyone may submit some fields of a form.

The web channel of ticket registration. A designer publishes a link for a form with the fields a
visitor may fill; the visitor sees only those fields (schema and UI schema cut down to them) and
submits anonymously. Submissions are rate limited per address, records belong to the link's
owner, and the audit log names the link. Links look like ``tgi_<prefix>_<secret>``; only the
SHA-256 of the whole token is stored, so a lost link is replaced, not recovered.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from tangram.engines.forms import FieldError, FieldType, Form
from tangram.engines.forms.messages import catalogue, message
from tangram.platform.identity.credentials import new_secret, secret_hash, secret_prefix
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import NotFound, RateLimited, ValidationFailed, check_lock
from tangram.platform.kernel.models import App, Attachment, IntakeLink, IntakeSubmission, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled, get_app
from tangram.platform.records import access, attachments, reading, service
from tangram.platform.records.listing import Filter
from tangram.platform.records.navigation import field_info

TOKEN_PREFIX = "tgi"  # noqa: S105 - a marker, not a secret
WINDOW = timedelta(hours=1)


def _check_fields(form: Form, keys: Sequence[str]) -> None:
    errors = []
    if not keys:
        errors.append({"path": "fields", "message": "expose at least one field"})
    for i, key in enumerate(keys):
        f = form.by_key.get(key)
        if f is None:
            errors.append({"path": f"fields/{i}", "message": f"{key!r} is not a field of the form"})
        elif f.computed or f.read_only:
            errors.append({"path": f"fields/{i}", "message": f"{key!r} is not written by visitors"})
        elif f.type in (FieldType.USER, FieldType.GROUP):
            errors.append(
                {
                    "path": f"fields/{i}",
                    "message": f"{key!r} names people or groups, which visitors cannot look up",
                }
            )
        elif f.type is FieldType.REFERENCE and not f.reference_display:
            errors.append(
                {
                    "path": f"fields/{i}",
                    "message": f"{key!r} refers to records without a display field to choose by",
                }
            )
    if len(set(keys)) != len(keys):
        errors.append({"path": "fields", "message": "a field is listed twice"})
    exposed = set(keys)
    for f in form.fields:
        if f.required and not f.computed and f.default is None and f.key not in exposed:
            errors.append(
                {
                    "path": "fields",
                    "message": f"required field {f.key!r} must be exposed (or given a default)",
                }
            )
    if errors:
        raise ValidationFailed(
            "The intake link cannot expose these fields.", code="intake.invalid", errors=errors
        )


def create_link(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    *,
    fields: Sequence[str],
    title: Mapping[str, str],
    owner_id: int | None = None,
) -> tuple[IntakeLink, str]:
    """A new public link (designers); the token is returned once."""
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    _, form = compiled.form(uow, app_key, form_key)
    _check_fields(form, list(fields))
    if owner_id is not None and uow.session.get(User, owner_id) is None:
        raise ValidationFailed(
            "The owner does not exist.",
            code="intake.invalid",
            errors=[{"path": "owner_id", "message": f"there is no user {owner_id}"}],
        )
    prefix, token = new_secret(TOKEN_PREFIX)
    link = IntakeLink(
        app_id=app.id,
        form_key=form_key,
        token_prefix=prefix,
        token_hash=secret_hash(token),
        title=dict(title) or dict(form.label),
        fields=list(fields),
        owner_id=owner_id,
        enabled=True,
        created_by=actor.user_id,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(link)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "intake.created",
        "intake_link",
        link.id,
        {"app": app_key, "form": form_key, "fields": list(fields)},
    )
    return link, token


def list_links(uow: UnitOfWork, actor: Actor, app_key: str) -> list[IntakeLink]:
    """The app's intake links (designers)."""
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    return list(
        uow.session.scalars(
            select(IntakeLink).where(IntakeLink.app_id == app.id).order_by(IntakeLink.id)
        )
    )


def update_link(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    link_id: int,
    *,
    lock_version: int,
    enabled: bool | None = None,
    fields: Sequence[str] | None = None,
    title: Mapping[str, str] | None = None,
) -> IntakeLink:
    """Turn a link on or off, or change its fields or title."""
    link = _designed_link(uow, actor, app_key, link_id)
    check_lock(link, lock_version)
    if fields is not None:
        _check_fields(compiled.form(uow, app_key, link.form_key)[1], list(fields))
        link.fields = list(fields)
    if enabled is not None:
        link.enabled = enabled
    if title is not None:
        link.title = dict(title)
    link.updated_at = uow.now
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "intake.updated",
        "intake_link",
        link.id,
        {"enabled": link.enabled, "fields": link.fields},
    )
    return link


def renew_token(
    uow: UnitOfWork, actor: Actor, app_key: str, link_id: int, *, lock_version: int
) -> tuple[IntakeLink, str]:
    """Give a link a new token (designers): the old one stops opening it at once. Only the new
    token's hash is kept, so this is how a link that was not saved is shared again."""
    link = _designed_link(uow, actor, app_key, link_id)
    check_lock(link, lock_version)
    prefix, token = new_secret(TOKEN_PREFIX)
    link.token_prefix, link.token_hash = prefix, secret_hash(token)
    link.updated_at = uow.now
    uow.flush()
    uow.audit(actor.user_id, actor.label, "intake.renewed", "intake_link", link.id, {})
    return link, token


def _designed_link(uow: UnitOfWork, actor: Actor, app_key: str, link_id: int) -> IntakeLink:
    """An app's link, for its designers."""
    app = get_app(uow, actor, app_key)
    require_design(actor, app_key)
    link = uow.session.get(IntakeLink, link_id)
    if link is None or link.app_id != app.id:
        raise NotFound(f"App {app_key!r} has no intake link {link_id}.", code="intake.not_found")
    return link


def open_link(uow: UnitOfWork, token: str) -> tuple[App, IntakeLink]:
    """The enabled link a token opens (404 for anything else, without saying why)."""
    prefix = secret_prefix(token, TOKEN_PREFIX)
    missing = NotFound(
        "This intake link does not exist or was turned off.", code="intake.not_found"
    )
    if prefix is None:
        raise missing
    link = uow.session.scalar(select(IntakeLink).where(IntakeLink.token_prefix == prefix))
    if link is None or not hmac.compare_digest(link.token_hash, secret_hash(token)):
        raise missing
    if not link.enabled:
        raise missing
    app = uow.session.get(App, link.app_id)
    assert app is not None
    return app, link


def public_form(uow: UnitOfWork, token: str, *, lang: str) -> dict[str, Any]:
    """What a visitor's browser needs: title, schema and UI schema of the exposed fields only."""
    app, link = open_link(uow, token)
    _, form = compiled.form(uow, app.key, link.form_key)
    exposed = [k for k in link.fields if k in form.by_key]
    schema = dict(form.json_schema)
    schema["properties"] = {k: form.json_schema["properties"][k] for k in exposed}
    schema["required"] = [k for k in form.json_schema.get("required", []) if k in exposed]
    full_ui = form.ui_schema(lang)
    ui: dict[str, Any] = {k: full_ui[k] for k in exposed if k in full_ui}
    ui["ui:order"] = exposed
    ui["ui:title"] = full_ui.get("ui:title", "")
    conditions = {k: v for k, v in form.conditions().items() if k.split("/")[0] in exposed}
    title = link.title.get(lang) or link.title.get("zh-CN") or next(iter(link.title.values()), "")
    return {
        "title": title,
        "form": link.form_key,
        "json_schema": schema,
        "ui_schema": ui,
        "conditions": conditions,
        # what the web app's form renderer also reads: the fields and the validation messages
        "fields": [field_info(form.by_key[k], lang) for k in exposed],
        "messages": catalogue(lang),
        "suggest": _suggest(form, app.key, exposed),
    }


def _suggest(form: Form, app_key: str, exposed: Sequence[str]) -> dict[str, Any] | None:
    """Where the page finds articles for what the visitor types (``public.suggest``), when the
    link exposes a field they are found by."""
    if form.suggest is None:
        return None
    typed = [k for k in form.suggest.fields if k in exposed]
    if not typed:
        return None
    return {"app": app_key, "form": form.suggest.form, "fields": typed}


def limit_per_hour(
    uow: UnitOfWork,
    at: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    *where: ColumnElement[bool],
    max_per_hour: int,
    what: str,
) -> None:
    """429 when the rows ``where`` selects (one visitor's sends: submissions, replies, survey
    answers) number ``max_per_hour`` in the last hour, by their time ``at``; ``what`` names them
    in the message, which says when the oldest leaves the window."""
    count, oldest = uow.session.execute(
        select(func.count(), func.min(at)).where(*where, at > uow.now - WINDOW)
    ).one()
    if count >= max_per_hour:
        wait = int(((oldest + WINDOW) - uow.now).total_seconds()) + 1 if oldest else 60
        raise RateLimited(
            f"Too many {what} from your address; try again in {max(wait, 1)} seconds.",
            retry_after=max(wait, 1),
        )


def check_rate(uow: UnitOfWork, remote_addr: str, *, max_per_hour: int) -> None:
    """429 when this address already submitted ``max_per_hour`` times in the last hour."""
    limit_per_hour(
        uow,
        IntakeSubmission.at,
        IntakeSubmission.remote_addr == remote_addr,
        max_per_hour=max_per_hour,
        what="submissions",
    )


def submit(
    uow: UnitOfWork,
    token: str,
    data: Any,
    *,
    remote_addr: str,
    lang: str,
    max_per_hour: int,
) -> dict[str, Any]:
    """Create a record from an anonymous submission of the exposed fields.

    Returns the receipt a visitor may see: the record id, its serial numbers and the path of
    its private status page (a new ``status`` access link, written in the same transaction).
    """
    app, link = open_link(uow, token)
    check_rate(uow, remote_addr, max_per_hour=max_per_hour)
    if not isinstance(data, Mapping):
        raise ValidationFailed("A submission must be a JSON object.", code="record.not_object")
    exposed = set(link.fields)
    hidden = [
        FieldError(k, "unknown", message("unknown", lang)) for k in sorted(data) if k not in exposed
    ]
    if hidden:
        raise ValidationFailed(
            "The submission has fields this form does not show.",
            code="record.invalid",
            errors=[e.as_dict() for e in hidden],
        )
    written = service.create_record(
        uow,
        actor_of(link),
        app.key,
        link.form_key,
        data,
        lang=lang,
        owner_id=link.owner_id,
        intake_id=link.id,
    )
    uow.session.add(
        IntakeSubmission(
            link_id=link.id, remote_addr=remote_addr, record_id=written.record.id, at=uow.now
        )
    )
    uow.flush()
    _, form = compiled.form(uow, app.key, link.form_key)
    stored = written.record.data
    _, token = access.create(uow, written.record.id)
    return {
        "id": written.record.id,
        "serials": {f.key: stored[f.key] for f in form.serial_fields if f.key in stored},
        "status_path": access.status_path(token),
    }


#: The most records a visitor's lookup answers.
LOOKUP_LIMIT = 20
#: The longest text a visitor's lookup searches for.
LOOKUP_TEXT = 100


def lookup(uow: UnitOfWork, token: str, field_key: str, text: str) -> list[dict[str, Any]]:
    """What a visitor may choose for a reference field the link exposes: the referenced form's
    live records whose display field contains ``text`` (the newest first, at most
    :data:`LOOKUP_LIMIT`), each as its id and that display value — nothing else of them. Exposing
    the field is the designer's consent to show these values to anyone with the link."""
    app, link = open_link(uow, token)
    _, form = compiled.form(uow, app.key, link.form_key)
    f = form.by_key.get(field_key)
    if (
        f is None
        or field_key not in link.fields
        or f.type is not FieldType.REFERENCE
        or not f.reference_form
        or not f.reference_display
    ):
        raise NotFound(f"This link offers no choice for {field_key!r}.", code="intake.no_lookup")
    if len(text) > LOOKUP_TEXT:
        raise ValidationFailed(
            "The text to look for is too long.",
            code="intake.invalid",
            errors=[{"path": "q", "message": f"at most {LOOKUP_TEXT} characters"}],
        )
    display = f.reference_display
    filters = [Filter(display, "contains", text, source="q")] if text else []
    page = reading.list_records(
        uow, actor_of(link), app.key, f.reference_form, filters=filters, limit=LOOKUP_LIMIT
    )
    return [{"id": r.id, "label": str(r.data.get(display) or f"#{r.id}")} for r in page.items]


def actor_of(link: IntakeLink) -> Actor:
    """Who the audit log says acted: the link itself."""
    return Actor.system(f"intake:{link.id}")


def upload_target(
    uow: UnitOfWork,
    token: str,
    filename: str,
    *,
    field_key: str,
    remote_addr: str,
    max_bytes: int,
    max_per_hour: int,
) -> attachments.UploadTarget:
    """Whether a visitor may upload this file for one of the link's exposed file fields (rate
    limited too); reads only: the bytes are received outside any transaction
    (:func:`attachments.receive`), then :func:`record_upload` writes the row."""
    app, link = open_link(uow, token)
    if field_key.split(".")[0] not in link.fields:
        raise ValidationFailed(
            "Name the exposed file field this file is for.",
            code="attachment.field",
            errors=[{"path": "field", "message": "must be a file field of this form"}],
        )
    check_rate(uow, remote_addr, max_per_hour=max_per_hour)
    return attachments.upload_target(
        uow,
        actor_of(link),
        app.key,
        link.form_key,
        filename,
        max_bytes=max_bytes,
        field_key=field_key,
        intake_id=link.id,
    )


def record_upload(
    uow: UnitOfWork, token: str, target: attachments.UploadTarget, received: attachments.Received
) -> Attachment:
    """The visitor's file, once its bytes are kept (the link checked again: it may have been
    turned off meanwhile)."""
    app, link = open_link(uow, token)
    return attachments.record_upload(
        uow, actor_of(link), app.key, target, received, intake_id=link.id
    )
