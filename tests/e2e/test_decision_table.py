"""The decision table editor in the browser: the after-sales dispatch matrix opens as a grid read in
words with its tests passing; a cell changed by operator and value makes a test fail live; taking
the catch-all row away shows which inputs no row matches, and one click puts a catch-all back; rows
are dragged into order; a unique-hit table marks the rows that overlap."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Definition, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    let_go,
    pick,
    saved,
    settled,
    shot,
    sign_in,
    stored_tickets,
)
from tests.e2e.conftest import option as choice


def test_the_dispatch_matrix_edited_as_a_grid_with_live_tests_and_gaps(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    # a line B hardware fault, dispatched by row 3 today
    stored_tickets(platform, {"title": "主板烧毁", "urgency": "P2"})
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/rules/dispatch_matrix")
    grid = page.get_by_test_id("table-rows")
    expect(grid.locator("tr.ant-table-row")).to_have_count(10)
    # cells by their options' labels; "-" for any
    expect(page.get_by_test_id("table-cell-1-0")).to_have_text("硬件故障")
    expect(page.get_by_test_id("table-cell-0-1")).to_have_text("-")
    expect(page.get_by_test_id("table-out-1-0")).to_have_value("line_a_qe")
    for case in range(3):
        expect(page.get_by_test_id(f"table-test-{case}")).to_have_attribute("data-passed", "true")
    expect(page.get_by_test_id("table-gaps")).to_have_count(0)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems

    # row 2 (hardware faults of line A) now takes lines A and B; with another group as its
    # output the test that expects line A's group fails, live, and passes again when it is back
    page.get_by_test_id("table-cell-1-1").click()
    pick(page, page.get_by_test_id("table-cell-1-1-op"), "属于其中之一")
    values = page.get_by_test_id("table-cell-1-1-values")
    values.click()
    choice(page, "B 产品线").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("table-cell-1-1")).to_have_text("∈ A 产品线、B 产品线")
    page.get_by_test_id("table-out-1-0").fill("line_ab_qe")
    saved(page)
    expect(page.get_by_test_id("table-test-0")).to_have_attribute(
        "data-passed", "false", timeout=10_000
    )
    expect(page.get_by_test_id("design-publish")).to_be_visible()
    page.get_by_test_id("table-out-1-0").fill("line_a_qe")
    expect(page.get_by_test_id("table-test-0")).to_have_attribute(
        "data-passed", "true", timeout=10_000
    )

    # without the catch-all row some inputs match no row: the editor says which, and puts one back
    page.get_by_test_id("table-remove-9").click()
    gaps = page.get_by_test_id("table-gaps")
    expect(gaps).to_be_visible(timeout=10_000)
    expect(gaps).to_contain_text("种输入组合没有任何一行匹配")
    expect(gaps).to_contain_text("问题类型 = 其他值")
    shot(page, "decision-table-gaps")
    page.get_by_test_id("table-add-catch-all").click()
    expect(grid.locator("tr.ant-table-row")).to_have_count(10)
    page.get_by_test_id("table-out-9-0").fill("customer_service")
    saved(page)
    expect(page.get_by_test_id("table-gaps")).to_have_count(0, timeout=10_000)
    with platform.unit_of_work(write=False) as uow:
        table = uow.session.scalar(
            select(Definition).where(Definition.kind == "rule", Definition.key == "dispatch_matrix")
        )
        assert table is not None
        rows = table.draft["rules"]
    assert rows[1] == {"when": ["hardware_fault", {"in": ["A", "B"]}], "then": ["line_a_qe"]}
    assert rows[9] == {"when": ["-", "-"], "then": ["customer_service"]}
    # publishing says what the change means for the stored tickets: row 2 now takes line B's
    page.get_by_test_id("design-publish").click()
    expect(page.get_by_test_id("design-publish-impact")).to_contain_text(
        "在最新的 1 条已存记录上试运行：1 条的结果会与 v1 不同"
    )


def drag_row(page: Page, source: Locator, target: Locator, over: int) -> None:
    """A row taken by its handle and let go over another row's handle, once the page has said
    that it is over row ``over`` (1-based): under load the page runs behind the pointer."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    assert start is not None
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 10, steps=4)
    end = target.bounding_box()
    assert end is not None
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    said = page.locator("[id^=DndLiveRegion]").filter(has_text=f"在第 {over} 行上方")
    expect(said).to_have_count(1)
    let_go(page)


def test_rows_are_dragged_into_order(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    def rules() -> list[dict[str, object]]:
        with platform.unit_of_work(write=False) as uow:
            table = uow.session.scalar(
                select(Definition).where(
                    Definition.kind == "rule", Definition.key == "dispatch_matrix"
                )
            )
            assert table is not None
            return list(table.draft["rules"])

    before = rules()
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/rules/dispatch_matrix")
    expect(page.get_by_test_id("table-test-0")).to_have_attribute("data-passed", "true")
    # the catch-all row dragged to the top catches everything first: the tests fail, live
    drag_row(page, page.get_by_test_id("table-drag-9"), page.get_by_test_id("table-drag-0"), 1)
    expect(page.get_by_test_id("table-cell-0-0")).to_have_text("-")
    expect(page.get_by_test_id("table-cell-0-1")).to_have_text("-")
    expect(page.get_by_test_id("table-test-0")).to_have_attribute(
        "data-passed", "false", timeout=10_000
    )
    saved(page)
    assert rules() == [before[9], *before[:9]]
    # and back to the bottom
    drag_row(page, page.get_by_test_id("table-drag-0"), page.get_by_test_id("table-drag-9"), 10)
    expect(page.get_by_test_id("table-test-0")).to_have_attribute(
        "data-passed", "true", timeout=10_000
    )
    saved(page)
    assert rules() == before


def test_rows_that_overlap_in_a_unique_table_are_marked_live(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/rules/dispatch_matrix")
    expect(page.get_by_test_id("table-test-0")).to_have_attribute("data-passed", "true")
    expect(page.locator("[data-testid^=table-row-problem-]")).to_have_count(0)
    # a unique-hit table lets no input match two rows: the catch-all overlaps every other row
    pick(page, page.get_by_test_id("table-hit-policy"), "唯一命中（只能有一行匹配）")
    marker = page.get_by_test_id("table-row-problem-9")
    expect(marker).to_be_visible(timeout=10_000)
    expect(marker).to_have_attribute("aria-label", re.compile(r"overlaps row 1"))
    expect(page.get_by_test_id("design-problems")).not_to_have_text("没有问题")
    pick(page, page.get_by_test_id("table-hit-policy"), "首条命中（按行顺序取第一条）")
    expect(page.locator("[data-testid^=table-row-problem-]")).to_have_count(0, timeout=10_000)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
