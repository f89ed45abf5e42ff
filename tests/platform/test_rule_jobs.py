"""Rules in time: relative timers, cron schedules, SLA due times and escalations, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import jobs
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import AuditEntry, Job, Notification, SlaStatus
from tangram.platform.outbound import webhooks
from tangram.platform.rules import sla
from tangram.platform.worker import Worker
from tests.platform.rules_fixtures import (
    CALENDAR,
    SYSTEM,
    TICKET,
    World,
    build_world,
    field,
    rule,
    text,
)

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai
HW_A = {"title": "noise", "issue_type": "hardware_fault", "product_line": "A"}


@pytest.fixture
def world(platform: Platform, clock: FrozenClock) -> World:
    clock.set(MONDAY_10)
    return build_world(platform)


def run_jobs(world: World) -> None:
    Worker(world.platform, name="test").run_due()


def notes(world: World, user: str) -> list[Notification]:
    with world.platform.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(Notification)
                .where(Notification.user_id == world.users[user])
                .order_by(Notification.id)
            )
        )


def entries(world: World, record_id: int, action: str) -> list[AuditEntry]:
    with world.platform.unit_of_work(write=False) as uow:
        found = records.timeline(uow, SYSTEM, "svc", "ticket", record_id)
    return [e for e in found if e.action == action]


def test_relative_timer_fires_unless_the_record_moved_on(world: World, clock: FrozenClock) -> None:
    world.publish(
        "rule",
        rule(
            "nudge",
            actions=[{"type": "notify", "to": {"field": "assignee"}, "title": "{{title}} waits"}],
        )
        | {
            "trigger": {
                "type": "timer",
                "minutes": 30,
                "after": "created_at",
                "unless": {"!!": [{"var": "first_response_at"}]},
            }
        },
    )
    waiting = world.create({**HW_A, "assignee": world.users["ann"]})
    answered = world.create({**HW_A, "title": "answered", "assignee": world.users["bob"]})
    world.update(answered.id, {"first_response_at": "2026-11-23T10:05:00+08:00"})
    clock.advance(timedelta(minutes=29))
    run_jobs(world)
    assert notes(world, "ann") == []  # not yet due
    clock.advance(timedelta(minutes=2))
    run_jobs(world)
    assert [n.title for n in notes(world, "ann")] == ["noise waits"]
    assert notes(world, "bob") == []  # the unless condition held
    assert entries(world, waiting.id, "rule.fired")[0].payload["event"] == "timer"


def test_schedule_rule_runs_over_records_and_plans_its_next_run(
    world: World, clock: FrozenClock
) -> None:
    world.create({**HW_A, "tier": "vip"})
    world.create({**HW_A, "tier": "normal"})
    world.publish(
        "rule",
        rule(
            "weekly_vip",
            condition={"==": [{"var": "tier"}, "vip"]},
            actions=[{"type": "comment", "text": "weekly VIP review"}],
        )
        | {"trigger": {"type": "schedule", "cron": "0 9 * * 1", "time_zone": "Asia/Shanghai"}},
    )
    with world.platform.unit_of_work(write=False) as uow:
        (job,) = uow.session.scalars(select(Job).where(Job.kind == "rule.schedule"))
    assert job.run_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # next Monday 09:00
    clock.set(job.run_at + timedelta(seconds=1))
    run_jobs(world)
    with world.platform.unit_of_work(write=False) as uow:
        comments = list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "record.commented"))
        )
        pending = list(
            uow.session.scalars(
                select(Job).where(Job.kind == "rule.schedule", Job.status == "pending")
            )
        )
    assert len(comments) == 1
    assert [j.run_at for j in pending] == [datetime(2026, 12, 7, 1, 0, tzinfo=UTC)]


SLA = {
    "key": "standard_sla",
    "type": "sla",
    "label": text("standard SLA"),
    "form": "ticket",
    "calendar": "office",
    "priority_field": "urgency",
    "targets": [
        {
            "key": "first_response",
            "label": text("first response"),
            "minutes": {"P1": 30, "P2": 60, "P3": 240},
            "stop_when": {"!!": [{"var": "first_response_at"}]},
            "pause_when": {"==": [{"var": "status"}, "waiting"]},
            "warn_percent": 80,
            "due_field": "frt_due",
            "breached_field": "frt_breached",
            "used_field": "frt_minutes",
        }
    ],
    "on_warn": [
        {"type": "notify", "to": {"field": "assignee"}, "title": "{{title}} is nearly due"}
    ],
    "escalation": [
        {
            "actions": [
                {"type": "escalate", "levels": 1, "notify": "group_manager"},
            ]
        }
    ],
}


def test_sla_due_time_warning_breach_and_escalation(world: World, clock: FrozenClock) -> None:
    world.publish("calendar", CALENDAR)
    world.publish("rule", SLA)
    ticket = world.create({**HW_A, "assignee": world.users["ann"], "group": world.groups["line_a"]})
    stored = world.get(ticket.id)
    # P3 = 240 business minutes from Monday 10:00, lunch 12:00–13:00 excluded: due 15:00
    assert stored.data["frt_due"] == "2026-11-23T07:00:00+00:00"
    assert stored.data["frt_breached"] is False
    with world.platform.unit_of_work(write=False) as uow:
        (status,) = uow.session.scalars(select(SlaStatus))
    assert status.state == "running"
    assert "P3 = 4 h of business time from 2026-11-23 10:00" in status.detail["explanation"]
    # warning at 80 % = 192 business minutes: 14:12
    clock.set(datetime(2026, 11, 23, 6, 13, tzinfo=UTC))
    run_jobs(world)
    assert [n.title for n in notes(world, "ann")] == ["noise is nearly due"]
    clock.set(datetime(2026, 11, 23, 7, 1, tzinfo=UTC))
    run_jobs(world)
    stored = world.get(ticket.id)
    assert stored.data["frt_breached"] is True
    assert stored.data["escalation_level"] == 1
    assert [n.kind for n in notes(world, "meg")] == ["escalation"]
    (changed,) = [e for e in entries(world, ticket.id, "sla.changed") if e.payload["breached"]]
    assert changed.payload["explanations"]["first_response"].endswith(
        "breached at 2026-11-23 15:00"
    )


def test_pause_and_priority_change_move_the_due_time(world: World, clock: FrozenClock) -> None:
    world.publish("calendar", CALENDAR)
    world.publish("rule", SLA)
    ticket = world.create({**HW_A, "assignee": world.users["ann"]})
    clock.set(MONDAY_10 + timedelta(minutes=30))
    world.update(ticket.id, {"status": "waiting"})  # paused after 30 minutes
    clock.set(MONDAY_10 + timedelta(minutes=90))
    world.update(ticket.id, {"status": "assigned"})  # resumed after an hour
    # 210 minutes left from 11:30: 11:30–12:00 (30), 13:00–16:00 (180) → due 16:00
    assert world.get(ticket.id).data["frt_due"] == "2026-11-23T08:00:00+00:00"
    world.update(ticket.id, {"urgency": "P2"})  # 60 minutes in total, 30 used: due 12:00
    assert world.get(ticket.id).data["frt_due"] == "2026-11-23T04:00:00+00:00"
    assert world.get(ticket.id).data.get("frt_minutes") is None  # not met yet
    clock.set(MONDAY_10 + timedelta(minutes=150))  # 12:30, in the lunch break
    world.update(ticket.id, {"first_response_at": clock.now().isoformat()})
    # business time used: 10:00–10:30 and 11:30–12:00; the pause and lunch do not count
    assert world.get(ticket.id).data["frt_minutes"] == 60.0


def test_an_sla_is_refreshed_once_per_write_after_the_rules_that_write_with_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A creation rule raises the urgency: the record's SLA is evaluated once, over the history
    that holds the rule's write (P1: due 30 minutes after creation), not once for the rule's
    write and again for the creation."""
    world.publish("calendar", CALENDAR)
    world.publish("rule", SLA)
    world.publish(
        "rule",
        rule(
            "urgent_hardware",
            condition={"==": [{"var": "issue_type"}, "hardware_fault"]},
            actions=[{"type": "set_fields", "values": {"urgency": "P1", "status": "assigned"}}],
        ),
    )
    refreshed: list[int] = []
    replayed: list[int] = []
    snapshots, history = sla._snapshots, sla.history

    def refresh(uow: Any, record: Any, *args: Any) -> Any:
        refreshed.append(record.id)
        return snapshots(uow, record, *args)

    def replay(uow: Any, record: Any) -> Any:
        replayed.append(record.id)
        return history(uow, record)

    monkeypatch.setattr(sla, "_snapshots", refresh)
    monkeypatch.setattr(sla, "history", replay)
    ticket = world.create({**HW_A, "assignee": world.users["ann"]})
    assert refreshed == replayed == [ticket.id]
    stored = world.get(ticket.id)
    assert (stored.data["urgency"], stored.data["frt_due"]) == ("P1", "2026-11-23T02:30:00+00:00")
    with world.platform.unit_of_work(write=False) as uow:
        trail = records.timeline(uow, SYSTEM, "svc", "ticket", ticket.id)
    writes = [(e.action, sorted(e.payload.get("changes", {}))) for e in trail]
    assert [w for w in writes if w[0] == "record.updated"] == [
        ("record.updated", ["status", "urgency"]),
        ("record.updated", ["frt_breached", "frt_due"]),
    ]
    world.update(ticket.id, {"status": "waiting"})
    assert refreshed == [ticket.id, ticket.id]
    assert replayed == [ticket.id]  # the second from the trail its statuses keep


class Receiver(BaseHTTPRequestHandler):
    """Records what it is sent; answers with ``status``."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    status = 204

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Receiver.received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    Receiver.status = 204
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def hook_rule(url: str) -> dict[str, Any]:
    return rule(
        "tell_erp",
        actions=[{"type": "webhook", "url": url, "fields": ["title", "issue_type"]}],
    )


@pytest.fixture
def allowing(settings: Settings, clock: FrozenClock) -> Iterator[Platform]:
    """A platform that may call webhooks on this machine."""
    clock.set(MONDAY_10)
    p = Platform.from_settings(replace(settings, webhook_allow="127.0.0.1"), clock=clock)
    yield p
    p.dispose()


def test_webhooks_are_signed_retried_dead_lettered_and_replayable(
    allowing: Platform, clock: FrozenClock, receiver: str
) -> None:
    platform = allowing
    world = build_world(platform)
    # refused when the address is private and not allow-listed
    world.publish("rule", hook_rule("http://10.0.0.7/hook"))
    refused = world.create(dict(HW_A))
    (fired,) = entries(world, refused.id, "rule.fired")
    assert "non-public address" in fired.payload["failed"][0]
    world.publish("rule", hook_rule(receiver))
    ticket = world.create(dict(HW_A))
    run_jobs(world)
    ((headers, body),) = Receiver.received
    payload = json.loads(body)
    assert payload["data"] == {"title": "noise", "issue_type": "hardware_fault"}
    assert payload["record"] == {"id": ticket.id, "form": "ticket"}
    secret = webhooks.secret(platform.settings, "svc")
    expected = hmac.new(
        secret.encode(), headers["X-Tangram-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Tangram-Signature"] == f"sha256={expected}"
    key = headers["Idempotency-Key"]
    # a failing receiver: retried with back-off until dead, then replayed by an admin
    Receiver.status = 500
    world.create(dict(HW_A))
    for _ in range(webhooks.MAX_ATTEMPTS):
        run_jobs(world)
        clock.advance(timedelta(hours=2))
    with world.platform.unit_of_work(write=False) as uow:
        dead = uow.session.scalars(select(Job).where(Job.status == "dead")).one()
    assert dead.attempts == webhooks.MAX_ATTEMPTS
    assert "answered 500" in (dead.last_error or "")
    keys = {h["Idempotency-Key"] for h, _ in Receiver.received[1:]}
    assert len(keys) == 1
    assert key not in keys
    Receiver.status = 200
    with world.platform.unit_of_work() as uow:
        jobs.retry_job(uow, dead.id)
        uow.commit()
    run_jobs(world)
    with world.platform.unit_of_work(write=False) as uow:
        assert uow.session.get(Job, dead.id).status == "done"  # type: ignore[union-attr]


def test_webhook_targets_are_checked_before_sending() -> None:
    settings = Settings(webhook_allow="hooks.internal,192.168.5.0/24")

    def resolving(address: str) -> Any:
        return lambda _host: [address]

    webhooks.check_target(settings, "https://example.com/x", resolve=resolving("93.184.215.14"))
    webhooks.check_target(settings, "https://hooks.internal/x", resolve=resolving("10.0.0.1"))
    webhooks.check_target(settings, "https://lan.test/x", resolve=resolving("192.168.5.9"))
    for url, address in (
        ("http://localhost/x", "127.0.0.1"),
        ("http://metadata.test/x", "169.254.169.254"),
        ("http://v6.test/x", "::1"),
        ("http://lan.test/x", "192.168.6.1"),
    ):
        with pytest.raises(webhooks.TargetRefused):
            webhooks.check_target(settings, url, resolve=resolving(address))
    with pytest.raises(webhooks.TargetRefused):
        webhooks.check_target(settings, "ftp://example.com/x")


def test_cli_prints_the_webhook_secret_of_an_existing_app(world: World, settings: Settings) -> None:
    from click.testing import CliRunner

    from tangram.cli import main

    env = {"TANGRAM_DATABASE_URL": settings.database_url, "TANGRAM_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["webhooks", "secret", "svc"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == webhooks.secret(settings, "svc")
    missing = CliRunner().invoke(main, ["webhooks", "secret", "nope"], env=env)
    assert missing.exit_code == 1
    assert "there is no app 'nope'" in missing.output


def test_a_business_time_timer_skips_lunch(world: World, clock: FrozenClock) -> None:
    world.publish("calendar", CALENDAR)
    world.publish(
        "rule",
        rule("chase", actions=[{"type": "comment", "text": "chase {{title}}"}])
        | {
            "trigger": {
                "type": "timer",
                "minutes": 60,
                "after": "created_at",
                "business": True,
                "calendar": "office",
            }
        },
    )
    clock.set(MONDAY_10 + timedelta(minutes=90))  # 11:30
    ticket = world.create(dict(HW_A))
    with world.platform.unit_of_work(write=False) as uow:
        (job,) = uow.session.scalars(select(Job).where(Job.kind == "rule.timer"))
    assert job.run_at == datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # 13:30: lunch is not work
    clock.set(job.run_at)
    run_jobs(world)
    (comment,) = entries(world, ticket.id, "record.commented")
    assert comment.payload["text"] == "chase noise"


class Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive a message."""

    messages: ClassVar[list[bytes]] = []

    def reply(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self.reply(b"220 test ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line in (b".\r\n", b".\n"):
                    Smtp.messages.append(b"".join(data))
                    data = None
                    self.reply(b"250 OK")
                else:
                    data.append(line)
                continue
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.reply(b"250 test")
            elif command.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                self.reply(b"250 OK")
            elif command == b"DATA":
                self.reply(b"354 go ahead")
                data = []
            elif command == b"QUIT":
                self.reply(b"221 bye")
                break
            else:
                self.reply(b"502 not implemented")


@pytest.fixture
def mailing(settings: Settings, clock: FrozenClock) -> Iterator[Platform]:
    """A platform whose mail goes to a local SMTP server."""
    Smtp.messages = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    clock.set(MONDAY_10)
    url = f"smtp://127.0.0.1:{server.server_address[1]}"
    p = Platform.from_settings(replace(settings, smtp_url=url), clock=clock)
    yield p
    p.dispose()
    server.shutdown()
    server.server_close()


def test_email_notifications_go_through_the_job_queue_escaped(mailing: Platform) -> None:
    world = build_world(mailing)
    world.publish(
        "rule",
        rule(
            "mail_owner",
            actions=[
                {
                    "type": "notify",
                    "channel": "email",
                    "to": {"field": "assignee"},
                    "title": "New ticket {{title}}",
                    "body": "<p>{{title}} needs you</p>",
                }
            ],
        ),
    )
    world.create({**HW_A, "title": "<script>x</script>", "assignee": world.users["ann"]})
    assert Smtp.messages == []  # queued, not sent inside the request
    run_jobs(world)
    (message,) = Smtp.messages
    text_of = message.decode()
    assert "To: ann@example.com" in text_of
    assert "Subject: New ticket <script>x</script>" in text_of
    assert "&lt;script&gt;x&lt;/script&gt; needs you" in text_of
    assert "<script>x</script> needs" not in text_of
    assert notes(world, "ann") == []  # delivered by mail instead of in-app


def test_customers_without_accounts_are_mailed_at_the_address_a_field_holds(
    mailing: Platform,
) -> None:
    world = build_world(mailing)
    world.publish("form", {**TICKET, "fields": [*TICKET["fields"], field("contact", "email")]})
    acknowledge = {
        "type": "notify",
        "channel": "email",
        "to": [{"email_field": "contact"}, {"field": "assignee"}],
        "title": "Received: {{title}}",
        "body": "<p>We are on it.</p>",
    }
    world.publish("rule", rule("acknowledge", actions=[acknowledge]))
    # in the app only, an address cannot be reached: that effect fails, traced
    world.publish("rule", rule("in_app", actions=[{**acknowledge, "channel": "in_app"}]))
    ticket = world.create(
        {**HW_A, "title": "Noise", "contact": "buyer@example.org", "assignee": world.users["ann"]}
    )
    run_jobs(world)
    assert sorted(m.decode().split("To: ")[1].split("\n")[0].strip() for m in Smtp.messages) == [
        "ann@example.com",
        "buyer@example.org",
    ]
    with world.platform.unit_of_work(write=False) as uow:
        fired = {
            e.payload["rule"]: e.payload
            for e in records.timeline(uow, SYSTEM, "svc", "ticket", ticket.id)
            if e.action == "rule.fired"
        }
    assert fired["acknowledge"]["effects"] == ["notified buyer@example.org, Ann (2 by e-mail)"]
    assert fired["acknowledge"]["did"] == [
        {"type": "notify", "users": [world.users["ann"]], "addresses": 1, "mailed": 2}
    ]
    assert fired["in_app"]["failed"] == [
        "notify: e-mail to an address needs the email channel and a mail server (TANGRAM_SMTP_URL)"
    ]
