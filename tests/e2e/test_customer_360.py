"""The 360° customer view: a service manager opens a customer and sees its products and contracts,
its tickets and callbacks with their satisfaction, the open SLAs, key figures and the health score
with its explanation; the cockpit shows the service cost per ticket and the tickets of customers
renewing this quarter, and drills into them."""

from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.worker import Worker
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, sign_in, stored_tickets

SYSTEM = Actor.system("test")


def _customer(platform: Platform, people: dict[str, int], name: str, contract_end: str) -> int:
    with platform.unit_of_work() as uow:
        product = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": f"C-300 {name}", "product_line": "C"}
        ).record.id
        customer = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "customer",
            {
                "name": name,
                "tier": "key",
                "contract_end": contract_end,
                "account_manager": people["manager_a"],
                "installed_base": [
                    {
                        "product": product,
                        "serial": "SN-C300-0001",
                        "purchase_date": "2025-03-01",
                        "warranty_end": "2026-12-31",
                        "renewal_date": contract_end,
                    }
                ],
            },
        ).record.id
        uow.commit()
    return customer


def test_a_service_manager_sees_the_whole_customer_and_the_cockpit_values(
    page: Page, server: str, platform: Platform, clock: FrozenClock, people: dict[str, int]
) -> None:
    renewing = _customer(platform, people, "华东精密", "2026-12-31")
    later = _customer(platform, people, "西部教育", "2027-06-30")
    first, second, elsewhere = stored_tickets(
        platform,
        {"title": "主轴异响", "customer": renewing, "csat": 4, "service_cost": 800},
        {"title": "控制屏黑屏", "customer": renewing, "service_cost": 1200},
        {"title": "别家的工单", "customer": later},
    )
    with platform.unit_of_work() as uow:
        records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "callback",
            {"ticket": first, "customer": renewing, "csat": 2, "nps": 5, "solved": "yes"},
        )
        uow.commit()
    clock.set(datetime.fromisoformat("2026-11-23T07:00:00+08:00"))  # the daily score has run
    Worker(platform, name="test").run_due()

    sign_in(page, server, "manager_a", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/customer/{renewing}")
    document = page.get_by_test_id("record-document")
    expect(document.get_by_text("SN-C300-0001")).to_be_visible()  # products and contracts
    explained = document.get_by_text(re.compile(r"^健康分 \d+：近 90 天满意度较近一年"))
    expect(explained).to_contain_text("健康分 90：")  # 100, a repeat fault −5, renewal −5
    expect(explained).to_contain_text("近 90 天同一产品重复故障 1次 −5")  # both on one product
    expect(explained).to_contain_text("距续约 38天 −5")
    figures = page.get_by_test_id("record-kpis")
    open_tickets = figures.get_by_test_id("record-kpi-open_tickets")
    expect(open_tickets.locator(".ant-statistic-content-value")).to_have_text("2")
    csat = figures.get_by_test_id("record-kpi-csat").locator(".ant-statistic-content-value")
    expect(csat).to_have_text("0.0")  # one callback, a 2: no satisfied answer
    related = page.get_by_test_id("related-card")
    related.get_by_role("tab", name=re.compile(r"售后工单\s*2")).click()
    tickets = related.get_by_test_id("related-item-ticket")
    expect(tickets).to_have_count(2)
    expect(related).not_to_contain_text("别家的工单")
    with_score = tickets.filter(has_text="主轴异响")
    expect(with_score.get_by_test_id("related-ticket-csat")).to_have_text("满意度 (1-5)：4")
    expect(with_score.get_by_test_id("related-ticket-status")).to_have_text("状态：已分派")
    expect(with_score.get_by_test_id("related-ticket-resolve_due")).to_contain_text("解决截止：")
    related.get_by_role("tab", name=re.compile(r"满意度回访\s*1")).click()
    expect(related.get_by_test_id("related-callback-csat")).to_have_text("满意度 (1-5)：2")
    settled(page)
    assert accessibility_problems(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("record-kpis")).to_be_visible()
    # the page lays itself out again after the resize (antd's breakpoints re-render it): it must
    # come to fit the phone's width, which a loaded machine reaches a moment after the resize
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{server}/apps/aftersales/dashboards/cockpit")
    cost = page.get_by_test_id("widget-cost_per_ticket")
    expect(cost).to_contain_text("单票服务成本")
    expect(cost.locator(".ant-statistic-content-value")).to_have_text("1,000")  # 800 and 1200
    renewals = page.get_by_test_id("widget-renewal_tickets")
    expect(renewals).to_contain_text("本季度续约客户工单")
    expect(renewals.locator(".ant-statistic-content-value")).to_have_text("2")
    settled(page)
    assert accessibility_problems(page) == []
    renewals.locator(".ant-statistic").click()
    drawer = page.locator(".ant-drawer")
    expect(drawer).to_contain_text("主轴异响")
    expect(drawer).to_contain_text("控制屏黑屏")
    expect(drawer).not_to_contain_text("别家的工单")
    assert second != elsewhere
