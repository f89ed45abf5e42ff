"""A record's KPI cards (KPIs in the scope of one record: a customer's CSAT over its callbacks, its
open tickets) and the summary fields of its related records, on the after-sales package."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tests.apps.test_customer_health import APP, PASSWORD, SYSTEM, fault, world  # noqa: F401
from tests.conftest import ApiClient, assert_problem


def signed_in(app: Flask, name: str) -> ApiClient:
    client = ApiClient(app.test_client())
    assert client.login(name, PASSWORD).status_code == 200
    return client


def test_a_customer_page_measures_its_kpis_over_its_own_records(
    platform: Platform,
    app: Flask,
    world: dict[str, int],  # noqa: F811
) -> None:
    fault(platform, world, "near")
    fault(platform, world, "near")
    fault(platform, world, "far")
    am = signed_in(app, "am")
    answer = am.get(f"{APP}/records/customer/{world['near']}/kpis")
    assert answer.status_code == 200, answer.get_json()
    cards = {c["key"]: c for c in answer.get_json()}
    assert list(cards) == ["csat", "nps", "open_tickets", "overdue_tickets"]
    assert cards["open_tickets"]["value"] == 2  # not the other customer's ticket
    assert cards["open_tickets"]["via"] == "customer"
    assert cards["open_tickets"]["period"] == {"from": "2025-11-23", "to": "2026-11-22"}
    assert cards["csat"]["value"] is None  # no callbacks yet
    assert cards["csat"]["period"] == {"from": "2026-08-25", "to": "2026-11-22"}
    far = am.get(f"{APP}/records/customer/{world['far']}/kpis").get_json()
    assert next(c for c in far if c["key"] == "open_tickets")["value"] == 1
    # a form that declares no record KPIs has no cards
    assert am.get(f"{APP}/records/product/{world['product']}/kpis").get_json() == []


def test_the_tickets_on_a_customer_page_show_status_satisfaction_and_sla(
    platform: Platform,
    app: Flask,
    world: dict[str, int],  # noqa: F811
) -> None:
    fault(platform, world, "near", csat=5)
    am = signed_in(app, "am")
    groups = am.get(f"{APP}/records/customer/{world['near']}/related?lang=zh-CN").get_json()
    tickets = next(g for g in groups if g["form"] == "ticket")
    assert [c["field"] for c in tickets["columns"]] == [
        "status",
        "urgency",
        "csat",
        "resolve_due",
        "resolve_breached",
    ]
    assert [c["label"] for c in tickets["columns"]][:3] == ["状态", "紧急程度", "满意度 (1-5)"]
    (item,) = tickets["items"]
    summary = item["summary"]
    assert summary["status"] == "已分派"
    assert summary["csat"] == "5"
    assert summary["resolve_breached"] == "否"  # not breached
    assert re.fullmatch(r"2026-\d\d-\d\d \d\d:\d\d", summary["resolve_due"])  # local time


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/records/customer/999999/kpis", 404, "record.not_found"),
        (f"/records/customer/{2**63 + 5}/kpis", 404, None),  # beyond any id: no such route
        ("/records/nosuchform/1/kpis", 404, None),
        ("/records/customer/1/kpis?period=this_month", 422, "query.invalid"),
        ("/records/customer/1/kpis?via=customer", 422, "query.invalid"),
    ],
)
def test_hostile_record_kpi_requests_get_a_problem_never_a_500(
    platform: Platform,
    app: Flask,
    world: dict[str, int],  # noqa: F811
    path: str,
    status: int,
    code: str | None,
) -> None:
    am = signed_in(app, "am")
    answer = am.get(APP + path)
    assert answer.status_code == status, answer.get_json()
    if code is not None:
        assert_problem(answer, status, code)


def test_record_kpis_need_a_signed_in_reader_of_the_record(
    platform: Platform,
    app: Flask,
    world: dict[str, int],  # noqa: F811
) -> None:
    anonymous = ApiClient(app.test_client())
    assert anonymous.get(f"{APP}/records/customer/{world['near']}/kpis").status_code == 401
    with platform.unit_of_work() as uow:
        users.create_user(
            uow,
            SYSTEM,
            username="nobody",
            password=PASSWORD,
            email="nobody@example.com",
            roles=(),
        )
        uow.commit()
    nobody = signed_in(app, "nobody")
    answer = nobody.get(f"{APP}/records/customer/{world['near']}/kpis")
    assert answer.status_code in (403, 404), answer.get_json()
