"""Outgoing e-mail through the job queue (``smtp://`` or ``smtps://`` in ``TANGRAM_SMTP_URL``)."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from tangram.config import Settings
from tangram.platform.kernel import jobs
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.uow import UnitOfWork

KIND = "mail"


def enabled(settings: Settings) -> bool:
    """Whether an outgoing mail server is configured."""
    return bool(settings.smtp_url)


#: Headers a queued message may set besides the usual ones (threading and auto-reply marks).
EXTRA_HEADERS = frozenset(
    {"In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress"}
)


def enqueue(
    uow: UnitOfWork,
    *,
    to: str,
    subject: str,
    html: str,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Queue one message (sent by a worker, retried on failure). ``message_id`` (``<...@...>``)
    replaces the one made from the job's id, so that replies can be matched to what was sent;
    ``headers`` may set any of :data:`EXTRA_HEADERS`."""
    payload: dict[str, object] = {"to": to, "subject": subject[:300], "html": html}
    if message_id is not None:
        payload["message_id"] = message_id
    if headers:
        unknown = set(headers) - EXTRA_HEADERS
        if unknown:
            raise ValueError(f"headers {sorted(unknown)} may not be set on queued mail")
        payload["headers"] = dict(headers)
    jobs.enqueue(uow, KIND, payload)


def sender(settings: Settings) -> jobs.Handler:
    """The job handler that sends queued mail for this installation."""

    def send(_uow: UnitOfWork, job: JobContext) -> None:
        parts = urlsplit(settings.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise RuntimeError("TANGRAM_SMTP_URL must look like smtp://user:password@host:587")
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = str(job.payload["to"])
        message["Subject"] = str(job.payload["subject"])
        message["Message-ID"] = str(
            job.payload.get("message_id")
            or f"<tangram-job-{job.id}@{settings.mail_from.split('@')[-1]}>"
        )
        for name, value in dict(job.payload.get("headers") or {}).items():
            if name in EXTRA_HEADERS:
                message[name] = str(value)
        message.set_content("This message is best read as HTML.")
        message.add_alternative(str(job.payload["html"]), subtype="html")
        timeout = settings.webhook_timeout_seconds
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout)
        else:
            client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=timeout)
        with client:
            if parts.scheme == "smtp" and parts.port == 587:
                client.starttls()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)

    return send
