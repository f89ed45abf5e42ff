"""The platform of one installation: database engine, session factory, clock, settings, job kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tangram.config import Settings
from tangram.platform import rollups
from tangram.platform.clock import Clock, SystemClock
from tangram.platform.db import IMMEDIATE, build_engine, build_sessionmaker
from tangram.platform.events import EventBus
from tangram.platform.jobs import JobRegistry, default_registry
from tangram.platform.rollups import ROLLUPS_ON
from tangram.platform.uow import UnitOfWork


@dataclass
class Platform:
    """Everything a service needs that is not a per-request value; built once by the app or CLI."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    jobs: JobRegistry = field(default_factory=default_registry)
    events: EventBus = field(default_factory=EventBus)
    #: Caches of this installation that must not outlive it (e.g. which projections exist).
    shared: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> Platform:
        """Connect to the configured database (nothing is created or migrated here)."""
        engine = build_engine(settings.database_url, echo=settings.log_sql)
        return cls(
            settings=settings,
            engine=engine,
            sessions=build_sessionmaker(engine),
            clock=clock or SystemClock(),
        )

    def __post_init__(self) -> None:
        # Write units begin with BEGIN IMMEDIATE on SQLite (an option engine shares the pool).
        self.write_sessions = build_sessionmaker(self.engine.execution_options(**{IMMEDIATE: True}))
        self.shared[ROLLUPS_ON] = self.settings.report_rollups
        rollups.install(self.jobs)
        # Rules react to record events and run their timers, schedules and deliveries as jobs.
        from tangram.platform import automation, flows  # they reach records, which reach this

        automation.install(self.events, self.jobs, self.settings)
        flows.install(self.events, self.jobs, self.settings)

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        """A new unit of work (use it as a context manager); ``write=False`` for reads only."""
        return UnitOfWork(
            self.write_sessions if write else self.sessions,
            self.clock,
            write=write,
            events=self.events,
            shared=self.shared,
        )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
