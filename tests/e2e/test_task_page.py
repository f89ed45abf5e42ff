"""A task as approvers and engineers work it, to the DingTalk / Feishu standard: a step's
required fields are required, rejecting asks for a reason and shows where the work goes, the
returned task says who sent it back and why at the top, an approval opens on what is to be
decided, the actions stay in sight on a long page, and the flow's diagram is one click away."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Record
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    opened,
    settled,
    shot,
    sign_in,
    within_window,
)
from tests.e2e.test_runtime import act, open_task, register


def _planned(platform: Platform, people: dict[str, int], title: str) -> int:
    """A ticket whose engineer responded, analysed and planned two measures (a major one: it
    goes to the director for approval)."""
    record_id = register(platform, people, title)
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "respond"),
        action="submit",
        data={"response_note": "已联系"},
    )
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "analyse"),
        action="submit",
        data={"root_cause": "传感器老化", "cause_category": "production"},
    )
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "plan"),
        action="submit",
        data={
            "major": True,
            "measures": [
                {
                    "what": "更换传感器",
                    "owner": people["owner_1"],
                    "due": "2026-12-01",
                    "verify": "24小时无报警",
                },
                {
                    "what": "复测整机",
                    "owner": people["owner_1"],
                    "due": "2026-12-03",
                    "verify": "连续运行 8 小时",
                },
            ],
        },
    )
    return record_id


def test_the_first_response_cannot_be_submitted_empty(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people)
    task = open_task(platform, record_id, "respond")
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/tasks/{task.id}")
    fill = page.get_by_test_id("task-fill")
    note = fill.locator("#root_response_note").locator(
        "xpath=ancestor::div[contains(@class, 'ant-form-item ')][1]"
    )
    # marked required, refused in the browser before anything is sent
    expect(note.locator(".ant-form-item-required")).to_have_count(1)
    page.get_by_test_id("action-submit").click()
    expect(note.locator(".ant-form-item-explain-error")).to_have_text("必填")
    assert open_task(platform, record_id, "respond").id == task.id
    # what the agent registered is the summary above the step's fields
    summary = page.get_by_test_id("task-summary")
    expect(summary).to_contain_text("上一步填写的内容")
    expect(summary.locator("[data-field=title]")).to_have_text("开机无响应")
    page.fill("#root_response_note", "已电话联系客户")
    page.get_by_test_id("action-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    with platform.unit_of_work(write=False) as uow:
        ticket = uow.session.get(Record, record_id)
        assert ticket is not None
        assert ticket.data["response_note"] == "已电话联系客户"


def test_a_rejection_gives_its_reason_and_the_engineer_reads_it_at_the_top(
    browser: Browser, page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = _planned(platform, people, "报警灯常亮")
    approval = open_task(platform, record_id, "approve")
    sign_in(page, server, "director", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/tasks/{approval.id}")
    # the approval opens on the plan to decide: its measures as a table, owners by name
    summary = page.get_by_test_id("task-summary")
    expect(summary).to_contain_text("待审批内容")
    measures = summary.locator("[data-field=measures]")
    expect(measures.locator("tr.ant-table-row")).to_have_count(2)
    expect(measures).to_contain_text("更换传感器")
    expect(measures).to_contain_text("2026-12-03")
    expect(measures).not_to_contain_text(f"#{people['owner_1']}")  # a name, not an id
    expect(page.get_by_test_id("task-record")).to_be_hidden()  # the rest: one click away
    expect(page.get_by_test_id("task-fill")).to_have_count(0)  # nothing to fill in here
    # the action bar stays in sight at the bottom of the window
    bar = page.get_by_test_id("task-action-bar")
    expect(bar).to_have_attribute("data-placement", "sticky")
    page.get_by_text("完整记录").click()
    expect(page.get_by_test_id("task-record")).to_be_visible()
    within_window(page, bar)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems

    # rejecting asks for a reason and shows where the work goes back to
    page.get_by_test_id("action-reject").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    expect(dialog).to_contain_text("退回到")
    expect(page.get_by_test_id("reject-target")).to_have_text("整改方案")
    page.get_by_test_id("task-dialog-confirm").click()
    expect(dialog).to_contain_text("请写明理由")
    assert open_task(platform, record_id, "approve").id == approval.id  # nothing was sent
    page.get_by_test_id("task-reason").fill("验证标准需要量化")
    shot(page, "task-reject-dialog")
    page.get_by_test_id("task-dialog-confirm").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))

    # the engineer's plan task says who sent it back, from where and why, at the top
    back = open_task(platform, record_id, "plan")
    engineer = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    other = engineer.new_page()
    sign_in(other, server, "qe_a", PASSWORD)
    other.goto(f"{server}/tasks/{back.id}")
    returned = other.get_by_test_id("task-returned")
    expect(returned).to_contain_text("退回了这项工作（技术总监审批")
    expect(returned).to_contain_text("理由：验证标准需要量化")
    shot(other, "task-returned")
    # the plan's table speaks Chinese: its buttons are named 添加一行, 上移, 下移, 删除
    fill = other.get_by_test_id("task-fill")
    expect(fill.get_by_role("button", name="添加一行")).to_be_visible()
    expect(fill.get_by_role("button", name="上移").first).to_be_visible()
    expect(fill.get_by_role("button", name="删除").first).to_be_visible()
    # the flow's diagram is one click away
    other.get_by_test_id("task-diagram").click()
    expect(other.get_by_test_id("flow-node-plan")).to_have_attribute("data-mark", "current")
    engineer.close()


def test_on_a_phone_the_actions_are_a_bottom_bar_and_more_opens_the_rest(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = _planned(platform, people, "屏幕闪烁")
    approval = open_task(platform, record_id, "approve")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/tasks/{approval.id}")
    bar = page.get_by_test_id("task-action-bar")
    expect(bar).to_have_attribute("data-placement", "bottom")
    within_window(page, bar)
    expect(bar.get_by_test_id("action-approve")).to_be_visible()
    expect(bar.get_by_test_id("action-reject")).to_be_visible()
    page.get_by_test_id("action-more").click()
    menu = opened(page.locator(".ant-dropdown:visible"))
    menu.get_by_text("转交").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    page.get_by_test_id("task-dialog-confirm").click()
    expect(dialog).to_contain_text("请先选择人员")
    page.keyboard.press("Escape")
    expect(page.locator(".ant-modal:visible")).to_have_count(0)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the task page is {wide}px wide on a 390px screen"
    shot(page, "task-approval-390")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
