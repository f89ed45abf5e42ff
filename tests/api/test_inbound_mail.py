"""Inbound e-mail end to end: real SMTP exchanges with ``tangram mail serve``'s aiosmtpd
controller, the processing job, threading of replies, refusals, failures and hostile mail."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from tangram.cli import main
from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.inbound import service, smtp
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import (
    Attachment,
    AuditEntry,
    Comment,
    InboundMail,
    Job,
    Notification,
    Record,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.outbound import mail
from tangram.platform.worker import Worker
from tests.conftest import ApiClient, assert_problem

APP = "/api/v1/apps/app"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 40
CHANNEL = "service@mail.test"


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": f"{key}字段", "en": key}, **extra}


def option(value: str) -> dict[str, Any]:
    return {"value": value, "label": {"zh-CN": value, "en": value}}


CUSTOMER = {
    "key": "customer",
    "label": {"zh-CN": "客户", "en": "Customer"},
    "fields": [
        field("name", "text", required=True),
        field(
            "contacts",
            "sub_table",
            fields=[field("name", "text"), field("email", "email")],
        ),
    ],
}
TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": [
        field("no", "serial", serial="SV-{seq:4}"),
        field("title", "text", required=True),
        field("channel", "select", required=True, options=[option("web"), option("email")]),
        field("customer", "reference", reference={"form": "customer", "display": "name"}),
        field("contact_name", "text"),
        field("contact_email", "email"),
        field("description", "rich_text"),
        field("images", "attachments", accept=["image/*"]),
    ],
    "options": {"title_field": "title"},
    "public": {"fields": ["no", "title", "images"]},
    "mail": {
        "channel": "service",
        "subject": "title",
        "body": "description",
        "attachments": "images",
        "sender": "contact_email",
        "sender_name": "contact_name",
        "values": {"channel": "email"},
        "customer": {"form": "customer", "email": "contacts.email", "field": "customer"},
    },
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with outgoing mail, a mail domain and small mail limits."""
    return replace(
        settings,
        smtp_url="smtp://outbound.invalid:25",
        mail_from="support@tangram.test",
        mail_domain="mail.test",
        mail_max_bytes=200_000,
        mail_max_per_hour=5,
        public_url="https://service.test",
    )


@pytest.fixture
def sent(platform: Platform) -> list[dict[str, Any]]:
    """What the outbound mail queue sends (an in-memory sender instead of SMTP)."""
    out: list[dict[str, Any]] = []

    def send(_uow: UnitOfWork, job: JobContext) -> None:
        out.append(dict(job.payload))

    platform.jobs.register("mail", send)
    return out


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    for form in (CUSTOMER, TICKET):
        created = admin_client.post(f"{APP}/forms", json={"body": form})
        assert created.status_code == 201, created.get_json()
        published = admin_client.post(f"{APP}/forms/{form['key']}/publish", json={})
        assert published.status_code == 201, published.get_json()
    customer = admin_client.post(
        f"{APP}/records/customer",
        json={
            "data": {"name": "华东电力", "contacts": [{"name": "王工", "email": "Wang@Grid.test"}]}
        },
    )
    assert customer.status_code == 201, customer.get_json()
    return admin_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(platform: Platform, api: ApiClient) -> Iterator[int]:
    """``tangram mail serve``'s controller on a free port."""
    port = free_port()
    controller = smtp.controller(
        platform.unit_of_work, platform.settings, host="127.0.0.1", port=port
    )
    controller.start()
    yield port
    controller.stop()


def message(
    subject: str = "设备漏水",
    body: str = "机房空调漏水，附照片。",
    *,
    sender: str = "王工 <wang@grid.test>",
    **headers: str,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = CHANNEL
    m["Subject"] = subject
    m["Message-ID"] = f"<{abs(hash((subject, body, sender)))}@grid.test>"
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(body)
    return m


def send(port: int, msg: EmailMessage | bytes, *, to: str = CHANNEL) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        raw = msg if isinstance(msg, bytes) else msg.as_bytes()
        client.sendmail("wang@grid.test", [to], raw)


def run_jobs(platform: Platform) -> None:
    Worker(platform).run_due()


def mails(platform: Platform) -> list[InboundMail]:
    with platform.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(InboundMail).order_by(InboundMail.id)))


def record(platform: Platform, record_id: int) -> Record:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.get(Record, record_id)
        assert found is not None
        return found


def test_a_mail_with_an_attachment_becomes_a_ticket_with_its_customer_and_is_acknowledged(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    msg = message()
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="leak.png")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    send(server, msg)
    [stored] = mails(platform)
    assert (stored.state, stored.recipient, stored.sender) == (
        "received",
        CHANNEL,
        "wang@grid.test",
    )
    run_jobs(platform)
    [done] = mails(platform)
    assert (done.state, done.outcome, done.acknowledged) == ("processed", "created", True)
    ticket = record(platform, done.record_id or 0)
    data = ticket.data
    assert data["title"] == "设备漏水"
    assert data["channel"] == "email"
    assert data["contact_email"] == "wang@grid.test"
    assert data["contact_name"] == "王工"
    assert data["customer"] == 1
    assert "机房空调漏水" in data["description"]
    assert [f["name"] for f in data["images"]] == ["leak.png"]
    with platform.unit_of_work(write=False) as uow:
        files = {a.name: a.record_id for a in uow.session.scalars(select(Attachment))}
    assert files == {"leak.png": ticket.id, "report.pdf": ticket.id}
    [ack] = sent
    assert ack["to"] == "wang@grid.test"
    assert "[#SV-0001 ref:" in ack["subject"]
    assert "https://service.test/status/tga_" in ack["html"]
    assert ack["headers"]["Auto-Submitted"] == "auto-replied"
    assert ack["headers"]["In-Reply-To"] == msg["Message-ID"]
    assert ack["message_id"].startswith(f"<tangram-ack.{ticket.id}.")


def acknowledged(platform: Platform, server: int, sent: list[dict[str, Any]]) -> dict[str, Any]:
    send(server, message())
    run_jobs(platform)
    return sent[-1]


def test_a_reply_by_in_reply_to_lands_on_the_same_ticket_as_a_customer_reply(
    platform: Platform, server: int, sent: list[dict[str, Any]], api: ApiClient
) -> None:
    ack = acknowledged(platform, server, sent)
    ticket_id = mails(platform)[0].record_id
    reply = message(
        "Re: 收到", "已按要求重启，仍然漏水。\n\n> 引用的原文", In_Reply_To=ack["message_id"]
    )
    reply.add_attachment(PNG, maintype="image", subtype="png", filename="again.png")
    send(server, reply)
    run_jobs(platform)
    second = mails(platform)[1]
    assert (second.state, second.outcome, second.record_id) == ("processed", "replied", ticket_id)
    with platform.unit_of_work(write=False) as uow:
        comment = uow.session.get(Comment, second.comment_id)
        assert comment is not None
        assert comment.from_customer
        assert comment.public
        assert comment.body == "已按要求重启，仍然漏水。"
        assert [a["name"] for a in comment.attachments] == ["again.png"]
        actions = list(
            uow.session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_type == "record", AuditEntry.object_id == str(ticket_id)
                )
            )
        )
        assert "record.customer_replied" in actions
        assert (
            uow.session.scalar(
                select(Record.id).where(Record.id != ticket_id, Record.form_key == "ticket")
            )
            is None
        )
    # an acknowledgement goes out for the new ticket only, never for a reply
    assert len(sent) == 1
    timeline = api.get(f"{APP}/records/ticket/{ticket_id}/timeline").get_json()
    assert any(e.get("action") == "record.customer_replied" for e in timeline)
    [mailed] = [e for e in timeline if e.get("action") == "record.mailed_in"]
    assert mailed["payload"]["sender"] == "wang@grid.test"


def test_a_reply_by_subject_token_lands_on_the_same_ticket(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    ack = acknowledged(platform, server, sent)
    ticket_id = mails(platform)[0].record_id
    send(server, message(f"RE: {ack['subject']}", "补充：型号 A-100"))
    run_jobs(platform)
    assert (mails(platform)[1].outcome, mails(platform)[1].record_id) == ("replied", ticket_id)


def test_a_forged_token_starts_a_new_ticket_instead_of_landing_on_another(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    ack = acknowledged(platform, server, sent)
    ticket_id = mails(platform)[0].record_id
    forged_subject = f"[#SV-0001 ref:{ticket_id}.AAAAAAAAAAAAAAAA] 我来看看别人的工单"
    forged_id = f"<tangram-ack.{ticket_id}.BBBBBBBBBBBBBBBB.x@tangram.test>"
    send(server, message(forged_subject, "伪造", sender="mallory@evil.test", In_Reply_To=forged_id))
    run_jobs(platform)
    forged = mails(platform)[1]
    assert forged.outcome == "created"
    assert forged.record_id not in (None, ticket_id)
    assert "ref:" in ack["subject"]


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "wang@grid.test", "auto_submitted"),
        ({"Precedence": "bulk"}, "wang@grid.test", "bulk"),
        ({"X_Autoreply": "yes"}, "wang@grid.test", "auto_reply"),
        ({"List_Id": "<news.grid.test>"}, "wang@grid.test", "list"),
        ({}, "support@tangram.test", "loop"),
        ({}, "service@mail.test", "loop"),
    ],
)
def test_auto_replies_and_loops_are_refused_stored_and_never_answered(
    platform: Platform,
    server: int,
    sent: list[dict[str, Any]],
    headers: dict[str, str],
    sender: str,
    reason: str,
) -> None:
    send(server, message("Out of office", "I am away", sender=sender, **headers))
    run_jobs(platform)
    [refused] = mails(platform)
    assert (refused.state, refused.outcome, refused.record_id) == ("refused", reason, None)
    assert sent == []


def test_a_message_id_of_our_own_domain_is_a_loop(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    msg = message()
    del msg["Message-ID"]
    msg["Message-ID"] = "<tangram-job-7@tangram.test>"
    send(server, msg)
    run_jobs(platform)
    assert (mails(platform)[0].state, mails(platform)[0].outcome) == ("refused", "loop")
    assert sent == []


def test_a_sender_over_the_hourly_limit_is_refused(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    for n in range(6):
        send(server, message(f"问题 {n}"))
    run_jobs(platform)
    states = [(m.state, m.outcome) for m in mails(platform)]
    assert states[:5] == [("processed", "created")] * 5
    assert states[5] == ("refused", "rate_limited")
    assert len(sent) == 5


def test_a_failing_message_is_retried_then_processed_never_lost(
    platform: Platform, server: int, sent: list[dict[str, Any]], clock: FrozenClock
) -> None:
    failures = {"left": 2}
    real = platform.jobs.get(service.KIND)
    assert real is not None

    def flaky(uow: UnitOfWork, job: JobContext) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("file store down")
        real(uow, job)

    platform.jobs.register(service.KIND, flaky, on_failure=platform.jobs.on_failure(service.KIND))
    send(server, message())
    run_jobs(platform)
    [first] = mails(platform)
    assert (first.state, first.attempts, first.last_error) == (
        "received",
        1,
        "RuntimeError: file store down",
    )
    clock.advance(timedelta(minutes=5))
    run_jobs(platform)
    assert mails(platform)[0].attempts == 2
    clock.advance(timedelta(minutes=5))
    run_jobs(platform)
    [done] = mails(platform)
    assert (done.state, done.outcome, done.last_error) == ("processed", "created", None)
    assert done.record_id is not None


def test_a_message_that_keeps_failing_is_dead_lettered_shown_to_admins_and_retried(
    platform: Platform, server: int, sent: list[dict[str, Any]], clock: FrozenClock, api: ApiClient
) -> None:
    real = platform.jobs.get(service.KIND)
    on_failure = platform.jobs.on_failure(service.KIND)

    def broken(_uow: UnitOfWork, _job: JobContext) -> None:
        raise RuntimeError("always")

    platform.jobs.register(service.KIND, broken, on_failure=on_failure)
    send(server, message())
    for _ in range(platform.settings.job_max_attempts + 1):
        run_jobs(platform)
        clock.advance(timedelta(hours=1))
    [dead] = mails(platform)
    assert (dead.state, dead.outcome, dead.last_error) == ("dead", "failed", "RuntimeError: always")
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(Job.status).where(Job.kind == service.KIND)) == "dead"
        kinds = set(uow.session.scalars(select(Notification.kind)))
    assert "job_dead" in kinds
    listed = api.get("/api/v1/mail/inbound?state=dead").get_json()
    assert [(m["id"], m["state"], m["last_error"]) for m in listed["items"]] == [
        (dead.id, "dead", "RuntimeError: always")
    ]
    assert real is not None
    platform.jobs.register(service.KIND, real, on_failure=on_failure)
    retried = api.post(f"/api/v1/mail/inbound/{dead.id}/retry", json={})
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["state"] == "received"
    run_jobs(platform)
    assert (mails(platform)[0].state, mails(platform)[0].outcome) == ("processed", "created")
    assert_problem(api.post(f"/api/v1/mail/inbound/{dead.id}/retry", json={}), 409, "mail.not_dead")


def test_an_oversized_mail_is_refused_at_smtp_with_552_and_not_stored(
    platform: Platform, server: int
) -> None:
    big = message(body="x" * 300_000)
    with (
        smtplib.SMTP("127.0.0.1", server) as client,
        pytest.raises(smtplib.SMTPException) as caught,
    ):
        client.sendmail("wang@grid.test", [CHANNEL], big.as_bytes())
    assert "552" in str(caught.value)
    assert mails(platform) == []


def test_an_unknown_recipient_is_refused_at_rcpt(platform: Platform, server: int) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send(server, message(), to="nobody@mail.test")
    assert caught.value.recipients["nobody@mail.test"][0] == 550
    assert mails(platform) == []


def test_malformed_mail_is_stored_and_processed_as_far_as_it_can_be_read(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    raw = (
        b"From: =?x-unknown?B?????=?= <odd@grid.test>\r\n"
        b"To: service@mail.test\r\n"
        b"Subject: =?utf-8?B?5pWF6Zqc?= \xff\xfe broken\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n'
        b"\r\n"
        b"--never-closed\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"!!!not base64!!!\r\n"
    )
    send(server, raw)
    run_jobs(platform)
    [stored] = mails(platform)
    assert stored.raw == raw
    assert stored.state == "processed", stored.last_error
    ticket = record(platform, stored.record_id or 0)
    assert ticket.data["title"].startswith("故障")
    assert ticket.data["contact_email"] == "odd@grid.test"


def test_an_html_body_is_made_safe(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    msg = EmailMessage()
    msg["From"] = "wang@grid.test"
    msg["To"] = CHANNEL
    msg["Subject"] = "HTML"
    msg.set_content("纯文本版本")
    msg.add_alternative(
        '<p onclick="steal()">你好<script>alert(1)</script><img src=x onerror=alert(2)></p>',
        subtype="html",
    )
    send(server, msg)
    run_jobs(platform)
    ticket = record(platform, mails(platform)[0].record_id or 0)
    description = ticket.data["description"]
    assert "你好" in description
    for bad in ("<script", "onclick", "onerror", "alert(1)"):
        assert bad not in description


def test_the_inbound_list_is_for_administrators_only(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    assert_problem(client.get("/api/v1/mail/inbound"), 401)


def test_a_bounce_with_the_null_sender_is_refused(
    platform: Platform, server: int, sent: list[dict[str, Any]]
) -> None:
    with smtplib.SMTP("127.0.0.1", server) as client:
        client.sendmail("<>", [CHANNEL], message("Undelivered", "failed").as_bytes())
    run_jobs(platform)
    assert [(m.state, m.outcome) for m in mails(platform)] == [("refused", "bounce")]
    assert sent == []


def test_mail_list_shows_the_stored_messages(
    platform: Platform, server: int, database_url: str, tmp_path: Path
) -> None:
    send(server, message())
    env = {
        "TANGRAM_DATABASE_URL": database_url,
        "TANGRAM_INSTANCE_PATH": str(tmp_path),
        "TANGRAM_SECRET_KEY": "test-secret-key",
    }
    result = CliRunner().invoke(main, ["mail", "list", "--state", "received"], env=env)
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert line.split("\t")[1:5] == ["received", "-", "0", "wang@grid.test"]


class Sink:
    """An SMTP server that keeps what it receives (the outgoing mail's destination)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.received.append(bytes(envelope.original_content))
        return "250 OK"


def test_the_acknowledgement_sent_over_smtp_carries_its_thread_marks_and_a_reply_to_it_threads(
    platform: Platform, server: int
) -> None:
    sink = Sink()
    port = free_port()
    outgoing = Controller(sink, hostname="127.0.0.1", port=port)
    outgoing.start()
    try:
        real = replace(platform.settings, smtp_url=f"smtp://127.0.0.1:{port}")
        platform.jobs.register("mail", mail.sender(real))
        send(server, message())
        run_jobs(platform)
    finally:
        outgoing.stop()
    [raw] = sink.received
    ack = BytesParser(policy=policy.default).parsebytes(raw)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["To"] == "wang@grid.test"
    assert ack["Message-ID"].startswith("<tangram-ack.")
    reply = message("Re: 谢谢", "补充一张照片", In_Reply_To=ack["Message-ID"])
    send(server, reply)
    run_jobs(platform)
    first, second = mails(platform)
    assert (second.outcome, second.record_id) == ("replied", first.record_id)


def test_prune_drops_the_raw_bytes_of_old_finished_messages_only(
    platform: Platform, server: int, clock: FrozenClock, database_url: str, tmp_path: Path
) -> None:
    send(server, message("设备漏水", "第一封"))  # processed: a ticket
    send(server, message("Out of office", "away", Auto_Submitted="auto-replied"))
    run_jobs(platform)
    clock.advance(timedelta(days=40))
    send(server, message("新问题", "还没处理"))  # received, not yet processed
    with platform.unit_of_work() as uow:
        row = uow.session.get(InboundMail, mails(platform)[2].id)
        assert row is not None
        row.state = "dead"  # as if every attempt had failed
        uow.commit()
    clock.advance(timedelta(days=60))
    env = {
        "TANGRAM_DATABASE_URL": database_url,
        "TANGRAM_INSTANCE_PATH": str(tmp_path),
        "TANGRAM_SECRET_KEY": "test-secret-key",
    }
    with platform.unit_of_work() as uow:  # the CLI's clock is the machine's; the service's is ours
        assert service.prune(uow, Actor.system("test"), older_than=timedelta(days=90)) == 2
        uow.commit()
    processed, refused, dead = mails(platform)
    assert (processed.raw, refused.raw) == (b"", b"")
    assert processed.size > 0  # the row stays, with what it made
    assert processed.record_id is not None
    assert dead.raw != b""  # may still be retried
    with platform.unit_of_work(write=False) as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "mail.pruned")
        ).all()
    assert actions == ["mail.pruned"]
    again = CliRunner().invoke(main, ["mail", "prune", "--days", "1"], env=env)
    assert again.exit_code == 0, again.output
    assert "pruned the raw bytes of 0 message(s) received over 1 days ago" in again.output
    refused_days = CliRunner().invoke(main, ["mail", "prune", "--days", "0"], env=env)
    assert refused_days.exit_code == 2
