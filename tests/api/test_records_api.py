"""Records over HTTP: problems by field path, conflicts, soft delete, timeline, constant queries."""

from __future__ import annotations

import pytest
from flask import Flask

from tangram.platform.bootstrap import Platform
from tests.conftest import ApiClient, assert_problem, count_queries, make_user

BASE = "/api/v1/apps/aftersales/records/ticket"
TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单"},
    "fields": [
        {
            "key": "ticket_no",
            "type": "serial",
            "label": {"zh-CN": "工单号"},
            "serial": "SV-{date:%Y%m%d}-{seq:4}",
        },
        {"key": "title", "type": "text", "label": {"zh-CN": "标题"}, "required": True},
        {"key": "urgency", "type": "integer", "label": {"zh-CN": "紧急度"}, "min": 1, "max": 4},
        {
            "key": "measures",
            "type": "sub_table",
            "label": {"zh-CN": "措施"},
            "fields": [
                {"key": "what", "type": "text", "label": {"zh-CN": "内容"}, "required": True},
                {"key": "owner", "type": "user", "label": {"zh-CN": "负责人"}, "required": True},
            ],
        },
    ],
}


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "aftersales", "name": {"zh-CN": "售后"}})
    admin_client.post("/api/v1/apps/aftersales/forms", json={"body": TICKET})
    assert (
        admin_client.post("/api/v1/apps/aftersales/forms/ticket/publish", json={}).status_code
        == 201
    )
    return admin_client


def test_record_is_created_read_updated_and_timelined(api: ApiClient) -> None:
    created = api.post(
        BASE, json={"data": {"title": "设备噪音超标", "measures": [{"what": "换风扇", "owner": 1}]}}
    )
    assert created.status_code == 201
    record = created.get_json()
    assert record["data"]["ticket_no"] == "SV-20261122-0001"
    assert (record["form"], record["form_version"], record["lock_version"]) == ("ticket", 1, 1)
    updated = api.patch(f"{BASE}/{record['id']}", json={"data": {"urgency": 2}, "lock_version": 1})
    assert updated.get_json()["data"]["urgency"] == 2
    stale = api.patch(f"{BASE}/{record['id']}", json={"data": {"urgency": 3}, "lock_version": 1})
    body = assert_problem(stale, 409, "lock_version.stale")
    assert body["current"]["data"]["urgency"] == 2
    timeline = api.get(f"{BASE}/{record['id']}/timeline").get_json()
    assert [e["action"] for e in timeline] == ["record.created", "record.updated"]
    assert timeline[1]["payload"]["changes"] == {"urgency": [None, 2]}


def test_invalid_record_answers_422_with_paths_in_the_callers_language(api: ApiClient) -> None:
    data = {"urgency": 9, "measures": [{"what": "a", "owner": 1}, {"what": "b"}], "colour": "red"}
    english = assert_problem(
        api.post(f"{BASE}?lang=en", json={"data": data}), 422, "record.invalid"
    )
    assert english["errors"] == {
        "title": ["is required"],
        "urgency": ["must be at most 4"],
        "measures/1/owner": ["is required"],
        "colour": ["is not a field of this form"],
    }
    chinese = assert_problem(api.post(BASE, json={"data": data}), 422)
    assert chinese["errors"]["title"] == ["必填"]
    assert api.get(BASE).get_json()["items"] == []


def test_soft_delete_and_restore(api: ApiClient) -> None:
    record = api.post(BASE, json={"data": {"title": "x"}}).get_json()
    assert api.delete(f"{BASE}/{record['id']}?lock_version=1").status_code == 204
    assert_problem(api.get(f"{BASE}/{record['id']}"), 404, "record.not_found")
    assert api.post(f"{BASE}/{record['id']}/restore").status_code == 200
    assert api.get(f"{BASE}/{record['id']}").status_code == 200


def test_unknown_form_and_missing_grant_are_refused(
    api: ApiClient, platform: Platform, app: Flask
) -> None:
    assert_problem(api.get("/api/v1/apps/aftersales/records/nope"), 404, "definition.not_published")
    assert_problem(api.post("/api/v1/apps/aftersales/records/nope", json={"data": {}}), 404)
    make_user(platform, "walter")
    walter = ApiClient(app.test_client())
    walter.login("walter", "user-password-1")
    assert_problem(walter.get(BASE), 404, "app.not_found")


def test_listing_costs_the_same_queries_for_3_or_100_records(
    api: ApiClient, platform: Platform
) -> None:
    for n in range(3):
        api.post(BASE, json={"data": {"title": f"t{n}"}})
    with count_queries(platform.engine) as few:
        assert len(api.get(f"{BASE}?limit=100").get_json()["items"]) == 3
    for n in range(97):
        api.post(BASE, json={"data": {"title": f"u{n}"}})
    with count_queries(platform.engine) as many:
        page = api.get(f"{BASE}?limit=100").get_json()
    assert len(page["items"]) == 100
    assert len(few) == len(many)


def test_records_outlive_form_versions_keeping_and_reporting_removed_fields(
    api: ApiClient,
) -> None:
    record = api.post(BASE, json={"data": {"title": "v1", "urgency": 3}}).get_json()
    draft = api.get("/api/v1/apps/aftersales/forms/ticket").get_json()
    fields = [f for f in TICKET["fields"] if f["key"] != "urgency"]
    fields.append({"key": "notes", "type": "textarea", "label": {"zh-CN": "备注"}})
    saved = api.put(
        "/api/v1/apps/aftersales/forms/ticket",
        json={"body": {**TICKET, "fields": fields}, "lock_version": draft["lock_version"]},
    )
    assert saved.status_code == 200, saved.get_json()
    assert api.post("/api/v1/apps/aftersales/forms/ticket/publish", json={}).status_code == 201

    read = api.get(f"{BASE}/{record['id']}").get_json()
    assert read["form_version"] == 1
    assert read["data"]["urgency"] == 3  # kept in the document
    assert "notes" not in read["data"]  # added later: empty
    assert read["removed_fields"] == ["urgency"]
    changed = api.patch(
        f"{BASE}/{record['id']}", json={"data": {"notes": "moved on"}, "lock_version": 1}
    ).get_json()
    assert changed["form_version"] == 2
    assert changed["data"]["urgency"] == 3
    assert changed["removed_fields"] == ["urgency"]
    refused = api.patch(f"{BASE}/{record['id']}", json={"data": {"urgency": 1}, "lock_version": 2})
    assert assert_problem(refused, 422)["errors"] == {"urgency": ["未知字段"]}
    listed = api.get(f"{BASE}?notes=moved on").get_json()["items"]
    assert [r["id"] for r in listed] == [record["id"]]
