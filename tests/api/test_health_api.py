"""Liveness answers without the database; readiness asks it once and compares its schema
revision with the release's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import migrate
from tangram.web import create_app
from tests.conftest import ApiClient, assert_problem, count_queries

#: A port nothing listens on: a PostgreSQL server there refuses the connection at once.
NOWHERE = "postgresql+psycopg://tangram@127.0.0.1:9/nothing?connect_timeout=3"


def _client(settings: Settings) -> Iterator[ApiClient]:
    platform = Platform.from_settings(settings)
    app = create_app(platform=platform)
    app.testing = True
    yield ApiClient(app.test_client())
    platform.dispose()


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[ApiClient]:
    """An app whose database does not answer."""
    yield from _client(Settings(database_url=NOWHERE, secret_key="k", instance_path=tmp_path))


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[ApiClient]:
    """An app on an empty database (never migrated)."""
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    yield from _client(Settings(database_url=empty, secret_key="k", instance_path=tmp_path))


def _set_revision(platform: Platform, revision: str) -> None:
    with platform.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


@pytest.fixture
def revision(platform: Platform) -> Iterator[str]:
    """Lets a test move the recorded revision; the head is put back afterwards (on PostgreSQL
    the schema serves the whole run)."""
    head = migrate.head_revision()
    assert head is not None
    yield head
    _set_revision(platform, head)


def test_liveness_asks_the_database_nothing(client: ApiClient, platform: Platform) -> None:
    with count_queries(platform.engine) as statements:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["database"] == platform.engine.dialect.name
    assert statements == []


def test_liveness_answers_when_the_database_is_down(unreachable: ApiClient) -> None:
    assert unreachable.get("/api/v1/health").status_code == 200


def test_readiness_asks_the_database_once_when_it_is_migrated(
    client: ApiClient, platform: Platform
) -> None:
    with count_queries(platform.engine) as statements:
        response = client.get("/api/v1/health/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["schema_revision"] == migrate.head_revision()
    assert len(statements) == 1


def test_readiness_is_503_when_the_database_is_down(unreachable: ApiClient) -> None:
    body = assert_problem(
        unreachable.get("/api/v1/health/ready"), 503, "service.database_unreachable"
    )
    assert "cannot be reached" in body["detail"]
    assert "127.0.0.1" not in body["detail"]  # the driver's message stays in the server


def test_readiness_is_503_when_the_database_was_never_migrated(unmigrated: ApiClient) -> None:
    body = assert_problem(unmigrated.get("/api/v1/health/ready"), 503, "service.migrations_pending")
    assert "never migrated" in body["detail"]
    assert "tangram db upgrade" in body["detail"]


def test_readiness_is_503_when_the_schema_is_behind_the_release(
    client: ApiClient, platform: Platform, revision: str
) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    previous = scripts.get_revision(revision).down_revision
    assert isinstance(previous, str)
    _set_revision(platform, previous)
    body = assert_problem(client.get("/api/v1/health/ready"), 503, "service.migrations_pending")
    assert f"at revision {previous}" in body["detail"]
    assert f"needs {revision}" in body["detail"]
    _set_revision(platform, revision)
    assert client.get("/api/v1/health/ready").status_code == 200  # asked again on every call


def test_readiness_is_503_when_a_newer_release_migrated_the_database(
    client: ApiClient, platform: Platform, revision: str
) -> None:
    _set_revision(platform, "9999_from_the_future")
    body = assert_problem(client.get("/api/v1/health/ready"), 503, "service.schema_unknown")
    assert "newer release" in body["detail"]


def test_the_release_schema_is_read_when_the_app_is_created(app: Flask) -> None:
    release = migrate.release_schema()
    assert release.head in release.known
    assert app.extensions["tangram_release_schema"] == release


def test_the_document_declares_readiness_problems_as_problem_json(client: ApiClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    ready = spec["paths"]["/api/v1/health/ready"]["get"]
    assert ready["security"] == []
    answer = ready["responses"]["503"]["$ref"].rsplit("/", 1)[1]
    assert list(spec["components"]["responses"][answer]["content"]) == ["application/problem+json"]
    assert "503" not in spec["paths"]["/api/v1/health"]["get"]["responses"]
