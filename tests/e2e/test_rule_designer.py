"""The rule editor in the browser: an after-sales rule opens read in words and unchanged; a
business user writes a weekly reminder about urgent tickets — a schedule built from a frequency,
days and a time, a condition, a notice whose title carries the ticket's title — tries it on the
stored tickets, and publishes it, without JSON typed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import AuditEntry, Definition, DefinitionVersion, User
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
    stored_tickets,
)

DESIGN = "/design/aftersales/rules"


def test_an_after_sales_rule_opens_in_words_and_unchanged(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    def lock_version() -> int:
        with platform.unit_of_work(write=False) as uow:
            rule = uow.session.scalar(
                select(Definition).where(
                    Definition.kind == "rule", Definition.key == "first_response"
                )
            )
            assert rule is not None
            return rule.lock_version

    before = lock_version()
    saves: list[str] = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "PUT" else None)
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/first_response")
    expect(page.get_by_test_id("rule-designer")).to_be_visible()
    expect(page.get_by_test_id("rule-trigger-reading")).to_have_text("「首次响应说明」变化时")
    expect(page.get_by_test_id("rule-actions-0-reading")).to_have_text(
        "设置「首次响应时间」为 当前时间、「状态」为 “处理中”"
    )
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    expect(page.get_by_test_id("design-save-state")).to_have_attribute("data-state", "saved")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    # opening and reading it wrote nothing: no save was sent, the lock version is the same
    assert saves == []
    assert lock_version() == before


def test_a_business_user_writes_tries_and_publishes_a_scheduled_rule(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    urgent, _calm = stored_tickets(
        platform, {"title": "整机断电", "urgency": "P1"}, {"title": "按键松动", "urgency": "P4"}
    )
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales?kind=rules")
    new_definition(page, "rules", "紧急工单周报提醒", "urgent_digest")
    expect(page.get_by_test_id("rule-designer")).to_be_visible()
    pick(page, page.get_by_test_id("rule-form"), "工单")

    # every Monday and Wednesday at nine
    pick(page, page.get_by_test_id("rule-trigger"), "按计划定时执行")
    expect(page.get_by_test_id("rule-trigger-reading")).to_have_text(
        "每周一 09:00（Asia/Shanghai）"
    )
    page.get_by_test_id("rule-schedule-weekdays").get_by_text("周三").click()
    expect(page.get_by_test_id("rule-trigger-reading")).to_have_text(
        "每周一、三 09:00（Asia/Shanghai）"
    )

    # only urgent tickets
    page.get_by_test_id("rule-condition-open").click()
    builder = page.get_by_test_id("rule-condition")
    builder.locator(".ruleGroup-addRule").first.click()
    pick(page, builder.locator(".rule-fields"), "紧急程度")
    pick(page, builder.locator(".rule-value"), "P1 紧急")
    expect(page.get_by_test_id("rule-condition-reading")).to_contain_text("紧急程度 是 P1 紧急")

    # a notice to the service managers with the ticket's title in it
    page.get_by_test_id("rule-actions-add").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text("发送通知", exact=True).click()
    page.get_by_test_id("rule-actions-0-to-add").click()
    pick(page, page.get_by_test_id("rule-actions-0-to-0-kind"), "角色")
    pick(page, page.get_by_test_id("rule-actions-0-to-0-value"), "服务经理")
    title = page.get_by_test_id("rule-actions-0-title")
    title.fill("紧急工单未结：")
    page.get_by_test_id("rule-actions-0-title-insert").click()
    page.keyboard.type("标题")
    enter_found(page, "标题")
    expect(title).to_have_value("紧急工单未结：{{title}}")
    expect(page.get_by_test_id("rule-actions-0-reading")).to_have_text(
        "给 角色「服务经理」 发站内通知：紧急工单未结：{{title}}"
    )
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)

    # tried on the stored tickets: the urgent one matches, with the notice it would send
    page.get_by_test_id("rule-whatif-run").click()
    result = page.get_by_test_id("rule-whatif-result")
    expect(result).to_contain_text("试运行了 2 条记录")
    expect(page.get_by_test_id("rule-whatif-count-matched")).to_have_text("命中 1")
    expect(page.get_by_test_id("rule-whatif-count-not_matched")).to_have_text("未命中 1")
    expect(result.get_by_role("link", name=f"#{urgent}")).to_have_attribute(
        "href", f"/apps/aftersales/records/ticket/{urgent}"
    )
    expect(result).to_contain_text("紧急工单未结：整机断电")
    # only the records a filter picks: the low-urgency ticket alone
    page.get_by_test_id("rule-whatif-filter-add").click()
    page.get_by_test_id("rule-whatif-filter-0-field").click()
    page.keyboard.type("紧急")  # the ticket has many fields: search them
    enter_found(page, "紧急程度")
    pick(page, page.get_by_test_id("rule-whatif-filter-0-value"), "P4 低")
    page.get_by_test_id("rule-whatif-run").click()
    expect(result).to_contain_text("试运行了 1 条记录")
    expect(page.get_by_test_id("rule-whatif-count-not_matched")).to_have_text("未命中 1")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "rule-designer")

    publish_draft(page, "每周提醒紧急工单")
    expect(page.get_by_test_id("design-status")).to_contain_text("v1")
    with platform.unit_of_work(write=False) as uow:
        body = uow.session.scalar(
            select(DefinitionVersion.body)
            .join(Definition, Definition.id == DefinitionVersion.definition_id)
            .where(Definition.kind == "rule", Definition.key == "urgent_digest")
        )
    assert body is not None
    assert body["form"] == "ticket"
    assert body["trigger"] == {
        "type": "schedule",
        "cron": "0 9 * * 1,3",
        "time_zone": "Asia/Shanghai",
    }
    assert body["condition"] == {"==": [{"var": "urgency"}, "P1"]}
    assert body["actions"] == [
        {"type": "notify", "to": [{"role": "service_manager"}], "title": "紧急工单未结：{{title}}"}
    ]


def test_a_rule_run_opens_from_the_record_timeline_with_the_values_it_read(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    (ticket,) = stored_tickets(platform, {"title": "异响", "contact_email": "li@example.com"})
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{ticket}")
    link = page.get_by_test_id("trace-acknowledge")
    expect(link).to_have_text("在规则编辑器中查看")
    link.click()
    expect(page).to_have_url(re.compile(rf"{DESIGN}/acknowledge\?trace=ticket\.{ticket}\.\d+$"))
    trace = page.get_by_test_id("rule-trace")
    expect(trace).to_contain_text("v1 于")
    expect(trace).to_contain_text(f"#{ticket}")
    expect(trace).to_contain_text("联系邮箱 不为空")
    expect(page.get_by_test_id("rule-trace-values")).to_have_text("联系邮箱 = li@example.com")
    expect(page.get_by_test_id("rule-trace-held")).to_have_text("成立")
    expect(trace).to_contain_text("失败的动作notify: e-mail to an address needs the email channel")
    expect(page.get_by_test_id("rule-condition-card")).to_be_visible()
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    # a trace that does not exist says so
    page.goto(f"{server}{DESIGN}/acknowledge?trace=ticket.{ticket}.999999")
    expect(page.get_by_test_id("rule-trace-missing")).to_be_visible()


def test_an_administrator_reads_the_webhook_signing_secret_once_and_it_is_audited(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/first_response")
    expect(page.get_by_test_id("rule-designer")).to_be_visible()
    page.get_by_test_id("rule-actions-add").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text("调用 Webhook", exact=True).click()
    webhook = page.locator("[data-testid^=rule-actions-][data-testid$=-secret]")
    webhook.click()
    dialog = opened(page.locator(".ant-modal:visible"))
    value = page.locator("[data-testid^=rule-actions-][data-testid$=-secret-value]")
    expect(value).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(dialog).to_contain_text("只在此处显示一次")
    expect(dialog).to_contain_text("X-Tangram-Signature")
    dialog.get_by_role("button", name="关闭").last.click()
    expect(value).to_have_count(0)
    with platform.unit_of_work(write=False) as uow:
        shown = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook.secret_shown")
        ).all()
    assert [e.actor for e in shown] == ["admin"]
