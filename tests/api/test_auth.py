"""Sign-in, sessions, CSRF, API tokens and rate limiting over HTTP."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import Connection, event

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.db import IMMEDIATE
from tangram.platform.kernel.models import User
from tangram.web.security import CSRF_EXEMPT, NON_JSON_ENDPOINTS
from tests.conftest import ADMIN_PASSWORD, ApiClient, assert_problem, count_queries, make_user


def test_login_returns_profile_and_csrf_token_when_credentials_are_right(
    client: ApiClient, admin_user: User
) -> None:
    response = client.login("admin", ADMIN_PASSWORD)
    body = response.get_json()
    assert response.status_code == 200
    assert body["username"] == "admin"
    assert body["is_admin"] is True
    assert body["roles"] == ["admin"]
    assert len(body["csrf_token"]) >= 32
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("tangram_session", "tangram_device"):
        assert "HttpOnly" in cookies[name]
        assert "SameSite=Lax" in cookies[name]
    assert "Path=/api/v1/auth" in cookies["tangram_device"]


def test_the_session_cookie_is_set_at_sign_in_and_not_sent_again_with_every_answer(
    client: ApiClient, admin_user: User
) -> None:
    signed_in = client.login("admin", ADMIN_PASSWORD)
    (cookie,) = [c for c in signed_in.headers.getlist("Set-Cookie") if "tangram_session=" in c]
    assert "Expires=" in cookie  # the server-side session's absolute end
    answer = client.get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.headers.getlist("Set-Cookie") == []


def test_login_answers_one_generic_message_when_user_or_password_is_wrong(
    client: ApiClient, admin_user: User
) -> None:
    wrong_password = assert_problem(client.login("admin", "not-the-password"), 401)
    unknown_user = assert_problem(client.login("nobody", "whatever-password"), 401)
    assert wrong_password["code"] == unknown_user["code"] == "auth.wrong_credentials"
    assert wrong_password["detail"] == unknown_user["detail"]


def test_login_is_rate_limited_when_failures_repeat(
    client: ApiClient, admin_user: User, clock: FrozenClock
) -> None:
    for _ in range(5):
        assert_problem(client.login("admin", "wrong-password"), 401)
    limited = client.login("admin", ADMIN_PASSWORD)
    body = assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert body["retry_after"] > 0
    clock.advance(timedelta(minutes=16))
    assert client.login("admin", ADMIN_PASSWORD).status_code == 200


def test_login_refuses_unknown_fields_when_body_has_extras(client: ApiClient) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": "a", "password": "b", "remember": True}
    )
    body = assert_problem(response, 422, "validation.failed")
    assert "remember" in body["errors"]


def test_login_refuses_deactivated_account_when_password_is_right(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    user = make_user(platform, "alice")
    changed = admin_client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False, "lock_version": user.lock_version}
    )
    assert changed.status_code == 200
    assert_problem(ApiClient(app.test_client()).login("alice", "user-password-1"), 401)


def test_session_ends_when_account_is_deactivated(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    user = make_user(platform, "bob")
    bob = ApiClient(app.test_client())
    assert bob.login("bob", "user-password-1").status_code == 200
    assert bob.get("/api/v1/me").status_code == 200
    admin_client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False, "lock_version": user.lock_version}
    )
    assert_problem(bob.get("/api/v1/me"), 401, "auth.expired")


def test_logout_ends_the_session_when_signed_in(admin_client: ApiClient) -> None:
    assert admin_client.post("/api/v1/auth/logout").status_code == 204
    assert_problem(admin_client.get("/api/v1/me"), 401, "auth.required")


def test_write_is_refused_when_csrf_header_is_missing(admin_client: ApiClient) -> None:
    admin_client.csrf = None
    response = admin_client.post("/api/v1/roles", json={"key": "agents", "name": "Agents"})
    assert_problem(response, 403, "auth.csrf")
    admin_client.headers["X-CSRF-Token"] = "forged"
    assert_problem(
        admin_client.post("/api/v1/roles", json={"key": "agents", "name": "Agents"}),
        403,
        "auth.csrf",
    )


def test_token_is_shown_once_and_authenticates_when_sent_as_bearer(
    admin_client: ApiClient, app: Flask
) -> None:
    created = admin_client.post("/api/v1/auth/tokens", json={"name": "erp"})
    assert created.status_code == 201
    secret = created.get_json()["token"]
    assert secret.startswith("tgm_")
    listed = admin_client.get("/api/v1/auth/tokens").get_json()
    assert [t["name"] for t in listed] == ["erp"]
    assert "token" not in listed[0]
    assert "token_hash" not in listed[0]

    bearer = ApiClient(app.test_client(), headers={"Authorization": f"Bearer {secret}"})
    me = bearer.get("/api/v1/me").get_json()
    assert me["username"] == "admin"
    assert me["via"] == "token"
    assert me["csrf_token"] is None
    # No CSRF token is needed for bearer requests: they carry no ambient credentials.
    assert bearer.post("/api/v1/roles", json={"key": "erp", "name": "ERP"}).status_code == 201


def test_token_stops_working_when_revoked(admin_client: ApiClient, app: Flask) -> None:
    created = admin_client.post("/api/v1/auth/tokens", json={"name": "crm"}).get_json()
    bearer = ApiClient(app.test_client(), headers={"Authorization": f"Bearer {created['token']}"})
    assert bearer.get("/api/v1/me").status_code == 200
    assert admin_client.delete(f"/api/v1/auth/tokens/{created['id']}").status_code == 204
    assert_problem(bearer.get("/api/v1/me"), 401, "auth.token_revoked")


def test_token_stops_working_when_expired(
    admin_client: ApiClient, app: Flask, clock: FrozenClock
) -> None:
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    created = admin_client.post(
        "/api/v1/auth/tokens", json={"name": "short", "expires_at": expires}
    ).get_json()
    bearer = ApiClient(app.test_client(), headers={"Authorization": f"Bearer {created['token']}"})
    assert bearer.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(hours=2))
    assert_problem(bearer.get("/api/v1/me"), 401, "auth.token_expired")


def test_a_token_s_last_use_is_written_at_most_once_a_minute_and_its_owner_s_state_counts(
    platform: Platform, admin_client: ApiClient, app: Flask, clock: FrozenClock
) -> None:
    """A call with a token reads it in a read-only unit; its last use is written when a minute
    has passed since the one written (no write, no write lock, in between). The token's actor is
    its owner as they are now: their grants, their groups, and no more once deactivated."""
    make_user(platform, "erp", password="erp-password-1", roles=("admin",))
    owner = ApiClient(app.test_client())
    assert owner.login("erp", "erp-password-1").status_code == 200
    created = owner.post("/api/v1/auth/tokens", json={"name": "erp"}).get_json()
    bearer = ApiClient(app.test_client(), headers={"Authorization": f"Bearer {created['token']}"})

    def last_used() -> str | None:
        (token,) = owner.get("/api/v1/auth/tokens").get_json()
        return token["last_used_at"]

    assert last_used() is None
    me = bearer.get("/api/v1/me").get_json()
    assert (me["username"], me["via"], me["is_admin"]) == ("erp", "token", True)
    first = last_used()
    assert first == clock.now().isoformat()
    clock.advance(timedelta(seconds=50))
    writes: list[bool] = []

    def began(connection: Connection) -> None:
        writes.append(bool(connection.get_execution_options().get(IMMEDIATE)))

    event.listen(platform.engine, "begin", began)
    try:
        with count_queries(platform.engine) as run:
            assert bearer.get("/api/v1/me").status_code == 200
    finally:
        event.remove(platform.engine, "begin", began)
    assert last_used() == first
    assert not [s for s in run if s.lstrip().upper().startswith("UPDATE")]
    assert writes  # the call began transactions, none of them to write
    assert True not in writes
    clock.advance(timedelta(seconds=20))
    assert bearer.get("/api/v1/me").status_code == 200
    assert last_used() == clock.now().isoformat()
    erp = admin_client.get("/api/v1/users?q=erp").get_json()
    user = next(u for u in erp["items"] if u["username"] == "erp")
    changed = admin_client.patch(
        f"/api/v1/users/{user['id']}",
        json={"is_active": False, "lock_version": user["lock_version"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert_problem(bearer.get("/api/v1/me"), 401, "auth.inactive")


def test_token_is_refused_when_malformed_or_forged(
    client: ApiClient, admin_client: ApiClient
) -> None:
    secret = admin_client.post("/api/v1/auth/tokens", json={"name": "x"}).get_json()["token"]
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    for value, code in (
        ("Bearer nonsense", "auth.token_invalid"),
        (f"Bearer {forged}", "auth.token_invalid"),
        ("Basic YWRtaW46eA==", "auth.scheme_unsupported"),
    ):
        assert_problem(client.get("/api/v1/me", headers={"Authorization": value}), 401, code)


def test_token_of_another_user_cannot_be_revoked_when_not_admin(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    token = admin_client.post("/api/v1/auth/tokens", json={"name": "admins"}).get_json()
    make_user(platform, "carol")
    carol = ApiClient(app.test_client())
    carol.login("carol", "user-password-1")
    assert_problem(carol.delete(f"/api/v1/auth/tokens/{token['id']}"), 404, "token.not_found")


def test_token_expiry_in_the_past_is_refused(admin_client: ApiClient) -> None:
    response = admin_client.post(
        "/api/v1/auth/tokens", json={"name": "old", "expires_at": "2001-01-01T00:00:00+00:00"}
    )
    body = assert_problem(response, 422)
    assert "expires_at" in body["errors"]


def test_password_change_keeps_this_session_and_ends_others(platform: Platform, app: Flask) -> None:
    make_user(platform, "dave")
    first, second = ApiClient(app.test_client()), ApiClient(app.test_client())
    first.login("dave", "user-password-1")
    second.login("dave", "user-password-1")
    changed = first.put(
        "/api/v1/me/password",
        json={"current_password": "user-password-1", "new_password": "another-password-2"},
    )
    assert changed.status_code == 204
    assert first.get("/api/v1/me").status_code == 200
    assert_problem(second.get("/api/v1/me"), 401, "auth.expired")
    assert ApiClient(app.test_client()).login("dave", "another-password-2").status_code == 200


def test_password_change_is_refused_when_current_password_is_wrong(
    platform: Platform, app: Flask
) -> None:
    make_user(platform, "erin")
    erin = ApiClient(app.test_client())
    erin.login("erin", "user-password-1")
    response = erin.put(
        "/api/v1/me/password",
        json={"current_password": "wrong-one-here", "new_password": "another-password-2"},
    )
    body = assert_problem(response, 422, "password.wrong")
    assert "current_password" in body["errors"]


def test_signing_in_again_needs_no_csrf_token_of_the_old_session(
    client: ApiClient, admin_user: User
) -> None:
    """A browser that still holds a session cookie but lost its token (a new tab, a cleared
    storage) can sign in again: signing in creates the session a token belongs to."""
    assert client.login("admin", ADMIN_PASSWORD).status_code == 200
    client.csrf = None
    again = client.login("admin", ADMIN_PASSWORD)
    assert again.status_code == 200, again.get_json()
    assert client.csrf
    # every other write still needs the token
    client.csrf = None
    assert_problem(client.post("/api/v1/auth/logout"), 403, "auth.csrf")


def test_the_exempt_and_upload_endpoint_names_are_real_endpoints(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= CSRF_EXEMPT, CSRF_EXEMPT - endpoints
    assert endpoints >= NON_JSON_ENDPOINTS, NON_JSON_ENDPOINTS - endpoints
