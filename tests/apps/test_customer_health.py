"""The customer's health score (a scored rule over KPIs in the customer's scope), proactive care on
a falling score before renewal, and the cockpit's cost per ticket and renewals this quarter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tangram.platform import packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record
from tangram.platform.worker import Worker
from tests.conftest import ApiClient

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "aftersales"
SYSTEM = Actor.system("test")
PASSWORD = "password-for-tests-1"
APP = "/api/v1/apps/aftersales"


@pytest.fixture
def world(platform: Platform) -> dict[str, int]:
    """The package, an account manager, two customers (one renewing in 39 days, one next
    summer) and a product."""
    with platform.unit_of_work() as uow:
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        am = users.create_user(
            uow,
            SYSTEM,
            username="am",
            password=PASSWORD,
            email="am@example.com",
            roles=("service_manager",),
        ).id
        near = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "customer",
            {
                "name": "华东精密",
                "tier": "key",
                "contract_end": "2026-12-31",
                "account_manager": am,
            },
        ).record.id
        far = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "customer",
            {
                "name": "西部教育",
                "tier": "normal",
                "contract_end": "2027-06-30",
                "account_manager": am,
            },
        ).record.id
        product = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "A-100", "product_line": "A"}
        ).record.id
        uow.commit()
    return {"am": am, "near": near, "far": far, "product": product}


def fault(platform: Platform, world: dict[str, int], customer: str, **extra: Any) -> int:
    with platform.unit_of_work() as uow:
        record = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            {
                "title": "设备故障",
                "channel": "phone",
                "customer": world[customer],
                "product": world["product"],
                "product_line": "A",
                "issue_type": "hardware_fault",
                "urgency": "P4",
                "contact_name": "王工",
                **extra,
            },
        ).record.id
        uow.commit()
    return record


def data(platform: Platform, record_id: int) -> dict[str, Any]:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.get(Record, record_id)
        assert found is not None
        return dict(found.data)


def care_tasks(platform: Platform, customer: int) -> list[dict[str, Any]]:
    with platform.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(
            select(Record).where(Record.form_key == "care_task", Record.deleted_at.is_(None))
        ).all()
        return [dict(r.data) for r in rows if r.data.get("customer") == customer]


def next_morning(platform: Platform, clock: FrozenClock, day: str) -> None:
    """07:00 Shanghai on ``day``: the daily scoring (06:00) has run."""
    clock.set(datetime.fromisoformat(f"{day}T07:00:00+08:00"))
    Worker(platform, name="test").run_due()


def test_the_score_is_kept_with_its_explanation_and_a_fall_before_renewal_cares_once(
    platform: Platform, clock: FrozenClock, world: dict[str, int]
) -> None:
    fault(platform, world, "near")
    fault(platform, world, "near")
    fault(platform, world, "far")
    next_morning(platform, clock, "2026-11-23")
    first = data(platform, world["near"])
    factors = {f["factor"]: f for f in first["health_factors"]}
    # two faults on one product within 90 days: one repeat (−5); renewal in 38 days (−5)
    assert factors["近 90 天同一产品重复故障"]["value"] == 1
    assert factors["近 90 天同一产品重复故障"]["points"] == -5
    assert factors["距续约"]["value"] == 38
    assert factors["距续约"]["points"] == -5
    assert factors["近 90 天满意度较近一年"].get("value") is None  # no callbacks yet: no data
    assert first["health_score"] == 100 + sum(f["points"] for f in first["health_factors"])
    assert first["health_explanation"].startswith(f"健康分 {first['health_score']}：")
    assert "近 90 天同一产品重复故障 1次 −5" in first["health_explanation"]
    assert "距续约 38天 −5" in first["health_explanation"]
    assert "health_score_previous" not in first  # a first score replaces nothing
    assert care_tasks(platform, world["near"]) == []

    fault(platform, world, "near")  # a third fault on the same product: the score falls
    fault(platform, world, "far")
    next_morning(platform, clock, "2026-11-24")
    fallen = data(platform, world["near"])
    assert fallen["health_score"] < first["health_score"]
    assert fallen["health_score_previous"] == first["health_score"]
    cared = care_tasks(platform, world["near"])
    assert len(cared) == 1
    assert cared[0]["owner"] == world["am"]
    assert cared[0]["status"] == "open"
    assert cared[0]["reason"] == (
        f"健康分由 {first['health_score']} 降至 {fallen['health_score']}。"
        f"{fallen['health_explanation']}"
    )
    assert "距续约 37天 −5" in cared[0]["reason"]
    assert fallen["care_for_renewal"] == "2026-12-31"
    # the customer far from renewal fell too, but gets no care task
    far = data(platform, world["far"])
    assert far["health_score"] < far["health_score_previous"]
    assert care_tasks(platform, world["far"]) == []

    fault(platform, world, "near")  # it falls again in the same renewal period: no second task
    next_morning(platform, clock, "2026-11-25")
    again = data(platform, world["near"])
    assert again["health_score"] < fallen["health_score"]
    assert len(care_tasks(platform, world["near"])) == 1

    with platform.unit_of_work(write=False) as uow:
        timeline = records.timeline(uow, SYSTEM, "aftersales", "customer", world["near"])
    said = [str(e.payload) for e in timeline if e.action == "record.commented"]
    assert any("已为客户经理创建关怀任务" in s for s in said)


def test_a_steady_score_near_renewal_creates_no_care(
    platform: Platform, clock: FrozenClock, world: dict[str, int]
) -> None:
    fault(platform, world, "near")
    next_morning(platform, clock, "2026-11-23")
    next_morning(platform, clock, "2026-11-24")  # one day nearer: still −5, the same score
    steady = data(platform, world["near"])
    assert "health_score_previous" not in steady
    assert care_tasks(platform, world["near"]) == []


def test_the_cockpit_shows_cost_per_ticket_and_the_tickets_renewing_this_quarter(
    platform: Platform, app: Flask, world: dict[str, int]
) -> None:
    near = [
        fault(platform, world, "near", service_cost=300),
        fault(platform, world, "near", service_cost=500),
    ]
    fault(platform, world, "far")  # no cost recorded: not in the mean
    client = ApiClient(app.test_client())
    assert client.login("am", PASSWORD).status_code == 200
    board = client.get(f"{APP}/dashboards/cockpit/data")
    assert board.status_code == 200, board.get_json()
    cards = {w["id"]: w["data"] for w in board.get_json()["widgets"] if w["kind"] == "kpi"}
    assert cards["cost_per_ticket"]["value"] == 400
    assert cards["renewal_tickets"]["value"] == 2  # the far customer renews next year
    assert cards["renewal_tickets"]["period"] == {"from": "2026-10-01", "to": "2026-12-31"}
    drilled = client.get(f"{APP}/dashboards/cockpit/widgets/renewal_tickets/records")
    assert drilled.status_code == 200, drilled.get_json()
    assert sorted(r["id"] for r in drilled.get_json()["items"]) == sorted(near)
