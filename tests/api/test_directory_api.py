"""Users, groups and roles over HTTP: validation, permissions, locking, audit."""

from __future__ import annotations

from flask import Flask

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit
from tests.conftest import ApiClient, assert_problem, count_queries, make_user


def _signed_in(app: Flask, username: str) -> ApiClient:
    api = ApiClient(app.test_client())
    assert api.login(username, "user-password-1").status_code == 200
    return api


def test_admin_creates_user_who_can_then_sign_in(admin_client: ApiClient, app: Flask) -> None:
    created = admin_client.post(
        "/api/v1/users",
        json={
            "username": "Li.Lei",
            "display_name": "李雷",
            "password": "long-enough-1",
            "email": "lilei@example.com",
        },
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["username"] == "li.lei"
    assert body["display_name"] == "李雷"
    assert "password" not in body
    assert "password_hash" not in body
    assert ApiClient(app.test_client()).login("li.lei", "long-enough-1").status_code == 200


def test_user_creation_is_refused_when_input_is_bad(admin_client: ApiClient) -> None:
    short = admin_client.post("/api/v1/users", json={"username": "amy", "password": "short"})
    assert "password" in assert_problem(short, 422, "password.too_short")["errors"]
    bad_name = admin_client.post(
        "/api/v1/users", json={"username": "a b", "password": "long-enough-1"}
    )
    assert "username" in assert_problem(bad_name, 422)["errors"]
    bad_mail = admin_client.post(
        "/api/v1/users", json={"username": "amy", "password": "long-enough-1", "email": "nope"}
    )
    assert "email" in assert_problem(bad_mail, 422)["errors"]
    admin_client.post("/api/v1/users", json={"username": "amy", "password": "long-enough-1"})
    duplicate = admin_client.post(
        "/api/v1/users", json={"username": "AMY", "password": "long-enough-1"}
    )
    assert_problem(duplicate, 409, "user.duplicate")


def test_user_list_is_keyset_paged_with_constant_queries(
    admin_client: ApiClient, platform: Platform
) -> None:
    for i in range(5):
        make_user(platform, f"user{i}")
    first = admin_client.get("/api/v1/users?limit=3").get_json()
    assert [u["username"] for u in first["items"]] == ["admin", "user0", "user1"]
    second = admin_client.get(f"/api/v1/users?limit=3&after={first['next_after']}").get_json()
    assert [u["username"] for u in second["items"]] == ["user2", "user3", "user4"]
    with count_queries(platform.engine) as few:
        admin_client.get("/api/v1/users?limit=2")
    with count_queries(platform.engine) as many:
        admin_client.get("/api/v1/users?limit=6")
    assert len(few) == len(many)


def test_non_admin_is_refused_when_managing_users(platform: Platform, app: Flask) -> None:
    make_user(platform, "agent")
    agent = _signed_in(app, "agent")
    assert_problem(agent.get("/api/v1/users"), 403, "permission.admin_required")
    assert_problem(
        agent.post("/api/v1/users", json={"username": "x1", "password": "long-enough-1"}),
        403,
        "permission.admin_required",
    )


def test_user_edits_own_profile_but_not_own_activity(platform: Platform, app: Flask) -> None:
    user = make_user(platform, "frank")
    frank = _signed_in(app, "frank")
    renamed = frank.patch(
        f"/api/v1/users/{user.id}", json={"display_name": "Frank Z", "lock_version": 1}
    )
    assert renamed.status_code == 200
    assert renamed.get_json()["lock_version"] == 2
    refused = frank.patch(f"/api/v1/users/{user.id}", json={"is_active": False, "lock_version": 2})
    assert_problem(refused, 403)


def test_stale_lock_version_is_refused_with_current_version(
    admin_client: ApiClient, platform: Platform
) -> None:
    user = make_user(platform, "gina")
    assert (
        admin_client.patch(
            f"/api/v1/users/{user.id}", json={"display_name": "G1", "lock_version": 1}
        ).status_code
        == 200
    )
    stale = admin_client.patch(
        f"/api/v1/users/{user.id}", json={"display_name": "G2", "lock_version": 1}
    )
    body = assert_problem(stale, 409, "lock_version.stale")
    assert body["current_version"] == 2
    current = admin_client.get(f"/api/v1/users/{user.id}").get_json()
    assert current["display_name"] == "G1"


def test_missing_user_answers_404(admin_client: ApiClient) -> None:
    assert_problem(admin_client.get("/api/v1/users/999"), 404, "user.not_found")


def test_group_tree_refuses_cycles_and_unknown_managers(admin_client: ApiClient) -> None:
    root = admin_client.post(
        "/api/v1/groups", json={"key": "service", "name": "售后服务部"}
    ).get_json()
    child = admin_client.post(
        "/api/v1/groups", json={"key": "line_a", "name": "A线", "parent_id": root["id"]}
    ).get_json()
    cycle = admin_client.patch(
        f"/api/v1/groups/{root['id']}", json={"parent_id": child["id"], "lock_version": 1}
    )
    assert "parent_id" in assert_problem(cycle, 422)["errors"]
    self_parent = admin_client.patch(
        f"/api/v1/groups/{root['id']}", json={"parent_id": root["id"], "lock_version": 1}
    )
    assert_problem(self_parent, 422)
    manager = admin_client.patch(
        f"/api/v1/groups/{child['id']}", json={"manager_id": 999, "lock_version": 1}
    )
    assert "manager_id" in assert_problem(manager, 422)["errors"]
    has_children = admin_client.delete(f"/api/v1/groups/{root['id']}?lock_version=1")
    assert_problem(has_children, 409, "group.not_empty")
    assert admin_client.delete(f"/api/v1/groups/{child['id']}?lock_version=1").status_code == 204


def test_group_members_and_manager_are_kept(admin_client: ApiClient, platform: Platform) -> None:
    user = make_user(platform, "helen")
    group = admin_client.post(
        "/api/v1/groups", json={"key": "rnd", "name": "R&D", "manager_id": user.id}
    ).get_json()
    assert group["manager_id"] == user.id
    assert admin_client.put(f"/api/v1/groups/{group['id']}/members/{user.id}").status_code == 204
    assert admin_client.put(f"/api/v1/groups/{group['id']}/members/{user.id}").status_code == 204
    members = admin_client.get(f"/api/v1/groups/{group['id']}/members").get_json()
    assert [m["username"] for m in members] == ["helen"]
    assert admin_client.delete(f"/api/v1/groups/{group['id']}/members/{user.id}").status_code == 204
    assert_problem(
        admin_client.delete(f"/api/v1/groups/{group['id']}/members/{user.id}"),
        404,
        "membership.not_found",
    )


def test_a_user_s_roles_and_groups_are_read_for_editing(
    admin_client: ApiClient, platform: Platform, app: Flask
) -> None:
    user = make_user(platform, "ivan")
    group = admin_client.post("/api/v1/groups", json={"key": "qa", "name": "QA"}).get_json()
    role = admin_client.post("/api/v1/roles", json={"key": "qa_lead", "name": "QA"}).get_json()
    url = f"/api/v1/users/{user.id}/memberships"
    assert admin_client.get(url).get_json() == {"roles": [], "groups": []}
    admin_client.put(f"/api/v1/groups/{group['id']}/members/{user.id}")
    admin_client.put(f"/api/v1/roles/{role['id']}/members/{user.id}")
    assert admin_client.get(url).get_json() == {"roles": [role["id"]], "groups": [group["id"]]}
    assert_problem(admin_client.get("/api/v1/users/99999/memberships"), 404)
    make_user(platform, "judy")
    judy = _signed_in(app, "judy")
    assert_problem(judy.get(url), 403, "permission.admin_required")


def test_duplicate_group_key_answers_409(admin_client: ApiClient) -> None:
    admin_client.post("/api/v1/groups", json={"key": "ops", "name": "Ops"})
    assert_problem(admin_client.post("/api/v1/groups", json={"key": "ops", "name": "Ops 2"}), 409)


def test_role_grants_are_validated_and_listed(admin_client: ApiClient) -> None:
    role = admin_client.post("/api/v1/roles", json={"key": "agent", "name": "坐席"}).get_json()
    bad = admin_client.post(
        f"/api/v1/roles/{role['id']}/grants", json={"app_key": "aftersales", "actions": ["fly"]}
    )
    assert_problem(bad, 422)
    bad_scope = admin_client.post(
        f"/api/v1/roles/{role['id']}/grants",
        json={"app_key": "aftersales", "actions": ["read"], "scope": "planet"},
    )
    assert_problem(bad_scope, 422)
    grant = admin_client.post(
        f"/api/v1/roles/{role['id']}/grants",
        json={
            "app_key": "aftersales",
            "form_key": "ticket",
            "actions": ["read", "create"],
            "scope": "own",
        },
    )
    assert grant.status_code == 201
    assert grant.get_json()["actions"] == ["create", "read"]
    again = admin_client.post(
        f"/api/v1/roles/{role['id']}/grants",
        json={"app_key": "aftersales", "form_key": "ticket", "actions": ["read"]},
    )
    assert_problem(again, 409, "grant.duplicate")
    listed = admin_client.get(f"/api/v1/roles/{role['id']}/grants").get_json()
    assert [(g["form_key"], g["scope"]) for g in listed] == [("ticket", "own")]


def test_system_role_and_last_admin_are_protected(
    admin_client: ApiClient, admin_user: object
) -> None:
    roles = admin_client.get("/api/v1/roles").get_json()
    admin_role = next(r for r in roles if r["key"] == "admin")
    assert admin_role["is_system"] is True
    assert_problem(
        admin_client.delete(f"/api/v1/roles/{admin_role['id']}?lock_version=1"), 409, "role.system"
    )
    me = admin_client.get("/api/v1/me").get_json()
    assert_problem(
        admin_client.delete(f"/api/v1/roles/{admin_role['id']}/members/{me['id']}"),
        409,
        "role.last_admin",
    )


def test_role_assignment_grants_admin_rights(
    admin_client: ApiClient, platform: Platform, app: Flask
) -> None:
    user = make_user(platform, "ivan")
    roles = admin_client.get("/api/v1/roles").get_json()
    admin_role = next(r for r in roles if r["key"] == "admin")
    assert (
        admin_client.put(f"/api/v1/roles/{admin_role['id']}/members/{user.id}").status_code == 204
    )
    ivan = _signed_in(app, "ivan")
    assert ivan.get("/api/v1/users").status_code == 200


def test_directory_changes_are_audited(admin_client: ApiClient, platform: Platform) -> None:
    admin_client.post("/api/v1/roles", json={"key": "auditor", "name": "Auditor"})
    admin_client.post("/api/v1/groups", json={"key": "qa", "name": "QA"})
    with platform.unit_of_work(write=False) as uow:
        actions = [e.action for e in audit.list_entries(uow.session)]
        result = audit.verify(uow.session)
    assert "role.created" in actions
    assert "group.created" in actions
    assert result.ok
