"""The dashboard designer in the browser: the after-sales cockpit opens on its grid with live data
and saves nothing by being read; a business user assembles a new dashboard by dragging a KPI card
onto the grid and adding a report, adds a date filter that applies to both, previews it as a role
and at phone width, publishes it, and the runtime dashboard shows the widgets with data."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Definition, DefinitionVersion, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    new_definition,
    pick,
    publish_draft,
    saved,
    settled,
    shot,
    sign_in,
    stored_tickets,
)
from tests.e2e.conftest import option as choice


def test_the_cockpit_opens_on_its_grid_and_a_new_dashboard_is_assembled_by_drag(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    stored_tickets(platform, {"title": "整机断电", "urgency": "P1"}, {"title": "按键松动"})
    saves: list[str] = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "PUT" else None)
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/dashboards/cockpit")
    expect(page.get_by_test_id("dashboard-designer")).to_be_visible()
    open_tickets = page.get_by_test_id("dashboard-widget-open_tickets")
    expect(open_tickets).to_contain_text("未结工单")
    expect(open_tickets.locator(".ant-statistic-content")).to_contain_text("2")
    expect(page.get_by_test_id("dashboard-filter-0-applies")).to_contain_text("作用于：")
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    settled(page)
    assert saves == []  # reading the cockpit wrote nothing

    page.goto(f"{server}/design/aftersales?kind=dashboards")
    new_definition(page, "dashboards", "服务概览", "service_overview")
    canvas = page.get_by_test_id("dashboard-canvas")
    expect(canvas).to_contain_text("从左侧拖入指标卡或报表")

    # a KPI card dragged onto the grid, a report added with its button
    page.get_by_test_id("dashboard-palette-kpi-open_tickets").drag_to(canvas)
    card = page.get_by_test_id("dashboard-widget-open_tickets")
    expect(card.locator(".ant-statistic-content")).to_contain_text("2")
    page.get_by_test_id("dashboard-add-report-issue_types").click()
    expect(
        page.get_by_test_id("dashboard-widget-issue_types").get_by_test_id("chart")
    ).to_be_visible()

    # a date filter over the creation time applies to both
    page.get_by_test_id("dashboard-filter-add-date").click()
    expect(page.get_by_test_id("dashboard-filter-0-applies")).to_have_text(
        "作用于：未结工单、问题类型分布"
    )
    # bound to the card alone, then to every widget again
    binding = page.get_by_test_id("dashboard-filter-0-widgets")
    binding.click()
    choice(page, "未结工单").first.click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("dashboard-filter-0-applies")).to_have_text("作用于：未结工单")
    binding.locator(".ant-select-selection-item-remove").click()
    expect(page.get_by_test_id("dashboard-filter-0-applies")).to_have_text(
        "作用于：未结工单、问题类型分布"
    )
    pick(page, page.get_by_test_id("dashboard-filter-0-default"), "本周")
    expect(page.get_by_test_id("dashboard-preview-took")).to_be_visible()

    # as an engineer (own and group records only) and at phone width
    pick(page, page.get_by_test_id("dashboard-preview-role"), "工程师")
    expect(card.locator(".ant-statistic-content")).to_contain_text("0")
    page.get_by_test_id("dashboard-preview-width").get_by_text("手机").click()
    phone = page.get_by_test_id("dashboard-phone")
    expect(phone.get_by_test_id("dashboard-widget-open_tickets")).to_be_visible()
    box = phone.bounding_box()
    assert box is not None
    assert box["width"] <= 410
    page.get_by_test_id("dashboard-preview-width").get_by_text("桌面").click()
    pick(page, page.get_by_test_id("dashboard-preview-role"), "我自己")
    expect(card.locator(".ant-statistic-content")).to_contain_text("2")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "dashboard-designer")

    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    saved(page)
    publish_draft(page)
    with platform.unit_of_work(write=False) as uow:
        definition = uow.session.scalar(
            select(Definition).where(
                Definition.kind == "dashboard", Definition.key == "service_overview"
            )
        )
        assert definition is not None
        version = uow.session.scalar(
            select(DefinitionVersion).where(DefinitionVersion.definition_id == definition.id)
        )
        assert version is not None
        body = version.body
    assert [(w["id"], w.get("kpi"), w.get("report")) for w in body["widgets"]] == [
        ("open_tickets", "open_tickets", None),
        ("issue_types", None, "issue_types"),
    ]
    assert body["widgets"][0]["layout"]["w"] == 4
    assert body["filters"] == [
        {"key": "period", "type": "date_range", "field": "_created_at", "default": "this_week"}
    ]

    # the runtime dashboard shows them with data
    page.goto(f"{server}/apps/aftersales/dashboards/service_overview")
    expect(page.get_by_test_id("widget-open_tickets")).to_contain_text("2")
    expect(page.get_by_test_id("widget-issue_types").get_by_test_id("chart")).to_be_visible()
