"""A record's public status page: what its customer sees through the private link an intake
submission returned, and the replies and files they send through it.

What the page shows is what the form marks public (its ``public`` block): the record's number
(its first serial number, else ``#id``), the form's title, where its flow stands (the steps
waiting, by their names), the fields ``public.fields`` lists as label and value in the language
asked (options by label, people and groups by name, referenced records by their display field,
rich text as plain text, files by name), and a timeline, oldest first, of what a customer may
know: the record's registration; changes of public fields that have options (a status moving
on, by an edit, a rule or a step); the flow's steps starting and finishing, by their names, and the flow ending; and the
public comments (an agent's public reply, the customer's own replies) with their files.

Never shown: who did anything (agents are "the service team", whatever their names), internal
comments, opinions given on steps, transfers, rule runs, and fields the block does not list. A
user or group field the block lists does show the person's or group's name: that is the
designer's explicit choice ("your engineer"), made in the definition, not something the page
lets slip.
A survey sent about the record and not yet answered (nor expired) shows as ``survey``; the
customer answers it through the same link (:mod:`tangram.platform.public.surveys`).
Every link that opens nothing (unknown, forged, expired, deleted record) answers the same 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tangram.engines.forms import FieldDef, FieldType, Form
from tangram.engines.forms.fields import text
from tangram.platform.flows import process
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.files import FileStore, StoredFile
from tangram.platform.kernel.models import (
    AccessLink,
    App,
    Attachment,
    AuditEntry,
    Comment,
    FlowInstance,
    Record,
    Task,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import access, attachments, comments, exports, surveys
from tangram.platform.records.intake import limit_per_hour

#: Flow step actions a customer sees, and how each reads.
_STEP_WORDS: dict[str, dict[str, str]] = {
    "started": {"zh-CN": "开始", "en": "started"},
    "submitted": {"zh-CN": "完成", "en": "done"},
    "approved": {"zh-CN": "完成", "en": "done"},
    "resolved": {"zh-CN": "完成", "en": "done"},
    "completed": {"zh-CN": "完成", "en": "done"},
}
#: How the flow's overall state reads.
_FLOW_STATES: dict[str, dict[str, str]] = {
    "running": {"zh-CN": "处理中", "en": "In progress"},
    "completed": {"zh-CN": "已完成", "en": "Completed"},
    "cancelled": {"zh-CN": "已取消", "en": "Cancelled"},
    "terminated": {"zh-CN": "已关闭", "en": "Closed"},
}
_REGISTERED = {"zh-CN": "已登记", "en": "Registered"}
_YES_NO = {"zh-CN": ("是", "否"), "en": ("Yes", "No")}
#: What a customer-facing page calls the people working on the record.
_SERVICE = {"zh-CN": "客服", "en": "Service team"}
_CUSTOMER = {"zh-CN": "客户", "en": "Customer"}
#: Where rich text ends a line: a closing block element or a line break.
#: The audit actions of comments (a public one shows where its entry stands).
_COMMENTED = ("record.commented", "record.customer_replied")
#: The system actor whose name the page's reads and uploads go under in the audit log.
_OPENER = "status-link"


def _say(table: Mapping[str, str], lang: str) -> str:
    return table.get(lang, table["zh-CN"])


def _opened(uow: UnitOfWork, token: str) -> tuple[AccessLink, Record, App, Form]:
    link, record = access.open_link(uow, token)
    app = uow.session.get(App, record.app_id)
    if app is None:
        raise access.not_found()
    try:
        _, form = compiled.form(uow, app.key, record.form_key)
    except NotFound:
        raise access.not_found() from None
    return link, record, app, form


def _zone(uow: UnitOfWork, app: App) -> ZoneInfo:
    return ZoneInfo(app.time_zone or uow.settings.time_zone)


def _number(form: Form, record: Record) -> str:
    for f in form.serial_fields:
        value = record.data.get(f.key)
        if value:
            return str(value)
    return f"#{record.id}"


def _public(form: Form) -> list[FieldDef]:
    return [form.by_key[k] for k in form.public_fields or () if k in form.by_key]


def _files(value: Any) -> list[dict[str, Any]]:
    found = value if isinstance(value, list) else [value]
    return [
        {"id": str(v["id"]), "name": str(v.get("name") or v["id"]), "size": v.get("size")}
        for v in found
        if isinstance(v, Mapping) and "id" in v
    ]


def _shown_value(
    f: FieldDef, value: Any, lang: str, names: exports.Names, zone: ZoneInfo
) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        yes, no = _YES_NO.get(lang, _YES_NO["zh-CN"])
        return yes if value else no
    if f.type is FieldType.RICH_TEXT and isinstance(value, str):
        return comments.html_text(value).strip()
    shown = exports.cell(f, value, lang, names, zone)
    return None if shown is None else str(shown)


def _state(uow: UnitOfWork, app_key: str, record: Record, lang: str) -> dict[str, Any] | None:
    """Where the record's newest flow stands: its state and the steps waiting, by name."""
    instance = uow.session.scalar(
        select(FlowInstance)
        .where(FlowInstance.record_id == record.id)
        .order_by(FlowInstance.id.desc())
        .limit(1)
    )
    if instance is None:
        return None
    steps: list[str] = []
    if instance.status == "running":
        nodes = sorted(
            set(
                uow.session.scalars(
                    select(Task.node).where(Task.instance_id == instance.id, Task.status == "open")
                )
            )
        )
        labels = _node_labels(uow, app_key, instance.flow_key, instance.version, lang)
        steps = [labels.get(n, n) for n in nodes]
    words = _FLOW_STATES.get(instance.status, _FLOW_STATES["running"])
    return {"status": instance.status, "label": _say(words, lang), "steps": steps}


def _node_labels(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None, lang: str
) -> dict[str, str]:
    try:
        definition = process(uow, app_key, flow_key, version)[1].definition
    except NotFound:
        return {}
    return {key: text(node.label, lang) or key for key, node in definition.nodes.items()}


def _timeline(
    uow: UnitOfWork, app_key: str, form: Form, record: Record, lang: str, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The public entries in the order of the record's audit trail (a comment where its own
    entry stands, so a reply comes before what a rule did about it)."""
    public = {
        c.id: c
        for c in uow.session.scalars(
            select(Comment).where(Comment.record_id == record.id, Comment.public.is_(True))
        )
    }
    entries = uow.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "record", AuditEntry.object_id == str(record.id))
        .order_by(AuditEntry.id)
    )
    optioned = {f.key: f for f in _public(form) if f.options}
    out: list[dict[str, Any]] = []
    labels: dict[tuple[str, int | None], dict[str, str]] = {}
    for e in entries:
        p = e.payload
        if e.action == "record.created":
            out.append({"kind": "created", "at": e.at, "text": _say(_REGISTERED, lang)})
        elif e.action in _COMMENTED:
            c = public.get(p.get("comment"))  # type: ignore[arg-type]
            if c is not None:
                out.append(
                    {
                        "kind": "customer_reply" if c.from_customer else "reply",
                        "at": c.created_at,
                        "text": c.body,
                        "by": _say(_CUSTOMER if c.from_customer else _SERVICE, lang),
                        "attachments": _files(c.attachments),
                    }
                )
        elif e.action == "record.updated":  # by people, rules and flow steps alike
            changes = p.get("changes") or {}
            after = {k: v[1] for k, v in changes.items() if isinstance(v, list) and len(v) == 2}
            moved = [
                f"{text(f.label, lang)}：{exports.cell(f, after[k], lang, {}, zone) or '—'}"
                for k, f in optioned.items()
                if k in after
            ]
            if moved:
                out.append({"kind": "changed", "at": e.at, "text": "；".join(moved)})
        elif e.action.startswith("flow.") and isinstance(p.get("steps"), list):
            flow, version = str(p.get("flow") or ""), p.get("version")
            key = (flow, version if isinstance(version, int) else None)
            if key not in labels:
                labels[key] = _node_labels(uow, app_key, flow, key[1], lang)
            said = [
                f"{labels[key].get(str(s.get('node')), str(s.get('node')))} "
                f"{_say(_STEP_WORDS[str(s.get('action'))], lang)}"
                for s in p["steps"]
                if isinstance(s, Mapping) and str(s.get("action")) in _STEP_WORDS
            ]
            if said:
                out.append({"kind": "step", "at": e.at, "text": " · ".join(said)})
    return out


def status_view(uow: UnitOfWork, token: str, *, lang: str) -> dict[str, Any]:
    """What the status page shows (see the module's docstring); 404 for a link that opens
    nothing."""
    _, record, app, form = _opened(uow, token)
    shown = _public(form)
    zone = _zone(uow, app)
    names = exports.page_names(uow, Actor.system(_OPENER), app.key, shown, [record])
    fields = []
    for f in shown:
        value = record.data.get(f.key)
        item: dict[str, Any] = {
            "key": f.key,
            "label": text(f.label, lang),
            "type": f.type.value,
            "value": _shown_value(f, value, lang, names, zone),
        }
        if f.type in (FieldType.ATTACHMENT, FieldType.ATTACHMENTS):
            item["files"] = _files(value)
        fields.append(item)
    title = None
    if form.title_field and form.title_field in (form.public_fields or ()):
        title = record.data.get(form.title_field)
    return {
        "number": _number(form, record),
        "title": str(title) if title not in (None, "") else None,
        "form": text(form.label, lang),
        "created_at": record.created_at,
        "state": _state(uow, app.key, record, lang),
        "fields": fields,
        "timeline": _timeline(uow, app.key, form, record, lang, zone),
        "max_reply": comments.MAX_BODY,
        "survey": _survey(uow, app.key, record, lang),
    }


def _survey(uow: UnitOfWork, app_key: str, record: Record, lang: str) -> dict[str, Any] | None:
    """The survey waiting for the customer's answer, if one does (answered or expired: none)."""
    link = surveys.pending(uow, record.id)
    if link is None or not link.form_key:
        return None
    try:
        _, survey = compiled.form(uow, app_key, link.form_key)
    except NotFound:
        return None
    return {"title": text(survey.label, lang) or survey.key, "expires_at": link.expires_at}


def check_rate(uow: UnitOfWork, remote_addr: str, *, max_per_hour: int) -> None:
    """429 when this address already sent ``max_per_hour`` replies in the last hour (the intake
    limit's setting: both are what one visitor may send)."""
    limit_per_hour(
        uow,
        Comment.created_at,
        Comment.remote_addr == remote_addr,
        Comment.from_customer.is_(True),
        max_per_hour=max_per_hour,
        what="replies",
    )


def reply(
    uow: UnitOfWork,
    token: str,
    body: str,
    *,
    attachment_ids: Sequence[str] = (),
    remote_addr: str,
    lang: str,
    max_per_hour: int,
) -> dict[str, Any]:
    """The customer's reply (see :func:`comments.add_customer_reply`), rate limited per address;
    answers the timeline entry it adds."""
    link, record, app, _ = _opened(uow, token)
    check_rate(uow, remote_addr, max_per_hour=max_per_hour)
    shown = comments.add_customer_reply(
        uow,
        record,
        app.key,
        body,
        link_id=link.id,
        attachment_ids=attachment_ids,
        remote_addr=remote_addr,
        lang=lang,
    )
    return {
        "kind": "customer_reply",
        "at": shown.created_at,
        "text": shown.body,
        "by": _say(_CUSTOMER, lang),
        "attachments": _files(shown.attachments),
    }


def upload_target(
    uow: UnitOfWork,
    token: str,
    filename: str,
    *,
    remote_addr: str,
    max_bytes: int,
    max_per_hour: int,
) -> attachments.UploadTarget:
    """Whether a customer may upload this file for a reply (rate limited like replies); reads
    only: the bytes are received outside any transaction, then :func:`record_upload` writes
    the row."""
    _, record, app, _ = _opened(uow, token)
    check_rate(uow, remote_addr, max_per_hour=max_per_hour)
    return attachments.upload_target(
        uow, Actor.system(_OPENER), app.key, record.form_key, filename, max_bytes=max_bytes
    )


def record_upload(
    uow: UnitOfWork, token: str, target: attachments.UploadTarget, received: attachments.Received
) -> Attachment:
    """The customer's file, once its bytes are kept (the link opened again: the record may have
    been deleted meanwhile)."""
    link, _, app, _ = _opened(uow, token)
    return attachments.record_upload(
        uow, Actor.system(_OPENER), app.key, target, received, access_link_id=link.id
    )


def status_download(
    uow: UnitOfWork, token: str, attachment_id: str, *, files: FileStore
) -> tuple[Attachment, StoredFile]:
    """A file the status page shows: one of a public comment or of a public file field of the
    link's record (404 for any other)."""
    _, record, _, form = _opened(uow, token)
    missing = NotFound("The status page shows no such file.", code="attachment.not_found")
    shown: set[str] = set()
    for f in _public(form):
        if f.type in (FieldType.ATTACHMENT, FieldType.ATTACHMENTS):
            shown.update(x["id"] for x in _files(record.data.get(f.key)))
    for listed in uow.session.scalars(
        select(Comment.attachments).where(Comment.record_id == record.id, Comment.public.is_(True))
    ):
        shown.update(x["id"] for x in _files(listed))
    if attachment_id not in shown:
        raise missing
    attachment = uow.session.get(Attachment, attachment_id)
    if attachment is None or attachment.record_id != record.id:
        raise missing
    stored = files.open(attachment.sha256)
    if stored is None:
        raise NotFound(
            f"The bytes of file {attachment_id!r} are missing from the file store.",
            code="attachment.bytes_missing",
        )
    return attachment, stored
