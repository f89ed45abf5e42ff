"""Reports over HTTP: publish checks, data for ECharts, row-level permissions, filters, exports."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from openpyxl import load_workbook

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World, build_world
from tests.platform.test_report_datasets import CASE, CUSTOMER, rows

REPORTS = "/api/v1/apps/svc/reports"


def report(**widget: Any) -> dict[str, Any]:
    return {
        "key": "by_issue",
        "label": {"zh-CN": "问题类型分布", "en": "By issue"},
        "dataset": {
            "form": "case",
            "dimensions": [{"key": "issue", "field": "issue"}],
            "measures": [
                {"key": "tickets", "type": "count"},
                {"key": "cost", "type": "sum", "field": "cost"},
            ],
        },
        "widget": {"type": "bar", "x": "issue", "y": "tickets", **widget},
    }


def setup(platform: Platform) -> World:
    world = build_world(platform)
    world.publish("form", CUSTOMER)
    world.publish("form", CASE)
    for data in rows():
        world.create(data, form="case")
    return world


def test_report_data_exports_and_filters(platform: Platform, admin_client: ApiClient) -> None:
    world = setup(platform)
    world.publish("report", report(type="pareto", top=2))
    out = admin_client.get(f"{REPORTS}/by_issue/data")
    assert out.status_code == 200, out.get_json()
    body = out.get_json()
    assert body["columns"] == ["issue", "tickets", "cost", "cumulative_share"]
    assert body["rows"][0][1] == 4
    assert body["rows"][-1][0] == "others"
    assert body["rows"][-1][1] == 4
    assert body["rows"][-1][3] == 100.0
    assert body["echarts"]["dataset"]["source"] == body["rows"]
    assert set(body["labels"]["issue"]) == {"hw", "sw", "usage"}  # option names for the axis
    assert body["elapsed_ms"] >= 0
    filtered = admin_client.get(f"{REPORTS}/by_issue/data?line=B").get_json()
    assert sum(r[1] for r in filtered["rows"]) == 4
    bad = admin_client.get(f"{REPORTS}/by_issue/data?colour=red")
    assert_problem(bad, 422, "query.invalid")
    assert_problem(admin_client.get(f"{REPORTS}/by_issue/data?format=pdf"), 422)
    csv_text = admin_client.get(f"{REPORTS}/by_issue/data?format=csv")
    assert csv_text.headers["Content-Type"].startswith("text/csv")
    assert csv_text.data.decode("utf-8").startswith("\ufeffissue,tickets,cost,cumulative_share")
    xlsx = admin_client.get(f"{REPORTS}/by_issue/data?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["issue", "tickets", "cost", "cumulative_share"]
    assert_problem(admin_client.get(f"{REPORTS}/nothing/data"), 404)


def test_publishing_a_report_that_does_not_fit_is_refused(
    platform: Platform, admin_client: ApiClient
) -> None:
    world = setup(platform)
    broken = report()
    broken["dataset"]["measures"].append({"key": "avg_issue", "type": "avg", "field": "issue"})
    broken["widget"]["x"] = "nowhere"
    assert admin_client.post(REPORTS, json={"body": broken}).status_code == 201
    problem = assert_problem(
        admin_client.post(f"{REPORTS}/by_issue/publish", json={}), 422, "definition.invalid"
    )
    assert "/dataset/measures/2/field" in problem["errors"]
    del world


def test_viewers_see_only_what_they_may_read(platform: Platform, app: Flask) -> None:
    world = setup(platform)
    world.publish("report", report())
    world.revoke_staff("ann")  # ann reads only what the role below grants
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key="own_cases", name="own cases")
        roles.add_grant(
            uow, SYSTEM, role.id, app_key="svc", form_key="case", actions=["read"], scope="own"
        )
        ann = users.get_user(uow, world.users["ann"])
        users.update_user(
            uow, SYSTEM, ann.id, {"password": "ann-password-1"}, lock_version=ann.lock_version
        )
        users.assign_role(uow, SYSTEM, role_key="own_cases", user_id=ann.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login("ann", "ann-password-1").status_code == 200
    mine = client.get(f"{REPORTS}/by_issue/data").get_json()
    assert mine["rows"] == []  # the records belong to the system: none is hers
