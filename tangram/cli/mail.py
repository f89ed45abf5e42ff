"""``tangram mail``: the inbound e-mail endpoint and the received messages."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click

from tangram.cli.common import _platform, _require_schema
from tangram.platform.identity.perms import Actor
from tangram.platform.inbound import service, smtp
from tangram.platform.kernel.models import InboundMailState


@click.group("mail")
def mail_group() -> None:
    """Inbound e-mail: receive mail for the forms' mail channels."""


@mail_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Receive mail over SMTP until stopped (SIGTERM or Ctrl+C).

    Recipients are checked against the published forms' mail channels (550 for others), a
    message over TANGRAM_MAIL_MAX_BYTES is refused with 552, and every accepted message is
    stored before the 250 answer; workers (tangram worker, or tangram serve's embedded one)
    then turn it into a record or a reply. Put it behind your MX (Postfix relay_domains or
    transport maps) rather than on port 25 of the open internet."""
    platform = _platform(ctx)
    _require_schema(platform)
    controller = smtp.controller(platform.unit_of_work, platform.settings, host=host, port=port)
    stop = threading.Event()

    def graceful(_signum: int, _frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, graceful)
    controller.start()
    click.echo(f"tangram mail: receiving on {host}:{port}", err=True)
    try:
        stop.wait()
    finally:
        controller.stop()
        platform.dispose()
    click.echo("tangram mail: stopped", err=True)


@mail_group.command("list")
@click.option(
    "--state",
    type=click.Choice([s.value for s in InboundMailState]),
    default=None,
    help="Only messages in this state.",
)
@click.option("--after", default=0, type=int, help="Messages with an id above this.")
@click.option("--limit", default=50, show_default=True, type=int)
@click.pass_context
def list_command(ctx: click.Context, state: str | None, after: int, limit: int) -> None:
    """The received messages: id, state, outcome, attempts, sender, record and last error."""
    platform = _platform(ctx)
    _require_schema(platform)
    with platform.unit_of_work(write=False) as uow:
        rows = service.list_mails(uow, state=state, after=after, limit=limit)
        for m in rows:
            record = m.record_id if m.record_id is not None else "-"
            error = f"  {m.last_error}" if m.last_error else ""
            click.echo(
                f"{m.id}\t{m.state}\t{m.outcome or '-'}\t{m.attempts}\t{m.sender or '-'}"
                f"\t{record}{error}"
            )
    platform.dispose()


@mail_group.command("prune")
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(min=1),
    help="Keep the raw bytes of messages received within this many days.",
)
@click.pass_context
def prune_command(ctx: click.Context, days: int) -> None:
    """Drop the raw bytes of processed and refused messages older than --days.

    Each message's row stays (sender, subject, outcome, the record it made, its size); what it
    became is on its record (its text, its attachments). Messages still waiting and dead ones
    keep their bytes. Run it from cron, e.g. daily."""
    platform = _platform(ctx)
    _require_schema(platform)
    with platform.unit_of_work() as uow:
        count = service.prune(uow, Actor.system("cli"), older_than=timedelta(days=days))
        uow.commit()
    platform.dispose()
    click.echo(f"pruned the raw bytes of {count} message(s) received over {days} days ago")
