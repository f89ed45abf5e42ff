"""Answering a survey: the public page a survey link opens (no sign-in).

A survey link (sent by a rule's ``send_survey`` action, :mod:`tangram.platform.records.surveys`)
opens the survey form without its link field, with the subject record's number and title. The
answer is written as a record of the survey form in one transaction: the link is marked used by
a conditional update first (of two answers racing, exactly one wins; the other is told the
survey was already answered and writes nothing), the record is created by the system actor
``survey-link`` with the link field set to the subject and the subject's owner as its owner (so
``record.created`` runs the survey form's rules as any creation does), the subject's answered
field is stamped when the action named one, and ``record.survey_answered`` goes on the subject's
timeline.

Unknown, forged, expired links and links whose subject was deleted answer the one 404
``access.not_found``. A link already answered answers 410 ``survey.answered``: telling it apart
tells only the holder of a 256-bit token that it was used, which they did or were given, and
lets the page thank a customer who opens the link again instead of calling it broken.

The subject's status page (:mod:`tangram.platform.public.status`) shows a pending survey; its
customer answers it through the status link (:func:`view_for_status`, :func:`answer_for_status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from tangram.engines.forms import FieldError, Form
from tangram.engines.forms.fields import text
from tangram.engines.forms.messages import catalogue, message
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import Gone, NotFound, ValidationFailed
from tangram.platform.kernel.models import AccessLink, App, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import access, service, surveys
from tangram.platform.records.intake import limit_per_hour
from tangram.platform.records.navigation import field_info

#: The system actor the answers are created by (and that the audit log names).
ANSWERER = "survey-link"


def answered() -> Gone:
    """The answer for a survey link already used."""
    return Gone("This survey was already answered; thank you.", code="survey.answered")


def _open(uow: UnitOfWork, token: str) -> tuple[AccessLink, Record]:
    link, record = access.open_link(uow, token, kind=surveys.SURVEY)
    if link.used_at is not None:
        raise answered()
    return link, record


def _via_status(uow: UnitOfWork, token: str) -> tuple[AccessLink, Record]:
    """The pending survey of the record a status link opens (404 ``survey.none`` if none)."""
    _, record = access.open_link(uow, token)
    link = surveys.pending(uow, record.id)
    if link is None:
        raise NotFound("This record has no survey waiting for an answer.", code="survey.none")
    return link, record


def _forms(uow: UnitOfWork, link: AccessLink, record: Record) -> tuple[App, Form, Form]:
    app = uow.session.get(App, record.app_id)
    if app is None or not link.form_key or not link.link_field:
        raise access.not_found()
    try:
        _, survey = compiled.form(uow, app.key, link.form_key)
        _, subject = compiled.form(uow, app.key, record.form_key)
    except NotFound:
        raise access.not_found() from None
    return app, survey, subject


def _asked(survey: Form, link: AccessLink) -> list[str]:
    """The fields the customer fills: every written field but the link field."""
    return [
        f.key
        for f in survey.fields
        if f.key != link.link_field and not f.computed and not f.read_only and not f.flow_only
    ]


def _number(form: Form, record: Record) -> str:
    for f in form.serial_fields:
        value = record.data.get(f.key)
        if value:
            return str(value)
    return f"#{record.id}"


def _view(uow: UnitOfWork, link: AccessLink, record: Record, *, lang: str) -> dict[str, Any]:
    _, survey, subject = _forms(uow, link, record)
    asked = _asked(survey, link)
    schema = dict(survey.json_schema)
    schema["properties"] = {k: survey.json_schema["properties"][k] for k in asked}
    schema["required"] = [k for k in survey.json_schema.get("required", []) if k in asked]
    full_ui = survey.ui_schema(lang)
    ui: dict[str, Any] = {k: full_ui[k] for k in asked if k in full_ui}
    ui["ui:order"] = asked
    title = None
    if subject.title_field and subject.title_field in (subject.public_fields or ()):
        held = record.data.get(subject.title_field)
        title = str(held) if held not in (None, "") else None
    return {
        "title": text(survey.label, lang) or survey.key,
        "form": survey.key,
        "number": _number(subject, record),
        "subject_title": title,
        "expires_at": link.expires_at,
        "json_schema": schema,
        "ui_schema": ui,
        "conditions": {k: v for k, v in survey.conditions().items() if k.split("/")[0] in asked},
        "fields": [field_info(survey.by_key[k], lang) for k in asked],
        "messages": catalogue(lang),
    }


def survey_view(uow: UnitOfWork, token: str, *, lang: str) -> dict[str, Any]:
    """What the survey page shows (see the module's docstring)."""
    link, record = _open(uow, token)
    return _view(uow, link, record, lang=lang)


def view_for_status(uow: UnitOfWork, token: str, *, lang: str) -> dict[str, Any]:
    """The pending survey of the record a status link opens."""
    link, record = _via_status(uow, token)
    return _view(uow, link, record, lang=lang)


def check_rate(uow: UnitOfWork, remote_addr: str, *, max_per_hour: int) -> None:
    """429 when this address already answered ``max_per_hour`` surveys in the last hour."""
    limit_per_hour(
        uow,
        AccessLink.used_at,
        AccessLink.remote_addr == remote_addr,
        AccessLink.kind == surveys.SURVEY,
        max_per_hour=max_per_hour,
        what="answers",
    )


def _answer(
    uow: UnitOfWork,
    link: AccessLink,
    record: Record,
    data: Any,
    *,
    remote_addr: str,
    lang: str,
    max_per_hour: int,
) -> dict[str, Any]:
    app, survey, subject = _forms(uow, link, record)
    check_rate(uow, remote_addr, max_per_hour=max_per_hour)
    if not isinstance(data, Mapping):
        raise ValidationFailed("An answer must be a JSON object.", code="record.not_object")
    asked = set(_asked(survey, link))
    hidden = [
        FieldError(k, "unknown", message("unknown", lang)) for k in sorted(data) if k not in asked
    ]
    if hidden:
        raise ValidationFailed(
            "The answer has fields this survey does not ask.",
            code="record.invalid",
            errors=[e.as_dict() for e in hidden],
        )
    # Taken first, by a conditional update: of two answers racing, the second finds it used
    # (on PostgreSQL it waits for the first to commit) and writes nothing.
    taken = uow.session.execute(
        update(AccessLink)
        .where(AccessLink.id == link.id, AccessLink.used_at.is_(None))
        .values(used_at=uow.now, remote_addr=remote_addr)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise answered()
    written = service.create_record(
        uow,
        Actor.system(ANSWERER),
        app.key,
        survey.key,
        {**data, str(link.link_field): record.id},
        lang=lang,
        owner_id=record.owner_id,
    )
    if link.answered_field and link.answered_field in subject.by_key:
        service.system_update(
            uow,
            Actor.system(ANSWERER),
            app.key,
            record.form_key,
            record,
            {link.answered_field: uow.now.isoformat()},
            lang=lang,
        )
    uow.audit(
        None,
        ANSWERER,
        surveys.ANSWERED,
        "record",
        record.id,
        {"form": survey.key, "record": written.record.id, "link": link.id},
    )
    return {"number": _number(subject, record), "form": survey.key}


def answer(
    uow: UnitOfWork,
    token: str,
    data: Any,
    *,
    remote_addr: str,
    lang: str,
    max_per_hour: int,
) -> dict[str, Any]:
    """Write the customer's answer (see the module's docstring)."""
    link, record = _open(uow, token)
    return _answer(
        uow, link, record, data, remote_addr=remote_addr, lang=lang, max_per_hour=max_per_hour
    )


def answer_for_status(
    uow: UnitOfWork,
    token: str,
    data: Any,
    *,
    remote_addr: str,
    lang: str,
    max_per_hour: int,
) -> dict[str, Any]:
    """Answer the pending survey of the record a status link opens."""
    link, record = _via_status(uow, token)
    return _answer(
        uow, link, record, data, remote_addr=remote_addr, lang=lang, max_per_hour=max_per_hour
    )
