"""The inbox as an engineer works it: what is due first, urgency and due time on each task,
overdue ones marked, a search and filters kept in the address (Back returns to them), and
pages beyond the first fifty."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import load_actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import User
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, pick, settled, shot, sign_in
from tests.e2e.test_runtime import register


def _ticket(platform: Platform, people: dict[str, int], title: str, urgency: str) -> int:
    with platform.unit_of_work() as uow:
        agent = load_actor(uow.session, uow.session.get(User, people["agent"]), via="test")
        written = records.create_record(
            uow,
            agent,
            "aftersales",
            "ticket",
            {
                "title": title,
                "issue_type": "hardware_fault",
                "product_line": "A",
                "urgency": urgency,
            },
        )
        uow.commit()
    return written.record.id


def test_the_engineer_sees_what_is_due_first_searches_and_comes_back_to_it(
    page: Page, server: str, platform: Platform, clock: FrozenClock, people: dict[str, int]
) -> None:
    slow = _ticket(platform, people, "噪音偏大", "P4")
    clock.advance(timedelta(minutes=5))
    urgent = _ticket(platform, people, "整机无法启动", "P1")
    usual = _ticket(platform, people, "屏幕闪烁", "P3")
    clock.advance(timedelta(minutes=30))  # the P1 first response (5 minutes) is late now
    sign_in(page, server, "qe_a", PASSWORD)
    page.get_by_test_id("nav-inbox").click()
    items = page.get_by_test_id("inbox-item")
    expect(items).to_have_count(3)
    expect(items.first).to_have_attribute("data-record", str(urgent))
    expect(items.first).to_have_attribute("data-overdue", "true")
    expect(items.first).to_contain_text("P1 紧急")
    expect(items.first.get_by_test_id("inbox-due")).to_contain_text("已超时")
    expect(items.nth(1)).to_have_attribute("data-record", str(usual))
    expect(items.nth(1).get_by_test_id("inbox-due")).to_contain_text("截止")
    expect(items.nth(2)).to_have_attribute("data-record", str(slow))
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "inbox-due-first")

    # a search, kept in the address: Back from a task returns to it
    search = page.get_by_test_id("inbox-search").locator("input")
    search.fill("闪烁")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox\?q=%E9%97%AA%E7%83%81$"))
    expect(items).to_have_count(1)
    items.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    page.go_back()
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-record", str(usual))
    expect(search).to_have_value("闪烁")
    search.fill("")
    search.press("Enter")
    expect(items).to_have_count(3)
    pick(page, page.get_by_test_id("inbox-flow"), "工单处理 (3)")
    expect(page).to_have_url(re.compile(r"flow=ticket_handling"))
    expect(items).to_have_count(3)


def test_more_than_fifty_tasks_load_page_by_page(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    for n in range(51):
        register(platform, people, f"批量工单 {n + 1}")
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/inbox")
    items = page.get_by_test_id("inbox-item")
    expect(items).to_have_count(50)
    expect(page.get_by_test_id("box-todo")).to_contain_text("51")
    page.get_by_test_id("inbox-more").click()
    expect(items).to_have_count(51)
    expect(page.get_by_test_id("inbox-more")).to_have_count(0)
