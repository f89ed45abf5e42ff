"""The ``tangram`` command: serve, worker, db, user, app, records, jobs, mail and audit."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from tangram import __version__
from tangram.cli import logs
from tangram.cli.ahead import load_ahead
from tangram.cli.backups import backup_command
from tangram.cli.common import _fail, _platform, _require_schema
from tangram.config import Settings, SettingsError
from tangram.platform import demo, packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth, lockout, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import audit, checkpoints, jobs, migrate
from tangram.platform.kernel.clock import FrozenClock, ensure_utc
from tangram.platform.kernel.errors import NotFound, TangramError
from tangram.platform.kernel.models import App, JobStatus
from tangram.platform.outbound import webhooks
from tangram.platform.worker import RunSummary, Worker, start_worker_thread


@click.group()
@click.version_option(__version__, prog_name="tangram")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Tangram: a low-code metadata platform.

    Configuration comes from TANGRAM_* environment variables (see the README): the database is
    TANGRAM_DATABASE_URL, by default sqlite:///instance/tangram.db.
    """
    try:
        logs.configure(
            os.environ.get("TANGRAM_LOG_LEVEL", "WARNING"),
            os.environ.get("TANGRAM_LOG_FORMAT", "text").strip().lower() or "text",
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        ctx.obj = {"settings": Settings.from_env()}
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


from tangram.cli.app import app_group  # noqa: E402 - the group needs nothing from main

main.add_command(app_group)

from tangram.cli.mail import mail_group  # noqa: E402 - the group needs nothing from main

main.add_command(mail_group)


# --- db --------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema and backups."""


db.add_command(backup_command)


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations (creates the SQLite file on first use)."""
    platform = _platform(ctx)
    before = migrate.current_revision(platform.engine)
    migrate.upgrade(platform.engine, revision)
    after = migrate.current_revision(platform.engine)
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database migrated from {before or 'empty'} to {after}")
    with platform.unit_of_work() as uow:  # projections of forms published before they existed
        built = [r for r in records.reindex(uow, only_missing=True) if r[2].action != "unchanged"]
        uow.commit()
    for app_key, form_key, report in built:
        click.echo(f"projection {report.table} of {app_key}/{form_key}: {report.action}")


# --- records ---------------------------------------------------------------------------------


@main.group("records")
def records_group() -> None:
    """Business records."""


@records_group.command("reindex")
@click.option("--app", "app_key", default=None, help="Only this app.")
@click.option("--form", "form_key", default=None, help="Only this form.")
@click.pass_context
def records_reindex(ctx: click.Context, app_key: str | None, form_key: str | None) -> None:
    """Rebuild projection tables and full-text search rows from the record documents, in one
    transaction."""
    platform = _platform(ctx)
    _require_schema(platform)

    def progress(app: str, form: str, count: int) -> None:
        click.echo(f"\r{app}/{form}: {count} records", nl=False, err=True)

    try:
        with platform.unit_of_work() as uow:
            done = records.reindex(uow, app_key=app_key, form_key=form_key, progress=progress)
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    click.echo("", err=True)
    for app, form, report in done:
        click.echo(
            f"{app}/{form}: {report.rows} records projected into {report.table} and indexed"
            " for search"
        )
    if not done:
        click.echo("no published forms")


# --- demo ----------------------------------------------------------------------------------------


@main.group("demo")
def demo_group() -> None:
    """Demo data lived through the platform's services."""


@demo_group.command("seed")
@click.option("--tickets", "count", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--package",
    default="apps/aftersales",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The package folder holding demo/seed.json (installed first when its app is missing).",
)
@click.option("--seed", "random_seed", default=7, show_default=True, help="Random seed.")
@click.option(
    "--once", is_flag=True, help="Do nothing (successfully) when the demo data is there already."
)
@click.pass_context
def demo_seed(ctx: click.Context, count: int, package: Path, random_seed: int, once: bool) -> None:
    """Users in every group and a two-year history of records moved through their flows."""
    until = datetime.now(UTC).replace(microsecond=0)
    clock = FrozenClock(until)
    platform = _platform(ctx, clock=clock)
    _require_schema(platform)
    try:
        spec = demo.load_spec(package)
        with platform.unit_of_work(write=False) as uow:
            if once and demo.seeded(uow, spec):
                click.echo(f"the {spec['app']} demo data is there already")
                return
        with platform.unit_of_work() as uow:
            installed = uow.session.scalar(select(App.id).where(App.key == spec["app"]))
            if installed is None:
                packages.install(uow, Actor.system("cli"), packages.read(package))
                uow.commit()
                click.echo(f"installed {spec['app']} from {package}")
        with click.progressbar(length=count, label="living the history", file=sys.stderr) as bar:
            done = [0]

            def progress(created: int, _total: int) -> None:
                bar.update(created - done[0])
                done[0] = created

            report = demo.seed(
                platform,
                clock,
                spec,
                count=count,
                until=until,
                random_seed=random_seed,
                progress=progress,
            )
    except TangramError as exc:
        _fail(exc)
    made = ", ".join(f"{n} {form}" for form, n in sorted(report.records.items()))
    click.echo(f"{report.users} users (password: {spec.get('password', 'tangram-demo')}); {made}")
    click.echo(f"{report.actions} task actions; {report.open} records left open")
    for line in report.failed[:10]:
        click.echo(f"  not done: {line}", err=True)


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and of this release."""
    platform = _platform(ctx)
    click.echo(f"database: {migrate.current_revision(platform.engine) or 'empty'}")
    click.echo(f"release:  {migrate.head_revision()}")


@main.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks."""


@webhooks_group.command("secret")
@click.argument("app_key", metavar="APP")
@click.pass_context
def webhooks_secret(ctx: click.Context, app_key: str) -> None:
    """Print the secret that signs APP's webhook deliveries (give it to the receivers)."""
    platform = _platform(ctx)
    _require_schema(platform)
    with platform.unit_of_work(write=False) as uow:
        if uow.session.scalar(select(App.id).where(App.key == app_key)) is None:
            raise click.ClickException(f"there is no app {app_key!r}")
    click.echo(webhooks.secret(platform.settings, app_key))


# --- users -----------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("username")
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option(
    "--password",
    default=None,
    help="Initial password (default: TANGRAM_USER_PASSWORD, else one is generated and printed).",
)
@click.pass_context
def user_create(
    ctx: click.Context,
    username: str,
    display_name: str | None,
    email: str | None,
    admin: bool,
    password: str | None,
) -> None:
    """Create a user account."""
    platform = _platform(ctx)
    _require_schema(platform)
    secret = password or os.environ.get("TANGRAM_USER_PASSWORD") or auth.generate_password()
    try:
        with platform.unit_of_work() as uow:
            created = users.create_user(
                uow,
                Actor.system("cli"),
                username=username,
                display_name=display_name,
                email=email,
                password=secret,
                roles=["admin"] if admin else [],
            )
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    click.echo(f"created user {created.username} (id {created.id})")
    if not password and not os.environ.get("TANGRAM_USER_PASSWORD"):
        click.echo(f"password (shown once): {secret}")


@user.command("ensure-admin")
@click.option("--username", default="admin", show_default=True)
@click.pass_context
def user_ensure_admin(ctx: click.Context, username: str) -> None:
    """Create the first administrator unless it exists (TANGRAM_ADMIN_PASSWORD sets its password).

    Running it again changes nothing: the existing account and its password are kept.
    """
    platform = _platform(ctx)
    _require_schema(platform)
    given = os.environ.get("TANGRAM_ADMIN_PASSWORD")
    secret = given or auth.generate_password()
    try:
        with platform.unit_of_work() as uow:
            account, created = users.ensure_admin(uow, username=username, password=secret)
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    if not created:
        click.echo(f"administrator '{account.username}' exists; its password is unchanged")
    elif given:
        click.echo(f"created administrator '{account.username}' with TANGRAM_ADMIN_PASSWORD")
    else:
        click.secho(
            f"created administrator '{account.username}', password (shown once): {secret}",
            fg="yellow",
            bold=True,
        )


@user.command("unlock")
@click.argument("username")
@click.pass_context
def user_unlock(ctx: click.Context, username: str) -> None:
    """Lift the sign-in locks of a user name (after failed sign-ins from everywhere or from one
    address), e.g. for an administrator locked out from every browser they know."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        with platform.unit_of_work() as uow:
            account = users.find_user(uow, username.strip())
            if account is None:
                raise NotFound(f"User {username!r} does not exist.", code="user.not_found")
            lockout.clear_lock(uow, Actor.system("cli"), account.id)
            uow.commit()
            unlocked = account.username
    except TangramError as exc:
        _fail(exc)
    click.echo(f"lifted the sign-in locks of {unlocked}")


# --- serve and worker --------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes: more than one runs gunicorn (Linux and other Unix systems) and no"
    " embedded job worker.",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--worker/--no-worker",
    default=None,
    help="Run the embedded job worker thread (one process only; default: TANGRAM_EMBEDDED_WORKER).",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, processes: int, threads: int, worker: bool | None
) -> None:
    """Serve the API and the web app: one process with one job worker thread by default, or
    several processes (gunicorn) whose jobs 'tangram worker' processes run. SIGTERM lets the
    requests running finish."""
    settings: Settings = ctx.obj["settings"].with_secret()
    if processes > 1:
        _serve_processes(
            settings, host=host, port=port, processes=processes, threads=threads, worker=worker
        )
        return
    from waitress import serve as waitress_serve

    from tangram.web import create_app

    platform = Platform.from_settings(settings)
    ctx.call_on_close(platform.dispose)
    _require_schema(platform)
    app = create_app(platform=platform)
    stop: threading.Event | None = None
    if settings.embedded_worker if worker is None else worker:
        _, stop = start_worker_thread(platform)
    # jieba's dictionary for the search words and the apps' compiled definitions, loaded while
    # the server starts listening rather than by the first registration or search (which would
    # wait for them)
    threading.Thread(target=load_ahead, args=(platform,), name="tangram-ahead", daemon=True).start()
    jobs_note = "with an embedded job worker" if stop is not None else "without a job worker"
    click.echo(
        f"Tangram {__version__} serving on http://{host}:{port}/ in one process, {jobs_note}"
        " (Ctrl+C to stop)"
    )
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="tangram")
    finally:
        if stop is not None:
            stop.set()


def _serve_processes(
    settings: Settings, *, host: str, port: int, processes: int, threads: int, worker: bool | None
) -> None:
    """``serve --processes N`` with N > 1: check, then hand over to gunicorn."""
    if worker:
        raise click.UsageError(
            f"--worker runs jobs inside a single process; with --processes {processes} run"
            " 'tangram worker' processes for the jobs instead (drop --worker)"
        )
    if os.name != "posix":
        raise click.UsageError(
            "--processes above 1 needs gunicorn, which runs on Linux and other Unix systems"
            " only; serve one process here (and run 'tangram worker' beside it)"
        )
    platform = Platform.from_settings(settings)
    try:
        _require_schema(platform)
    finally:
        platform.dispose()  # the workers open their own connections after the fork
    from tangram.cli.serving import serve_processes

    click.echo(
        f"Tangram {__version__} serving on http://{host}:{port}/ in {processes} processes of"
        f" {threads} threads (gunicorn), without an embedded job worker: run 'tangram worker'"
        " for the jobs (Ctrl+C to stop)"
    )
    serve_processes(settings, host=host, port=port, processes=processes, threads=threads)


@main.command("openapi")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the document to this file instead of standard output.",
)
def openapi(output: Path | None) -> None:
    """Print the API's OpenAPI document (the web front end's typed client is generated from it).

    Needs no database: the document is built from the routes and schemas alone."""
    from tangram.web import create_app

    platform = Platform.from_settings(Settings(database_url="sqlite://").with_secret())
    try:
        app = create_app(platform=platform)
        document = app.test_client().get("/api/openapi.json").get_json()
    finally:
        platform.dispose()
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@main.command()
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Run background jobs until stopped. SIGTERM or Ctrl+C: finish the job running, give back
    the jobs claimed but not started (another worker takes them at once), exit 0; a second
    signal stops at once (the job running is then claimed again after its lease)."""
    platform = _platform(ctx)
    _require_schema(platform)
    runner = Worker(platform)
    if once:
        click.echo(_summary(runner.run_due()))
        return
    stop = threading.Event()

    def graceful(signum: int, _frame: Any) -> None:
        if stop.is_set():  # the second signal: stop now, as if no handler were installed
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, graceful)
    # the handler only sets the event (writing from it could interrupt a write in progress);
    # this thread tells the operator at once, while a job may still run
    threading.Thread(target=_say_stopping, args=(stop,), name="stop-notice", daemon=True).start()
    runner.serve(stop)
    click.echo("tangram worker: stopped", err=True)


def _say_stopping(stop: threading.Event) -> None:
    stop.wait()
    click.echo(
        "tangram worker: stopping once the job running is done (signal again to stop at once)",
        err=True,
    )


# --- jobs ------------------------------------------------------------------------------------


@main.group("jobs")
def jobs_group() -> None:
    """Durable background jobs."""


def _parse_instant(_ctx: Any, _param: Any, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-11-22T09:00:00+08:00"
        ) from exc


@jobs_group.command("run")
@click.option(
    "--until",
    callback=_parse_instant,
    help="Run every job due up to this instant, with it as 'now' (default: the real now).",
)
@click.pass_context
def jobs_run(ctx: click.Context, until: datetime | None) -> None:
    """Run every due job, then exit."""
    platform = _platform(ctx, clock=FrozenClock(until) if until else None)
    _require_schema(platform)
    summary = Worker(platform, name=f"cli:{os.getpid()}").run_due()
    click.echo(_summary(summary))


@jobs_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--limit", default=50, show_default=True, type=int)
@click.pass_context
def jobs_list(ctx: click.Context, status: str | None, limit: int) -> None:
    """List jobs (oldest first)."""
    platform = _platform(ctx)
    _require_schema(platform)
    with platform.unit_of_work(write=False) as uow:
        for job in jobs.list_jobs(uow, status=status, limit=limit):
            error = f"  {job.last_error}" if job.last_error else ""
            click.echo(
                f"{job.id:>6} {job.status:<8} {job.kind:<24} run_at={job.run_at.isoformat()} "
                f"attempts={job.attempts}/{job.max_attempts}{error}"
            )


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@click.pass_context
def jobs_retry(ctx: click.Context, job_id: int) -> None:
    """Queue a dead job again."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        with platform.unit_of_work() as uow:
            jobs.retry_job(uow, job_id)
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    click.echo(f"job {job_id} queued again")


def _summary(summary: RunSummary) -> str:
    return f"jobs run: {summary.done} done, {summary.retried} to retry, {summary.dead} dead" + (
        f", {summary.lost} taken by another worker" if summary.lost else ""
    )


# --- audit -----------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--no-chain",
    is_flag=True,
    help="Do not chain the queued entries first: verify them where they wait.",
)
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool, no_chain: bool) -> None:
    """Chain the entries waiting for the sequencer, then check every link of the audit chain,
    every signed checkpoint and every entry still queued; exit 1 at the first broken one."""
    platform = _platform(ctx)
    _require_schema(platform)
    if not no_chain:
        platform.chain_audit()
    with platform.unit_of_work(write=False) as uow:
        result = audit.verify(uow.session, key=checkpoints.audit_key(platform.settings))
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    elif result.ok:
        click.echo(
            f"audit log intact: {result.checked} chained entries verified, "
            f"{result.waiting} waiting for the sequencer"
        )
    else:
        where = (
            f"entry {result.broken_seq}"
            if result.broken_seq is not None
            else f"queued entry id {result.broken_id}"
        )
        click.secho(
            f"audit log BROKEN at {where}: {result.reason} "
            f"({result.checked} chained entries before it are intact)",
            fg="red",
            err=True,
        )
    if not result.ok:
        sys.exit(1)


@audit_group.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Chain the queued entries and sign the chain's head now (the worker does it every
    TANGRAM_AUDIT_CHECKPOINT_MINUTES)."""
    platform = _platform(ctx)
    _require_schema(platform)
    platform.chain_audit()
    with platform.unit_of_work() as uow:
        point = audit.checkpoint(
            uow.session, key=checkpoints.audit_key(platform.settings), at=uow.now
        )
        uow.commit()
    if point is None:
        click.echo("nothing to sign: the newest checkpoint anchors the head")
    else:
        click.echo(f"checkpoint: entry {point.seq} {point.hash} at {point.at.isoformat()}")
