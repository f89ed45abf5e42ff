"""Apps and definitions over HTTP: drafts, publish, versions, diff, problems, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tangram.platform.bootstrap import Platform
from tests.conftest import ApiClient, assert_problem, count_queries, make_user

BASE = "/api/v1/apps/aftersales"


def form(key: str = "ticket", label: str = "售后工单") -> dict[str, Any]:
    return {
        "key": key,
        "label": {"zh-CN": label, "en": "Ticket"},
        "fields": [{"key": "title", "type": "text", "label": {"zh-CN": "标题"}}],
    }


@pytest.fixture
def app_client(admin_client: ApiClient) -> ApiClient:
    created = admin_client.post(
        "/api/v1/apps",
        json={"key": "aftersales", "name": {"zh-CN": "售后服务", "en": "After-sales"}},
    )
    assert created.status_code == 201, created.get_json()
    return admin_client


def test_app_is_created_listed_and_updated(app_client: ApiClient) -> None:
    listed = app_client.get("/api/v1/apps").get_json()
    assert [a["key"] for a in listed] == ["aftersales"]
    updated = app_client.patch(BASE, json={"version": "1.0.0", "lock_version": 1})
    assert updated.get_json()["version"] == "1.0.0"
    stale = app_client.patch(BASE, json={"version": "1.0.1", "lock_version": 1})
    assert assert_problem(stale, 409, "lock_version.stale")["current_version"] == 2
    assert_problem(app_client.get("/api/v1/apps/nope"), 404, "app.not_found")
    duplicate = app_client.post("/api/v1/apps", json={"key": "aftersales", "name": {"zh-CN": "x"}})
    assert_problem(duplicate, 409, "app.duplicate")


def test_definition_lifecycle_when_drafted_published_and_diffed(app_client: ApiClient) -> None:
    created = app_client.post(f"{BASE}/forms", json={"body": form()})
    assert created.status_code == 201
    draft = created.get_json()
    assert (draft["key"], draft["kind"], draft["published_version"], draft["dirty"]) == (
        "ticket",
        "form",
        None,
        True,
    )
    published = app_client.post(f"{BASE}/forms/ticket/publish", json={"note": "上线"})
    assert published.status_code == 201
    assert published.get_json()["version"] == 1
    unchanged = app_client.post(f"{BASE}/forms/ticket/publish", json={})
    assert_problem(unchanged, 409, "definition.unchanged")

    current = app_client.get(f"{BASE}/forms/ticket").get_json()
    assert current["dirty"] is False
    saved = app_client.put(
        f"{BASE}/forms/ticket",
        json={"body": form(label="工单"), "lock_version": current["lock_version"]},
    )
    assert saved.status_code == 200
    assert saved.get_json()["dirty"] is True
    diff = app_client.get(f"{BASE}/forms/ticket/diff?from=1&to=draft").get_json()
    assert diff == [{"op": "changed", "path": "/label/zh-CN", "old": "售后工单", "new": "工单"}]
    app_client.post(f"{BASE}/forms/ticket/publish", json={"note": "rename"})
    versions = app_client.get(f"{BASE}/forms/ticket/versions").get_json()
    assert [(v["version"], v["note"]) for v in versions] == [(2, "rename"), (1, "上线")]
    one = app_client.get(f"{BASE}/forms/ticket/versions/1").get_json()
    assert one["body"]["label"]["zh-CN"] == "售后工单"
    assert_problem(
        app_client.get(f"{BASE}/forms/ticket/versions/9"), 404, "definition.version_not_found"
    )


def test_a_keyless_body_is_refused_and_an_incomplete_draft_is_kept_with_its_problems(
    app_client: ApiClient,
) -> None:
    bad = {"key": "Bad", "label": {"zh-CN": "x"}, "fields": []}
    body = assert_problem(
        app_client.post(f"{BASE}/forms", json={"body": bad}), 422, "definition.invalid"
    )
    assert set(body["errors"]) == {"/key"}
    assert app_client.get(f"{BASE}/forms").get_json() == []
    assert_problem(app_client.post(f"{BASE}/forms", json={"body": [1]}), 422)

    incomplete = {"key": "inspection", "label": {"zh-CN": "巡检"}, "fields": []}
    created = app_client.post(f"{BASE}/forms", json={"body": incomplete})
    assert created.status_code == 201
    problems = created.get_json()["problems"]
    assert {(p["path"], p["code"]) for p in problems} == {("/fields", "meta.minItems")}
    read = app_client.get(f"{BASE}/forms/inspection").get_json()
    assert read["problems"] == problems
    assert read["body"] == incomplete
    refused = assert_problem(
        app_client.post(f"{BASE}/forms/inspection/publish", json={}), 422, "definition.invalid"
    )
    assert [d["path"] for d in refused["diagnostics"]] == ["/fields"]
    fixed = {**incomplete, "fields": [{"key": "site", "type": "text", "label": {"zh-CN": "地点"}}]}
    saved = app_client.put(f"{BASE}/forms/inspection", json={"body": fixed, "lock_version": 1})
    assert saved.get_json()["problems"] == []
    assert app_client.post(f"{BASE}/forms/inspection/publish", json={}).status_code == 201


def test_draft_key_change_and_stale_lock_are_refused(app_client: ApiClient) -> None:
    app_client.post(f"{BASE}/forms", json={"body": form()})
    renamed = app_client.put(
        f"{BASE}/forms/ticket", json={"body": form(key="other"), "lock_version": 1}
    )
    assert "/key" in assert_problem(renamed, 422, "definition.invalid")["errors"]
    app_client.put(f"{BASE}/forms/ticket", json={"body": form(label="一"), "lock_version": 1})
    stale = app_client.put(
        f"{BASE}/forms/ticket", json={"body": form(label="二"), "lock_version": 1}
    )
    body = assert_problem(stale, 409, "lock_version.stale")
    assert body["current"]["body"]["label"]["zh-CN"] == "一"


def test_unknown_kind_field_and_bad_diff_arguments_are_refused(app_client: ApiClient) -> None:
    assert_problem(app_client.get(f"{BASE}/widgets"), 404)
    extra = app_client.post(f"{BASE}/forms", json={"body": form(), "publish": True})
    assert "publish" in assert_problem(extra, 422)["errors"]
    not_object = app_client.post(f"{BASE}/forms", json={"body": [1, 2]})
    assert_problem(not_object, 422)
    app_client.post(f"{BASE}/forms", json={"body": form()})
    assert (
        "from" in assert_problem(app_client.get(f"{BASE}/forms/ticket/diff?from=x"), 422)["errors"]
    )
    assert "from" in assert_problem(app_client.get(f"{BASE}/forms/ticket/diff"), 422)["errors"]


def test_delete_removes_a_never_published_definition_only(app_client: ApiClient) -> None:
    app_client.post(f"{BASE}/forms", json={"body": form()})
    app_client.post(f"{BASE}/forms", json={"body": form(key="draft_only")})
    app_client.post(f"{BASE}/forms/ticket/publish", json={})
    assert_problem(
        app_client.delete(f"{BASE}/forms/ticket?lock_version=2"), 409, "definition.published"
    )
    assert app_client.delete(f"{BASE}/forms/draft_only?lock_version=1").status_code == 204
    assert [d["key"] for d in app_client.get(f"{BASE}/forms").get_json()] == ["ticket"]


def test_reader_neither_reads_nor_changes_drafts(
    app_client: ApiClient, platform: Platform, app: Flask
) -> None:
    app_client.post(f"{BASE}/forms", json={"body": form()})
    user = make_user(platform, "viewer")
    role = app_client.post("/api/v1/roles", json={"key": "viewers", "name": "Viewers"}).get_json()
    app_client.post(
        f"/api/v1/roles/{role['id']}/grants", json={"app_key": "aftersales", "actions": ["read"]}
    )
    app_client.put(f"/api/v1/roles/{role['id']}/members/{user.id}")
    viewer = ApiClient(app.test_client())
    viewer.login("viewer", "user-password-1")
    assert_problem(viewer.get(f"{BASE}/forms/ticket"), 403, "permission.design")  # drafts too
    assert viewer.get("/api/v1/me").get_json()["design_apps"] == []
    refused = viewer.put(f"{BASE}/forms/ticket", json={"body": form(label="x"), "lock_version": 1})
    assert_problem(refused, 403, "permission.design")
    make_user(platform, "outsider")
    outsider = ApiClient(app.test_client())
    outsider.login("outsider", "user-password-1")
    assert_problem(outsider.get(f"{BASE}/forms/ticket"), 404, "app.not_found")
    assert outsider.get("/api/v1/apps").get_json() == []
    assert_problem(ApiClient(app.test_client()).get(f"{BASE}/forms"), 401)


def test_definition_list_costs_the_same_queries_whatever_its_length(
    app_client: ApiClient, platform: Platform
) -> None:
    for i in range(2):
        app_client.post(f"{BASE}/forms", json={"body": form(key=f"f{i}")})
        app_client.post(f"{BASE}/forms/f{i}/publish", json={})
    with count_queries(platform.engine) as few:
        assert len(app_client.get(f"{BASE}/forms").get_json()) == 2
    for i in range(2, 8):
        app_client.post(f"{BASE}/forms", json={"body": form(key=f"f{i}")})
        app_client.post(f"{BASE}/forms/f{i}/publish", json={})
    with count_queries(platform.engine) as many:
        assert len(app_client.get(f"{BASE}/forms").get_json()) == 8
    assert len(few) == len(many)


def test_openapi_documents_the_definition_paths(client: ApiClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/apps",
        "/api/v1/apps/{app}",
        "/api/v1/apps/{app}/{kinds}",
        "/api/v1/apps/{app}/{kinds}/{key}",
        "/api/v1/apps/{app}/{kinds}/{key}/publish",
        "/api/v1/apps/{app}/{kinds}/{key}/versions",
        "/api/v1/apps/{app}/{kinds}/{key}/versions/{number}",
        "/api/v1/apps/{app}/{kinds}/{key}/diff",
        "/api/v1/apps/{app}/{kinds}/{key}/archive",
        "/api/v1/apps/{app}/{kinds}/{key}/restore",
    ):
        assert path in paths, path
    assert "delete" in paths["/api/v1/apps/{app}"]  # uninstall
    parameters = {p["name"] for p in paths["/api/v1/apps/{app}"]["delete"]["parameters"]}
    assert {"dry_run", "lock_version"} <= parameters
    for action in ("archive", "restore"):
        operation = paths[f"/api/v1/apps/{{app}}/{{kinds}}/{{key}}/{action}"]["post"]
        assert {"200", "default"} <= set(operation["responses"])
