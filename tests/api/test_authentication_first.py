"""Every operation that needs a signed-in caller answers 401 to an anonymous call before it looks
at the body or the query (never 422); the public ones are the document's ``security: []``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import App, AuditEntry, Definition, Record, User
from tests.conftest import ApiClient, assert_problem

#: The operations anyone may call, and what they answer to the invalid request below.
PUBLIC = {
    ("get", "/api/v1/health"): 200,
    ("get", "/api/v1/health/ready"): 200,
    ("post", "/api/v1/auth/login"): 422,  # the body is checked: there is nobody to sign in yet
    ("post", "/api/v1/auth/logout"): 204,  # harmless when not signed in
    ("get", "/api/v1/intake/{token}"): 422,  # ?lang=xx: public intake checks what it is sent
    ("post", "/api/v1/intake/{token}"): 422,
    ("post", "/api/v1/intake/{token}/attachments"): 422,  # no file part
    ("get", "/api/v1/intake/{token}/choices/{field}"): 422,  # ?lang=xx
    ("get", "/api/v1/status/{token}"): 422,  # ?lang=xx: the status page checks what it is sent
    ("post", "/api/v1/status/{token}/replies"): 422,
    ("post", "/api/v1/status/{token}/attachments"): 422,  # no file part
    ("get", "/api/v1/status/{token}/attachments/{attachment_id}"): 404,  # forged link
    ("get", "/api/v1/status/{token}/survey"): 422,  # ?lang=xx: checked before the link
    ("post", "/api/v1/status/{token}/survey"): 422,
    ("get", "/api/v1/surveys/{token}"): 422,
    ("post", "/api/v1/surveys/{token}"): 422,
    ("get", "/api/v1/help/{app}"): 422,  # ?lang=xx: the help center checks what it is sent
    ("get", "/api/v1/help/{app}/{form}/articles"): 422,
    ("get", "/api/v1/help/{app}/{form}/articles/{record_id}"): 422,
    ("post", "/api/v1/help/{app}/{form}/articles/{record_id}/feedback"): 422,
    ("get", "/api/v1/help/{app}/{form}/suggestions"): 422,
}
#: A body and a query no operation accepts.
INVALID_BODY = {"bogus": True, "lock_version": "soon", "data": 7}
INVALID_QUERY = "lang=xx&limit=-1&after=-1&lock_version=none&box=nowhere&format=pdf&period=soon"


def _operations(app: Flask) -> list[tuple[str, str, dict[str, Any]]]:
    spec: dict[str, Any] = app.test_client().get("/api/openapi.json").get_json()
    out = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                params = [*item.get("parameters", []), *operation.get("parameters", [])]
                out.append((method, path, {"operation": operation, "parameters": params}))
    return out


def _url(path: str, parameters: list[dict[str, Any]]) -> str:
    """The path with a plausible value for each of its parameters."""
    for p in parameters:
        if p.get("in") != "path":
            continue
        schema = p.get("schema", {})
        value = (
            schema["enum"][0] if "enum" in schema else 1 if schema.get("type") == "integer" else "x"
        )
        path = path.replace(f"{{{p['name']}}}", str(value))
    return path


def _counts(platform: Platform) -> tuple[int, ...]:
    with platform.unit_of_work(write=False) as uow:
        return tuple(
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (App, Definition, Record, User, AuditEntry)
        )


@pytest.mark.parametrize("authorization", [None, "Bearer tgm_not-a-token", "Basic YTpi"])
def test_every_operation_authenticates_before_it_validates_the_request(
    app: Flask, platform: Platform, authorization: str | None
) -> None:
    operations = _operations(app)
    assert len(operations) >= 90
    assert {(m, p) for m, p, _ in operations} >= set(PUBLIC)
    client = ApiClient(app.test_client())
    if authorization:
        client.headers["Authorization"] = authorization
    before = _counts(platform)
    wrong = []
    for method, path, doc in operations:
        url = f"{_url(path, doc['parameters'])}?{INVALID_QUERY}"
        kw: dict[str, Any] = {} if method in ("get", "delete") else {"json": INVALID_BODY}
        response = getattr(client, method)(url, **kw)
        documented = doc["operation"].get("security")
        if (method, path) in PUBLIC:
            expected = PUBLIC[(method, path)] if authorization is None else response.status_code
            if documented != [] or response.status_code != expected:
                wrong.append((method, path, response.status_code, documented))
            continue
        code = (response.get_json(silent=True) or {}).get("code", "")
        if documented is not None or response.status_code != 401 or not code.startswith("auth."):
            wrong.append((method, path, response.status_code, code))
        else:
            assert_problem(response, 401)
    assert wrong == []
    assert _counts(platform) == before  # nothing was written, not even an audit entry


def test_a_signed_in_caller_still_gets_the_validation_problem(admin_client: ApiClient) -> None:
    bad = admin_client.post("/api/v1/apps", json=INVALID_BODY)
    assert_problem(bad, 422)
    assert_problem(admin_client.get("/api/v1/tasks?box=nowhere"), 422)


def test_an_unknown_api_path_is_not_found_for_anyone(client: ApiClient) -> None:
    assert client.get("/api/v1/nothing/here").status_code == 404
    assert client.get("/api/openapi.json").status_code == 200
