"""A ticket worked from registration to closure in the browser, by the people of each step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record
from tangram.platform.worker import Worker
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import enter_found, shot, sign_in, watch
from tests.e2e.test_runtime import choose


@contextmanager
def signed_in(browser: Browser, server: str, username: str, lang: str = "zh-CN") -> Iterator[Page]:
    """A browser of one's own, signed in (in English when asked)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=lang)
    page = context.new_page()
    page.set_default_timeout(15_000)
    if lang == "en":
        page.add_init_script("localStorage.setItem('tangram.lang', 'en')")
    broken = watch(page)
    try:
        sign_in(page, server, username, PASSWORD)
        yield page
    finally:
        context.close()
    assert broken == [], f"{username}'s pages made broken requests: {broken}"


def open_task(page: Page, node: str) -> None:
    """The caller's to-do box, then the task at ``node``."""
    page.get_by_test_id("nav-inbox").click()
    page.get_by_test_id(f"task-{node}").click()
    expect(page.get_by_test_id("opinion")).to_be_visible()


def finish(page: Page, action: str = "submit") -> None:
    page.get_by_test_id(f"action-{action}").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))


def status(platform: Platform, record_id: int) -> str:
    with platform.unit_of_work(write=False) as uow:
        ticket = uow.session.get(Record, record_id)
        assert ticket is not None
        return str(ticket.data["status"])


def test_a_ticket_is_worked_from_registration_to_closure(
    browser: Browser, server: str, platform: Platform, clock: FrozenClock, people: dict[str, int]
) -> None:
    with signed_in(browser, server, "agent") as page:
        page.get_by_test_id("form-ticket").click()
        page.get_by_test_id("new-record").click()
        page.fill("#root_title", "打印头卡纸")
        choose(page, "issue_type", "硬件故障")
        choose(page, "product_line", "A 产品线")
        page.get_by_test_id("save-record").click()
        expect(page).to_have_url(re.compile(r"/records/ticket/\d+$"))
        record_id = int(page.url.rsplit("/", 1)[1])
        expect(page.get_by_test_id("flow-ticket_handling")).to_contain_text("首次响应")

    with signed_in(browser, server, "qe_a") as page:
        open_task(page, "respond")
        page.fill("#root_response_note", "已电话联系客户")
        finish(page)
        open_task(page, "analyse")
        page.fill("#root_root_cause", "搓纸轮磨损")
        choose(page, "cause_category", "生产")
        finish(page)
        open_task(page, "plan")
        page.locator("#root_measures__add").click()
        page.fill("#root_measures_0_what", "更换搓纸轮")
        page.locator("#root_measures_0_owner").click()
        page.keyboard.type("owner_1")
        enter_found(page, "owner_1")
        page.locator("#root_measures_0_due").click()
        page.keyboard.type("2026-12-01")
        page.keyboard.press("Enter")
        page.fill("#root_measures_0_verify", "连续打印500张无卡纸")
        shot(page, "task-plan")
        finish(page)
    assert status(platform, record_id) == "executing"  # not major: no director

    with signed_in(browser, server, "owner_1") as page:
        open_task(page, "execute")
        page.get_by_test_id("opinion").fill("已更换")
        finish(page)

    with signed_in(browser, server, "inspector") as page:
        open_task(page, "accept")
        page.locator("#root_acceptance__add").click()
        page.fill("#root_acceptance_0_item", "卡纸")
        page.fill("#root_acceptance_0_criterion", "500张无卡纸")
        choose(page, "acceptance_0_result", "通过")
        finish(page)
    # resolved: the customer has three days to answer the survey; without an answer, the agent
    # calls back
    assert status(platform, record_id) == "resolved"
    clock.advance(timedelta(days=3))
    Worker(platform, name="test").run_due()
    assert status(platform, record_id) == "callback"

    with signed_in(browser, server, "agent", lang="en") as page:  # the callback, in English
        open_task(page, "callback")
        expect(page.locator("body")).to_contain_text("Satisfaction callback")
        page.fill("#root_csat", "5")
        page.fill("#root_nps", "9")
        page.fill("#root_effort", "1")
        page.locator("#root_solved").get_by_label("Yes").check()
        finish(page)
    assert status(platform, record_id) == "closed"

    with signed_in(browser, server, "director") as page:
        page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
        flow = page.get_by_test_id("flow-ticket_handling")
        expect(flow).to_contain_text("已完成")
        flow.get_by_text("流转记录").click()
        expect(flow).to_contain_text("满意度回访")
        expect(flow).to_contain_text("owner_1")  # people by name
        shot(page, "ticket-closed")
        page.goto(f"{server}/apps/aftersales/dashboards/cockpit")
        card = page.get_by_test_id("widget-open_tickets")
        expect(card.locator(".ant-statistic-content-value")).to_have_text("0")
