"""A throwaway platform on a temporary SQLite file, migrated, for the benchmarks."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import Clock


@contextmanager
def temporary_platform(clock: Clock | None = None) -> Iterator[Platform]:
    """A migrated platform on a fresh SQLite file, removed afterwards."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        platform_on(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), clock) as platform,
    ):
        migrate.upgrade(platform.engine)
        yield platform


@contextmanager
def platform_on(url: str, folder: Path, clock: Clock | None = None) -> Iterator[Platform]:
    """A platform for the benchmarks on the database ``url`` (no embedded job worker),
    disposed of afterwards."""
    settings = Settings(
        database_url=url,
        instance_path=folder,
        secret_key="bench",  # noqa: S106 - a throwaway database
        embedded_worker=False,
    )
    platform = Platform.from_settings(settings, clock=clock)
    try:
        yield platform
    finally:
        platform.dispose()


def emptied(url: str) -> None:
    """Empty the PostgreSQL database ``url`` (its public schema dropped and made anew); any
    other database is left as it is."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
