"""What every command of the ``tangram`` CLI shares: the platform it runs on and how it fails."""

from __future__ import annotations

import sys

import click

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import TangramError


def _platform(ctx: click.Context, *, clock: FrozenClock | None = None) -> Platform:
    settings: Settings = ctx.obj["settings"]
    platform = Platform.from_settings(settings, clock=clock)
    ctx.call_on_close(platform.dispose)  # close pooled connections when the command ends
    return platform


def _fail(error: TangramError) -> None:
    click.secho(f"error: {error.detail}", fg="red", err=True)
    for item in error.errors:
        click.echo(f"  {item.get('path', '')}: {item.get('message', '')}", err=True)
    sys.exit(1)


def _require_schema(platform: Platform) -> None:
    if not migrate.is_up_to_date(platform.engine):
        raise click.ClickException(
            "the database schema is not up to date: run 'tangram db upgrade'"
        )
