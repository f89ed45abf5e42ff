"""A record list as people work it: a search box, more filters on demand, column settings kept,
options as coloured tags, overdue records marked, the whole row opening its record, the state in
the address (Back returns to it), and a selection's export and deletion."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Record, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, opened, settled, shot, sign_in
from tests.e2e.test_inbox import _ticket


def test_an_administrator_searches_selects_and_deletes_from_the_ticket_list(
    page: Page,
    server: str,
    platform: Platform,
    clock: FrozenClock,
    people: dict[str, int],
    admin_user: User,
) -> None:
    urgent = _ticket(platform, people, "整机无法启动", "P1")
    usual = _ticket(platform, people, "屏幕闪烁", "P3")
    other = _ticket(platform, people, "噪音偏大", "P4")
    clock.advance(timedelta(minutes=30))  # the P1 first response (5 minutes) is late now
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    rows = page.locator("tr.ant-table-row")
    expect(rows).to_have_count(3)
    late = page.locator(f"tr[data-row-key='{urgent}']")
    expect(late).to_have_attribute("data-overdue", "true")
    expect(late).to_contain_text("超时")
    expect(
        late.get_by_test_id("option-tag").filter(has_text="P1 紧急")
    ).to_be_visible()  # options as tags
    expect(page.locator(f"tr[data-row-key='{usual}']")).not_to_have_attribute(
        "data-overdue", "true"
    )
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "record-list")

    # the search box, kept in the address; the whole row opens its record; Back returns
    search = page.get_by_test_id("list-search").locator("input")
    search.fill("闪烁")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"_q=%E9%97%AA%E7%83%81"))
    expect(rows).to_have_count(1)
    rows.first.locator("td").nth(3).click()
    expect(page).to_have_url(re.compile(rf"/records/ticket/{usual}$"))
    page.go_back()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("list-search").locator("input")).to_have_value("闪烁")
    page.get_by_test_id("list-search").locator("input").fill("")
    page.get_by_test_id("list-search").locator("input").press("Enter")
    expect(rows).to_have_count(3)

    # more filters on demand
    filters = page.locator("form.ant-form-inline .ant-form-item-label")
    expect(filters).to_have_count(3)
    page.get_by_test_id("filters-unfold").click()
    assert filters.count() > 3

    # column settings, kept in this browser
    page.get_by_test_id("column-settings-open").click()
    opened(page.locator(".ant-popover:visible")).get_by_label("标题").uncheck()
    expect(page.locator("th", has_text="标题")).to_have_count(0)
    page.reload()
    expect(rows).to_have_count(3)
    expect(page.locator("th", has_text="标题")).to_have_count(0)

    # a selection is exported or deleted
    for record_id in (usual, other):
        page.locator(f"tr[data-row-key='{record_id}'] .ant-checkbox-input").check()
    bulk = page.get_by_test_id("bulk-actions")
    expect(bulk).to_contain_text("已选 2 项")
    href = page.get_by_test_id("bulk-export").get_attribute("href") or ""
    assert f"_id__in={usual}%2C{other}" in href or f"_id__in={other}%2C{usual}" in href
    page.get_by_test_id("bulk-delete").click()
    opened(page.locator(".ant-popconfirm:visible")).get_by_role("button").last.click()
    expect(rows).to_have_count(1)
    with platform.unit_of_work(write=False) as uow:
        gone = uow.session.scalars(
            select(Record.id).where(Record.id.in_([usual, other]), Record.deleted_at.is_not(None))
        ).all()
    assert sorted(gone) == sorted([usual, other])
