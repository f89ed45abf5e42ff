"""Search in the browser: the list's search box finds a ticket by a Chinese phrase from its
description, and the app frame's search box shows the matches of every form, by form."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import settled, shot, sign_in
from tests.e2e.test_inbox import _ticket


def test_a_ticket_is_found_by_a_phrase_of_its_description_and_the_app_search_groups_by_form(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    screen = _ticket(platform, people, "设备故障", "P3")
    _ticket(platform, people, "噪音偏大", "P4")
    with platform.unit_of_work() as uow:
        system = Actor.system("test")
        ticket = records.get_record(uow, system, "aftersales", "ticket", screen)
        records.update_record(
            uow,
            system,
            "aftersales",
            "ticket",
            screen,
            {"description": "<p>客户反映设备开机后屏幕黑屏，按电源键无响应。</p>"},
            lock_version=ticket.lock_version,
        )
        records.create_record(
            uow,
            system,
            "aftersales",
            "knowledge_article",
            {"title": "开机黑屏的排查", "solution": "<p>先检查电源适配器</p>"},
        )
        uow.commit()
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    rows = page.locator("tr.ant-table-row")
    expect(rows).to_have_count(2)
    search = page.get_by_test_id("list-search").locator("input")
    search.fill("无响应 黑屏")  # words of the description, in another order
    search.press("Enter")
    expect(rows).to_have_count(1)
    expect(page.locator(f"tr[data-row-key='{screen}']")).to_be_visible()

    header = page.get_by_test_id("app-search").locator("input")
    header.fill("黑屏")
    header.press("Enter")
    expect(page).to_have_url(re.compile(r"/apps/aftersales/search\?q=%E9%BB%91%E5%B1%8F$"))
    tickets = page.get_by_test_id("search-group-ticket")
    articles = page.get_by_test_id("search-group-knowledge_article")
    expect(tickets).to_contain_text("售后工单（1）")
    expect(tickets).to_contain_text(f"#{screen} 设备故障")
    expect(tickets.locator("mark")).to_have_text(["黑屏"])
    expect(articles).to_contain_text("开机黑屏的排查")
    expect(page.get_by_test_id("breadcrumb")).to_contain_text("搜索")
    settled(page)
    shot(page, "app-search")
    # the group's link opens the form's list searched the same way
    tickets.get_by_role("link", name=re.compile("查看全部")).click()
    expect(page).to_have_url(re.compile(r"/records/ticket\?_q="))
    expect(rows).to_have_count(1)
