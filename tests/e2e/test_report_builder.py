"""The KPI editor and the report builder in the browser, without JSON: an after-sales KPI opens
read in words; a business user builds a KPI (urgent tickets, lower is better) whose card the
server measures on the stored tickets while it is edited, and a report of tickets by product line
and month dragged together from the form's fields, previewed as a chart with the query's time,
turned into a stacked chart, and both are published."""

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
from tests.e2e.test_designer import drag


def _published(platform: Platform, kind: str, key: str) -> dict:
    with platform.unit_of_work(write=False) as uow:
        definition = uow.session.scalar(
            select(Definition).where(Definition.kind == kind, Definition.key == key)
        )
        assert definition is not None
        version = uow.session.scalar(
            select(DefinitionVersion).where(DefinitionVersion.definition_id == definition.id)
        )
        assert version is not None
        return dict(version.body)


def _new(page: Page, server: str, kinds: str, name: str, key: str) -> None:
    page.goto(f"{server}/design/aftersales?kind={kinds}")
    new_definition(page, kinds, name, key)


def _publish(page: Page) -> None:
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    saved(page)
    publish_draft(page)


def test_a_business_user_builds_a_kpi_and_a_report_with_live_previews(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    stored_tickets(
        platform,
        {"title": "整机断电", "urgency": "P1"},
        {"title": "按键松动", "urgency": "P4"},
        {"title": "屏幕闪烁"},
    )
    sign_in(page, server, "admin", ADMIN_PASSWORD)

    # an after-sales KPI reads in words
    page.goto(f"{server}/design/aftersales/kpis/mttr")
    expect(page.get_by_test_id("kpi-measure-reading")).to_have_text(
        "读作：从「创建时间」到「解决时间」的时长平均值（小时）"
    )
    expect(page.get_by_test_id("kpi-filter-reading")).to_contain_text("解决时间 不为空")

    # a new KPI: urgent tickets this month, lower is better
    _new(page, server, "kpis", "紧急工单数", "urgent_tickets")
    expect(page.get_by_test_id("kpi-editor")).to_be_visible()
    pick(page, page.get_by_test_id("kpi-form"), "工单")
    value = page.get_by_test_id("kpi-preview-value")
    expect(value).to_contain_text("3")  # every ticket of the month, before the filter
    page.get_by_test_id("kpi-filter-open").click()
    builder = page.get_by_test_id("kpi-filter")
    builder.locator(".ruleGroup-addRule").first.click()
    pick(page, builder.locator(".rule-fields"), "紧急程度")
    pick(page, builder.locator(".rule-value"), "P1 紧急")
    expect(value).to_contain_text("1")
    page.get_by_test_id("kpi-direction").get_by_text("越低越好").click()
    page.get_by_test_id("kpi-unit").fill("单")
    page.get_by_test_id("kpi-decimals").fill("0")
    page.get_by_test_id("kpi-decimals").press("Tab")
    expect(value).to_have_text("1单")
    expect(page.get_by_test_id("kpi-preview-previous")).to_have_text("上期 0 单")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    _publish(page)
    kpi = _published(platform, "kpi", "urgent_tickets")
    assert kpi["measure"] == {"type": "count"}
    assert kpi["filter"] == {"==": [{"var": "urgency"}, "P1"]}
    assert (kpi["direction"], kpi["unit"], kpi["decimals"]) == ("lower", "单", 0)

    # a report dragged together: tickets by product line
    _new(page, server, "reports", "各产品线工单", "tickets_by_line")
    expect(page.get_by_test_id("report-builder")).to_be_visible()
    pick(page, page.get_by_test_id("report-form"), "工单")
    line = page.get_by_test_id("report-field-product_line")
    drag(
        page,
        line.locator("span").first,
        page.get_by_test_id("report-dimensions"),
        "「维度（分组）」",
    )
    expect(page.get_by_test_id("report-dimension-0")).to_contain_text("产品线")
    page.get_by_test_id("report-measure-count").click()
    expect(page.get_by_test_id("report-measure-0-reading")).to_have_text("读作：记录数")
    expect(page.get_by_test_id("report-widget-x")).to_contain_text("产品线")
    took = page.get_by_test_id("report-preview-took")
    expect(took).to_contain_text("1 行")
    expect(page.get_by_test_id("report-preview").get_by_test_id("chart")).to_be_visible()

    # by month too, stacked
    # the ticket has many fields: searched, the one wanted is at hand next to the drop zone
    page.get_by_label("搜索字段").fill("创建")
    created = page.get_by_test_id("report-field-_created_at")
    drag(
        page,
        created.locator("span").first,
        page.get_by_test_id("report-dimensions"),
        "「维度（分组）」",
    )
    expect(page.get_by_test_id("report-dimension-1-bucket")).to_contain_text("月")
    pick(page, page.get_by_test_id("report-widget-type"), "堆叠柱状图")
    expect(page.get_by_test_id("report-widget-series")).to_contain_text("创建时间")
    expect(took).to_contain_text("1 行")
    # the measure under its own name
    page.get_by_test_id("report-measure-0-label-zh").fill("工单数")
    expect(page.get_by_test_id("report-measure-0-reading")).to_have_text("读作：记录数")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "report-builder")
    _publish(page)
    report = _published(platform, "report", "tickets_by_line")
    assert report["dataset"] == {
        "form": "ticket",
        "dimensions": [
            {"key": "product_line", "field": "product_line"},
            {"key": "created_at", "field": "_created_at", "bucket": "month"},
        ],
        "measures": [{"key": "records", "type": "count", "label": {"zh-CN": "工单数"}}],
    }
    assert report["widget"] == {
        "type": "stacked",
        "x": "product_line",
        "series": "created_at",
        "y": "records",
    }
