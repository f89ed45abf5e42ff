"""Inbound e-mail: store every accepted message first, then turn it into a record or a reply.

The order is what keeps mail from being lost. The SMTP endpoint (:mod:`.smtp`) calls
:func:`store` — the raw bytes, state ``received``, and the processing job, in one transaction —
and only then answers 250. The job (:func:`process`) reads the stored bytes, so a crash or a
failing step only delays a message: the worker tries again with back-off, each failed try is
recorded on the message (attempts, last error), and a message whose tries are spent is ``dead``,
listed for administrators (who are also told, as of any dead job) and retried by them.

What a message becomes is decided by the form its recipient names (the form's ``mail`` block,
see docs/forms.md): a reply whose thread mark verifies (:mod:`.messages`) becomes a customer
reply on its record through the same path as a status page reply; anything else becomes a new
record through the record service, as a public intake submission does, followed by an
acknowledgement to the sender with the record's number and its private status link. Auto-replies,
bulk and list mail, loops and senders over their hourly limit are ``refused``: stored with the
reason, turned into nothing and never answered.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from tangram.config import Settings
from tangram.engines.forms import FieldType, Form
from tangram.platform.identity.perms import Actor
from tangram.platform.inbound.messages import (
    MALFORMED,
    MailFile,
    ParsedMail,
    ack_message_id,
    address_parts,
    parse,
    refusal,
    subject_token,
    thread_of,
    without_quotes,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import NotFound, TangramError, ValidationFailed
from tangram.platform.kernel.files import FileStore
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import (
    AccessLink,
    App,
    Attachment,
    Definition,
    InboundMail,
    InboundMailState,
    Record,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import mail as outbound
from tangram.platform.records import access, attachments, comments, projections, service

#: The job kind that processes a stored message.
KIND = "inbound_mail"
#: The window of the per-sender limit.
WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Channel:
    """Where mail to one address goes: a form with a ``mail`` block, in its app."""

    app_id: int
    app_key: str
    form_key: str
    form: Form

    @property
    def block(self) -> dict[str, Any]:
        """The form's ``mail`` block."""
        return dict(self.form.mail or {})


def channels(uow: UnitOfWork) -> list[Channel]:
    """Every published, live form with a ``mail`` block, by app and form key."""
    rows = uow.session.execute(
        select(App.id, App.key, Definition.key)
        .join(Definition, Definition.app_id == App.id)
        .where(
            Definition.kind == "form",
            Definition.published_version.is_not(None),
            Definition.archived_at.is_(None),
        )
        .order_by(App.key, Definition.key)
    ).all()
    found = []
    for app_id, app_key, form_key in rows:
        _, form = compiled.form(uow, app_key, form_key)
        if form.mail is not None:
            found.append(Channel(int(app_id), str(app_key), str(form_key), form))
    return found


def find_channel(uow: UnitOfWork, recipient: str) -> Channel | None:
    """The channel an envelope recipient names: its local part is a form's ``mail.channel`` and
    its domain the installation's ``TANGRAM_MAIL_DOMAIN`` (any domain when that is unset). A
    local part two apps both use names nothing (the operator must rename one)."""
    local, domain = address_parts(recipient)
    wanted = uow.settings.mail_domain.strip().lower()
    if not local or (wanted and domain != wanted):
        return None
    matching = [c for c in channels(uow) if str(c.block.get("channel", "")).lower() == local]
    return matching[0] if len(matching) == 1 else None


def store(uow: UnitOfWork, *, recipient: str, envelope_from: str, raw: bytes) -> InboundMail:
    """Keep a received message (raw) and queue its processing, in the caller's transaction;
    the SMTP transaction is acknowledged once this committed. Reads a few headers for the
    administrators' list when it can, and nothing else: parsing happens in the job."""
    sender, subject, message_id = "", "", ""
    try:
        head = parse(raw)
        sender, subject, message_id = head.sender, head.subject, head.message_id
    except (*MALFORMED, AttributeError, IndexError):
        pass  # unreadable headers: the job records why
    row = InboundMail(
        recipient=recipient[:320],
        envelope_from=envelope_from[:320],
        sender=sender,
        subject=subject[:300],
        message_id=message_id[:300],
        raw=raw,
        size=len(raw),
        state=InboundMailState.RECEIVED.value,
        outcome="",
        attempts=0,
        received_at=uow.now,
        acknowledged=False,
    )
    uow.session.add(row)
    uow.flush()
    jobs.enqueue(uow, KIND, {"mail": row.id})
    return row


def process(uow: UnitOfWork, settings: Settings, files: FileStore, mail_id: int) -> InboundMail:
    """Turn stored message ``mail_id`` into a record or a reply, or refuse it (a message no
    longer ``received`` is left alone: the job may run again after a crash)."""
    row = uow.session.get(InboundMail, mail_id)
    if row is None:
        raise NotFound(f"There is no inbound message {mail_id}.", code="mail.not_found")
    if row.state != InboundMailState.RECEIVED.value:
        return row
    parsed = parse(row.raw)
    row.sender, row.subject, row.message_id = parsed.sender, parsed.subject, parsed.message_id
    row.attempts += 1
    reason = _refusal(uow, settings, row, parsed)
    channel = find_channel(uow, row.recipient) if reason is None else None
    if reason is None and channel is None:
        reason = "no_channel"
    if reason is not None or channel is None:
        _finish(uow, row, InboundMailState.REFUSED, reason or "no_channel")
        return row
    secret = settings.with_secret().secret_key
    record = _thread(uow, channel, thread_of(parsed, secret))
    if record is not None:
        _reply(uow, files, row, parsed, channel, record)
    else:
        _create(uow, settings, files, row, parsed, channel, secret)
    return row


def _refusal(
    uow: UnitOfWork, settings: Settings, row: InboundMail, parsed: ParsedMail
) -> str | None:
    own_domain = settings.mail_from.rpartition("@")[2]
    own = [settings.mail_from]
    if settings.mail_domain:
        own += [f"{c.block.get('channel')}@{settings.mail_domain}" for c in channels(uow)]
    reason = refusal(parsed, own_addresses=own, own_domains=[own_domain])
    if reason is not None:
        return reason
    if row.envelope_from.strip() in ("", "<>"):
        return "bounce"  # the null sender: a delivery report, whatever its headers say
    recent = uow.session.scalar(
        select(func.count()).where(
            InboundMail.sender == parsed.sender,
            InboundMail.id != row.id,
            InboundMail.state == InboundMailState.PROCESSED.value,
            InboundMail.received_at > uow.now - WINDOW,
        )
    )
    if int(recent or 0) >= settings.mail_max_per_hour:
        return "rate_limited"
    return None


def _thread(uow: UnitOfWork, channel: Channel, record_id: int | None) -> Record | None:
    """The live record of this channel's form a verified mark names, if any."""
    if record_id is None:
        return None
    record = uow.session.get(Record, record_id)
    if (
        record is None
        or record.deleted_at is not None
        or record.app_id != channel.app_id
        or record.form_key != channel.form_key
    ):
        return None
    return record


def _finish(uow: UnitOfWork, row: InboundMail, state: InboundMailState, outcome: str) -> None:
    row.state = state.value
    row.outcome = outcome
    row.last_error = None
    row.processed_at = uow.now
    uow.audit(
        None,
        "mail",
        f"mail.{state.value}",
        "inbound_mail",
        row.id,
        {"outcome": outcome, "sender": row.sender, "record": row.record_id},
    )


def _keep_files(
    uow: UnitOfWork,
    files: FileStore,
    channel: Channel,
    mail_files: Sequence[MailFile],
    *,
    field_key: str | None,
    access_link_id: int | None = None,
) -> tuple[list[Attachment], list[Attachment], list[str]]:
    """Keep the message's files in the file store: (those the field accepts, the others kept
    beside the record, names of files refused: a type not accepted at all, or too large)."""
    f = channel.form.by_key.get(field_key) if field_key else None
    fitting: list[Attachment] = []
    beside: list[Attachment] = []
    refused: list[str] = []
    limit = uow.settings.max_upload_bytes
    for file in mail_files:
        try:
            name = attachments.clean_name(file.name)
            content_type = attachments.content_type_of(name)
            target = attachments.UploadTarget(
                channel.app_id, channel.form_key, None, name, content_type, limit
            )
            received = attachments.receive(files, io.BytesIO(file.data), target)
        except (ValidationFailed, attachments.TooLarge):
            refused.append(file.name)
            continue
        attachment = attachments.record_upload(
            uow,
            Actor.system("mail"),
            channel.app_key,
            target,
            received,
            access_link_id=access_link_id,
        )
        fits = f is not None and attachments.accepts(f, name, content_type)
        if fits and f is not None and f.max_size and received.size > f.max_size:
            fits = False
        (fitting if fits else beside).append(attachment)
    return fitting, beside, refused


def _body_value(form: Form, key: str, parsed: ParsedMail) -> str:
    f = form.by_key[key]
    if f.type is FieldType.RICH_TEXT:
        if parsed.safe_html:
            return parsed.safe_html
        paragraphs = [p for p in parsed.text.split("\n\n") if p.strip()]
        return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return parsed.text[: f.max_length or 5000]


def _customer(uow: UnitOfWork, channel: Channel, sender: str) -> int | None:
    """The live record of the customer form whose e-mail field holds ``sender`` (the oldest
    when several do), through its projection."""
    match = channel.block.get("customer")
    if not match or not sender:
        return None
    try:
        _, form = compiled.form(uow, channel.app_key, str(match["form"]))
    except NotFound:
        return None
    t = projections.ready(uow, channel.app_id, form.key, form)
    top, _, column = str(match["email"]).partition(".")
    if column:
        child = t.children.get(top)
        if child is None or column not in child.c:
            return None
        query = (
            select(child.c._record)
            .join(t.main, t.main.c._id == child.c._record)
            .where(func.lower(child.c[column]) == sender, t.main.c._deleted_at.is_(None))
            .order_by(child.c._record)
        )
    else:
        if top not in t.main.c:
            return None
        query = (
            select(t.main.c._id)
            .where(func.lower(t.main.c[top]) == sender, t.main.c._deleted_at.is_(None))
            .order_by(t.main.c._id)
        )
    found = uow.session.scalar(query.limit(1))
    return int(found) if found is not None else None


def _create(
    uow: UnitOfWork,
    settings: Settings,
    files: FileStore,
    row: InboundMail,
    parsed: ParsedMail,
    channel: Channel,
    secret: str,
) -> None:
    block, form = channel.block, channel.form
    data: dict[str, Any] = dict(block.get("values") or {})
    subject_field = form.by_key[str(block["subject"])]
    data[subject_field.key] = (parsed.subject or "（无主题）")[: subject_field.max_length or 200]
    data[str(block["body"])] = _body_value(form, str(block["body"]), parsed)
    if block.get("sender"):
        data[str(block["sender"])] = parsed.sender
    if block.get("sender_name") and parsed.sender_name:
        data[str(block["sender_name"])] = parsed.sender_name
    customer = _customer(uow, channel, parsed.sender)
    if customer is not None:
        data[str(block["customer"]["field"])] = customer
    field_key = block.get("attachments")
    fitting, beside, refused = _keep_files(
        uow, files, channel, parsed.files, field_key=str(field_key) if field_key else None
    )
    if fitting and field_key:
        described = [attachments.describe(a) for a in fitting]
        multiple = form.by_key[str(field_key)].type is FieldType.ATTACHMENTS
        data[str(field_key)] = described if multiple else described[0]
        beside += [] if multiple else fitting[1:]
    written = service.create_record(
        uow, Actor.system(f"mail:{row.id}"), channel.app_key, channel.form_key, data
    )
    record = written.record
    attachments.link(beside, record.id)
    link, token = access.create(uow, record.id)
    row.record_id, row.access_link_id = record.id, link.id
    serials = [str(record.data[f.key]) for f in form.serial_fields if record.data.get(f.key)]
    number = serials[0] if serials else str(record.id)
    if outbound.enabled(settings):
        _acknowledge(uow, settings, row, parsed, record.id, number, token, secret)
    _finish(uow, row, InboundMailState.PROCESSED, "created")
    uow.audit(
        None,
        "mail",
        "record.mailed_in",
        "record",
        record.id,
        {
            "mail": row.id,
            "sender": parsed.sender,
            "subject": parsed.subject,
            "files": [a.name for a in fitting + beside],
            **({"refused_files": refused} if refused else {}),
            **({"problems": list(parsed.problems)} if parsed.problems else {}),
        },
    )


def _acknowledge(
    uow: UnitOfWork,
    settings: Settings,
    row: InboundMail,
    parsed: ParsedMail,
    record_id: int,
    number: str,
    token: str,
    secret: str,
) -> None:
    """Queue the acknowledgement: the record's number, its status link, the thread mark in
    the subject and in the ``Message-ID``, and ``Auto-Submitted: auto-replied`` so that
    well-behaved auto-responders stay quiet."""
    where = settings.public_url.rstrip("/") + access.status_path(token)
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    mark = subject_token(secret, record_id, number)
    subject = f"{mark} 已收到您的来信 / We received your message: {parsed.subject}"
    shown = html.escape(number)
    link = html.escape(where)
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if parsed.message_id:
        headers["In-Reply-To"] = parsed.message_id
        headers["References"] = parsed.message_id
    outbound.enqueue(
        uow,
        to=parsed.sender,
        subject=subject,
        html=(
            f"<p>您好，我们已收到您的来信，编号 <strong>{shown}</strong>。</p>"
            f'<p>查看处理进度：<a href="{link}">{link}</a></p>'
            "<p>直接回复本邮件即可补充信息（请保留主题中的编号）。</p><hr>"
            f"<p>We received your message, number <strong>{shown}</strong>. "
            f'Follow it here: <a href="{link}">{link}</a>. '
            "Reply to this mail to add to it (keep the number in the subject).</p>"
        ),
        message_id=ack_message_id(secret, record_id, domain),
        headers=headers,
    )
    row.acknowledged = True


def _reply(
    uow: UnitOfWork,
    files: FileStore,
    row: InboundMail,
    parsed: ParsedMail,
    channel: Channel,
    record: Record,
) -> None:
    """The message as the customer's reply on ``record``, through its status link (the one
    made when mail created it, else a new one)."""
    link_id = uow.session.scalar(
        select(InboundMail.access_link_id)
        .where(InboundMail.record_id == record.id, InboundMail.access_link_id.is_not(None))
        .order_by(InboundMail.id)
        .limit(1)
    )
    if link_id is None or uow.session.get(AccessLink, link_id) is None:
        link_id = access.create(uow, record.id)[0].id
    kept = parsed.files[: comments.MAX_REPLY_FILES]
    fitting, beside, _ = _keep_files(
        uow, files, channel, kept, field_key=None, access_link_id=link_id
    )
    body = without_quotes(parsed.text)[: comments.MAX_BODY].strip() or "（邮件无正文）"
    shown = comments.add_customer_reply(
        uow,
        record,
        channel.app_key,
        body,
        link_id=link_id,
        attachment_ids=[a.id for a in fitting + beside],
        remote_addr=f"mail:{parsed.sender}"[:64],
    )
    row.record_id, row.comment_id = record.id, shown.id
    _finish(uow, row, InboundMailState.PROCESSED, "replied")


def _failed(uow: UnitOfWork, job: JobContext, error: str, dead: bool) -> None:
    """Record a failed try on the message: its attempts and error, and ``dead`` once given up."""
    row = uow.session.get(InboundMail, int(job.payload["mail"]))
    if row is None:
        return
    row.attempts = job.attempt
    row.last_error = error[:4000]
    if dead:
        row.state = InboundMailState.DEAD.value
        row.outcome = "failed"
        row.processed_at = uow.now


def install(hooks: Hooks, settings: Settings, files: Callable[[], FileStore]) -> None:
    """Register the processing job (``files``: the installation's file store when it runs)."""

    def run(uow: UnitOfWork, job: JobContext) -> None:
        process(uow, settings, files(), int(job.payload["mail"]))

    hooks.jobs.register(KIND, run, on_failure=_failed)


def list_mails(
    uow: UnitOfWork, *, state: str | None = None, after: int = 0, limit: int = 100
) -> list[InboundMail]:
    """Inbound messages by id (keyset paging: ids above ``after``), optionally of one state."""
    query = select(InboundMail).where(InboundMail.id > after)
    if state is not None:
        query = query.where(InboundMail.state == state)
    return list(uow.session.scalars(query.order_by(InboundMail.id).limit(limit)))


def prune(uow: UnitOfWork, actor: Actor, *, older_than: timedelta) -> int:
    """Drop the raw bytes of messages received before ``older_than`` ago that are over with
    (processed or refused), keeping each row — sender, subject, outcome, the record it made —
    and its ``size``; how many were pruned. Messages still to be processed and dead ones keep
    their bytes: they may yet be processed. Audited as one ``mail.pruned`` entry."""
    before = uow.now - older_than
    over = (InboundMailState.PROCESSED.value, InboundMailState.REFUSED.value)
    ids = list(
        uow.session.scalars(
            select(InboundMail.id).where(
                InboundMail.state.in_(over),
                InboundMail.received_at < before,
                func.length(InboundMail.raw) > 0,
            )
        )
    )
    for start in range(0, len(ids), 500):
        uow.session.execute(
            update(InboundMail).where(InboundMail.id.in_(ids[start : start + 500])).values(raw=b"")
        )
    if ids:
        uow.audit(
            actor.user_id,
            actor.label,
            "mail.pruned",
            "inbound_mail",
            ids[-1],
            {"count": len(ids), "received_before": before.isoformat()},
        )
    return len(ids)


def retry(uow: UnitOfWork, actor: Actor, mail_id: int) -> InboundMail:
    """Put a dead message back to ``received`` and queue its processing again (administrators);
    409 for a message that is not dead."""
    row = uow.session.get(InboundMail, mail_id)
    if row is None:
        raise NotFound(f"There is no inbound message {mail_id}.", code="mail.not_found")
    if row.state != InboundMailState.DEAD.value:
        raise MailNotDead(f"Inbound message {mail_id} is {row.state}, not dead.")
    row.state = InboundMailState.RECEIVED.value
    row.outcome = ""
    row.processed_at = None
    jobs.enqueue(uow, KIND, {"mail": row.id})
    uow.audit(actor.user_id, actor.label, "mail.retried", "inbound_mail", row.id, {})
    return row


class MailNotDead(TangramError):
    """Only a dead message is retried."""

    status = 409
    title = "Conflict"
    default_code = "mail.not_dead"
