"""Behind reverse proxies (``TANGRAM_TRUSTED_PROXIES``) the client's own address counts: sessions
record it and the per-address sign-in limit counts clients apart, not the proxy as one; a client
cannot choose its address by sending ``X-Forwarded-For`` itself, with or without proxies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from tangram.config import Settings, SettingsError
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import User
from tangram.web import create_app
from tests.conftest import ADMIN_PASSWORD, ApiClient, assert_problem

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _behind(platform: Platform, hops: int) -> Flask:
    platform.settings = replace(platform.settings, trusted_proxies=hops)
    app = create_app(platform=platform)
    app.testing = True
    return app


def _login(app: Flask, password: str, forwarded: str | None) -> tuple[ApiClient, Any]:
    client = ApiClient(app.test_client())
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = client.post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": password},
        headers=headers,
        environ_base=PROXY,
    )
    if response.status_code == 200:
        client.csrf = response.get_json()["csrf_token"]
    return client, response


def _addresses(client: ApiClient) -> list[str]:
    return [s["remote_addr"] for s in client.get("/api/v1/me/sessions").get_json()]


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(
    platform: Platform, admin_user: User
) -> None:
    app = _behind(platform, 0)
    client, response = _login(app, ADMIN_PASSWORD, "203.0.113.7")
    assert response.status_code == 200
    assert _addresses(client) == ["10.0.0.2"]


def test_behind_one_proxy_the_clients_address_is_recorded_and_a_spoofed_hop_ignored(
    platform: Platform, admin_user: User
) -> None:
    app = _behind(platform, 1)
    client, response = _login(app, ADMIN_PASSWORD, "198.51.100.9, 203.0.113.7")
    assert response.status_code == 200
    # the proxy appended the address it saw; what the client wrote before it is not believed
    assert _addresses(client) == ["203.0.113.7"]


def test_behind_a_proxy_the_sign_in_limit_counts_each_client_apart(
    platform: Platform, admin_user: User
) -> None:
    app = _behind(platform, 1)
    limit = platform.settings.login_max_failures
    for _ in range(limit):
        _, wrong = _login(app, "wrong-password-x", "203.0.113.7")
        assert wrong.status_code == 401
    _, limited = _login(app, "wrong-password-x", "203.0.113.7")
    assert_problem(limited, 429)
    # another client behind the same proxy is not held back by the first one's failures
    _, other = _login(app, ADMIN_PASSWORD, "203.0.113.8")
    assert other.status_code == 200, other.get_json()


def test_the_number_of_proxies_is_checked() -> None:
    assert Settings.from_env({"TANGRAM_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"TANGRAM_TRUSTED_PROXIES": "-1"})
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"TANGRAM_TRUSTED_PROXIES": "several"})
