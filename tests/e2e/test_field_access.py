"""The form designer's 字段权限: an administrator hides a field from a role in the matrix, is
warned before a role that creates records loses a required field, saves, and the role's holders
no longer see the field; the matrix passes the accessibility check."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import load_actor
from tangram.platform.kernel.models import Grant, Role, User
from tests.apps.test_aftersales import PASSWORD
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, pick, shot, sign_in

PHONE = "13912345678"


def _ticket(platform: Platform, people: dict[str, int]) -> int:
    """A ticket the agent registers with the contact's phone (dispatched to Line A's QE)."""
    with platform.unit_of_work() as uow:
        agent = load_actor(uow.session, uow.session.get(User, people["agent"]), via="test")
        written = records.create_record(
            uow,
            agent,
            "aftersales",
            "ticket",
            {
                "title": "打印机卡纸",
                "issue_type": "hardware_fault",
                "product_line": "A",
                "urgency": "P3",
                "contact_phone": PHONE,
            },
        )
        uow.commit()
    return written.record.id


def _rules(platform: Platform, role: str) -> dict[str, str]:
    with platform.unit_of_work(write=False) as uow:
        grant = (
            uow.session.query(Grant)
            .join(Role, Role.id == Grant.role_id)
            .filter(Role.key == role, Grant.form_key == "ticket")
            .one()
        )
        return dict(grant.field_rules)


def test_an_administrator_hides_a_field_from_a_role_in_the_designer(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    record_id = _ticket(platform, people)
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    expect(page.get_by_test_id("record-document")).to_contain_text(PHONE)

    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/forms/ticket")
    page.get_by_role("tab", name="字段权限").click()
    matrix = page.get_by_test_id("field-access")
    expect(matrix).to_contain_text("质量工程师")
    expect(matrix).to_contain_text("授权覆盖全部表单")  # the app's own administrator role

    # a required field taken from a role that registers tickets is flagged, and taken back
    pick(page, page.get_by_test_id("access-agent-title"), "隐藏")
    warnings = page.get_by_test_id("access-warnings")
    expect(warnings).to_contain_text("「标题」必填，但对 客服专员 隐藏")
    page.get_by_role("button", name="撤销更改").click()
    expect(warnings).to_have_count(0)

    pick(page, page.get_by_test_id("access-quality_engineer-contact_phone"), "隐藏")
    expect(page.get_by_test_id("access-save")).to_contain_text("(1)")
    assert accessibility_problems(page) == []
    shot(page, "form-designer-field-access")
    page.get_by_test_id("access-save").click()
    expect(page.get_by_text("字段权限已保存，立即生效")).to_be_visible()
    expect(page.get_by_test_id("access-save")).to_be_disabled()
    assert _rules(platform, "quality_engineer") == {"contact_phone": "hidden"}
    assert _rules(platform, "agent") == {}

    # the administrator still reads it; the quality engineer no longer does
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    expect(page.get_by_test_id("record-document")).to_contain_text(PHONE)
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    document = page.get_by_test_id("record-document")
    expect(document).to_contain_text("打印机卡纸")
    expect(document).not_to_contain_text(PHONE)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    expect(page.get_by_text("打印机卡纸")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(PHONE)
    expect(page).to_have_url(re.compile(r"/records/ticket"))
