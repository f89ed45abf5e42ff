"""Database engines: SQLite (embedded default, WAL + foreign keys) and PostgreSQL (JSONB)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from tangram.engines.reports import PercentileAggregate

#: Execution option asking SQLite to take the write lock at BEGIN (see :func:`_sqlite_begin`).
IMMEDIATE = "tangram_immediate"
#: Execution option making PostgreSQL's transactions READ ONLY (ignored by SQLite).
READ_ONLY = "postgresql_readonly"


def json_text(value: Any) -> str:
    """A JSON column's text, written by orjson (several times faster than ``json``); what it
    refuses (integers beyond 64 bits, keys that are not text) is written by ``json`` as before.
    Documents from outside have passed :func:`~tangram.platform.kernel.jsondoc.strict_loads`."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """A JSON column's value, read by orjson; by ``json`` where orjson refuses the text (a
    ``NaN`` an older version may have written)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


#: How every engine writes and reads JSON columns (JSON text on SQLite, JSONB on PostgreSQL).
JSON_CODEC: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": json_value}

#: A pooled PostgreSQL connection that has rested in the pool longer than this is pinged before
#: it is handed out; one back sooner is trusted (HikariCP's "alive bypass window", 500 ms).
PING_AFTER_IDLE_SECONDS = 1.0
#: Where a pooled connection's record keeps when it was last connected or returned.
_RESTED_SINCE = "tangram_rested_since"


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Ping a pooled connection at checkout only when it has rested ``idle_seconds`` or more.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip, and about 0.15 ms of
    the app's CPU, for each unit of work, two or more a request. A connection that was in use a
    moment ago is alive as surely as a ping would show; one that rested may have been closed by
    a server restart, a failover or a proxy's idle timeout, and is pinged. A connection that
    fails its ping is replaced (``DisconnectionError``: the pool connects anew). One that dies
    within the window fails its first statement, as it would die between the ping and the
    statement; SQLAlchemy then invalidates the pool's connections of before, which are
    replaced at their next checkout."""

    def rested(_dbapi_connection: Any, record: Any, *_rest: Any) -> None:
        record.info[_RESTED_SINCE] = monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_RESTED_SINCE)
        if since is not None and monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection failed its ping: {error}") from error

    event.listen(engine.pool, "connect", rested)
    event.listen(engine.pool, "checkin", rested)
    event.listen(engine.pool, "checkout", checked_out)


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def build_engine(url: str | URL, *, echo: bool = False, busy_seconds: float = 30.0) -> Engine:
    """Create an engine with the pragmas and options Tangram relies on; on SQLite a write waits
    up to ``busy_seconds`` for the single writer's lock (then the request answers 503)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": busy_seconds}, **JSON_CODEC
        )
        engine.dialect.statement_compiler = _SQLiteCompiler
        event.listen(engine, "connect", partial(_sqlite_connect, busy_ms=int(busy_seconds * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # the connection returned last is handed out first: the busy ones stay warm (and keep
        # what PostgreSQL prepared on them), the spare ones rest, and are pinged when next used
        engine = create_engine(parsed, echo=echo, pool_use_lifo=True, **JSON_CODEC)
        ping_when_idle(engine)
        return engine
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
    )


def build_read_engine(engine: Engine) -> Engine:
    """The engine read-only units of work use: on PostgreSQL its transactions are ``READ ONLY``
    (a write in one fails at once), and they end with ``COMMIT`` (see
    :attr:`UnitOfWork.read_only`), not ``ROLLBACK``: after a rollback psycopg forgets the
    statements it has prepared on the connection (``DEALLOCATE ALL``), and every statement is
    parsed and planned again. On SQLite, the engine itself (its pool shared either way)."""
    if is_sqlite(engine):
        return engine
    return engine.execution_options(**{READ_ONLY: True})


def build_side_engine(engine: Engine) -> Engine | None:
    """A small pool for statements that commit at once, beside a unit of work's transaction (a
    serial number drawn without holding its counter row to the unit's end). A pool apart from the
    main one: a unit that holds a main connection never waits for a second one from its own pool
    (with every main connection held, that would wait forever). None on SQLite: it has one writer
    at a time, and a second connection would wait for the unit's own write lock."""
    if is_sqlite(engine):
        return None
    # each statement commits as it ends (one round trip); no ping at checkout (another round
    # trip): UnitOfWork.apart runs a statement again when its connection was found dead
    return create_engine(
        engine.url,
        echo=engine.echo,
        pool_size=2,
        max_overflow=6,
        isolation_level="AUTOCOMMIT",
        **JSON_CODEC,
    )


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler, rendering FROM hints (``INDEXED BY``, ``NOT INDEXED``) as written.

    Reports aggregate large parts of a table; without histograms SQLite's planner takes an index
    range scan for any date range and looks each row up, several times slower than one pass over
    the table. Reports say ``NOT INDEXED`` (see ``Dataset.query``); other statements have no
    hints and are unaffected.
    """

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are rendered after it)."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is disabled).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Percentiles in reports: the same interpolation as PostgreSQL's percentile_cont.
    dbapi_connection.create_aggregate("tangram_percentile", 2, PercentileAggregate)


def _sqlite_begin(connection: Any) -> None:
    # A writer takes the lock up front: a deferred transaction that reads and then writes while
    # another writer commits fails with SQLITE_BUSY instead of waiting.
    if connection.get_execution_options().get(IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")
