"""Surveys: a form sent to a record's customer through a signed, single-use, expiring link.

A rule's ``send_survey`` action (see :mod:`tangram.platform.rules.effects`) calls :func:`send`
inside the writing transaction: it checks that the survey form has a reference field pointing at
the subject's form, creates an access link of kind ``survey`` (random token, only its SHA-256
stored) naming the survey form, that field and the subject, audits ``record.survey_sent`` on the
subject's timeline and queues an e-mail with the link when an address is known and outgoing mail
is configured (a job, never sent in the transaction). The customer answers on the public page
(:mod:`tangram.platform.public.surveys`), which also shows a pending survey on the subject's
status page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tangram.config import Settings
from tangram.engines.forms import FieldType
from tangram.engines.forms.fields import text
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.models import AccessLink, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import mail
from tangram.platform.records import access

#: What a survey link opens.
SURVEY = "survey"
#: The audit action on the subject's timeline when a survey is sent.
SENT = "record.survey_sent"
#: ... and when it is answered.
ANSWERED = "record.survey_answered"


class SurveyRefused(ValueError):
    """A survey that cannot be sent (the message says why)."""


@dataclass(frozen=True)
class Sent:
    """A survey link just created: the link, its token (shown once) and whether it was mailed."""

    link: AccessLink
    token: str
    mailed: bool


def survey_path(token: str) -> str:
    """Where the web app shows the survey a token opens."""
    return f"/survey/{token}"


def _address(uow: UnitOfWork, data: Mapping[str, Any], to_field: str | None) -> str | None:
    """The e-mail address ``to_field`` names: a field of the record, or ``reference.field`` of
    the record a reference field points at."""
    if not to_field:
        return None
    head, _, rest = to_field.partition(".")
    value: Any = data.get(head)
    if rest:
        target = uow.session.get(Record, value) if isinstance(value, int) else None
        value = None if target is None or target.deleted_at else target.data.get(rest)
    return value.strip() if isinstance(value, str) and "@" in value else None


def send(
    uow: UnitOfWork,
    settings: Settings,
    app_key: str,
    record: Record,
    data: Mapping[str, Any],
    *,
    form_key: str,
    link_field: str,
    expires_in_days: int,
    source: str,
    to_field: str | None = None,
    answered_field: str | None = None,
) -> Sent:
    """Send the survey ``form_key`` about ``record`` (see the module's docstring)."""
    try:
        _, survey = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise SurveyRefused(f"there is no published form {form_key!r}") from None
    field = survey.by_key.get(link_field)
    if field is None or field.type is not FieldType.REFERENCE:
        raise SurveyRefused(f"form {form_key!r} has no reference field {link_field!r}")
    if field.reference_form != record.form_key:
        raise SurveyRefused(
            f"field {form_key}.{link_field} points at {field.reference_form!r}, "
            f"not at {record.form_key!r}"
        )
    expires = uow.now + timedelta(days=expires_in_days)
    link, token = access.create(uow, record.id, kind=SURVEY, expires_at=expires)
    link.form_key, link.link_field, link.answered_field = form_key, link_field, answered_field
    address = _address(uow, data, to_field)
    mailed = bool(address) and mail.enabled(settings)
    if mailed:
        assert address is not None
        where = settings.public_url.rstrip("/") + survey_path(token)
        title = text(survey.label, "zh-CN") or form_key
        mail.enqueue(
            uow,
            to=address,
            subject=f"请为本次服务评分 · {title}",
            html=(
                f"<p>您好，请花一分钟为本次服务评分：</p>"
                f'<p><a href="{html.escape(where)}">{html.escape(where)}</a></p>'
                f"<p>链接 {expires_in_days} 天内有效，仅可提交一次。</p>"
            ),
        )
    uow.audit(
        None,
        source,
        SENT,
        "record",
        record.id,
        {"form": form_key, "link": link.id, "expires_at": expires.isoformat(), "mailed": mailed},
    )
    return Sent(link, token, mailed)


def pending(uow: UnitOfWork, record_id: int) -> AccessLink | None:
    """The newest survey link of a record that is neither answered nor expired."""
    return uow.session.scalar(
        select(AccessLink)
        .where(
            AccessLink.record_id == record_id,
            AccessLink.kind == SURVEY,
            AccessLink.used_at.is_(None),
            AccessLink.expires_at > uow.now,
        )
        .order_by(AccessLink.id.desc())
        .limit(1)
    )
