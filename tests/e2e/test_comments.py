"""Comments with mentions and the notification bell, in a real browser: the agent asks the quality
engineer about a ticket by @-mentioning them, the engineer's bell counts it, and its notification
leads to the ticket."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select, update

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Comment, Notification, User
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, opened, settled, shot, sign_in
from tests.e2e.test_runtime import register


def named(platform: Platform, people: dict[str, int]) -> None:
    """The agent and the engineer under the names people know them by."""
    with platform.unit_of_work() as uow:
        for user, name in (("agent", "张三"), ("qe_a", "李四")):
            uow.session.execute(
                update(User).where(User.id == people[user]).values(display_name=name)
            )
        uow.commit()


def unread(platform: Platform, user_id: int) -> int:
    with platform.unit_of_work(write=False) as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            )
            or 0
        )


def test_a_mention_reaches_the_engineers_bell_and_leads_to_the_ticket(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    named(platform, people)
    ticket = register(platform, people, "设备运行噪音大")
    record = f"{server}/apps/aftersales/records/ticket/{ticket}"

    sign_in(page, server, "agent", PASSWORD)
    page.goto(record)
    expect(page.get_by_text("还没有评论")).to_be_visible()
    box = page.get_by_role("textbox", name="评论内容")
    box.click()
    # someone who may not read the ticket (field service) cannot be mentioned: the refusal
    # names them, and nothing is written
    box.press_sequentially("@owner")
    opened(page.locator(".ant-mentions-dropdown:visible")).get_by_text("owner_1 (owner_1)").click()
    box.press_sequentially("看看")
    page.get_by_test_id("comment-send").click()
    expect(page.get_by_test_id("comment-error")).to_contain_text(
        "owner_1（owner_1）无权查看这条记录，不能提及"
    )
    expect(page.get_by_test_id("comment")).to_have_count(0)
    box.fill("")
    expect(page.get_by_test_id("comment-error")).to_have_count(0)
    # "@" then part of the name: the completion offers the app's people as they are typed
    box.press_sequentially("@qe")
    choice = opened(page.locator(".ant-mentions-dropdown:visible")).get_by_text("李四 (qe_a)")
    choice.click()
    expect(box).to_have_value("@qe_a ")
    box.press_sequentially("请看一下噪音的录音")
    box.press("Control+Enter")
    said = page.get_by_test_id("comment")
    expect(said).to_have_count(1)
    expect(said).to_contain_text("张三")
    expect(said.get_by_test_id("comment-mention")).to_have_text("@李四")
    expect(said).to_contain_text("请看一下噪音的录音")
    expect(box).to_have_value("")
    expect(page.get_by_test_id("timeline")).to_contain_text("请看一下噪音的录音")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "comments-ticket")
    with platform.unit_of_work(write=False) as uow:
        (comment,) = uow.session.scalars(select(Comment)).all()
        assert (comment.body, comment.mentions) == ("@qe_a 请看一下噪音的录音", [people["qe_a"]])

    # the engineer: their bell counts the mention (and the ticket's task) and opens it
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, server, "qe_a", PASSWORD)
    before = unread(platform, people["qe_a"])
    assert before >= 1
    bell = page.get_by_test_id("nav-bell")
    expect(bell).to_have_attribute("aria-label", f"通知 {before}")
    bell.click()
    panel = opened(page.locator(".ant-popover:visible"))
    first = panel.get_by_test_id("notification").first  # the newest first
    expect(first).to_contain_text(f"张三 在 售后工单 #{ticket} 中提到了你")
    expect(first).to_have_attribute("data-unread", "true")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "notifications-panel")
    first.click()
    expect(page).to_have_url(re.compile(rf"/apps/aftersales/records/ticket/{ticket}$"))
    expect(page.get_by_test_id("comment-mention")).to_have_text("@李四")
    after = f"通知 {before - 1}" if before > 1 else "通知"
    expect(bell).to_have_attribute("aria-label", after)
    assert unread(platform, people["qe_a"]) == before - 1

    # whatever else is unread goes with one click
    bell.click()
    panel = opened(page.locator(".ant-popover:visible"))
    expect(panel.get_by_test_id("notification").first).to_have_attribute("data-unread", "false")
    if before > 1:
        panel.get_by_test_id("notifications-read-all").click()
    expect(bell).to_have_attribute("aria-label", "通知")
    assert unread(platform, people["qe_a"]) == 0


def test_comments_and_the_bell_fit_a_phone(
    browser: Browser, server: str, platform: Platform, people: dict[str, int]
) -> None:
    named(platform, people)
    ticket = register(platform, people, "报警灯常亮")
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = phone.new_page()
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{ticket}")
    box = page.get_by_role("textbox", name="评论内容")
    box.click()
    box.press_sequentially("@qe")
    opened(page.locator(".ant-mentions-dropdown:visible")).get_by_text("李四 (qe_a)").click()
    box.press_sequentially(
        "客户要求今天答复，这是一段足够长的文字，看它在窄屏上是否换行而不是撑宽页面"
    )
    page.get_by_test_id("comment-send").click()
    expect(page.get_by_test_id("comment")).to_have_count(1)
    settled(page)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the record page is {wide}px wide on a 390px screen"
    shot(page, "comments-390")

    page.locator("button:has(.anticon-logout)").click()  # the icon alone on a phone
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, server, "qe_a", PASSWORD)
    bell = page.get_by_test_id("nav-bell")
    expect(bell).to_have_attribute("aria-label", re.compile(r"^通知 \d+$"))
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the launcher is {wide}px wide on a 390px screen"
    bell.click()
    drawer = opened(page.locator(".ant-drawer-content-wrapper:visible"))
    first = drawer.get_by_test_id("notification").first
    expect(first).to_contain_text(f"张三 在 售后工单 #{ticket} 中提到了你")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "notifications-390")
    first.click()
    expect(page).to_have_url(re.compile(rf"/apps/aftersales/records/ticket/{ticket}$"))
    expect(page.locator(".ant-drawer-content-wrapper:visible")).to_have_count(0)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the record page is {wide}px wide on a 390px screen"
    phone.close()
