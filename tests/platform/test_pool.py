"""Pooled connections are pinged at checkout only after they have rested: a connection back a
moment ago is handed out as it is, one that rested is pinged, and one that died while it
rested is replaced before a unit of work sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import db


class Pings:
    """Counts the pings an engine's dialect sends (and sends them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
        self.count = 0
        real = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            self.count += 1
            return bool(real(dbapi_connection))

        monkeypatch.setattr(engine.dialect, "do_ping", counted)


def rest(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the pool's clock on by ``seconds`` (its connections rested that long)."""
    later = db.monotonic() + seconds
    monkeypatch.setattr(db, "monotonic", lambda: later)


def test_a_connection_back_a_moment_ago_is_not_pinged_and_one_that_rested_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    db.ping_when_idle(engine, idle_seconds=5)
    pings = Pings(monkeypatch, engine)
    try:
        for _ in range(3):  # a new connection, then the same one back a moment ago
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar() == 1
        assert pings.count == 0
        rest(monkeypatch, 5)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert pings.count == 1
    finally:
        engine.dispose()


def test_a_connection_that_died_while_it_rested_is_replaced_before_a_unit_uses_it(
    monkeypatch: pytest.MonkeyPatch, platform: Platform
) -> None:
    """On PostgreSQL a server restart or a proxy's idle timeout closes a pooled connection (the
    side pool's connection terminates it here); SQLite's connections cannot die that way, and
    are never pinged."""
    engine = platform.engine
    postgres = platform.side_engine is not None
    with engine.connect() as pooled:  # returned last: the pool hands it out next
        pid = pooled.execute(text("SELECT pg_backend_pid()" if postgres else "SELECT 0")).scalar()
    if platform.side_engine is not None:
        with platform.side_engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    pings = Pings(monkeypatch, engine)
    rest(monkeypatch, db.PING_AFTER_IDLE_SECONDS)
    with platform.unit_of_work() as uow:
        assert uow.session.execute(text("SELECT 1")).scalar() == 1
        if postgres:
            assert uow.session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        uow.commit()
    assert pings.count == (1 if postgres else 0)  # the one that rested; its replacement is new
