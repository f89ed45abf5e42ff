"""A record printed for signatures and archives reads as the document alone, and every page
names itself in the browser's tab ("售后工单 #12 · 七巧板")."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tangram.platform.bootstrap import Platform
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.test_runtime import open_task, register


def test_pages_name_themselves_and_a_record_prints_as_its_document(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "打印机卡纸")
    task = open_task(platform, record_id, "respond")
    sign_in(page, server, "qe_a", PASSWORD)
    expect(page).to_have_title("应用 · 七巧板")
    page.get_by_test_id("nav-inbox").click()
    expect(page).to_have_title("待办 · 七巧板")
    page.goto(f"{server}/tasks/{task.id}")
    expect(page).to_have_title(f"首次响应 · 售后工单 #{record_id} · 七巧板")
    page.goto(f"{server}/apps/aftersales/records/ticket")
    expect(page).to_have_title("售后工单 · 七巧板")
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    expect(page).to_have_title(f"售后工单 #{record_id} · 七巧板")

    document = page.get_by_test_id("record-document")
    expect(document).to_contain_text("打印机卡纸")
    expect(page.get_by_test_id("print-record")).to_be_visible()
    page.emulate_media(media="print")
    # printed: the document and the flow's history, not the header, the buttons or the timeline
    expect(document).to_be_visible()
    expect(page.locator(".ant-layout-header")).to_be_hidden()
    expect(page.get_by_test_id("print-record")).to_be_hidden()
    expect(page.get_by_test_id("timeline-card")).to_be_hidden()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    expect(page.get_by_test_id("timeline-card")).to_be_visible()
