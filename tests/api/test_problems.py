"""Every failure is an RFC 9457 problem: clear, machine-readable, without internals."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.web import create_app
from tangram.web.security import public
from tests.conftest import ApiClient, assert_problem
from tests.openapi import OpenApiChecker


def test_unknown_api_path_answers_404_problem(client: ApiClient) -> None:
    body = assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert body["instance"] == "/api/v1/nothing-here"


def test_wrong_method_answers_405_with_allow_header(client: ApiClient) -> None:
    response = client.delete("/api/v1/health")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_answers_400_problem(admin_client: ApiClient) -> None:
    response = admin_client.post(
        "/api/v1/roles", data="{not json", headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, "request.malformed_json")
    assert "JSON" in body["detail"]


def test_non_json_body_answers_415_problem(admin_client: ApiClient) -> None:
    response = admin_client.post(
        "/api/v1/roles",
        data="key=x&name=y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = assert_problem(response, 415, "request.unsupported_media_type")
    assert "application/json" in body["detail"]


def test_oversize_body_answers_413_problem(
    settings: Settings, clock: FrozenClock, admin_user: object
) -> None:
    small = Platform.from_settings(replace(settings, max_request_bytes=1024), clock=clock)
    app = create_app(platform=small)
    api = ApiClient(app.test_client())
    api.login("admin", "admin-password-1")
    response = api.post("/api/v1/roles", json={"key": "big", "name": "x" * 5000})
    assert_problem(response, 413, "request.too_large")
    small.dispose()


def test_unknown_request_field_answers_422_naming_it(admin_client: ApiClient) -> None:
    response = admin_client.post("/api/v1/roles", json={"key": "k", "name": "n", "colour": "red"})
    body = assert_problem(response, 422, "validation.failed")
    assert body["errors"] == {"colour": ["Unknown field."]}


def test_missing_required_field_answers_422_naming_it(admin_client: ApiClient) -> None:
    body = assert_problem(admin_client.post("/api/v1/roles", json={"key": "k"}), 422)
    assert "name" in body["errors"]


def test_unexpected_error_answers_500_without_internals(platform: Platform) -> None:
    app = create_app(platform=platform)

    @app.get("/api/v1/boom")
    @public  # anonymous callers get 401 before any other view runs
    def boom() -> str:
        raise RuntimeError("secret internal detail: password=hunter2")

    response = app.test_client().get("/api/v1/boom")
    body = assert_problem(response, 500, "internal_error")
    text = json.dumps(body)
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert body["request_id"] in body["detail"]


def test_every_response_carries_a_request_id(client: ApiClient) -> None:
    assert len(client.get("/api/v1/health").headers["X-Request-Id"]) == 32


def test_openapi_document_lists_the_api(client: ApiClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/roles",
        "/api/v1/auth/tokens",
    ):
        assert path in spec["paths"], path
    assert "Problem" in spec["components"]["schemas"]


def test_non_api_path_is_404_when_front_end_is_not_built(
    platform: Platform, tmp_path: Path
) -> None:
    app = create_app(platform=platform, static_dir=tmp_path)
    response = app.test_client().get("/inbox")
    assert response.status_code == 404


def test_front_end_is_served_with_history_fallback_when_built(
    platform: Platform, tmp_path: Path
) -> None:
    dist = tmp_path
    (dist / "index.html").write_text("<!doctype html><title>Tangram</title>")
    (dist / "app.js").write_text("console.log(1)")
    app: Flask = create_app(platform=platform, static_dir=dist)
    web = app.test_client()

    def fetch(path: str) -> tuple[int, bytes]:
        with web.get(path) as response:  # file responses stream: close them
            return response.status_code, response.get_data()

    assert b"Tangram" in fetch("/")[1]
    assert b"Tangram" in fetch("/inbox/42")[1]  # client-side route: history fallback
    assert fetch("/app.js") == (200, b"console.log(1)")
    assert fetch("/api/v1/nope")[0] == 404


def test_built_files_go_out_compressed_and_hashed_ones_are_cached_for_a_year(
    platform: Platform, tmp_path: Path
) -> None:
    dist = tmp_path
    (dist / "assets").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Tangram</title>")
    script = "console.log('tangram');" * 100
    (dist / "assets" / "index-abc123.js").write_text(script)
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script.encode()))
    (dist / "assets" / "index-abc123.js.br").write_bytes(b"brotli copy")
    (dist / "assets" / "plain-def456.css").write_text("body{}")
    app: Flask = create_app(platform=platform, static_dir=dist)
    web = app.test_client()

    def fetch(path: str, accept: str | None = None) -> tuple[dict[str, str], bytes]:
        with web.get(path, headers={"Accept-Encoding": accept} if accept else {}) as response:
            assert response.status_code == 200
            return dict(response.headers), response.get_data()

    headers, body = fetch("/assets/index-abc123.js", "gzip, deflate, br")
    assert (headers["Content-Encoding"], body) == ("br", b"brotli copy")
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in headers["Vary"]
    headers, body = fetch("/assets/index-abc123.js", "gzip")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).decode() == script
    headers, body = fetch("/assets/index-abc123.js")  # a client that accepts neither
    assert "Content-Encoding" not in headers
    assert body.decode() == script
    headers, body = fetch("/assets/plain-def456.css", "br")  # no compressed copy: as it is
    assert ("Content-Encoding" not in headers, body) == (True, b"body{}")
    # the page names the current build's files: asked again every time
    assert fetch("/", "br")[0]["Cache-Control"] == "no-cache"
    assert fetch("/inbox/42")[0]["Cache-Control"] == "no-cache"


def test_openapi_checker_rejects_responses_that_break_the_document(app: Flask) -> None:
    checker = OpenApiChecker(app)
    checker.check("GET", "/api/v1/health", 200, {"status": "ok", "version": "1", "database": "x"})
    with pytest.raises(AssertionError, match="does not match"):
        checker.check("GET", "/api/v1/health", 200, {"status": 1, "version": "1", "database": "x"})
    with pytest.raises(AssertionError, match="does not match"):
        checker.check("GET", "/api/v1/health", 503, {"detail": "missing required members"})


def test_every_response_carries_the_security_headers(client: ApiClient) -> None:
    for answer in (client.get("/api/v1/health"), client.get("/api/v1/nope")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert answer.headers["X-Frame-Options"] == "DENY"
        policy = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self' 'unsafe-eval'" in policy  # no inline script
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_a_write_that_waits_too_long_for_the_database_answers_503(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    import sqlite3

    if not settings.database_url.startswith("sqlite"):
        settings = replace(settings, database_url=f"sqlite:///{tmp_path / 'busy.db'}")
    busy = replace(settings, sqlite_busy_seconds=0.2)
    platform = Platform.from_settings(busy, clock=clock)
    try:
        migrate.upgrade(platform.engine)
        with platform.unit_of_work() as uow:
            users.ensure_admin(uow, username="admin", password="admin-password-1")
            uow.commit()
        client = ApiClient(create_app(platform=platform).test_client())
        assert client.login("admin", "admin-password-1").status_code == 200
        holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")  # another process holds the writer's lock
        try:
            answer = client.post("/api/v1/roles", json={"key": "busy", "name": "Busy"})
        finally:
            holder.rollback()
            holder.close()
        assert_problem(answer, 503, "database.busy")
        assert answer.headers["Retry-After"] == "5"
        assert client.post("/api/v1/roles", json={"key": "busy", "name": "Busy"}).status_code == 201
    finally:
        platform.dispose()


def test_a_problem_speaks_the_language_the_caller_prefers(admin_client: ApiClient) -> None:
    path = "/api/v1/apps/none_here"
    english = admin_client.get(path)
    body = assert_problem(english, 404, "app.not_found")
    assert body["detail"] == "App 'none_here' does not exist."
    assert "Content-Language" not in english.headers
    for header in ("zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "zh"):
        chinese = admin_client.get(path, headers={"Accept-Language": header})
        body = assert_problem(chinese, 404, "app.not_found")
        assert body["detail"] == "应用不存在，或你没有它的任何权限"
        assert chinese.headers["Content-Language"] == "zh-CN"
    preferred = admin_client.get(path, headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert assert_problem(preferred, 404)["detail"] == "App 'none_here' does not exist."
    wrong = admin_client.post(
        "/api/v1/auth/login",
        json={"username": "nobody", "password": "wrong-password-1"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert assert_problem(wrong, 401, "auth.wrong_credentials")["detail"] == "用户名或密码不正确"


def test_a_detail_already_in_chinese_keeps_its_particulars(app: Flask) -> None:
    from tangram.web.problems import problem_response

    detail = "owner_1（owner_1）无权查看这条记录，不能提及"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        kept = json.loads(problem_response(422, "Invalid", detail, "comment.invalid").data)
        told = json.loads(problem_response(422, "Invalid", "bad", "comment.invalid").data)
    assert kept["detail"] == detail
    assert told["detail"] == "评论有问题：被提到的人需要能查看这条记录"
