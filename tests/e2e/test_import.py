"""Importing tickets from Excel in the browser: upload, the suggested mapping with sample values,
a check that names a row's problem and imports nothing, then the fixed file imported whole."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Record
from tests.api.test_imports_api import HEADER, workbook
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, opened, pick, shot, sign_in


def tickets(platform: Platform) -> int:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.scalar(
            select(func.count()).select_from(Record).where(Record.form_key == "ticket")
        )
        return int(found or 0)


def test_an_agent_imports_tickets_from_excel(
    page: Page, server: str, platform: Platform, people: dict[str, int], tmp_path: Path
) -> None:
    wrong = tmp_path / "工单.xlsx"
    rows = [
        HEADER,
        ["开机无响应", "电话", "", "硬件故障", "P2 高", "2026-11-20 09:30", "", "补充说明"],
        ["屏幕闪烁", "邮件", "", "外星故障", "P3", "", "", ""],
    ]
    wrong.write_bytes(workbook(rows))
    before = tickets(platform)
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    page.get_by_test_id("import-records").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    expect(page.get_by_test_id("import-template")).to_be_visible()
    dialog.locator("input[type=file]").set_input_files(str(wrong))
    # the columns map by their headers; one names no field and is left out
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping).to_contain_text("2026-11-20 09:30")
    expect(page.get_by_test_id("import-map-标题")).to_contain_text("标题")
    expect(page.get_by_test_id("import-map-备注")).to_contain_text("不导入")
    pick(page, page.get_by_test_id("import-map-联系邮箱"), "不导入")
    # (the dialog stays open: settled() waits for dialogs to go; the pick waited for its list)
    problems = accessibility_problems(page)
    assert problems == [], problems
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("共 2 行：1 行无误，1 行有问题")
    problem_rows = page.get_by_test_id("import-problems").locator("tr.ant-table-row")
    expect(problem_rows).to_have_count(1)
    expect(problem_rows.first).to_contain_text("3")
    expect(problem_rows.first).to_contain_text("「外星故障」不是可选项")
    expect(page.get_by_test_id("import-run")).to_have_count(0)  # all or nothing
    shot(page, "import-problems")
    assert tickets(platform) == before

    # the fixed file is imported whole
    rows[2][3] = "软件缺陷"
    fixed = tmp_path / "工单-修正.xlsx"
    fixed.write_bytes(workbook(rows))
    dialog.get_by_role("button", name="重新上传").click()
    dialog.locator("input[type=file]").set_input_files(str(fixed))
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("共 2 行：2 行无误，0 行有问题")
    page.get_by_test_id("import-run").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("已导入 2 条记录")
    page.get_by_test_id("import-close").click()
    expect(page.locator(".ant-modal:visible")).to_have_count(0)
    assert tickets(platform) == before + 2
    table = page.locator(".ant-table-tbody")
    expect(table).to_contain_text("屏幕闪烁")
    expect(table).to_contain_text("开机无响应")


SEEN = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    const shown = document.querySelector("[data-testid=import-progress]");
    if (shown) window.__progress.push(shown.textContent);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""


def test_a_long_import_shows_how_many_rows_the_server_has_checked_and_written(
    page: Page, server: str, platform: Platform, people: dict[str, int], tmp_path: Path
) -> None:
    many = tmp_path / "一百二十张工单.xlsx"
    many.write_bytes(
        workbook(
            [HEADER]
            + [[f"批量工单 {i}", "电话", "", "硬件故障", "P3", "", "", ""] for i in range(120)]
        )
    )
    before = tickets(platform)
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    page.get_by_test_id("import-records").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    page.evaluate(SEEN)
    dialog.locator("input[type=file]").set_input_files(str(many))
    expect(page.get_by_test_id("import-mapping")).to_be_visible()
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("共 120 行：120 行无误")
    page.get_by_test_id("import-run").click()
    # each ticket starts its flow and SLA: a long operation, longer on a busy machine
    expect(page.get_by_test_id("import-done")).to_contain_text("已导入 120 条记录", timeout=90_000)
    seen: list[str] = page.evaluate("window.__progress")
    written = {int(n) for t in seen for n in re.findall(r"正在导入第 (\d+) / 120 条", t)}
    # the writing's counts on the way (a check of 120 rows may be over before the browser draws
    # a count; the API tests follow the check's steps)
    assert len(written - {0, 120}) >= 3, list(dict.fromkeys(seen))
    assert tickets(platform) == before + 120


def test_a_cut_connection_is_said_in_words_and_the_file_can_be_sent_again(
    page: Page, server: str, platform: Platform, people: dict[str, int], tmp_path: Path
) -> None:
    book = tmp_path / "工单.xlsx"
    book.write_bytes(workbook([HEADER, ["开机无响应", "电话", "", "硬件故障", "P3", "", "", ""]]))
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    page.get_by_test_id("import-records").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    page.route("**/records/ticket/import?**", lambda route: route.abort())
    dialog.locator("input[type=file]").set_input_files(str(book))
    expect(page.get_by_test_id("import-error")).to_have_text("连接中断，检查没有完成：请重试")
    page.unroute("**/records/ticket/import?**")
    dialog.locator("input[type=file]").set_input_files(str(book))
    expect(page.get_by_test_id("import-mapping")).to_be_visible()
    expect(page.get_by_test_id("import-error")).to_have_count(0)
