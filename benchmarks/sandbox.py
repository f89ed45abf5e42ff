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
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            instance_path=Path(tmp),
            secret_key="bench",  # noqa: S106 - a throwaway database
            embedded_worker=False,
        )
        platform = Platform.from_settings(settings, clock=clock)
        migrate.upgrade(platform.engine)
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
