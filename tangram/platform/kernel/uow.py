"""The unit of work: one transaction per command, rolled back unless committed.

Audit entries requested during the unit are queued in the audit log at commit time, inside the
same transaction, so the log holds exactly the changes that were committed; the sequencer chains
them afterwards (see :mod:`tangram.platform.kernel.audit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from types import TracebackType
from typing import Any, Self, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Engine,
    Executable,
    Insert,
    Result,
    Table,
    Update,
    bindparam,
    insert,
    update,
)
from sqlalchemy import inspect as inspect_row
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import ColumnProperty, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tangram.config import Settings
from tangram.platform.kernel.audit import PendingAudit, queue_entries
from tangram.platform.kernel.caches import Caches, Memo
from tangram.platform.kernel.clock import Clock
from tangram.platform.kernel.db import READ_ONLY
from tangram.platform.kernel.errors import Conflict, StaleVersion
from tangram.platform.kernel.events import Event, EventBus, PublicationChecks
from tangram.platform.kernel.models.base import Base

M = TypeVar("M", bound=Base)


def read_columns(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Result[*tuple[Any, ...]]:
    """A query of columns (not of objects) through the session's connection, without the ORM's
    work per statement (about as much as the query's own), flushing first as an ORM query
    would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


#: What a write that lost its optimistic lock to a concurrent one answers.
_LOST_RACE = (
    "Someone else changed this object at the same time. Reload and apply your change again."
)


class UnitOfWork:
    """A session and a fixed "now" for one command.

    Use as a context manager; call :meth:`commit` to keep the work. The session factory decides
    how transactions begin: the platform hands write units one whose engine takes SQLite's write
    lock at BEGIN, and read-only units one that does not, whose transactions are READ ONLY on
    PostgreSQL (:attr:`read_only`: such a unit ends with COMMIT).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        settings: Settings | None = None,
        write: bool = True,
        events: EventBus[UnitOfWork] | None = None,
        checks: PublicationChecks[UnitOfWork] | None = None,
        caches: Caches | None = None,
        side: Engine | None = None,
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        #: The installation's settings (its time zone is every command's business time zone).
        self.settings = settings or Settings()
        self.write = write
        #: Whether the database itself refuses this unit's writes (a read unit on PostgreSQL).
        self.read_only = not write and bool(
            sessions.kw["bind"].get_execution_options().get(READ_ONLY)
        )
        self.events: EventBus[UnitOfWork] = events or EventBus()
        #: What a definition must pass before it is published (filled by the areas).
        self.checks: PublicationChecks[UnitOfWork] = checks or PublicationChecks()
        #: The platform's caches (shared by its threads).
        self.caches = caches or Caches()
        #: Where statements that commit at once, apart from this unit, run (a serial number that
        #: may have gaps); None where all writes take turns anyway (SQLite).
        self.side = side
        self._rehearsals = 0
        self._before_commit: dict[str, Callable[[UnitOfWork], None]] = {}
        self._session: Session | None = None
        self._audit: list[PendingAudit] = []
        self._now: datetime | None = None
        #: What this unit has looked up (e.g. compiled forms, how deep rules have cascaded).
        self.memo = Memo()

    def __enter__(self) -> Self:
        self._session = self._sessions()
        self._now = self.clock.now()
        self._audit = []
        self._before_commit = {}
        self.memo = Memo()
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone (``TANGRAM_TIME_ZONE``): local dates, serial numbers, date
        defaults and filters, periods of reports."""
        return ZoneInfo(self.settings.time_zone)

    @property
    def local_now(self) -> datetime:
        """:attr:`now` in the business time zone."""
        return self.now.astimezone(self.zone)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the loaded objects without
        # expiring them, so callers can still render what they loaded or created.
        session = self.session
        self._session = None
        if exc_type is None and self.read_only:
            # A READ ONLY transaction wrote nothing: COMMIT ends it as ROLLBACK would, and the
            # connection keeps the statements it has prepared (psycopg deallocates them all
            # after a rollback). Objects are detached first, so nothing is flushed.
            session.expunge_all()
            session.commit()
        session.close()

    @property
    def session(self) -> Session:
        """The open session; only inside the ``with`` block."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    @property
    def rehearsing(self) -> bool:
        """Whether the work under way will be undone (see :meth:`rehearsal`): nothing may be
        committed apart from it meanwhile."""
        return self._rehearsals > 0

    @property
    def now(self) -> datetime:
        """The instant this unit of work started; every timestamp it writes uses it."""
        if self._now is None:
            raise RuntimeError("the unit of work is not open")
        return self._now

    def audit(
        self,
        actor_id: int | None,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | int,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue an audit entry; it is written by :meth:`commit` (and chained after it)."""
        self._audit.append(
            PendingAudit(actor_id, actor, action, object_type, str(object_id), dict(payload or {}))
        )

    def pending_audit(self, object_type: str, object_id: str | int) -> list[PendingAudit]:
        """Audit entries of one object queued in this unit (they are written at commit)."""
        wanted = str(object_id)
        return [a for a in self._audit if a.object_type == object_type and a.object_id == wanted]

    def read(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]:
        """A query of columns in this unit (:func:`read_columns`): rows, not objects."""
        return read_columns(self.session, statement, parameters)

    def apart(self, statement: Executable, parameters: Mapping[str, Any]) -> Any:
        """Run one statement that commits at once, apart from this unit (a serial number, a
        round-robin's turn), so that the row it locks is locked for that statement alone; the
        first column of its first row. It runs on the side engine, whose connections commit each
        statement as it ends (one round trip); one whose connection was found dead is run again
        on a new one (a number or a turn may be skipped, never given twice). It runs in the
        unit's own transaction where there is no side engine (SQLite: one writer at a time,
        nothing to gain) or the unit is a rehearsal (its work is undone: nothing may outlive
        it)."""
        if self.side is None or self.rehearsing:
            return self.session.connection().execute(statement, parameters).scalar()
        try:
            with self.side.connect() as connection:
                return connection.execute(statement, parameters).scalar()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self.side.connect() as connection:
            return connection.execute(statement, parameters).scalar()

    @property
    def dialect(self) -> str:
        """The database's dialect name (``sqlite``, ``postgresql``), without a connection."""
        return str(self._sessions.kw["bind"].dialect.name)

    def before_commit(self, name: str, work: Callable[[UnitOfWork], None]) -> None:
        """Run ``work`` once, last, just before the commit (asked again under the same name, it
        still runs once): writes gathered over the unit go out in one statement, and a hot row
        they lock stays locked for the commit alone, not for the rest of the unit."""
        self._before_commit.setdefault(name, work)

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """Run writes that are all undone afterwards: a savepoint rolled back, with the audit
        entries queued and the rule cascade noted meanwhile (what-if runs of real effects)."""
        audited = len(self._audit)
        memo = self.memo
        depth, chain, busy = memo.rule_depth, list(memo.rule_chain), set(memo.sla_busy)
        marks, rechecks = set(memo.rollup_marks), set(memo.flow_rechecks)
        nested = self.session.begin_nested()
        self._rehearsals += 1
        try:
            yield
        finally:
            self._rehearsals -= 1
            nested.rollback()
            del self._audit[audited:]
            memo.rule_depth, memo.rule_chain, memo.sla_busy = depth, chain, busy
            memo.rollup_marks, memo.flow_rechecks = marks, rechecks

    def publish(self, event: Event) -> None:
        """Deliver a domain event to its subscribers, inside this unit of work."""
        self.events.publish(self, event)

    def insert(self, model: type[M], values: Mapping[str, Any]) -> M:
        """Insert one row of ``model`` with a Core statement (built once per model) and give
        back its object, persistent in the session as if the ORM had inserted it: on a hot path
        the ORM's flush costs more than the statement. ``values`` names every column but the id,
        so that no attribute is left to load. A constraint violation is a :class:`Conflict`.
        Inside a savepoint the ORM inserts it: a rollback of the savepoint takes it out of the
        session again (its id may be handed out anew)."""
        if self.session.in_nested_transaction():
            row = model(**values)
            self.session.add(row)
            self.flush()
            return row
        with translated_errors():
            new_id = self.session.connection().execute(_inserting(model), values).scalar_one()
        row = model(id=int(new_id), **values)
        make_transient_to_detached(row)
        self.session.add(row)
        return row

    def update(self, row: Base, values: Mapping[str, Any]) -> None:
        """Set ``values`` (attribute names) on ``row``, a loaded object, and write them now, as a
        flush would: its lock version checked and bumped, a lost race a :class:`StaleVersion`,
        a constraint violation a :class:`Conflict`. When nothing else is pending in the session
        the update goes out as a Core statement built once per model and set of columns (on a
        hot path, a record's write or a flow instance's step, the ORM's flush costs about three
        times the statement); otherwise, or inside a savepoint (whose rollback must expire
        what it wrote, which only the ORM knows of), the values are assigned and everything is
        flushed. A new row (added, not yet inserted) takes them in its insert at the next
        flush."""
        session = self.session
        state = inspect_row(row)
        mapper = state.mapper
        if (
            state.pending
            or session.new
            or session.deleted
            or session.dirty
            or session.in_nested_transaction()
            or state.session is not session
            or not state.persistent
            or len(mapper.primary_key) != 1
            or any(not isinstance(mapper.attrs.get(key), ColumnProperty) for key in values)
        ):
            for key, value in values.items():
                setattr(row, key, value)
            if not state.pending:
                self.flush()
            return
        loaded = state.dict
        # a value set again to what it was is not written, as the ORM would find
        changed = {k: v for k, v in values.items() if k not in loaded or loaded[k] != v}
        if not changed:
            return
        bound: dict[str, Any] = {"row_id": cast(tuple[Any, ...], state.identity)[0]}
        version = mapper.version_id_col
        if version is not None:
            lock = mapper.get_property_by_column(version).key
            bound["held"] = loaded[lock]
            changed[lock] = loaded[lock] + 1
        bound.update({f"new_{key}": value for key, value in changed.items()})
        statement = _updating(type(row), frozenset(changed), version is not None)
        with translated_errors():
            result = session.connection().execute(statement, bound)
        if result.rowcount != 1:
            raise StaleVersion(_LOST_RACE)
        for key, value in changed.items():
            set_committed_value(row, key, value)

    def flush(self) -> None:
        """Send pending changes to the database (to get ids or trip constraints early).

        A concurrent change caught by optimistic locking raises :class:`StaleVersion`; a
        constraint violation (e.g. a duplicate key created by a racing request) :class:`Conflict`.
        """
        with translated_errors():
            self.session.flush()

    def commit(self) -> None:
        """Queue the audit entries and commit everything, or nothing; then wake this process's
        sequencer."""
        session = self.session
        with translated_errors():
            while self._before_commit:
                _, work = self._before_commit.popitem()
                work(self)
            queued = bool(self._audit)
            if queued:
                self._write_audit()
            session.commit()
        if queued:
            self.caches.audit_queued.set()

    def _write_audit(self) -> None:
        """Insert the audit entries of this unit, queued, in its transaction."""
        self.session.flush()
        key = self.caches.audit_key
        if key is None:
            key = self.caches.audit_key = self.settings.with_secret().secret_key
        queue_entries(self.session, self._audit, at=self.now, key=key)
        self._audit = []


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn lost optimistic locks and constraint violations into 409 problems."""
    try:
        yield
    except StaleDataError as exc:
        raise StaleVersion(_LOST_RACE) from exc
    except IntegrityError as exc:
        raise Conflict(
            "The change conflicts with existing data (for example a key that was just taken).",
            code="integrity",
        ) from exc


@cache
def _inserting(model: type[Base]) -> Insert:
    """One row's insert into ``model``'s table, returning its id."""
    table = cast(Table, model.__table__)
    return insert(table).returning(table.c.id)


@cache
def _updating(model: type[Base], keys: frozenset[str], versioned: bool) -> Update:
    """One row's update of ``model``'s columns ``keys`` (attribute names; ``new_<key>`` their
    parameters), by primary key (``row_id``) and, when ``versioned``, its lock version as read
    (``held``)."""
    mapper = inspect_row(model)
    table = cast(Table, model.__table__)
    column = {key: mapper.get_property(key).columns[0] for key in keys}
    condition = mapper.primary_key[0] == bindparam("row_id")
    if versioned:
        condition = condition & (mapper.version_id_col == bindparam("held"))
    return (
        update(table)
        .where(condition)
        .values({column[key]: bindparam(f"new_{key}") for key in sorted(keys)})
    )
