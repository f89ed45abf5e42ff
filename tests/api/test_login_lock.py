"""The per-account sign-in limit: failures from many addresses lock a user name for a short,
growing while; browsers that signed in to it before are not locked out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD, ApiClient, assert_problem, make_user

LIMIT = 10  # the shipped login_account_max_failures


def _attempt(app: Flask, username: str, password: str, n: int) -> Any:
    """A sign-in from a fresh browser at its own address."""
    browser = ApiClient(app.test_client())
    return browser.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": f"198.51.100.{n % 250}"},
    )


def _spray(app: Flask, username: str, start: int = 0) -> list[Any]:
    """Wrong passwords from LIMIT different addresses."""
    return [_attempt(app, username, "wrong-password-x", start + n) for n in range(LIMIT)]


def _comparable(response: Any) -> tuple[int, str | None, dict[str, Any]]:
    body = {k: v for k, v in response.get_json().items() if k not in {"request_id"}}
    return response.status_code, response.headers.get("Retry-After"), body


def test_account_is_locked_when_failures_come_from_many_addresses(
    app: Flask, admin_user: User
) -> None:
    assert all(r.status_code == 401 for r in _spray(app, "admin"))
    locked = _attempt(app, "admin", ADMIN_PASSWORD, 200)
    body = assert_problem(locked, 429, "auth.locked")
    assert locked.headers["Retry-After"] == "60"
    assert body["retry_after"] == 60


def test_known_browser_signs_in_while_the_account_is_locked(app: Flask, admin_user: User) -> None:
    owner = ApiClient(app.test_client())
    assert owner.login("admin", ADMIN_PASSWORD).status_code == 200
    assert owner.post("/api/v1/auth/logout").status_code == 204
    _spray(app, "admin")
    assert_problem(_attempt(app, "admin", ADMIN_PASSWORD, 201), 429, "auth.locked")
    assert owner.login("admin", ADMIN_PASSWORD).status_code == 200


def test_known_browser_cookie_gives_no_more_guesses_when_copied(
    app: Flask, admin_user: User
) -> None:
    owner = ApiClient(app.test_client())
    assert owner.login("admin", ADMIN_PASSWORD).status_code == 200
    device = owner.client.get_cookie("tangram_device", path="/api/v1/auth")
    assert device is not None
    for n in range(LIMIT):  # a stolen device cookie, used from many addresses
        thief = ApiClient(app.test_client())
        thief.client.set_cookie("tangram_device", device.value, path="/api/v1/auth")
        response = thief.post(
            "/api/v1/auth/login",
            json={"username": "admin", "password": "wrong-password-y"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        assert_problem(response, 401, "auth.wrong_credentials")
    assert_problem(owner.login("admin", ADMIN_PASSWORD), 429, "auth.locked")
    assert _attempt(app, "admin", ADMIN_PASSWORD, 202).status_code == 200  # the name is not


def test_device_cookie_counts_only_for_the_names_it_signed_in_to(
    platform: Platform, app: Flask, admin_user: User
) -> None:
    make_user(platform, "mia")
    browser = ApiClient(app.test_client())
    assert browser.login("mia", "user-password-1").status_code == 200
    _spray(app, "admin")
    assert_problem(browser.login("admin", ADMIN_PASSWORD), 429, "auth.locked")
    forged = ApiClient(app.test_client())
    forged.client.set_cookie("tangram_device", "eyJkIjoieCIsInUiOlsiYWRtaW4iXX0.x.y", path="/")
    assert_problem(forged.login("admin", ADMIN_PASSWORD), 429, "auth.locked")


def test_lock_grows_with_each_lock_in_a_row_and_is_capped(
    app: Flask, admin_user: User, clock: FrozenClock
) -> None:
    waits = []
    for round_ in range(6):
        _spray(app, "admin", start=round_ * LIMIT)
        locked = _attempt(app, "admin", ADMIN_PASSWORD, 240)
        assert_problem(locked, 429, "auth.locked")
        waits.append(int(locked.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
    assert waits == [60, 120, 240, 480, 900, 900]
    assert _attempt(app, "admin", ADMIN_PASSWORD, 241).status_code == 200
    _spray(app, "admin", start=100)  # a success starts the delays over
    assert _attempt(app, "admin", ADMIN_PASSWORD, 242).headers["Retry-After"] == "60"


def test_lock_is_forgotten_when_a_day_passes_without_one(
    app: Flask, admin_user: User, clock: FrozenClock
) -> None:
    for round_ in range(2):
        _spray(app, "admin", start=round_ * LIMIT)
        clock.advance(timedelta(minutes=2))
    clock.advance(timedelta(days=1))
    _spray(app, "admin", start=50)
    assert _attempt(app, "admin", ADMIN_PASSWORD, 243).headers["Retry-After"] == "60"


def test_lock_answers_alike_whether_the_user_exists_or_not(app: Flask, admin_user: User) -> None:
    real = [*_spray(app, "admin"), _attempt(app, "admin", "wrong-password-x", 210)]
    ghost = [*_spray(app, "nobody-here"), _attempt(app, "nobody-here", "wrong-password-x", 210)]
    assert [r.status_code for r in real] == [401] * LIMIT + [429]
    for mine, theirs in zip(real, ghost, strict=True):
        assert _comparable(mine) == _comparable(theirs)


def test_failures_spread_over_the_window_lock_only_when_within_it(
    app: Flask, admin_user: User, clock: FrozenClock
) -> None:
    for n in range(LIMIT + 5):
        assert _attempt(app, "admin", "wrong-password-x", n).status_code == 401
        clock.advance(timedelta(minutes=2))  # under the limit in any 15 minutes
    assert _attempt(app, "admin", ADMIN_PASSWORD, 230).status_code == 200


def test_administrator_sees_and_clears_the_lock(
    platform: Platform, admin_client: ApiClient, app: Flask, clock: FrozenClock
) -> None:
    user = make_user(platform, "ned")
    assert admin_client.get(f"/api/v1/users/{user.id}/login-lock").get_json() == {
        "locked_until": None,
        "failures": 0,
        "lockouts": 0,
    }
    _spray(app, "ned")
    status = admin_client.get(f"/api/v1/users/{user.id}/login-lock").get_json()
    assert status["locked_until"] is not None
    assert status["lockouts"] == 1
    assert_problem(_attempt(app, "ned", "user-password-1", 220), 429, "auth.locked")
    assert admin_client.delete(f"/api/v1/users/{user.id}/login-lock").status_code == 204
    assert admin_client.get(f"/api/v1/users/{user.id}/login-lock").get_json()["lockouts"] == 0
    assert _attempt(app, "ned", "user-password-1", 220).status_code == 200
    ned = ApiClient(app.test_client())
    assert ned.login("ned", "user-password-1").status_code == 200
    assert_problem(ned.get(f"/api/v1/users/{user.id}/login-lock"), 403)
    assert_problem(admin_client.delete("/api/v1/users/9999/login-lock"), 404, "user.not_found")
    audited = admin_client.get("/api/v1/audit?object_type=user").get_json()["items"]
    assert "user.login_unlocked" in [e["action"] for e in audited]


def test_administrator_clears_the_per_address_limit_too(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    user = make_user(platform, "ola")
    ola = ApiClient(app.test_client())
    for _ in range(5):
        assert_problem(ola.login("ola", "wrong-password-z"), 401)
    assert_problem(ola.login("ola", "user-password-1"), 429, "rate_limited")
    assert admin_client.delete(f"/api/v1/users/{user.id}/login-lock").status_code == 204
    assert ola.login("ola", "user-password-1").status_code == 200
