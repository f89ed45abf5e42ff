"""One log line per request, with what an operator needs to find it again, in JSON when asked."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tangram.cli.logs import JsonFormatter, SafeFormatter
from tangram.platform.kernel.models import User
from tests.conftest import ApiClient


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "tangram.web.access"
    ]


def test_each_request_is_one_json_line_with_its_id_user_route_status_and_duration(
    admin_client: ApiClient, admin_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tangram.web.access"):
        response = admin_client.get(f"/api/v1/users/{admin_user.id}")
    [line] = _lines(caplog)
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["user_id"] == admin_user.id
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/users/<int:user_id>"  # the rule, not the path
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0


def test_anonymous_and_failed_requests_are_logged_too(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.checker is not None
    assert client.checker.spec  # fetched now, not logged below
    with caplog.at_level(logging.INFO, logger="tangram.web.access"):
        refused = client.get("/api/v1/me")
        unknown = client.get("/api/v1/no/such/thing")
    first, second = _lines(caplog)
    assert (first["status"], first["user_id"], first["route"]) == (401, None, "/api/v1/me")
    assert first["request_id"] == refused.get_json()["request_id"]
    assert (second["status"], second["route"]) == (404, None)
    assert second["request_id"] == unknown.headers["X-Request-Id"]


def test_what_a_caller_sends_is_escaped_in_the_text_line(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tangram.web.access"):
        client.client.open("/api/v1/health", method="GET\nFORGED")
    [record] = [r for r in caplog.records if r.name == "tangram.web.access"]
    text = SafeFormatter("%(message)s").format(record)
    assert "\n" not in text
    assert text.startswith("GET\\nFORGED <unmatched> 405 ")
    assert json.loads(JsonFormatter().format(record))["method"] == "GET\nFORGED"
