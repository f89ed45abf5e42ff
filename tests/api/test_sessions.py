"""Sign-in sessions kept on the server: logout, password changes, timeouts, listing and ending."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD, ApiClient, assert_problem, count_queries, make_user

COOKIE = "tangram_session"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shipped session limits (the suite's default sessions outlast its clock jumps)."""
    shipped = Settings()
    return replace(
        settings,
        session_hours=shipped.session_hours,
        session_idle_minutes=shipped.session_idle_minutes,
    )


def _signed_in(app: Flask, username: str, password: str = "user-password-1") -> ApiClient:
    api = ApiClient(app.test_client())
    assert api.login(username, password).status_code == 200
    return api


def _cookie(api: ApiClient) -> str:
    cookie = api.client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str, csrf: str | None) -> ApiClient:
    """Another browser presenting a copied session cookie (and its CSRF token)."""
    thief = ApiClient(app.test_client(), csrf=csrf)
    thief.client.set_cookie(COOKIE, cookie)
    return thief


def test_cookie_is_refused_when_reused_after_logout(app: Flask, admin_user: User) -> None:
    admin = _signed_in(app, "admin", ADMIN_PASSWORD)
    cookie, csrf = _cookie(admin), admin.csrf
    assert _replay(app, cookie, csrf).get("/api/v1/me").status_code == 200
    assert admin.post("/api/v1/auth/logout").status_code == 204
    replayed = _replay(app, cookie, csrf)
    assert_problem(replayed.get("/api/v1/me"), 401, "auth.expired")
    assert_problem(replayed.post("/api/v1/auth/tokens", json={"name": "after logout"}), 401)
    assert_problem(admin.get("/api/v1/me"), 401, "auth.required")
    admin = _signed_in(app, "admin", ADMIN_PASSWORD)
    actions = [e["action"] for e in admin.get("/api/v1/audit?object_type=user").get_json()["items"]]
    assert actions[-3:] == ["auth.login", "auth.logout", "auth.login"]


def test_token_cannot_be_minted_when_session_was_ended_elsewhere(
    app: Flask, admin_user: User
) -> None:
    first = _signed_in(app, "admin", ADMIN_PASSWORD)
    second = _signed_in(app, "admin", ADMIN_PASSWORD)
    assert first.delete("/api/v1/me/sessions").get_json() == {"ended": 1}
    minted = second.post("/api/v1/auth/tokens", json={"name": "late"})
    assert_problem(minted, 401, "auth.expired")
    assert first.post("/api/v1/auth/tokens", json={"name": "live"}).status_code == 201


def test_token_cannot_be_minted_when_authenticated_by_a_token(
    admin_client: ApiClient, app: Flask
) -> None:
    secret = admin_client.post("/api/v1/auth/tokens", json={"name": "erp"}).get_json()["token"]
    bearer = ApiClient(app.test_client(), headers={"Authorization": f"Bearer {secret}"})
    minted = bearer.post("/api/v1/auth/tokens", json={"name": "offspring"})
    assert_problem(minted, 403, "token.session_required")


def test_password_change_ends_the_other_sessions_when_changed_by_the_user(
    platform: Platform, app: Flask
) -> None:
    make_user(platform, "dave")
    first, second = _signed_in(app, "dave"), _signed_in(app, "dave")
    listed = first.get("/api/v1/me/sessions").get_json()
    assert [s["current"] for s in listed].count(True) == 1
    assert len(listed) == 2
    first.put(
        "/api/v1/me/password",
        json={"current_password": "user-password-1", "new_password": "another-password-2"},
    )
    assert_problem(second.get("/api/v1/me"), 401, "auth.expired")
    assert [s["current"] for s in first.get("/api/v1/me/sessions").get_json()] == [True]


def test_password_reset_by_an_administrator_ends_every_session_of_the_user(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    user = make_user(platform, "erin")
    erin = _signed_in(app, "erin")
    reset = admin_client.patch(
        f"/api/v1/users/{user.id}",
        json={"password": "reset-password-3", "lock_version": user.lock_version},
    )
    assert reset.status_code == 200
    assert_problem(erin.get("/api/v1/me"), 401, "auth.expired")
    assert admin_client.get("/api/v1/me").status_code == 200


def test_session_ends_when_idle_longer_than_the_timeout(
    platform: Platform, app: Flask, clock: FrozenClock
) -> None:
    make_user(platform, "fay")
    fay = _signed_in(app, "fay")
    for _ in range(3):  # each request within the timeout keeps the session alive
        clock.advance(timedelta(minutes=29))
        assert fay.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert_problem(fay.get("/api/v1/me"), 401, "auth.expired")


def test_session_ends_after_its_lifetime_when_used_all_along(
    platform: Platform, app: Flask, clock: FrozenClock
) -> None:
    make_user(platform, "gus")
    gus = _signed_in(app, "gus")
    session = gus.get("/api/v1/me/sessions").get_json()[0]
    assert session["idle_expires_at"] is not None
    for _ in range(11 * 3):
        clock.advance(timedelta(minutes=20))
        assert gus.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(hours=1))
    assert_problem(gus.get("/api/v1/me"), 401, "auth.expired")


def test_old_cookie_without_a_session_reads_as_signed_out(app: Flask, admin_user: User) -> None:
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    old = signer.dumps({"user_id": admin_user.id, "epoch": 0, "csrf": "old-token"})
    browser = _replay(app, old, "old-token")
    response = browser.get("/api/v1/me")
    assert_problem(response, 401, "auth.required")
    assert f"{COOKIE}=;" in response.headers.get("Set-Cookie", "")  # the cookie is dropped
    browser = _replay(app, old, "old-token")
    assert_problem(browser.post("/api/v1/roles", json={"key": "x", "name": "X"}), 401)
    assert browser.login("admin", ADMIN_PASSWORD).status_code == 200
    assert browser.get("/api/v1/me").status_code == 200


def test_sessions_are_listed_and_ended_one_by_one(
    platform: Platform, app: Flask, admin_user: User
) -> None:
    make_user(platform, "hal")
    laptop, phone = _signed_in(app, "hal"), _signed_in(app, "hal")
    listed = laptop.get("/api/v1/me/sessions").get_json()
    other = next(s for s in listed if not s["current"])
    assert laptop.delete(f"/api/v1/me/sessions/{other['id']}").status_code == 204
    assert_problem(phone.get("/api/v1/me"), 401, "auth.expired")
    again = laptop.delete(f"/api/v1/me/sessions/{other['id']}")
    assert_problem(again, 404, "session.not_found")
    admin = _signed_in(app, "admin", ADMIN_PASSWORD)
    mine = admin.get("/api/v1/me/sessions").get_json()[0]["id"]
    assert_problem(laptop.delete(f"/api/v1/me/sessions/{mine}"), 404, "session.not_found")
    current = laptop.get("/api/v1/me/sessions").get_json()[0]
    assert laptop.delete(f"/api/v1/me/sessions/{current['id']}").status_code == 204
    assert_problem(laptop.get("/api/v1/me"), 401, "auth.required")


def test_signing_in_again_replaces_the_browsers_previous_session(
    platform: Platform, app: Flask
) -> None:
    make_user(platform, "ivy")
    ivy = _signed_in(app, "ivy")
    old = _cookie(ivy)
    assert ivy.login("ivy", "user-password-1").status_code == 200
    assert len(ivy.get("/api/v1/me/sessions").get_json()) == 1
    assert_problem(_replay(app, old, ivy.csrf).get("/api/v1/me"), 401, "auth.expired")


def test_administrator_ends_a_users_sessions(
    platform: Platform, admin_client: ApiClient, app: Flask
) -> None:
    user = make_user(platform, "jay")
    first, second = _signed_in(app, "jay"), _signed_in(app, "jay")
    listed = admin_client.get(f"/api/v1/users/{user.id}/sessions").get_json()
    assert len(listed) == 2
    assert not any(s["current"] for s in listed)
    one = admin_client.delete(f"/api/v1/users/{user.id}/sessions/{listed[0]['id']}")
    assert one.status_code == 204
    assert admin_client.delete(f"/api/v1/users/{user.id}/sessions").get_json() == {"ended": 1}
    assert_problem(first.get("/api/v1/me"), 401, "auth.expired")
    assert_problem(second.get("/api/v1/me"), 401, "auth.expired")
    assert_problem(admin_client.get("/api/v1/users/9999/sessions"), 404, "user.not_found")
    audited = admin_client.get("/api/v1/audit?object_type=user").get_json()["items"]
    assert [e["action"] for e in audited if e["object_id"] == str(user.id)][-2:] == [
        "session.ended",
        "user.sessions_ended",
    ]


def test_sessions_of_others_are_out_of_reach_when_not_an_administrator(
    platform: Platform, admin_user: User, app: Flask
) -> None:
    make_user(platform, "kim")
    kim = _signed_in(app, "kim")
    assert_problem(kim.get(f"/api/v1/users/{admin_user.id}/sessions"), 403)
    assert_problem(kim.delete(f"/api/v1/users/{admin_user.id}/sessions"), 403)


def test_session_check_is_one_lookup_and_writes_at_most_once_a_minute(
    platform: Platform, app: Flask, clock: FrozenClock
) -> None:
    user = make_user(platform, "lea")
    system = Actor.system()
    with platform.unit_of_work() as uow:  # two roles, one without a grant; two groups
        for key in ("agents", "readers"):
            role = roles.create_role(uow, system, key=key, name=key)
            users.assign_role(uow, system, user_id=user.id, role_id=role.id)
            if key == "agents":
                roles.add_grant(uow, system, role.id, app_key="*", actions=["read"])
        joined = [groups.create_group(uow, system, key=k, name=k).id for k in ("east", "west")]
        for group_id in joined:
            groups.add_member(uow, system, group_id=group_id, user_id=user.id)
        uow.commit()
    lea = _signed_in(app, "lea")
    with count_queries(platform.engine) as statements:
        me = lea.get("/api/v1/me").get_json()
    assert (sorted(me["roles"]), sorted(me["group_ids"])) == (["agents", "readers"], joined)
    # the session, its user, their roles, grants and groups: one statement
    assert sum("user_sessions" in s for s in statements) == 1
    assert not [s for s in statements if "role_assignments" in s and "user_sessions" not in s]
    assert not [s for s in statements if "memberships" in s and "user_sessions" not in s]
    with count_queries(platform.engine) as statements:
        assert lea.get("/api/v1/me/notifications").status_code == 200
    assert sum("user_sessions" in s for s in statements) == 1
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)
    clock.advance(timedelta(minutes=2))
    with count_queries(platform.engine) as statements:
        assert lea.get("/api/v1/me/notifications").status_code == 200
    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1
    assert "user_sessions" in writes[0]
