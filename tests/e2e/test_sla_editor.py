"""The SLA policy editor in the browser: the after-sales ticket SLA opens as a matrix of working
time per priority and target (P1 around the clock) and saves nothing by being read; the preview
replays it over stored tickets — late by the published policy, on time with a longer budget — and
the publish dialog says how many tickets the change treats differently. Then a business user
builds a new policy from the workbench: the priority field, a target with its stop and pause
conditions, an escalation level notifying the service managers, and publishes it, without JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Definition, DefinitionVersion, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    new_definition,
    opened,
    pick,
    publish_draft,
    saved,
    settled,
    shot,
    sign_in,
    stored_tickets,
)

DESIGN = "/design/aftersales/rules"


def _definition(platform: Platform, key: str) -> Definition:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.scalar(
            select(Definition).where(Definition.kind == "rule", Definition.key == key)
        )
        assert found is not None
        uow.session.expunge(found)
        return found


def test_the_ticket_sla_reads_as_a_matrix_and_previews_breaches_before_publishing(
    page: Page,
    server: str,
    platform: Platform,
    clock: FrozenClock,
    people: dict[str, int],
    admin_user: User,
) -> None:
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    stored_tickets(platform, {"title": "异响"}, {"title": "漏油"}, {"title": "报警"})
    # 16:00: five working hours later (lunch excluded), the P3 first response (4 h) ran out
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    before = _definition(platform, "ticket_sla").lock_version
    saves: list[str] = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "PUT" else None)
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/ticket_sla")
    expect(page.get_by_test_id("sla-editor")).to_be_visible()
    expect(page.get_by_test_id("sla-calendar-P1")).to_contain_text("7×24 小时")
    expect(page.get_by_test_id("sla-calendar-P3")).to_contain_text("中国大陆工作日")
    expect(page.get_by_test_id("sla-minutes-0-P1")).to_have_value("5")
    expect(page.get_by_test_id("sla-minutes-0-P3")).to_have_value("4")
    expect(page.get_by_test_id("sla-minutes-0-P3-unit")).to_contain_text("小时")
    expect(page.get_by_test_id("sla-minutes-1-P2")).to_have_value("24")
    reading = page.get_by_test_id("sla-target-0-reading")
    expect(reading).to_contain_text("首次响应：P1 5 分钟（7×24 小时）、P2 30 分钟")
    expect(reading).to_contain_text("用去 80% 时预警")
    expect(page.get_by_test_id("sla-level-1")).to_contain_text("第 2 次及以后超时")
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    assert saves == []  # reading it wrote nothing
    assert _definition(platform, "ticket_sla").lock_version == before

    # the published policy over the stored tickets: all three late on their first response
    page.get_by_test_id("sla-preview-run").click()
    summary = page.get_by_test_id("sla-preview-summary")
    expect(summary).to_have_text("3 条记录中有 3 条会超时（已发布的 v1：3 条）")
    expect(page.get_by_test_id("sla-preview-first_response-breached")).to_have_text("已超时 3")

    # eight hours for P3: nobody is late, and the preview says what changed
    minutes = page.get_by_test_id("sla-minutes-0-P3")
    minutes.fill("8")
    minutes.press("Tab")
    expect(reading).to_contain_text("P3 8 小时")
    page.get_by_test_id("sla-preview-run").click()
    expect(summary).to_have_text(
        "3 条记录中有 0 条会超时（已发布的 v1：3 条） 3 条记录的结果与已发布版本不同。"
    )
    expect(page.get_by_test_id("sla-preview-first_response-running")).to_have_text("计时中 3")
    expect(page.get_by_test_id("sla-preview-result")).to_contain_text("已发布：超时")
    saved(page)
    draft = _definition(platform, "ticket_sla").draft
    assert draft["targets"][0]["minutes"] == {"P1": 5, "P2": 30, "P3": 480, "P4": 540}
    assert draft["calendars"] == {"P1": "always"}

    page.get_by_test_id("design-publish").click()
    dialog = page.locator(".ant-modal:visible")
    expect(dialog).to_contain_text("在最新的 3 条已存记录上试运行：3 条的结果会与 v1 不同")
    shot(page, "sla-editor")


def test_a_business_user_builds_and_publishes_an_sla_policy(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales?kind=rules")
    new_definition(page, "rules", "现场服务时限", "onsite_sla", rule_type="服务时限策略")
    expect(page.get_by_test_id("sla-editor")).to_be_visible()
    expect(page.get_by_test_id("sla-problems-targets")).to_be_visible(timeout=10_000)

    pick(page, page.get_by_test_id("sla-form"), "工单")
    pick(page, page.get_by_test_id("sla-priority-field"), "紧急程度")
    pick(page, page.get_by_test_id("sla-calendar"), "中国大陆工作日 (9:00-18:00)")
    pick(page, page.get_by_test_id("sla-calendar-P1"), "7×24 小时")
    page.get_by_test_id("sla-target-add").click()
    page.get_by_test_id("sla-target-0-label-zh").fill("到场")
    page.get_by_test_id("sla-target-0-key").fill("on_site")
    p1 = page.get_by_test_id("sla-minutes-0-P1")
    expect(page.get_by_test_id("sla-minutes-0-P1-unit")).to_contain_text("小时")
    p1.fill("2")
    p1.press("Tab")
    p4 = page.get_by_test_id("sla-minutes-0-P4")
    p4.fill("")
    p4.press("Tab")

    # met when the ticket is resolved, paused while it waits for the customer
    page.get_by_test_id("sla-target-0-stop-open").click()
    stop = page.get_by_test_id("sla-target-0-stop")
    stop.locator(".ruleGroup-addRule").first.click()
    pick(page, stop.locator(".rule-fields"), "状态")
    pick(page, stop.locator(".rule-value"), "已解决")
    expect(page.get_by_test_id("sla-target-0-stop-reading")).to_contain_text("状态 是 已解决")
    page.get_by_test_id("sla-target-0-pause-open").click()
    pause = page.get_by_test_id("sla-target-0-pause")
    pause.locator(".ruleGroup-addRule").first.click()
    pick(page, pause.locator(".rule-fields"), "状态")
    pick(page, pause.locator(".rule-value"), "等待客户")
    pick(page, page.get_by_test_id("sla-target-0-due_field"), "解决截止")

    # the first breach notifies the service managers
    page.get_by_test_id("sla-level-add").click()
    page.get_by_test_id("sla-level-0-actions-add").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text("发送通知", exact=True).click()
    page.get_by_test_id("sla-level-0-actions-0-to-add").click()
    pick(page, page.get_by_test_id("sla-level-0-actions-0-to-0-kind"), "角色")
    pick(page, page.get_by_test_id("sla-level-0-actions-0-to-0-value"), "服务经理")
    page.get_by_test_id("sla-level-0-actions-0-title").fill("到场超时：{{ticket_no}}")

    expect(page.get_by_test_id("sla-target-0-reading")).to_contain_text(
        "到场：P1 2 小时（7×24 小时）、P2 8 小时、P3 8 小时；「状态 是 已解决」时达成；"
        "「状态 是 等待客户」时暂停计时"
    )
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    saved(page)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    publish_draft(page)
    with platform.unit_of_work(write=False) as uow:
        definition = uow.session.scalar(
            select(Definition).where(Definition.kind == "rule", Definition.key == "onsite_sla")
        )
        assert definition is not None
        version = uow.session.scalar(
            select(DefinitionVersion).where(DefinitionVersion.definition_id == definition.id)
        )
        assert version is not None
        body = version.body
    assert body["type"] == "sla"
    assert (body["form"], body["priority_field"], body["calendar"]) == (
        "ticket",
        "urgency",
        "cn_workdays",
    )
    assert body["calendars"] == {"P1": "always"}
    (target,) = body["targets"]
    assert target["key"] == "on_site"
    assert target["minutes"] == {"P1": 120, "P2": 480, "P3": 480}
    assert target["stop_when"] == {"==": [{"var": "status"}, "resolved"]}
    assert target["pause_when"] == {"==": [{"var": "status"}, "waiting_customer"]}
    assert target["due_field"] == "resolve_due"
    assert body["escalation"] == [
        {
            "actions": [
                {
                    "type": "notify",
                    "to": [{"role": "service_manager"}],
                    "title": "到场超时：{{ticket_no}}",
                }
            ]
        }
    ]
