"""The design workbench's API: the live check, the app's list, versions with authors, restoring a
version as the draft, a form's changes by field, and what a publication means for the data."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tangram.platform import packages
from tangram.platform.bootstrap import Platform
from tests.apps.test_aftersales import PACKAGE
from tests.conftest import ApiClient, assert_problem, make_user
from tests.platform.test_packages import SYSTEM

BASE = "/api/v1/apps/shop"


def save(client: ApiClient, body: dict[str, Any], key: str = "order") -> dict[str, Any]:
    """Save a draft on its current lock version."""
    lock = client.get(f"{BASE}/forms/{key}").get_json()["lock_version"]
    saved = client.put(f"{BASE}/forms/{key}", json={"body": body, "lock_version": lock})
    assert saved.status_code == 200, saved.get_json()
    result: dict[str, Any] = saved.get_json()
    return result


def choice(key: str, values: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "type": "select",
        "label": {"zh-CN": key},
        "options": [{"value": v, "label": {"zh-CN": v.upper()}} for v in values],
        **extra,
    }


def order_form(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "order",
        "label": {"zh-CN": "订单", "en": "Order"},
        "fields": [
            {"key": "title", "type": "text", "label": {"zh-CN": "标题", "en": "Title"}},
            {"key": "note", "type": "textarea", "label": {"zh-CN": "备注"}},
            choice("size", ["s", "m", "l"]),
            {
                "key": "lines",
                "type": "sub_table",
                "label": {"zh-CN": "明细"},
                "fields": [{"key": "item", "type": "text", "label": {"zh-CN": "品名"}}],
            },
        ],
        "layout": {"sections": [{"title": {"zh-CN": "基本"}, "fields": ["title", "note", "size"]}]},
    }
    body.update(changes)
    return body


@pytest.fixture
def shop(admin_client: ApiClient) -> ApiClient:
    created = admin_client.post(
        "/api/v1/apps",
        json={
            "key": "shop",
            "name": {"zh-CN": "商店"},
            "icon": "ToolOutlined",
            "time_zone": "Europe/Berlin",
        },
    )
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["icon"], created.get_json()["time_zone"]) == (
        "ToolOutlined",
        "Europe/Berlin",
    )
    assert admin_client.post(f"{BASE}/forms", json={"body": order_form()}).status_code == 201
    assert (
        admin_client.post(f"{BASE}/forms/order/publish", json={"note": "上线"}).status_code == 201
    )
    return admin_client


def test_apps_have_an_icon_and_a_time_zone(shop: ApiClient) -> None:
    bad = shop.post(
        "/api/v1/apps", json={"key": "x", "name": {"zh-CN": "x"}, "time_zone": "Mars/Base"}
    )
    assert "time_zone" in assert_problem(bad, 422)["errors"]
    changed = shop.patch(BASE, json={"icon": "🛠", "lock_version": 1}).get_json()
    assert changed["icon"] == "🛠"
    assert changed["time_zone"] == "Europe/Berlin"
    assert shop.get("/api/v1/me").get_json()["design_apps"] == ["shop"]


def test_the_check_gives_the_verdict_of_publishing_without_saving(shop: ApiClient) -> None:
    broken = order_form()
    broken["fields"][0]["pattern"] = "(unclosed"
    broken["fields"].append({"key": "total", "type": "formula", "label": {"zh-CN": "合计"}})
    verdict = shop.post(f"{BASE}/forms/check", json={"body": broken})
    assert verdict.status_code == 200
    paths = {p["path"] for p in verdict.get_json()["problems"]}
    assert paths == {"/fields/4"} or any(p.startswith("/fields/4") for p in paths)
    fine = shop.post(f"{BASE}/forms/check", json={"body": order_form()}).get_json()
    assert fine == {"problems": [], "warnings": []}
    # the compiler's own problems, pinned on the field: a bad pattern
    patterned = order_form()
    patterned["fields"][0]["pattern"] = "(unclosed"
    found = shop.post(f"{BASE}/forms/check", json={"body": patterned}).get_json()["problems"]
    assert [(p["path"], p["code"]) for p in found] == [
        ("/fields/0/pattern", "form.pattern.invalid")
    ]
    assert shop.get(f"{BASE}/forms/order").get_json()["body"] == order_form()  # nothing saved
    assert_problem(shop.post(f"{BASE}/forms/check", json={"body": {"label": "x"}}), 422)
    assert_problem(shop.post(f"{BASE}/forms/check", json={}), 422)


def test_the_workbench_lists_every_definition_with_its_status(shop: ApiClient) -> None:
    shop.post(
        f"{BASE}/forms",
        json={"body": {"key": "draft_only", "label": {"zh-CN": "草稿"}, "fields": []}},
    )
    save(shop, order_form(label={"zh-CN": "订单2"}))
    listed = {d["key"]: d for d in shop.get(f"{BASE}/definitions").get_json()}
    assert listed["order"]["status"] == "changed"
    assert listed["order"]["published_version"] == 1
    assert listed["order"]["name"] == {"zh-CN": "订单2"}
    assert listed["draft_only"]["status"] == "draft"
    assert listed["draft_only"]["problems"] == 1
    shop.post(f"{BASE}/forms/order/publish", json={})
    assert {d["key"]: d for d in shop.get(f"{BASE}/definitions").get_json()}["order"]["status"] == (
        "published"
    )


def test_versions_name_their_authors_and_one_can_be_restored(shop: ApiClient) -> None:
    save(shop, order_form(label={"zh-CN": "新订单"}))
    shop.post(f"{BASE}/forms/order/publish", json={"note": "改名"})
    versions = shop.get(f"{BASE}/forms/order/versions").get_json()
    assert [(v["version"], v["author"]) for v in versions] == [
        (2, "Administrator"),
        (1, "Administrator"),
    ] or all(v["author"] for v in versions)
    lock = shop.get(f"{BASE}/forms/order").get_json()["lock_version"]
    stale = shop.post(f"{BASE}/forms/order/versions/1/restore", json={"lock_version": lock - 1})
    current = assert_problem(stale, 409)["current"]
    assert current["updated_by"]
    assert current["lock_version"] == lock
    restored = shop.post(f"{BASE}/forms/order/versions/1/restore", json={"lock_version": lock})
    assert restored.status_code == 200
    assert restored.get_json()["body"] == order_form()
    assert restored.get_json()["problems"] == []
    assert_problem(
        shop.post(f"{BASE}/forms/order/versions/9/restore", json={"lock_version": lock + 1}), 404
    )


def test_a_forms_changes_are_told_by_field_and_label(shop: ApiClient) -> None:
    changed = order_form()
    changed["fields"][0]["label"] = {"zh-CN": "主题", "en": "Subject"}
    del changed["fields"][1]
    changed["fields"][2]["fields"].append(
        {"key": "qty", "type": "integer", "label": {"zh-CN": "数量"}}
    )
    changed["fields"].append({"key": "due", "type": "date", "label": {"zh-CN": "交期"}})
    changed["layout"]["sections"][0]["fields"] = ["title", "size"]
    save(shop, changed)
    diff = shop.get(f"{BASE}/forms/order/diff?from=1&to=draft&view=fields").get_json()
    by_key = {(f["parent"], f["key"]): f for f in diff["fields"]}
    assert by_key[(None, "title")]["op"] == "changed"
    assert by_key[(None, "title")]["old_label"] == {"zh-CN": "标题", "en": "Title"}
    assert by_key[(None, "title")]["changes"] == [
        {
            "property": "label",
            "old": {"zh-CN": "标题", "en": "Title"},
            "new": {"zh-CN": "主题", "en": "Subject"},
        }
    ]
    assert by_key[(None, "note")]["op"] == "removed"
    assert by_key[("lines", "qty")]["op"] == "added"
    assert by_key[(None, "due")]["op"] == "added"
    assert diff["layout"] == [
        {
            "property": "sections/1/fields",
            "old": ["title", "note", "size"],
            "new": ["title", "size"],
        }
    ]
    assert isinstance(shop.get(f"{BASE}/forms/order/diff?from=1").get_json(), list)
    assert_problem(shop.get(f"{BASE}/forms/order/diff?from=1&view=words"), 422)


def test_the_impact_counts_what_a_publication_leaves_behind(
    shop: ApiClient, platform: Platform
) -> None:
    for note, size in [("留言", "s"), ("", "m"), ("说明", "l"), ("", "l")]:
        made = shop.post(
            f"{BASE}/records/order", json={"data": {"title": "t", "note": note, "size": size}}
        )
        assert made.status_code == 201, made.get_json()
    changed = order_form()
    del changed["fields"][1]  # note: holds values in two records
    changed["fields"][1]["options"] = [
        o for o in changed["fields"][1]["options"] if o["value"] != "l"
    ]
    changed["fields"][0]["required"] = True  # title: filled everywhere
    changed["layout"]["sections"][0]["fields"] = ["title", "size"]
    save(shop, changed)
    impact = shop.get(f"{BASE}/forms/order/impact").get_json()
    assert impact["published_version"] == 1
    assert impact["removed_values"] == [{"field": "note", "label": {"zh-CN": "备注"}, "records": 2}]
    assert impact["options_in_use"] == [
        {
            "field": "size",
            "label": {"zh-CN": "size"},
            "option": "l",
            "option_label": {"zh-CN": "L"},
            "records": 2,
        }
    ]
    assert impact["required_empty"] == []
    assert any(f["key"] == "note" and f["op"] == "removed" for f in impact["diff"]["fields"])
    assert impact["running"] == []
    assert impact["referenced_by"] == []


def test_the_impact_of_a_flow_counts_its_running_instances(
    platform: Platform, admin_client: ApiClient
) -> None:
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        uow.commit()
    base = "/api/v1/apps/aftersales"
    ticket = admin_client.post(
        f"{base}/records/ticket", json={"data": {"title": "坏了", "issue_type": "software_bug"}}
    )
    assert ticket.status_code == 201
    impact = admin_client.get(f"{base}/flows/ticket_handling/impact").get_json()
    assert impact["diff"] == []
    (running,) = impact["running"]
    assert running["version"] == 1
    assert running["instances"] == 1
    # where the instance is: the first response, labelled as version 1 has it, kept by the draft
    assert running["nodes"] == [
        {
            "node": "respond",
            "label": {"zh-CN": "首次响应", "en": "First response"},
            "type": "fill",
            "instances": 1,
            "in_draft": True,
        }
    ]
    # a draft without that node says the instance there must be moved after publishing
    flow = admin_client.get(f"{base}/flows/ticket_handling").get_json()
    body = flow["body"]
    body["nodes"] = [n for n in body["nodes"] if n["id"] != "respond"]
    body["edges"] = [
        {**e, "from": "start"} if e["from"] == "respond" else e
        for e in body["edges"]
        if e["to"] != "respond"
    ]
    saved = admin_client.put(
        f"{base}/flows/ticket_handling", json={"body": body, "lock_version": flow["lock_version"]}
    )
    assert saved.status_code == 200, saved.get_json()
    impact = admin_client.get(f"{base}/flows/ticket_handling/impact").get_json()
    assert impact["running"][0]["nodes"][0]["in_draft"] is False
    form_impact = admin_client.get(f"{base}/forms/ticket/impact").get_json()
    assert {"kind": "flow", "key": "ticket_handling"} in form_impact["referenced_by"]


def test_only_designers_reach_the_workbench(
    shop: ApiClient, platform: Platform, app: Flask
) -> None:
    user = make_user(platform, "clerk")
    role = shop.post("/api/v1/roles", json={"key": "clerks", "name": "Clerks"}).get_json()
    shop.post(
        f"/api/v1/roles/{role['id']}/grants",
        json={"app_key": "shop", "actions": ["read", "create"]},
    )
    shop.put(f"/api/v1/roles/{role['id']}/members/{user.id}")
    clerk = ApiClient(app.test_client())
    clerk.login("clerk", "user-password-1")
    for path in (
        "/definitions",
        "/forms/order/impact",
        "/forms/order/versions",
        "/forms/order/diff?from=1",
        "/directory",
    ):
        assert_problem(clerk.get(f"{BASE}{path}"), 403, "permission.design")
    assert_problem(clerk.post(f"{BASE}/forms/check", json={"body": order_form()}), 403)
    designer = make_user(platform, "maker")
    drole = shop.post("/api/v1/roles", json={"key": "makers", "name": "Makers"}).get_json()
    shop.post(
        f"/api/v1/roles/{drole['id']}/grants",
        json={"app_key": "shop", "actions": ["read", "design"]},
    )
    shop.put(f"/api/v1/roles/{drole['id']}/members/{designer.id}")
    maker = ApiClient(app.test_client())
    maker.login("maker", "user-password-1")
    assert maker.get("/api/v1/me").get_json()["design_apps"] == ["shop"]
    assert maker.get(f"{BASE}/definitions").status_code == 200
    assert maker.post(f"{BASE}/forms/check", json={"body": order_form()}).status_code == 200
    # a designer who is no administrator names people, groups and roles from the app's directory
    assert_problem(maker.get("/api/v1/users"), 403)
    directory = maker.get(f"{BASE}/directory").get_json()
    assert {"clerk", "maker"} <= {u["username"] for u in directory["users"]}
    assert {"clerks", "makers"} <= {r["key"] for r in directory["roles"]}
    assert set(directory["users"][0]) == {"id", "username", "display_name"}
    assert_problem(maker.get("/api/v1/apps/nothing/directory"), 404)


def test_every_after_sales_definition_passes_the_check(
    platform: Platform, admin_client: ApiClient
) -> None:
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        uow.commit()
    base = "/api/v1/apps/aftersales"
    listed = admin_client.get(f"{base}/definitions").get_json()
    assert len(listed) > 20
    assert all(d["problems"] == 0 for d in listed)
    for entry in listed:
        body = admin_client.get(f"{base}/{entry['kind']}s/{entry['key']}").get_json()["body"]
        verdict = admin_client.post(
            f"{base}/{entry['kind']}s/check", json={"body": body}
        ).get_json()
        assert verdict["problems"] == [], (entry["kind"], entry["key"], verdict)


def test_a_flows_layout_is_saved_and_publishable_but_changes_nothing_it_means(
    shop: ApiClient,
) -> None:
    flow = {
        "key": "approve",
        "label": {"zh-CN": "审批"},
        "form": "order",
        "nodes": [
            {"id": "start", "type": "start", "trigger": "manual"},
            {"id": "check", "type": "approval", "mode": "any", "assignees": {"initiator": True}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
    }
    assert shop.post(f"{BASE}/flows", json={"body": flow}).status_code == 201
    assert shop.post(f"{BASE}/flows/approve/publish", json={}).status_code == 201
    drawn = {**flow, "layout": {"nodes": {"start": {"x": 0, "y": 0}, "check": {"x": 0, "y": 120}}}}
    lock = shop.get(f"{BASE}/flows/approve").get_json()["lock_version"]
    saved = shop.put(f"{BASE}/flows/approve", json={"body": drawn, "lock_version": lock})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["body"]["layout"] == drawn["layout"]  # stored
    assert saved.get_json()["dirty"] is False  # but the flow means what version 1 means
    listed = {d["key"]: d for d in shop.get(f"{BASE}/definitions").get_json()}
    assert listed["approve"]["status"] == "published"
    # the designer may still publish the layout as a version of its own, once
    assert shop.post(f"{BASE}/flows/approve/publish", json={}).status_code == 201
    again = shop.post(f"{BASE}/flows/approve/publish", json={})
    assert_problem(again, 409, "definition.unchanged")
    versions = shop.get(f"{BASE}/flows/approve/versions").get_json()
    assert [v["version"] for v in versions] == [2, 1]
    # a layout the meta-schema does not know is refused with its path
    bad = {**flow, "layout": {"nodes": {"start": {"x": "left"}}}}
    checked = shop.post(f"{BASE}/flows/check", json={"body": bad}).get_json()
    assert any(p["path"].startswith("/layout/nodes/start") for p in checked["problems"])
