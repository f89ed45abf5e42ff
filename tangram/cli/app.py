"""``tangram app``: pack, import (install or upgrade), export, roll back and uninstall app packages."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from tangram.cli.common import _fail, _platform, _require_schema
from tangram.platform import packages
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.models import App

# --- app packages ------------------------------------------------------------------------------


@click.group("app")
def app_group() -> None:
    """App packages: pack, import (install or upgrade), export, roll back, uninstall."""


def _print_report(report: packages.Report) -> None:
    shown = report.as_dict()
    counts = ", ".join(f"{n} {action}" for action, n in sorted(shown["counts"].items()))
    click.echo(
        f"{report.app} {report.previous_version or '-'} -> {report.version}: "
        f"{report.action}{' (dry run: nothing written)' if report.dry_run else ''}; "
        f"{counts or 'nothing'}"
    )
    for change in report.changes:
        if change.action == "unchanged":
            continue
        details = f" ({'; '.join(change.details)})" if change.details else ""
        click.echo(f"  {change.action:<9} {change.kind} {change.key}{details}")
    for line in report.directory:
        click.echo(f"  {line}")
    for line in report.data:
        click.echo(f"  data: {line}")


@app_group.command("pack")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default: KEY-VERSION.zip",
)
def app_pack(folder: Path, output: Path | None) -> None:
    """Check a package folder and write its zip."""
    try:
        package = packages.read(folder)
        data = packages.pack(folder)
    except TangramError as exc:
        _fail(exc)
    target = output or Path(f"{package.key}-{package.version}.zip")
    target.write_bytes(data)
    click.echo(f"{target}: {package.key} {package.version}, {len(package.files)} files")


@app_group.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check everything and show the changes; write nothing."
)
@click.option("--force", is_flag=True, help="Allow a downgrade to an older version.")
@click.pass_context
def app_import(ctx: click.Context, source: Path, dry_run: bool, force: bool) -> None:
    """Install or upgrade an app from a package folder or zip, in one transaction."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        package = packages.read(source)
    except TangramError as exc:
        _fail(exc)
    total = sum(1 for _ in package.items())
    with click.progressbar(length=total, label="publishing", file=sys.stderr) as bar:
        try:
            with platform.unit_of_work() as uow:
                report = packages.install(
                    uow,
                    Actor.system("cli"),
                    package,
                    force=force,
                    dry_run=dry_run,
                    progress=lambda _name: bar.update(1),
                )
                if not dry_run:
                    uow.commit()
        except TangramError as exc:
            click.echo("", err=True)
            _fail(exc)
    _print_report(report)


@app_group.command("export")
@click.argument("app_key", metavar="APP")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Default: APP-VERSION.zip",
)
@click.pass_context
def app_export(ctx: click.Context, app_key: str, output: Path | None) -> None:
    """Write an installed app (designers' changes included) as a package zip."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        with platform.unit_of_work(write=False) as uow:
            data = packages.export(uow, Actor.system("cli"), app_key)
            version = uow.session.scalar(select(App.version).where(App.key == app_key))
    except TangramError as exc:
        _fail(exc)
    target = output or Path(f"{app_key}-{version}.zip")
    target.write_bytes(data)
    click.echo(f"{target}: {app_key} {version}")


@app_group.command("rollback")
@click.argument("app_key", metavar="APP")
@click.pass_context
def app_rollback(ctx: click.Context, app_key: str) -> None:
    """Restore the metadata the last upgrade replaced; records stay as they are."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        with platform.unit_of_work() as uow:
            report = packages.rollback(uow, Actor.system("cli"), app_key)
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    _print_report(report)


def _print_uninstall(report: packages.Uninstall) -> None:
    shown = report.as_dict()

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {name}" for name, n in counts.items()) or "none"

    head = "would remove" if report.dry_run else "removed"
    click.echo(f"{report.app} {report.version}: {head}")
    click.echo(f"  definitions: {listed(report.definitions)} ({report.versions} versions)")
    click.echo(f"  records: {listed(report.records)}")
    click.echo(
        f"  flow instances: {listed(report.flow_instances)}; open tasks: {report.open_tasks}"
    )
    click.echo(f"  jobs: {listed(report.jobs)}")
    files = shown["attachments"]
    click.echo(f"  attachments: {files['count']} ({files['bytes']} bytes)")
    click.echo(f"  also: {listed(report.counts)}")
    click.echo(f"  projection tables: {', '.join(report.projection_tables) or 'none'}")
    click.echo(f"  grants on the app, by role: {listed(report.grants)}")
    if report.roles_left_without_grants:
        left = ", ".join(report.roles_left_without_grants)
        click.echo(f"  roles that stay with no grant left: {left}")
    for blocker in report.blockers:
        click.secho(f"  blocked: {blocker['path']}: {blocker['message']}", fg="red")


@app_group.command("uninstall")
@click.argument("app_key", metavar="APP")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before removing.")
@click.pass_context
def app_uninstall(ctx: click.Context, app_key: str, dry_run: bool, yes: bool) -> None:
    """Remove an app and everything it holds (records, flows, jobs, files...) in one
    transaction; users, groups and roles stay."""
    platform = _platform(ctx)
    _require_schema(platform)
    actor = Actor.system("cli")
    try:
        with platform.unit_of_work(write=False) as uow:
            plan = packages.uninstall(uow, actor, app_key, dry_run=True)
    except TangramError as exc:
        _fail(exc)
    _print_uninstall(plan)
    if dry_run:
        return
    if not yes:
        click.confirm(f"Remove app {app_key} and all of the above?", abort=True)
    try:
        with platform.unit_of_work() as uow:
            report = packages.uninstall(
                uow, actor, app_key, progress=lambda line: click.echo(f"  {line}", err=True)
            )
            uow.commit()
    except TangramError as exc:
        _fail(exc)
    with platform.unit_of_work(write=False) as uow:
        swept = packages.sweep_files(uow, platform.files, report.files)
    click.echo(f"{app_key} uninstalled ({swept} file(s) deleted).")
