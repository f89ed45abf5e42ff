"""An app's pages sit in its frame: a side menu of the app's dashboards and forms on wide screens,
and a breadcrumb on every screen (应用 / 售后服务 / 售后工单 / #12 / 编辑), each step a way back."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tangram.platform.bootstrap import Platform
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, shot, sign_in
from tests.e2e.test_runtime import register


def test_an_apps_pages_have_its_menu_and_a_breadcrumb(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "打印机卡纸")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    crumbs = page.get_by_test_id("breadcrumb")
    expect(crumbs).to_have_text(
        re.compile(rf"应用\s*/\s*售后服务\s*/\s*售后工单\s*/\s*#{record_id}")
    )
    menu = page.get_by_role("navigation", name="售后服务 的页面")
    expect(menu.locator(".ant-menu-item-selected")).to_have_text("售后工单")
    expect(menu).to_contain_text("售后问题分析驾驶舱")
    settled(page)
    assert accessibility_problems(page) == []
    shot(page, "app-frame-record")

    crumbs.get_by_role("link", name="售后工单").click()  # up to the list
    expect(page).to_have_url(re.compile(r"/apps/aftersales/records/ticket$"))
    expect(crumbs).to_have_text(re.compile(r"售后服务\s*/\s*售后工单$"))
    menu.get_by_role("link", name="售后问题分析驾驶舱").click()
    expect(page).to_have_url(re.compile(r"/apps/aftersales/dashboards/cockpit$"))
    expect(menu.locator(".ant-menu-item-selected")).to_have_text("售后问题分析驾驶舱")
    menu.get_by_role("link", name="客户", exact=True).click()
    expect(page).to_have_url(re.compile(r"/apps/aftersales/records/customer$"))
    crumbs.get_by_role("link", name="应用").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("breadcrumb")).to_have_count(0)  # the launcher is no app's page


def test_on_a_phone_the_breadcrumb_stays_and_the_menu_gives_way(
    browser: Browser, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "打印机卡纸")
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = phone.new_page()
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    expect(page.get_by_test_id("breadcrumb")).to_contain_text(f"#{record_id}")
    expect(page.get_by_role("navigation", name="售后服务 的页面")).to_have_count(0)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the record page is {wide}px wide on a 390px screen"
    phone.close()
