"""What the runtime shows when it cannot show a page: an expired session goes to the sign-in page
and back where the user was; a page whose script is gone (an open tab after a redeploy, or
offline) asks to reload instead of going blank; a record that is not there, a page that does not
exist and the administration a non-administrator opens each say so in Chinese with a way back."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tangram.platform.kernel.models import User
from tests.apps.test_aftersales import PASSWORD
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, sign_in


def test_an_expired_session_signs_in_again_and_returns_where_the_user_was(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket?status=new")
    expect(page.get_by_test_id("new-record")).to_be_visible()
    page.context.clear_cookies()  # the server no longer knows this browser
    page.locator("[data-testid=nav-inbox]:visible").first.click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_test_id("login-expired")).to_contain_text("登录已过期")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_test_id("login-expired")).to_have_count(0)


def test_a_page_whose_script_is_gone_asks_to_reload(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    expect(page.locator("[data-testid=nav-inbox]:visible").first).to_be_visible()

    def gone(route: Route) -> None:
        route.fulfill(status=404, body="not found")

    page.route(re.compile(r"/assets/Inbox-[^/]*\.js$"), gone)
    page.locator("[data-testid=nav-inbox]:visible").first.click()
    stale = page.get_by_test_id("failure-stale")
    expect(stale).to_contain_text("页面已更新")
    expect(page.locator("[data-testid=nav-inbox]:visible").first).to_be_visible()  # the frame stays
    page.unroute(re.compile(r"/assets/Inbox-[^/]*\.js$"))
    page.get_by_test_id("failure-reload").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_test_id("failure-stale")).to_have_count(0)
    expect(page.locator(".ant-layout-content")).to_contain_text("待办")


def test_missing_pages_and_refusals_say_so_with_a_way_back(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    expect(page.get_by_test_id("new-record")).to_be_visible()
    page.goto(f"{server}/apps/aftersales/records/ticket/999999")
    missing = page.get_by_test_id("failure-404")
    expect(missing).to_contain_text("找不到了")
    expect(missing).to_contain_text("这条记录不存在，或已被删除。")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    page.get_by_test_id("failure-back").click()
    expect(page).to_have_url(re.compile(r"/apps/aftersales/records/ticket$"))
    page.goto(f"{server}/nowhere/at/all")
    expect(page.get_by_test_id("failure-404")).to_contain_text("没有这个页面")

    # an agent opening the administration and the designers is told why
    page.context.clear_cookies()
    sign_in(page, server, "agent", PASSWORD)
    expect(page.locator("[data-testid=nav-inbox]:visible").first).to_be_visible()
    page.goto(f"{server}/admin")
    expect(page.get_by_test_id("failure-403")).to_contain_text("系统管理只对管理员开放")
    page.goto(f"{server}/design")
    expect(page.get_by_test_id("failure-403")).to_contain_text("应用设计只对管理员")


def test_a_refusal_from_the_server_reads_in_chinese(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    """The server answers with its code and English detail; a Chinese reader sees the sentence
    for the code, not the developer's text."""
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/admin")
    page.get_by_role("tab", name="角色").click()
    page.get_by_test_id("role-key").fill("agent")  # the after-sales package's role
    page.get_by_test_id("role-name").fill("又一个客服")
    page.get_by_test_id("role-create").click()
    notice = page.locator(".ant-message-notice")
    expect(notice).to_contain_text("已有相同标识的角色")
    expect(notice).not_to_contain_text("already")
