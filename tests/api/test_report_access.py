"""Reports, KPI cards, dashboards, drill-downs and exports ask for the same read grants as the
record API: on the dataset's form and on every form it joins through a reference."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tests.conftest import ApiClient, assert_problem
from tests.platform.rules_fixtures import SYSTEM, World, build_world
from tests.platform.test_report_datasets import CASE, CUSTOMER, rows

APP = "/api/v1/apps/svc"
PERIOD = "2026-11-01..2026-11-30"

BY_ISSUE = {
    "key": "by_issue",
    "label": {"zh-CN": "按问题", "en": "By issue"},
    "dataset": {
        "form": "case",
        "dimensions": [{"key": "issue", "field": "issue"}],
        "measures": [{"key": "cases", "type": "count"}],
    },
    "widget": {"type": "bar", "x": "issue", "y": "cases"},
}
BY_CUSTOMER = {
    "key": "by_customer",
    "label": {"zh-CN": "按客户", "en": "By customer"},
    "dataset": {
        "form": "case",
        "dimensions": [{"key": "customer_name", "field": "customer.name"}],
        "measures": [{"key": "cases", "type": "count"}],
    },
    "widget": {"type": "bar", "x": "customer_name", "y": "cases"},
}
VIP_COST = {
    "key": "vip_cost",
    "label": {"zh-CN": "VIP 成本", "en": "Cost of VIP cases"},
    "dataset": {
        "form": "case",
        "filter": {"==": [{"var": "customer.tier"}, "vip"]},
        "dimensions": [{"key": "issue", "field": "issue"}],
        "measures": [{"key": "cost", "type": "sum", "field": "cost"}],
    },
    "widget": {"type": "table"},
}
VIP_CASES = {
    "key": "vip_cases",
    "label": {"zh-CN": "VIP 工单", "en": "VIP cases"},
    "form": "case",
    "measure": {"type": "count"},
    "filter": {"==": [{"var": "customer.tier"}, "vip"]},
    "period_field": "opened_at",
    "decimals": 0,
}
BOARD = {
    "key": "board",
    "label": {"zh-CN": "看板", "en": "Board"},
    "columns": 12,
    "filters": [{"key": "period", "type": "date_range", "field": "opened_at", "default": PERIOD}],
    "widgets": [
        {"id": "issues", "report": "by_issue"},
        {"id": "customers", "report": "by_customer"},
        {"id": "vip", "kpi": "vip_cases"},
    ],
}


def _world(platform: Platform) -> World:
    """Twelve cases, the odd ones for customer Acme (VIP, owned by ann), the even ones for Bolt."""
    world = build_world(platform)
    world.publish("form", CUSTOMER)
    world.publish("form", CASE)
    with platform.unit_of_work() as uow:
        acme = records.create_record(
            uow,
            SYSTEM,
            "svc",
            "customer",
            {"name": "Acme", "tier": "vip"},
            owner_id=world.users["ann"],
        ).record
        bolt = records.create_record(
            uow, SYSTEM, "svc", "customer", {"name": "Bolt", "tier": "normal"}
        ).record
        uow.commit()
    for i, data in enumerate(rows()):
        world.create({**data, "customer": acme.id if i % 2 else bolt.id}, form="case")
    for kind, body in (
        ("report", BY_ISSUE),
        ("report", BY_CUSTOMER),
        ("report", VIP_COST),
        ("kpi", VIP_CASES),
        ("dashboard", BOARD),
    ):
        world.publish(kind, body)
    return world


def _viewer(
    platform: Platform, app: Flask, world: World, name: str, grants: list[tuple[str, str]]
) -> ApiClient:
    """Sign ``name`` in holding only read grants ``(form, scope)`` in app svc."""
    world.revoke_staff(name)
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key=f"{name}_reader", name=f"{name} reader")
        for form, scope in grants:
            roles.add_grant(
                uow, SYSTEM, role.id, app_key="svc", form_key=form, actions=["read"], scope=scope
            )
        user = users.get_user(uow, world.users[name])
        users.update_user(
            uow, SYSTEM, user.id, {"password": "viewer-password-1"}, lock_version=user.lock_version
        )
        users.assign_role(uow, SYSTEM, role_id=role.id, user_id=user.id)
        uow.commit()
    client = ApiClient(app.test_client())
    assert client.login(name, "viewer-password-1").status_code == 200
    return client


def _refused(response: Any) -> None:
    """403 ``permission.record``, naming the form, with no customer's value in it."""
    problem = assert_problem(response, 403, "permission.record")
    assert "customer" in problem["detail"]
    assert b"Acme" not in response.data
    assert b"Bolt" not in response.data


@pytest.mark.parametrize(
    "path",
    [
        "/reports/by_customer/data",
        "/reports/by_customer/data?format=csv",
        "/reports/by_customer/data?format=xlsx",
        "/reports/vip_cost/data",
        "/reports/by_customer/records?at.customer_name=Acme",
        "/reports/by_customer/records?at.customer_name=Nobody",
        "/reports/vip_cost/records?at.issue=hw",
        "/kpis/vip_cases/data",
        "/dashboards/board/widgets/customers/data?format=csv",
        "/dashboards/board/widgets/customers/records?at.customer_name=Acme",
        "/dashboards/board/widgets/vip/data",
        "/dashboards/board/widgets/vip/records",
    ],
)
def test_a_report_joining_a_form_the_viewer_may_not_read_is_refused_when_they_hold_no_grant(
    platform: Platform, app: Flask, path: str
) -> None:
    world = _world(platform)
    ann = _viewer(platform, app, world, "ann", [("case", "all")])
    assert_problem(ann.get(f"{APP}/records/customer"), 403, "permission.record")  # as here
    _refused(ann.get(f"{APP}{path}"))


def test_a_dashboard_shows_the_widgets_joining_an_unreadable_form_as_errors_when_no_grant(
    platform: Platform, app: Flask
) -> None:
    world = _world(platform)
    ann = _viewer(platform, app, world, "ann", [("case", "all")])
    plain = ann.get(f"{APP}/reports/by_issue/data")
    assert plain.status_code == 200  # what touches the case form alone still works
    assert sum(r[1] for r in plain.get_json()["rows"]) == 12
    board = ann.get(f"{APP}/dashboards/board/data")
    assert board.status_code == 200, board.get_json()
    assert b"Acme" not in board.data
    assert b"Bolt" not in board.data
    issues, customers, vip = board.get_json()["widgets"]
    assert sum(r[1] for r in issues["data"]["rows"]) == 12
    for widget in (customers, vip):
        assert "data" not in widget
        assert widget["error"]["status"] == 403
        assert widget["error"]["code"] == "permission.record"


def test_referenced_records_outside_the_viewers_scope_read_as_empty_when_the_grant_is_own(
    platform: Platform, app: Flask, admin_client: ApiClient
) -> None:
    world = _world(platform)
    # ann reads every case, and the customers she owns: Acme, not Bolt
    ann = _viewer(platform, app, world, "ann", [("case", "all"), ("customer", "own")])
    mine = ann.get(f"{APP}/reports/by_customer/data")
    assert mine.status_code == 200, mine.get_json()
    assert sorted(mine.get_json()["rows"], key=str) == [["Acme", 6], [None, 6]]
    assert b"Bolt" not in mine.data
    # the same report for the administrator is not served from ann's cached result
    everything = admin_client.get(f"{APP}/reports/by_customer/data").get_json()
    assert sorted(everything["rows"]) == [["Acme", 6], ["Bolt", 6]]
    # drilling into a guessed name answers nothing about customers she may not read
    drill = f"{APP}/reports/by_customer/records?at.customer_name="
    assert ann.get(f"{drill}Bolt").get_json()["total"] == 0
    assert ann.get(f"{drill}Nobody").get_json()["total"] == 0
    assert ann.get(f"{drill}Acme").get_json()["total"] == 6
    assert ann.get(drill).get_json()["total"] == 6  # Bolt's cases, as if without a customer
    assert admin_client.get(f"{drill}Bolt").get_json()["total"] == 6
    card = ann.get(f"{APP}/kpis/vip_cases/data?period={PERIOD}")
    assert card.get_json()["value"] == 6  # Acme is hers and VIP
    board = ann.get(f"{APP}/dashboards/board/data").get_json()
    assert board["widgets"][1]["data"]["rows"] == mine.get_json()["rows"]


def test_reports_of_an_app_the_viewer_holds_no_grant_in_do_not_exist_for_them(
    platform: Platform, app: Flask
) -> None:
    world = _world(platform)
    bob = _viewer(platform, app, world, "bob", [])
    assert_problem(bob.get(f"{APP}/records/case"), 404, "app.not_found")  # as here
    for path in (
        "/reports/by_issue/data",
        "/reports/nothing/data",
        "/reports/by_issue/records?at.issue=hw",
        "/kpis/vip_cases/data",
        "/dashboards/board/data",
        "/dashboards/board/widgets/issues/data",
        "/dashboards/board/widgets/issues/records?at.issue=hw",
    ):
        response = bob.get(f"{APP}{path}")
        assert_problem(response, 404, "app.not_found")
        assert b"Board" not in response.data
