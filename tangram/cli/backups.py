"""``tangram db backup``: a consistent copy of the SQLite database while the server runs."""

from __future__ import annotations

from pathlib import Path

import click

from tangram.cli.common import _fail, _platform, _require_schema
from tangram.platform.kernel.backup import BackupFailed, backup_sqlite


@click.command("backup")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new file to write the copy to (an existing one is not overwritten).",
)
@click.pass_context
def backup_command(ctx: click.Context, output: Path) -> None:
    """Copy the SQLite database with SQLite's online backup API while the server keeps
    serving: one consistent snapshot, checked before it gets its name. Restore it by stopping
    Tangram and putting the file in place of the database (see the README's Backups section).
    Attachments are not in it: back up the file store too."""
    platform = _platform(ctx)
    _require_schema(platform)
    try:
        done = backup_sqlite(platform.engine, output)
    except BackupFailed as exc:
        _fail(exc)
        return
    click.echo(
        f"backup written to {done.path} ({done.size} bytes in {done.seconds:.2f} s); "
        f"attachments are in {platform.files.location}"
    )
