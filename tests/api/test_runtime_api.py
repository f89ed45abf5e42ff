"""What the web runtime reads: an app's menu and its forms' schemas, for the caller."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from openpyxl import load_workbook

from tangram.platform import metadata, packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.records import saved_views
from tests.apps.test_aftersales import PACKAGE
from tests.conftest import ApiClient, assert_problem
from tests.platform.test_packages import SYSTEM

APP = "/api/v1/apps/aftersales"


def install(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        users.create_user(
            uow, SYSTEM, username="viewer", password="viewer-password-1", roles=["report_viewer"]
        )
        uow.commit()


def test_the_menu_and_the_schemas_follow_the_language_and_the_grants(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    menu = admin_client.get(f"{APP}/navigation?lang=en").get_json()
    assert menu["app"]["name"] == "After-sales service"
    assert menu["app"]["strings"]["menu.cockpit"] == "Cockpit"
    forms = {f["key"]: f for f in menu["forms"]}
    assert forms["ticket"] == {"key": "ticket", "label": "Service ticket", "can_create": True}
    assert [d["key"] for d in menu["dashboards"]] == ["cockpit"]
    assert {f["key"] for f in menu["flows"]} >= {"ticket_handling", "improvement_cycle"}
    zh = admin_client.get(f"{APP}/navigation").get_json()
    assert {f["key"]: f["label"] for f in zh["forms"]}["ticket"] == "售后工单"

    schema = admin_client.get(f"{APP}/forms/ticket/schema?lang=en").get_json()
    assert schema["label"] == "Service ticket"
    assert schema["json_schema"]["properties"]["urgency"]["enum"] == ["P1", "P2", "P3", "P4"]
    assert schema["ui_schema"]["urgency"]["ui:title"] == "Urgency"
    assert schema["title_field"] == "title"
    assert schema["can"] == {"create": True, "update": True, "delete": True}
    assert "acceptance_result" in schema["conditions"]
    fields = {f["key"]: f for f in schema["fields"]}
    assert fields["customer"]["reference"] == {"form": "customer", "display": "name"}
    assert fields["issue_type"]["options"][0] == {"value": "software_bug", "label": "Software bug"}
    assert (fields["urgency"]["default"], fields["channel"]["default"]) == ("P3", "phone")
    assert "default" not in fields["title"]
    assert schema["messages"]["format.email"] == "must be an e-mail address"
    assert schema["messages"]["maxLength"] == "must be at most {limit} characters"

    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    read_only = viewer.get(f"{APP}/forms/ticket/schema").get_json()
    assert read_only["can"] == {"create": False, "update": False, "delete": False}
    assert all(not f["can_create"] for f in viewer.get(f"{APP}/navigation").get_json()["forms"])
    assert_problem(viewer.get(f"{APP}/forms/ticket/schema?lang=fr"), 422)
    assert_problem(viewer.get("/api/v1/apps/nowhere/navigation"), 404)
    assert_problem(admin_client.get(f"{APP}/forms/nothing/schema"), 404)


def test_a_new_ticket_shows_the_fields_the_flow_s_start_lets_its_author_write(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    with platform.unit_of_work() as uow:
        users.create_user(uow, SYSTEM, username="desk", password="desk-password-1", roles=["agent"])
        uow.commit()
    agent = ApiClient(app.test_client())
    assert agent.login("desk", "desk-password-1").status_code == 200
    schema = agent.get(f"{APP}/forms/ticket/schema").get_json()
    shown = set(schema["create_fields"])
    # the intake (what ticket handling's start lets the initiator edit), not the later steps
    assert {"title", "customer", "urgency", "description", "images"} <= shown
    assert not shown & {"response_note", "root_cause", "measures", "csat", "acceptance"}
    assert "ticket_no" in shown  # a computed serial shows with the fields it follows
    # a form no flow starts on by itself shows every field its author may write
    customer = agent.get(f"{APP}/forms/customer/schema").get_json()
    assert customer["create_fields"] == [f["key"] for f in customer["fields"]]
    admin = admin_client.get(f"{APP}/forms/ticket/schema").get_json()
    assert set(admin["create_fields"]) == shown
    # a flow whose start names no editable field leaves the form whole
    with platform.unit_of_work() as uow:
        body = metadata.published_body(uow, "aftersales", "flow", "ticket_handling")[2]
        start = next(n for n in body["nodes"] if n["type"] == "start")
        start.pop("permissions")
        metadata.update_draft(
            uow,
            SYSTEM,
            "aftersales",
            "flow",
            "ticket_handling",
            body,
            lock_version=metadata.get_definition(
                uow, SYSTEM, "aftersales", "flow", "ticket_handling"
            ).definition.lock_version,
        )
        metadata.publish(uow, SYSTEM, "aftersales", "flow", "ticket_handling")
        uow.commit()
    whole = agent.get(f"{APP}/forms/ticket/schema").get_json()
    assert "response_note" in whole["create_fields"]


def test_someone_without_grants_sees_an_empty_menu_or_a_403(platform: Platform, app: Flask) -> None:
    install(platform)
    with platform.unit_of_work() as uow:
        users.create_user(uow, SYSTEM, username="nobody", password="nobody-password-1")
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("nobody", "nobody-password-1").status_code == 200
    assert_problem(client.get(f"{APP}/navigation"), 404)
    assert_problem(client.get(f"{APP}/forms/ticket/schema"), 403)


def test_pickers_name_people_and_groups_to_readers_only(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    found = viewer.get(f"{APP}/people?q=view").get_json()
    assert [u["username"] for u in found["users"]] == ["viewer"]
    assert {"key": "line_a_qe", "name": "A线质量工程师组"}.items() <= next(
        g for g in found["groups"] if g["key"] == "line_a_qe"
    ).items()
    admin_id = admin_client.get("/api/v1/me").get_json()["id"]
    named = viewer.get(f"{APP}/people?q=nobody-matches&ids={admin_id}").get_json()
    assert [u["username"] for u in named["users"]] == ["admin"]
    with platform.unit_of_work() as uow:
        users.create_user(uow, SYSTEM, username="outsider", password="outsider-password-1")
        uow.commit()
    outsider = ApiClient(app.test_client())
    assert outsider.login("outsider", "outsider-password-1").status_code == 200
    assert_problem(outsider.get(f"{APP}/people"), 403)


def test_a_record_list_exports_with_labels_filters_and_scope(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    with platform.unit_of_work() as uow:
        customer = records.create_record(
            uow, SYSTEM, "aftersales", "customer", {"name": "华东精密", "tier": "key"}
        ).record
        for title, issue in (("噪音", "hardware_fault"), ("闪退", "software_bug")):
            records.create_record(
                uow,
                SYSTEM,
                "aftersales",
                "ticket",
                {"title": title, "issue_type": issue, "customer": customer.id, "product_line": "A"},
            )
        uow.commit()
    base = f"{APP}/records/ticket/export"
    csv_text = admin_client.get(f"{base}?issue_type=hardware_fault").data.decode("utf-8")
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("编号,创建时间,工单号,标题")
    assert len(lines) == 2
    # times in the app's zone as people read them (the suite's clock: 01:00 UTC, 09:00 here)
    assert ",2026-11-22 09:00," in lines[1]
    assert ",否," in lines[1]  # a switch reads yes or no
    assert "硬件故障" in lines[1]
    assert "噪音" in lines[1]
    assert "华东精密" in lines[1]  # the customer by its name, not its id
    assert "A线质量工程师组" in lines[1]  # the group it was dispatched to, by name
    english = admin_client.get(f"{base}?lang=en&sort=-_id").data.decode("utf-8")
    assert english.lstrip("\ufeff").startswith("No.,Created at,")
    assert "Issue type" in english.splitlines()[0]
    assert "Software bug" in english.splitlines()[1]  # newest first
    xlsx = admin_client.get(f"{base}?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert sheet.max_row == 3
    assert xlsx.headers["X-Truncated"] == "false"
    assert_problem(admin_client.get(f"{base}?format=pdf"), 422)
    assert_problem(admin_client.get(f"{base}?colour=red"), 422)
    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    assert viewer.get(base).status_code == 200  # readers export what they may read


def test_saved_views_are_kept_per_user_checked_and_shared_by_admins(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    views = f"{APP}/records/ticket/views"
    saved = admin_client.post(
        views,
        json={
            "name": " Open P1 ",
            "filters": {"status__in": "new,assigned", "urgency": "P1"},
            "sort": "-_created_at",
        },
    )
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert (body["name"], body["mine"], body["shared"]) == ("Open P1", True, False)
    assert body["filters"] == {"status__in": "new,assigned", "urgency": "P1"}
    # the same name replaces the view; the list of the form shows it once
    again = admin_client.post(views, json={"name": "Open P1", "filters": {"urgency": "P2"}})
    assert again.get_json()["id"] == body["id"]
    listed = admin_client.get(views).get_json()
    assert [(v["name"], v["filters"], v["sort"]) for v in listed] == [
        ("Open P1", {"urgency": "P2"}, "")
    ]

    # every bad filter and the sort are named, and nothing is saved
    bad = assert_problem(
        admin_client.post(
            views,
            json={
                "name": "Broken",
                "filters": {
                    "nope": "1",
                    "major__lt": "true",
                    "_created_at__gte": "yesterday",
                    "limit": "5",
                },
                "sort": "images",
            },
        ),
        422,
        "view.invalid",
    )
    assert set(bad["errors"]) == {
        "filters/limit",
        "filters/nope",
        "filters/major__lt",
        "filters/_created_at__gte",
        "sort",
    }
    bad = assert_problem(
        admin_client.post(
            views,
            json={
                "name": "Broken",
                "filters": {"nope": "1", "_created_at__gte": "yesterday"},
                "sort": "images",
            },
        ),
        422,
        "view.invalid",
    )
    assert set(bad["errors"]) == {"filters/nope", "filters/_created_at__gte", "sort"}
    bad = assert_problem(admin_client.post(views, json={"name": "Broken", "sort": "images"}), 422)
    assert list(bad["errors"]) == ["sort"]
    assert_problem(admin_client.post(views, json={"name": "   "}), 422, "view.invalid")
    assert_problem(admin_client.post(views, json={"name": "x", "filters": {"urgency": 1}}), 422)
    assert_problem(admin_client.post(views, json={"name": "x", "colour": "red"}), 422)
    assert [v["name"] for v in admin_client.get(views).get_json()] == ["Open P1"]
    assert_problem(admin_client.get(f"{APP}/records/nowhere/views"), 404)

    # another user sees none of the admin's own views, may not share, keeps their own
    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    assert viewer.get(views).get_json() == []
    assert_problem(
        viewer.post(views, json={"name": "Mine", "shared": True}), 403, "view.share_denied"
    )
    mine = viewer.post(views, json={"name": "Mine", "filters": {"urgency": "P1"}}).get_json()
    assert_problem(viewer.delete(f"{views}/{body['id']}"), 404, "view.not_found")

    shared = admin_client.post(
        views, json={"name": "Team", "filters": {"status": "new"}, "shared": True}
    ).get_json()
    seen = viewer.get(views).get_json()
    assert [(v["name"], v["mine"], v["shared"]) for v in seen] == [
        ("Mine", True, False),
        ("Team", False, True),
    ]
    assert_problem(viewer.delete(f"{views}/{shared['id']}"), 403, "view.delete_denied")
    assert viewer.delete(f"{views}/{mine['id']}").status_code == 204
    assert [v["name"] for v in viewer.get(views).get_json()] == ["Team"]
    # a saved view's filters work on the list as they are
    listed = admin_client.get(f"{APP}/records/ticket", query_string=shared["filters"])
    assert listed.status_code == 200


def test_a_user_keeps_a_bounded_number_of_views_per_form(
    platform: Platform, admin_client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(platform)
    monkeypatch.setattr(saved_views, "MAX_VIEWS", 2)
    views = f"{APP}/records/ticket/views"
    for name in ("one", "two"):
        assert admin_client.post(views, json={"name": name}).status_code == 200
    assert admin_client.post(views, json={"name": "two", "sort": "-_id"}).status_code == 200
    assert_problem(admin_client.post(views, json={"name": "three"}), 422, "view.too_many")
    assert (
        admin_client.post(f"{APP}/records/customer/views", json={"name": "three"}).status_code
        == 200
    )


def test_the_designer_previews_a_form_body_with_the_runtime_schemas(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    install(platform)
    body = admin_client.get(f"{APP}/forms/ticket").get_json()["body"]
    published = admin_client.get(f"{APP}/forms/ticket/schema?lang=en").get_json()
    preview = admin_client.post(f"{APP}/forms/ticket/preview", json={"body": body, "lang": "en"})
    assert preview.status_code == 200
    drawn = preview.get_json()
    assert drawn["version"] == 0
    for part in ("json_schema", "ui_schema", "conditions", "fields", "title_field", "label"):
        assert drawn[part] == published[part], part

    body["fields"].append({"key": "site", "type": "text", "label": {"zh-CN": "现场", "en": "Site"}})
    drawn = admin_client.post(f"{APP}/forms/ticket/preview", json={"body": body}).get_json()
    assert drawn["ui_schema"]["site"]["ui:title"] == "现场"
    assert "site" not in admin_client.get(f"{APP}/forms/ticket/schema").get_json()["ui_schema"]

    broken = {**body, "fields": [*body["fields"], {"key": "total", "type": "formula"}]}
    problem = assert_problem(
        admin_client.post(f"{APP}/forms/ticket/preview", json={"body": broken}), 422
    )
    assert any(
        d["path"].startswith(f"/fields/{len(body['fields'])}") for d in problem["diagnostics"]
    )
    renamed = {**body, "key": "other"}
    assert_problem(admin_client.post(f"{APP}/forms/ticket/preview", json={"body": renamed}), 422)

    viewer = ApiClient(app.test_client())
    assert viewer.login("viewer", "viewer-password-1").status_code == 200
    assert_problem(viewer.post(f"{APP}/forms/ticket/preview", json={"body": body}), 403)
