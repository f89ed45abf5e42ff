"""The 设备巡检 (equipment inspection) app's rules, SLA, reports and dashboard, built in the
browser without JSON: a decision table that routes by equipment type × site, whose failing test
case the user fixes; a rule that notifies the site manager when a check fails, tried on the stored
inspections before it is published; a calendar with a lunch break and a holiday and an SLA policy
on it whose due-time probe is right; a report of failed checks by site and month and a KPI card;
a dashboard assembled by drag with a date filter — and the runtime dashboard shows them with
data."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Definition, DefinitionVersion, User
from tests.apps.test_aftersales import SYSTEM
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    enter_found,
    new_definition,
    opened,
    pick,
    publish_draft,
    saved,
    settled,
    shot,
    sign_in,
)
from tests.e2e.conftest import option as choice
from tests.e2e.test_designer import drag


def _options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"value": v, "label": {"zh-CN": zh}} for v, zh in pairs]


FORM = {
    "key": "inspection",
    "label": {"zh-CN": "设备巡检单", "en": "Equipment inspection"},
    "fields": [
        {"key": "equipment", "type": "text", "label": {"zh-CN": "设备"}},
        {
            "key": "equipment_type",
            "type": "select",
            "label": {"zh-CN": "设备类型"},
            "options": _options(("compressor", "空压机"), ("boiler", "锅炉")),
        },
        {
            "key": "site",
            "type": "select",
            "label": {"zh-CN": "站点"},
            "options": _options(("north", "北区"), ("south", "南区")),
        },
        {
            "key": "result",
            "type": "select",
            "label": {"zh-CN": "巡检结果"},
            "options": _options(("normal", "正常"), ("abnormal", "异常")),
        },
        {"key": "site_manager", "type": "user", "label": {"zh-CN": "站点经理"}},
        {"key": "handled_at", "type": "datetime", "label": {"zh-CN": "处理时间"}},
        {"key": "handle_due", "type": "datetime", "label": {"zh-CN": "处理截止"}},
    ],
}
CHECKS = [
    ("compressor", "north", "abnormal"),
    ("boiler", "north", "abnormal"),
    ("compressor", "south", "abnormal"),
    ("boiler", "south", "normal"),
    ("compressor", "north", "normal"),
]


def setup_inspections(platform: Platform, people: dict[str, int]) -> list[int]:
    """The inspection form published in the after-sales app, and five stored inspections (three
    failed) with the north site's manager named."""
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, SYSTEM, "aftersales", "form", FORM)
        metadata.publish(uow, SYSTEM, "aftersales", "form", "inspection")
        ids = [
            records.create_record(
                uow,
                SYSTEM,
                "aftersales",
                "inspection",
                {
                    "equipment": f"{n + 1} 号设备",
                    "equipment_type": kind,
                    "site": site,
                    "result": result,
                    "site_manager": people["manager_a"],
                },
            ).record.id
            for n, (kind, site, result) in enumerate(CHECKS)
        ]
        uow.commit()
    return ids


def published(platform: Platform, kind: str, key: str) -> dict[str, Any]:
    with platform.unit_of_work(write=False) as uow:
        definition = uow.session.scalar(
            select(Definition).where(Definition.kind == kind, Definition.key == key)
        )
        assert definition is not None
        version = uow.session.scalar(
            select(DefinitionVersion)
            .where(DefinitionVersion.definition_id == definition.id)
            .order_by(DefinitionVersion.version.desc())
        )
        assert version is not None
        return dict(version.body)


def new(page: Page, server: str, kinds: str, name: str, key: str, type_: str | None = None) -> None:
    page.goto(f"{server}/design/aftersales?kind={kinds}")
    new_definition(page, kinds, name, key, rule_type=type_ or "")


def publish(page: Page) -> None:
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    saved(page)
    publish_draft(page)


def set_cell(page: Page, cell: str, op: str, value: str) -> None:
    page.get_by_test_id(cell).click()
    pick(page, page.get_by_test_id(f"{cell}-op"), op)
    pick(page, page.get_by_test_id(f"{cell}-value"), value)
    page.keyboard.press("Escape")


def test_inspections_are_routed_by_a_decision_table_and_failures_notify_the_site_manager(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    setup_inspections(platform, people)
    sign_in(page, server, "admin", ADMIN_PASSWORD)

    # the routing table: equipment type × site → the team that handles it, first hit
    new(page, server, "rules", "巡检派单", "inspection_routing", "决策表")
    expect(page.get_by_test_id("table-designer")).to_be_visible()
    pick(page, page.get_by_test_id("table-form"), "设备巡检单")
    pick(page, page.get_by_test_id("table-add-input"), "设备类型")
    pick(page, page.get_by_test_id("table-add-input"), "站点")
    page.get_by_label("输出列标识").fill("team")
    page.get_by_role("button", name="添加输出列").click()
    for _ in range(3):
        page.get_by_test_id("table-add-row").click()
    set_cell(page, "table-cell-0-0", "等于", "空压机")
    set_cell(page, "table-cell-0-1", "等于", "北区")
    page.get_by_test_id("table-out-0-0").fill("north_mechanics")
    set_cell(page, "table-cell-1-1", "等于", "南区")
    page.get_by_test_id("table-out-1-0").fill("south_team")
    page.get_by_test_id("table-out-2-0").fill("duty_desk")
    expect(page.get_by_test_id("table-cell-0-0")).to_have_text("空压机")
    expect(page.get_by_test_id("table-cell-2-0")).to_have_text("-")

    # a test case that expects a north boiler to go to the mechanics: it fails, live
    page.get_by_test_id("table-add-test").click()
    pick(page, page.get_by_label("用例 1 设备类型"), "锅炉")
    pick(page, page.get_by_label("用例 1 站点"), "北区")
    expected = page.get_by_label("用例 1 期望 team")
    expected.fill("north_mechanics")
    case = page.get_by_test_id("table-test-0")
    expect(case).to_have_attribute("data-passed", "false", timeout=10_000)
    # the user sees why and fixes the table: the mechanics take every northern machine
    page.get_by_test_id("table-cell-0-0").click()
    pick(page, page.get_by_test_id("table-cell-0-0-op"), "任意（-）")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("table-cell-0-0")).to_have_text("-")
    expect(case).to_have_attribute("data-passed", "true", timeout=10_000)
    expect(page.get_by_test_id("table-gaps")).to_have_count(0)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    publish(page)
    table = published(platform, "rule", "inspection_routing")
    assert table["inputs"] == [{"key": "equipment_type"}, {"key": "site"}]
    assert [r["when"] for r in table["rules"]] == [["-", "north"], ["-", "south"], ["-", "-"]]
    assert table["tests"] == [
        {
            "input": {"equipment_type": "boiler", "site": "north"},
            "expect": {"team": "north_mechanics"},
        }
    ]

    # a rule: a failed check notifies the inspection's site manager; tried on the stored
    # inspections before it is published
    new(page, server, "rules", "巡检异常通知站点经理", "inspection_failed")
    pick(page, page.get_by_test_id("rule-form"), "设备巡检单")
    pick(page, page.get_by_test_id("rule-trigger"), "指定字段变化时")
    page.get_by_test_id("rule-trigger-fields").click()
    choice(page, "巡检结果").first.click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("rule-trigger-reading")).to_have_text("「巡检结果」变化时")
    page.get_by_test_id("rule-condition-open").click()
    builder = page.get_by_test_id("rule-condition")
    builder.locator(".ruleGroup-addRule").first.click()
    pick(page, builder.locator(".rule-fields"), "巡检结果")
    pick(page, builder.locator(".rule-value"), "异常")
    expect(page.get_by_test_id("rule-condition-reading")).to_contain_text("巡检结果 是 异常")
    page.get_by_test_id("rule-actions-add").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text("发送通知", exact=True).click()
    page.get_by_test_id("rule-actions-0-to-add").click()
    pick(page, page.get_by_test_id("rule-actions-0-to-0-kind"), "表单中的人员字段")
    pick(page, page.get_by_test_id("rule-actions-0-to-0-value"), "站点经理")
    page.get_by_test_id("rule-actions-0-title").fill("巡检异常：{{equipment}}")
    saved(page)
    page.get_by_test_id("rule-whatif-run").click()
    expect(page.get_by_test_id("rule-whatif-result")).to_contain_text("试运行了 5 条记录")
    expect(page.get_by_test_id("rule-whatif-count-matched")).to_have_text("命中 3")
    expect(page.get_by_test_id("rule-whatif-result")).to_contain_text("巡检异常：1 号设备")
    publish(page)
    rule = published(platform, "rule", "inspection_failed")
    assert rule["condition"] == {"==": [{"var": "result"}, "abnormal"]}
    assert rule["actions"] == [
        {"type": "notify", "to": [{"field": "site_manager"}], "title": "巡检异常：{{equipment}}"}
    ]


def set_time(page: Page, day: str, end: bool, value: str) -> None:
    """One end of a day's first working range, picked from the times offered (typed to find)."""
    box = page.get_by_test_id(f"calendar-{day}-0-{'end' if end else 'start'}")
    box.click()
    page.keyboard.type(value)
    enter_found(page, value)
    expect(box).to_contain_text(value)


def test_an_inspection_calendar_with_a_lunch_break_and_a_holiday_and_an_sla_on_it(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    setup_inspections(platform, people)  # stored on Sunday 22 November, 09:00 in Shanghai
    sign_in(page, server, "admin", ADMIN_PASSWORD)

    # working hours 09:00–12:00 and 13:00–18:00 on weekdays, Monday 7 December a holiday
    new(page, server, "calendars", "巡检班组日历", "inspection_hours")
    expect(page.get_by_test_id("calendar-designer")).to_be_visible()
    page.get_by_test_id("calendar-add-mon").click()
    set_time(page, "mon", True, "12:00")
    expect(page.get_by_test_id("calendar-week-mon")).to_contain_text("3 小时")
    page.get_by_test_id("calendar-add-mon").click()
    expect(page.get_by_test_id("calendar-week-mon")).to_contain_text("8 小时")
    page.get_by_test_id("calendar-copy-weekdays").click()
    expect(page.get_by_test_id("calendar-week-fri")).to_contain_text("8 小时")
    shown = page.get_by_test_id("calendar-year-shown")
    while int(shown.inner_text()) > 2026:
        page.get_by_role("button", name="上一年").click()
    while int(shown.inner_text()) < 2026:
        page.get_by_role("button", name="下一年").click()
    page.get_by_test_id("calendar-day-2026-12-07").click()
    expect(page.get_by_test_id("calendar-day-2026-12-07")).to_have_attribute("data-kind", "holiday")

    # the probe: 8 working hours from Friday 16:00 — 2 on Friday, none on the holiday, 6 on
    # Tuesday around the lunch break — end on Tuesday at 16:00
    start = page.get_by_test_id("calendar-probe-start")
    start.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("2026-12-04 16:00")
    page.keyboard.press("Enter")
    page.get_by_test_id("calendar-probe-hours").fill("8")
    page.get_by_test_id("calendar-probe-run").click()
    answer = page.get_by_test_id("calendar-probe-answer")
    expect(answer).to_contain_text("→ 12-08")
    expect(answer).to_contain_text("16:00 到期")
    publish(page)
    calendar = published(platform, "calendar", "inspection_hours")
    assert calendar["time_zone"] == "Asia/Shanghai"
    assert calendar["week"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert calendar["week"]["fri"] == calendar["week"]["mon"]
    assert "2026-12-07" in calendar["holidays"]

    # an SLA on it: a compressor handled within 4 working hours, a boiler within 8
    new(page, server, "rules", "巡检处理时限", "inspection_sla", "服务时限策略")
    expect(page.get_by_test_id("sla-editor")).to_be_visible()
    pick(page, page.get_by_test_id("sla-form"), "设备巡检单")
    pick(page, page.get_by_test_id("sla-priority-field"), "设备类型")
    pick(page, page.get_by_test_id("sla-calendar"), "巡检班组日历")
    page.get_by_test_id("sla-target-add").click()
    page.get_by_test_id("sla-target-0-label-zh").fill("处理")
    page.get_by_test_id("sla-target-0-key").fill("handle")
    page.get_by_test_id("sla-minutes-0-compressor").fill("4")
    page.get_by_test_id("sla-minutes-0-compressor").press("Tab")
    page.get_by_test_id("sla-target-0-stop-open").click()
    stop = page.get_by_test_id("sla-target-0-stop")
    stop.locator(".ruleGroup-addRule").first.click()
    pick(page, stop.locator(".rule-fields"), "处理时间")
    pick(page, stop.locator(".rule-operators"), "不为空")
    pick(page, page.get_by_test_id("sla-target-0-due_field"), "处理截止")
    expect(page.get_by_test_id("sla-target-0-reading")).to_contain_text(
        "处理：compressor 4 小时、boiler 8 小时；「处理时间 不为空」时达成"
    )
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)

    # the preview on the stored inspections: due on Monday, counted around the lunch break
    page.get_by_test_id("sla-preview-run").click()
    expect(page.get_by_test_id("sla-preview-summary")).to_have_text("5 条记录中有 0 条会超时")
    expect(page.get_by_test_id("sla-preview-handle-running")).to_have_text("计时中 5")
    result = page.get_by_test_id("sla-preview-result")
    expect(result).to_contain_text("处理：计时中，截止 11-23 14:00")  # compressors: 3 h + 1 h
    expect(result).to_contain_text("处理：计时中，截止 11-23 18:00")  # boilers: 3 h + 5 h
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    publish(page)
    sla = published(platform, "rule", "inspection_sla")
    assert (sla["form"], sla["priority_field"], sla["calendar"]) == (
        "inspection",
        "equipment_type",
        "inspection_hours",
    )
    assert sla["targets"] == [
        {
            "key": "handle",
            "label": {"zh-CN": "处理", "en": "Target 1"},
            "minutes": {"compressor": 240, "boiler": 480},
            "warn_percent": 80,
            "stop_when": {"!!": {"var": "handled_at"}},
            "due_field": "handle_due",
        }
    ]
    shot(page, "inspection-sla")


def test_an_inspection_report_a_kpi_card_and_a_dashboard_assembled_by_drag(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    setup_inspections(platform, people)  # five this month, three of them failed
    sign_in(page, server, "admin", ADMIN_PASSWORD)

    # a KPI card: the share of failed checks, lower is better
    new(page, server, "kpis", "巡检异常率", "inspection_failure_rate")
    pick(page, page.get_by_test_id("kpi-form"), "设备巡检单")
    pick(page, page.get_by_test_id("kpi-measure-type"), "占比")
    page.get_by_test_id("kpi-measure-numerator-open").click()
    numerator = page.get_by_test_id("kpi-measure-numerator")
    numerator.locator(".ruleGroup-addRule").first.click()
    pick(page, numerator.locator(".rule-fields"), "巡检结果")
    pick(page, numerator.locator(".rule-value"), "异常")
    expect(page.get_by_test_id("kpi-measure-reading")).to_have_text(
        "读作：「巡检结果 是 异常」的记录占比"
    )
    page.get_by_test_id("kpi-unit").fill("%")
    page.get_by_test_id("kpi-direction").get_by_text("越低越好").click()
    expect(page.get_by_test_id("kpi-preview-value")).to_have_text("60.0%")
    publish(page)

    # a report: failed checks by month and site
    new(page, server, "reports", "各站点异常巡检（月度）", "failed_by_site")
    pick(page, page.get_by_test_id("report-form"), "设备巡检单")
    drag(
        page,
        page.get_by_test_id("report-field-_created_at").locator("span").first,
        page.get_by_test_id("report-dimensions"),
        "「维度（分组）」",
    )
    drag(
        page,
        page.get_by_test_id("report-field-site").locator("span").first,
        page.get_by_test_id("report-dimensions"),
        "「维度（分组）」",
    )
    page.get_by_test_id("report-measure-count").click()
    page.get_by_test_id("report-filter-open").click()
    condition = page.get_by_test_id("report-filter")
    condition.locator(".ruleGroup-addRule").first.click()
    pick(page, condition.locator(".rule-fields"), "巡检结果")
    pick(page, condition.locator(".rule-value"), "异常")
    pick(page, page.get_by_test_id("report-widget-type"), "堆叠柱状图")
    expect(page.get_by_test_id("report-widget-x")).to_contain_text("创建时间")
    expect(page.get_by_test_id("report-widget-series")).to_contain_text("站点")
    expect(page.get_by_test_id("report-preview-took")).to_contain_text("1 行")
    publish(page)
    report = published(platform, "report", "failed_by_site")
    assert report["dataset"]["filter"] == {"==": [{"var": "result"}, "abnormal"]}
    assert report["widget"] == {
        "type": "stacked",
        "x": "created_at",
        "series": "site",
        "y": "records",
    }

    # the dashboard: the card dragged in, the report added, a date filter over both
    new(page, server, "dashboards", "巡检看板", "inspection_board")
    canvas = page.get_by_test_id("dashboard-canvas")
    page.get_by_test_id("dashboard-palette-kpi-inspection_failure_rate").drag_to(canvas)
    card = page.get_by_test_id("dashboard-widget-inspection_failure_rate")
    expect(card.locator(".ant-statistic-content")).to_contain_text("60")
    page.get_by_test_id("dashboard-add-report-failed_by_site").click()
    page.get_by_test_id("dashboard-filter-add-date").click()
    expect(page.get_by_test_id("dashboard-filter-0-applies")).to_have_text(
        "作用于：巡检异常率、各站点异常巡检（月度）"
    )
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "inspection-dashboard")
    publish(page)

    # the runtime dashboard shows them, with data
    page.goto(f"{server}/apps/aftersales/dashboards/inspection_board")
    expect(page.get_by_test_id("widget-inspection_failure_rate")).to_contain_text("60")
    chart = page.get_by_test_id("widget-failed_by_site").get_by_test_id("chart")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas")).to_have_count(1)
    board = page.request.get(f"{server}/api/v1/apps/aftersales/dashboards/inspection_board/data")
    assert board.ok
    widgets = {w["id"]: w["data"] for w in board.json()["widgets"]}
    assert widgets["inspection_failure_rate"]["value"] == 60.0
    assert widgets["failed_by_site"]["rows"] == [["2026-11", 2, 1]]  # north 2, south 1
