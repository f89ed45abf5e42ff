"""Apply and inspect the Alembic migration chain without an ``alembic.ini``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

#: What the database says its revision is (Alembic's table, one row per head).
_STORED_REVISIONS = text("SELECT version_num FROM alembic_version")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at the migrations inside the package."""
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("tangram.platform.kernel.migrations"))
    )
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default), in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True, slots=True)
class ReleaseSchema:
    """The migration chain this release ships: its newest revision and every revision in it."""

    head: str | None
    known: frozenset[str]


@cache
def release_schema() -> ReleaseSchema:
    """The chain of migrations inside the package, read from its scripts once per process: they
    cannot change while it runs, and reading them costs milliseconds (too much for a check that
    load balancers call every few seconds)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return ReleaseSchema(head=scripts.get_current_head(), known=known)


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return release_schema().head


class DatabaseUnreachable(Exception):
    """No connection to the database could be made, or it broke while asking."""


def stored_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions the database records, asked with one query; ``()`` when it was never
    migrated (no version table). Raises :class:`DatabaseUnreachable` when the database does not
    answer, so that a readiness check can tell "down" from "not migrated"."""
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:  # refused, timed out, or no connection left in the pool
        raise DatabaseUnreachable(_cause(exc)) from exc
    with connection:
        try:
            rows = connection.execute(_STORED_REVISIONS).all()
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnreachable(_cause(exc)) from exc
            return ()  # the connection works, the table is missing: never migrated
    return tuple(sorted(str(row[0]) for row in rows))


def _cause(error: SQLAlchemyError) -> str:
    """The name of what went wrong, without the driver's message (it may name hosts and users)."""
    original = getattr(error, "orig", None)
    return type(original or error).__name__


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest revision."""
    return current_revision(engine) == head_revision()
