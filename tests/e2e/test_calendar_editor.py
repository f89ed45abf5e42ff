"""The calendar editor in the browser: the after-sales workday calendar on a year view (holidays
and adjusted working days marked), a day made a holiday with one click, Saturday mornings opened,
and the engine's probe saying when eight working hours from Friday afternoon end, and why."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Definition, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, saved, settled, shot, sign_in


def test_a_workday_calendar_edited_on_its_year_view_and_probed(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/calendars/cn_workdays")
    expect(page.get_by_test_id("calendar-designer")).to_be_visible()
    shown = page.get_by_test_id("calendar-year-shown")
    while int(shown.inner_text()) > 2026:
        page.get_by_role("button", name="上一年").click()
    while int(shown.inner_text()) < 2026:
        page.get_by_role("button", name="下一年").click()
    expect(page.get_by_test_id("calendar-day-2026-01-01")).to_have_attribute("data-kind", "holiday")
    expect(page.get_by_test_id("calendar-day-2026-01-04")).to_have_attribute(
        "data-kind", "adjusted"
    )
    expect(page.get_by_test_id("calendar-day-2026-12-05")).to_have_attribute("data-kind", "off")
    expect(page.get_by_test_id("calendar-week-mon")).to_contain_text("9 小时")
    expect(page.get_by_test_id("calendar-designer")).to_contain_text("日历名称")

    # the probe on the calendar as published: Friday 14:00 + 8 working hours → Monday 13:00
    start = page.get_by_test_id("calendar-probe-start")
    start.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("2026-12-04 14:00")
    page.keyboard.press("Enter")
    page.get_by_test_id("calendar-probe-run").click()
    answer = page.get_by_test_id("calendar-probe-answer")
    expect(answer).to_contain_text("→ 12-07")
    expect(answer).to_contain_text("13:00 到期")

    # Monday 7 December becomes a holiday: the same probe now ends on Tuesday
    page.get_by_test_id("calendar-day-2026-12-07").click()
    expect(page.get_by_test_id("calendar-day-2026-12-07")).to_have_attribute("data-kind", "holiday")
    page.get_by_test_id("calendar-probe-run").click()
    expect(answer).to_contain_text("→ 12-08")
    # and Saturday mornings are worked: Saturday 9–13 counts first
    page.get_by_test_id("calendar-add-sat").click()
    page.get_by_test_id("calendar-probe-run").click()
    expect(answer).to_contain_text("12-05")
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "calendar-editor")
    with platform.unit_of_work(write=False) as uow:
        calendar = uow.session.scalar(
            select(Definition).where(Definition.kind == "calendar", Definition.key == "cn_workdays")
        )
        assert calendar is not None
        draft = calendar.draft
    assert "2026-12-07" in draft["holidays"]
    assert draft["week"]["sat"] == [["09:00", "18:00"]]
