"""The platform of one installation: database engine, session factory, clock, settings, hooks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tangram.config import Settings
from tangram.engines.common import DefinitionError
from tangram.platform import flows, inbound, metadata, records
from tangram.platform.flows import definitions
from tangram.platform.kernel import checkpoints, sequencer
from tangram.platform.kernel.caches import Caches
from tangram.platform.kernel.clock import Clock, SystemClock
from tangram.platform.kernel.db import (
    IMMEDIATE,
    build_engine,
    build_read_engine,
    build_sessionmaker,
    build_side_engine,
)
from tangram.platform.kernel.errors import NotFound
from tangram.platform.kernel.events import EventBus
from tangram.platform.kernel.files import FileStore, LocalFileStore
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobRegistry
from tangram.platform.kernel.models import App
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.public import help as help_centers
from tangram.platform.reports import dashboards, rollups
from tangram.platform.rules import automation, rulebook

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """Everything a service needs that is not a per-request value; built once by the app or CLI."""

    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    #: Event subscriptions, job kinds and publication checks, filled by the areas' ``install()``.
    hooks: Hooks = field(default_factory=Hooks)
    #: Caches of this installation that must not outlive it (e.g. which projections exist).
    caches: Caches = field(default_factory=Caches)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> Platform:
        """Connect to the configured database (nothing is created or migrated here)."""
        engine = build_engine(
            settings.database_url, echo=settings.log_sql, busy_seconds=settings.sqlite_busy_seconds
        )
        return cls(
            settings=settings,
            engine=engine,
            clock=clock or SystemClock(),
        )

    def __post_init__(self) -> None:
        # Write units begin with BEGIN IMMEDIATE on SQLite (an option engine shares the pool).
        self.write_sessions = build_sessionmaker(self.engine.execution_options(**{IMMEDIATE: True}))
        #: Read units: READ ONLY transactions on PostgreSQL, ended with COMMIT.
        self.read_sessions = build_sessionmaker(build_read_engine(self.engine))
        #: Statements that commit on their own beside a unit's transaction (PostgreSQL only).
        self.side_engine = build_side_engine(self.engine)
        #: Where attachment bytes live (tests may put another store here).
        self.files: FileStore = open_file_store(self.settings)
        # From the bottom up: projections follow publications, rollups mark record writes,
        # reports check their definitions, rules react to records, flows to records and rules.
        checkpoints.install(self.hooks, self.settings)
        records.install(self.hooks, self.settings)
        rollups.install(self.hooks, self.settings)
        dashboards.install(self.hooks, self.settings)
        automation.install(self.hooks, self.settings)
        flows.install(self.hooks, self.settings)
        inbound.install(self.hooks, self.settings, lambda: self.files)
        help_centers.install(self.hooks, self.settings)

    @property
    def events(self) -> EventBus[UnitOfWork]:
        """The domain events' subscriptions."""
        return self.hooks.events

    @property
    def jobs(self) -> JobRegistry:
        """The job kinds' handlers."""
        return self.hooks.jobs

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        """A new unit of work (use it as a context manager); ``write=False`` for reads only."""
        return UnitOfWork(
            self.write_sessions if write else self.read_sessions,
            self.clock,
            settings=self.settings,
            write=write,
            events=self.hooks.events,
            checks=self.hooks.checks,
            caches=self.caches,
            side=self.side_engine,
        )

    def chain_audit(self, *, on_chained: sequencer.Chained | None = None) -> int:
        """Chain every audit entry queued so far (waiting for a sequencer that is chaining);
        returns how many this call chained."""
        return sequencer.chain_all(self.unit_of_work, wait=True, on_chained=on_chained)

    def audit_sequencer(
        self, *, on_chained: sequencer.Chained | None = None
    ) -> sequencer.Sequencer:
        """An audit sequencer for this process (a worker runs one)."""
        return sequencer.Sequencer(
            self.unit_of_work,
            self.caches.audit_queued,
            poll_seconds=self.settings.audit_sequencer_poll_seconds,
            on_chained=on_chained,
        )

    def warm(self) -> int:
        """Compile every installed app's published forms and flows and its rule book into this
        process's caches, as their first use would; how many it compiled. A server process does
        it before it takes requests: a cold registration costs about ten times a warm one, and
        the first ones of four new processes at once were a load run's slowest. A definition
        that does not compile is logged and left to its first use, which reports it."""

        def attempt(app_key: str, what: str, compile_it: Callable[..., object], *args: Any) -> int:
            try:
                compile_it(*args)
            except (DefinitionError, NotFound) as exc:
                log.warning("app %s: %s left to its first use: %s", app_key, what, exc)
                return 0
            return 1

        done = 0
        with self.unit_of_work(write=False) as uow:
            for app_key in uow.session.scalars(select(App.key).order_by(App.key)).all():
                published = metadata.published_in(uow, app_key, archived=False)
                for kind, compile_one in (("form", compiled.form), ("flow", definitions.process)):
                    for key in sorted(published.get(kind, {})):
                        done += attempt(app_key, f"{kind} {key}", compile_one, uow, app_key, key)
                done += attempt(app_key, "rule book", rulebook.load, uow, app_key)
        return done

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.side_engine is not None:
            self.side_engine.dispose()


def open_file_store(settings: Settings) -> FileStore:
    """The attachment store ``settings`` choose (``Settings`` checked the choice and that boto3
    is installed for ``s3``)."""
    if settings.file_store == "s3":
        # boto3 is the optional s3 extra: only installations that use it import it
        from tangram.platform.kernel.s3files import S3FileStore

        return S3FileStore(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
        )
    return LocalFileStore(Path(settings.instance_path) / "files")
