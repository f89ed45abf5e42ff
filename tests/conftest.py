"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when configured).

SQLite: the migration chain runs once into a template file, and each test gets a copy of it (a
test that asks for the after-sales ``people`` gets a copy of a template with the package and its
people in: ``people_template``).
PostgreSQL (``TANGRAM_TEST_DATABASE_URL``): the schema is rebuilt once per run, and each test
starts from emptied tables (plus the seeded ``admin`` role).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, make_url, text

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.db import build_engine
from tangram.platform.kernel.models import Base, User
from tangram.web import create_app
from tests.openapi import NDJSON, OpenApiChecker

PG_URL = os.environ.get("TANGRAM_TEST_DATABASE_URL", "")
#: Argon2 at its lowest cost: tests check what hashes do, not how long they take to crack.
CHEAP_PASSWORDS: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 64}
#: Sessions that outlast the hours and days tests move the clock by while a client stays signed
#: in; tests of session timeouts set the real limits.
LASTING_SESSIONS: dict[str, Any] = {"session_hours": 24 * 3650, "session_idle_minutes": 0}
ADMIN_PASSWORD = "admin-password-1"
START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


def pytest_report_header() -> str:
    return f"tangram database: {'postgresql (' + PG_URL + ')' if PG_URL else 'sqlite'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    sqlite_checkpoint(path)
    return path


def _worker_url(url: str) -> str:
    """The database of this test process: ``TANGRAM_TEST_DATABASE_URL`` itself, or under
    pytest-xdist one of its own per worker (``test_gw0``, …), created beside it when missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    server = build_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            known = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not known:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL database this process tests on ('' without one: SQLite)."""
    return _worker_url(PG_URL) if PG_URL else ""


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine | None]:
    if not pg_url:
        yield None
        return
    engine = build_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _reset_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        projection_tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename LIKE 'rp\\_%'"
            )
        ).scalars()
        for name in list(projection_tables):
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text(
                "INSERT INTO roles (key, name, description, is_system, lock_version, created_at,"
                " updated_at) VALUES ('admin', 'Administrator', 'May do everything, in every app.',"
                " true, 1, now(), now())"
            )
        )


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    engine: Engine | None = request.getfixturevalue("pg_engine")
    if engine is not None:
        _reset_postgres(engine)
        return str(request.getfixturevalue("pg_url"))
    path = tmp_path / "tangram.db"
    # the after-sales ``people`` start from a template that has them (None where it is not used)
    people = (
        request.getfixturevalue("people_template")
        if "people_template" in request.fixturenames
        else None
    )
    shutil.copyfile(sqlite_template if people is None else people.path, path)
    return f"sqlite:///{path}"


def sqlite_checkpoint(path: Path) -> None:
    """Fold a SQLite file's write-ahead log into it, so that a copy of the file alone is whole."""
    engine = build_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def settings_for(database_url: str, instance_path: Path) -> Settings:
    """The settings every test runs with (a module may change some for its tests)."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=instance_path,
        embedded_worker=False,
        **CHEAP_PASSWORDS,
        **LASTING_SESSIONS,
    )


@dataclass(frozen=True)
class PeopleTemplate:
    """A SQLite database with the after-sales package and its people in, and their ids."""

    path: Path
    ids: dict[str, int]


@pytest.fixture(scope="session")
def people_template(
    pg_url: str, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> PeopleTemplate | None:
    """On SQLite, the after-sales people (``tests.apps.test_aftersales.install_people``) made
    once per test process, on the tests' settings and clock: a test that asks for ``people``
    starts on a copy of it (``database_url``) instead of installing the package again (about 2
    s a test). None on PostgreSQL, where ``people`` installs it."""
    if pg_url:
        return None
    from tests.apps.test_aftersales import install_people  # a test module: imported when used

    folder = tmp_path_factory.mktemp("people")
    path = folder / "people.db"
    shutil.copyfile(sqlite_template, path)
    platform = Platform.from_settings(
        settings_for(f"sqlite:///{path}", folder), clock=FrozenClock(START)
    )
    try:
        ids = install_people(platform)
    finally:
        platform.dispose()
    sqlite_checkpoint(path)
    return PeopleTemplate(path, ids)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def platform(settings: Settings, clock: FrozenClock) -> Iterator[Platform]:
    p = Platform.from_settings(settings, clock=clock)
    yield p
    p.dispose()


@pytest.fixture
def system() -> Actor:
    return Actor.system("test")


@pytest.fixture
def admin_user(platform: Platform) -> User:
    with platform.unit_of_work() as uow:
        user, _ = users.ensure_admin(uow, username="admin", password=ADMIN_PASSWORD)
        uow.commit()
    return user


@pytest.fixture
def app(platform: Platform) -> Flask:
    flask_app = create_app(platform=platform)
    flask_app.testing = True
    return flask_app


@dataclass
class ApiClient:
    """A test client that signs in and sends the session's CSRF token with every write."""

    client: FlaskClient
    csrf: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    checker: OpenApiChecker | None = None

    def __post_init__(self) -> None:
        if self.checker is None:
            self.checker = OpenApiChecker(self.client.application)

    def _checked(self, method: str, path: str, response: Any) -> Any:
        streamed = response.mimetype == NDJSON
        body = (
            response.get_data(as_text=True)
            if streamed
            else response.get_json(silent=True)
            if response.is_json
            else None
        )
        if self.checker is not None and (response.is_json or streamed or not response.get_data()):
            self.checker.check(method, path, response.status_code, body, response.content_type)
        return response

    def login(self, username: str, password: str) -> Any:
        response = self.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf_token"]
        return response

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        out = dict(self.headers)
        if self.csrf:
            out["X-CSRF-Token"] = self.csrf
        out.update(extra or {})
        return out

    def get(self, path: str, **kw: Any) -> Any:
        response = self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)
        return self._checked("GET", path, response)

    def post(self, path: str, **kw: Any) -> Any:
        response = self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)
        return self._checked("POST", path, response)

    def put(self, path: str, **kw: Any) -> Any:
        response = self.client.put(path, headers=self._headers(kw.pop("headers", None)), **kw)
        return self._checked("PUT", path, response)

    def patch(self, path: str, **kw: Any) -> Any:
        response = self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)
        return self._checked("PATCH", path, response)

    def delete(self, path: str, **kw: Any) -> Any:
        response = self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)
        return self._checked("DELETE", path, response)


@pytest.fixture
def client(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def admin_client(app: Flask, admin_user: User) -> ApiClient:
    api = ApiClient(app.test_client())
    response = api.login("admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.get_json()
    return api


def make_user(
    platform: Platform,
    username: str,
    *,
    password: str = "user-password-1",
    roles: tuple[str, ...] = (),
) -> User:
    """Create an active user (helper for tests)."""
    with platform.unit_of_work() as uow:
        user = users.create_user(
            uow, Actor.system("test"), username=username, password=password, roles=roles
        )
        uow.commit()
    return user


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements run on ``engine`` inside the block."""
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def race(
    settings: Settings, clock: FrozenClock, count: int, work: Callable[[Platform, int], Any]
) -> list[Any]:
    """Run ``work(platform, n)`` in ``count`` threads at once, each with its own Platform (engine and
    pool, as separate processes would have); re-raise the first failure; return the results."""
    platforms = [Platform.from_settings(settings, clock=clock) for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(platforms[n], n)
        except BaseException as exc:  # noqa: BLE001 - re-raised below: it fails the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for p in platforms:
        p.dispose()
    if errors:
        raise errors[0]
    return results


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Check an RFC 9457 problem response and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("urn:tangram:problem:")
    assert body["title"]
    if code is not None:
        assert body["code"] == code, body
    return body


__all__ = [
    "ADMIN_PASSWORD",
    "CHEAP_PASSWORDS",
    "LASTING_SESSIONS",
    "START",
    "ApiClient",
    "assert_problem",
    "count_queries",
    "make_user",
    "replace",
]


def tamper_audit(platform: Platform, sql: str) -> None:
    """Change the log as someone who can change the schema would: around its append-only
    triggers."""
    with platform.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.execute(text(sql))
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            return
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        connection.execute(text(sql))
