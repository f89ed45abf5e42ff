"""The form designer's 外部填报: a designer makes a public link for tickets without writing JSON —
the fields a visitor must be asked for come ticked, those a visitor cannot fill are not offered,
the address is shown once with a QR code — and a customer opens it on a phone; turned off it
opens nothing, and a new address replaces the old one at once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, opened, pick, settled, shot, sign_in


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def test_a_designer_makes_shares_turns_off_and_renews_a_public_link(
    page: Page,
    phone: Page,
    server: str,
    platform: Platform,
    admin_user: User,
    people: dict[str, int],
) -> None:
    with platform.unit_of_work() as uow:
        for model in ("洗衣机 W100", "洗衣机 W200"):
            records.create_record(
                uow,
                Actor.system("test"),
                "aftersales",
                "product",
                {"model": model, "product_line": "A"},
            )
        uow.commit()
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/forms/ticket")
    page.get_by_role("tab", name="外部填报").click()
    links = page.get_by_test_id("intake-links")
    expect(links).to_contain_text("还没有填报链接")
    page.get_by_test_id("intake-new").click()

    dialog = opened(page.get_by_role("dialog", name="新建外部填报链接"))
    fields = dialog.get_by_test_id("intake-fields")
    expect(fields.get_by_role("checkbox", name="标题")).to_be_checked()
    expect(fields.get_by_role("checkbox", name="问题类型")).to_be_checked()
    expect(fields.get_by_role("checkbox", name="处理人")).to_be_disabled()  # staff: never shown
    expect(fields.get_by_role("checkbox", name="工单号")).to_be_disabled()  # the system's
    # a required field left out is said before anything is sent
    fields.get_by_role("checkbox", name="标题").uncheck()
    expect(dialog.get_by_test_id("intake-missing")).to_contain_text("标题")
    expect(dialog.get_by_test_id("intake-save")).to_be_disabled()
    fields.get_by_role("checkbox", name="标题").check()
    expect(dialog.get_by_test_id("intake-missing")).to_have_count(0)
    for name in ("联系人", "联系电话", "图片", "产品"):
        fields.get_by_role("checkbox", name=name, exact=True).check()
    # a reference tells what anyone with the link may look up
    expect(dialog.get_by_test_id("intake-shows")).to_have_text(
        "（持有链接的人都能搜索到「产品」所有记录的「型号」）"
    )
    dialog.get_by_test_id("intake-title-input").fill("在线报修")
    pick(page, dialog.get_by_test_id("intake-owner"), "(agent)")
    assert accessibility_problems(page) == []
    dialog.get_by_test_id("intake-save").click()

    shown = opened(page.get_by_role("dialog", name="链接已生成")).get_by_test_id("intake-shown")
    address = shown.get_by_test_id("intake-address").input_value()
    assert re.fullmatch(re.escape(server) + r"/intake/tgi_\S+", address), address
    expect(shown.get_by_role("img", name="填报链接的二维码")).to_be_visible()
    expect(shown).to_contain_text("链接只显示这一次")
    assert accessibility_problems(page) == []
    shot(page, "designer-intake-link")
    page.get_by_role("button", name="我已保存").click()
    settled(page)
    row = links.locator("tbody tr.ant-table-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("在线报修")
    for name in ("标题", "联系人", "联系电话", "问题类型", "图片", "产品"):
        expect(row).to_contain_text(name)

    # the customer opens it on a phone: the chosen fields, nothing else
    phone.goto(address)
    expect(phone.get_by_test_id("intake-title")).to_have_text("在线报修")
    expect(phone.locator("#root_contact_phone")).to_be_visible()
    expect(phone.locator("#root_urgency")).to_have_count(0)
    # the product is chosen by its model through the link, without an account
    phone.locator("#root_product").click()
    phone.keyboard.type("W2")
    choice = phone.locator(".ant-select-dropdown:visible .ant-select-item-option")
    expect(choice).to_have_text(["洗衣机 W200"])
    choice.click()
    expect(phone.locator(".ant-select-dropdown:visible")).to_have_count(0)

    # turned off, the link opens nothing; on again, it opens
    switch = row.get_by_role("switch", name="启用")
    switch.click()
    expect(switch).not_to_be_checked()
    phone.reload()
    expect(phone.get_by_test_id("public-not-found")).to_be_visible()
    switch.click()
    expect(switch).to_be_checked()

    # a new address: the old one stops at once
    row.get_by_role("button", name="重新生成链接").click()
    confirm = opened(page.locator(".ant-popconfirm:visible"))
    expect(confirm).to_contain_text("旧链接和旧二维码立即失效")
    confirm.get_by_role("button", name="重新生成链接").click()
    shown = opened(page.get_by_role("dialog", name="链接已生成")).get_by_test_id("intake-shown")
    renewed = shown.get_by_test_id("intake-address").input_value()
    assert renewed != address
    page.get_by_role("button", name="我已保存").click()
    phone.reload()
    expect(phone.get_by_test_id("public-not-found")).to_be_visible()
    phone.goto(renewed)
    expect(phone.get_by_test_id("intake-title")).to_have_text("在线报修")
