"""Administration as an administrator works it: find a user, edit their name, roles and groups,
reset their password; change one's own password; a metadata rollback asks first; the
administration entry is on phones too; inbound mail is listed and a dead message retried."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth
from tangram.platform.inbound import service as inbound
from tangram.platform.kernel.models import (
    Group,
    InboundMail,
    Membership,
    Role,
    RoleAssignment,
    User,
)
from tests.apps.test_aftersales import PASSWORD
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, opened, pick_more, settled, shot, sign_in


def _password_is(platform: Platform, username: str, password: str) -> bool:
    with platform.unit_of_work(write=False) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return auth.verify_password(uow, user.password_hash, password)


def test_an_administrator_finds_and_edits_a_user(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-admin").click()
    search = page.get_by_test_id("user-search").locator("input")
    search.fill("owner_")
    search.press("Enter")
    rows = page.get_by_test_id("user-table").locator("tr.ant-table-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("user-edit-owner_1").click()
    editor = page.get_by_role("dialog", name="编辑用户 owner_1")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("owner_1")
    page.get_by_test_id("user-display-name").fill("赵工")
    pick_more(page, page.get_by_test_id("user-groups"), "B线质量工程师组")
    pick_more(page, page.get_by_test_id("user-roles"), "服务经理")
    shot(page, "admin-user-editor")
    problems = accessibility_problems(page)
    assert problems == [], problems
    page.get_by_test_id("user-save").click()
    expect(editor).to_have_count(0)
    expect(page.get_by_test_id("user-table")).to_contain_text("赵工")
    with platform.unit_of_work(write=False) as uow:
        user = uow.session.get(User, people["owner_1"])
        assert user is not None
        assert user.display_name == "赵工"
        group = uow.session.scalar(select(Group.id).where(Group.key == "line_b_qe"))
        role = uow.session.scalar(select(Role.id).where(Role.key == "service_manager"))
        assert uow.session.scalar(
            select(Membership.group_id).where(
                Membership.user_id == user.id, Membership.group_id == group
            )
        )
        assert uow.session.scalar(
            select(RoleAssignment.role_id).where(
                RoleAssignment.user_id == user.id, RoleAssignment.role_id == role
            )
        )

    # a new password, set by the administrator
    page.get_by_test_id("user-edit-owner_1").click()
    expect(page.get_by_role("dialog", name="编辑用户 赵工")).to_be_visible()
    page.get_by_test_id("user-new-password").fill("Reset-by-admin-7")
    page.get_by_test_id("user-reset-password").click()
    expect(page.locator(".ant-message")).to_contain_text("密码已重置")
    assert _password_is(platform, "owner_1", "Reset-by-admin-7")

    # a rollback of an app's metadata asks first; cancelling does nothing
    page.get_by_role("tab", name="应用包").click()
    page.get_by_test_id("rollback-aftersales").click()
    confirm = opened(page.locator(".ant-popconfirm:visible"))
    expect(confirm).to_contain_text("记录数据不变")
    confirm.get_by_role("button").first.click()
    expect(page.locator(".ant-popconfirm:visible")).to_have_count(0)
    settled(page)


def test_anyone_changes_their_own_password_and_the_admin_entry_is_on_phones(
    browser: Browser,
    page: Page,
    server: str,
    platform: Platform,
    people: dict[str, int],
    admin_user: User,
) -> None:
    sign_in(page, server, "agent", PASSWORD)
    page.get_by_test_id("change-password").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    page.get_by_test_id("password-current").fill(PASSWORD)
    page.get_by_test_id("password-new").fill("A-new-secret-9")
    page.get_by_test_id("password-again").fill("A-new-secret-0")
    dialog.locator(".ant-modal-footer .ant-btn-primary").click()
    expect(dialog).to_contain_text("两次输入的新密码不一致")
    page.get_by_test_id("password-again").fill("A-new-secret-9")
    dialog.locator(".ant-modal-footer .ant-btn-primary").click()
    expect(page.locator(".ant-message")).to_contain_text("密码已修改")
    assert _password_is(platform, "agent", "A-new-secret-9")

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    small = phone.new_page()
    sign_in(small, server, "admin", ADMIN_PASSWORD)
    small.get_by_test_id("nav-admin").click()
    expect(small.get_by_test_id("user-table")).to_be_visible()
    wide = small.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the administration is {wide}px wide on a 390px screen"
    small.get_by_role("tab", name="角色").click()
    small.get_by_test_id("role-agent").click()
    expect(small.get_by_test_id("role-members")).to_be_visible()
    wide = small.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the roles panel is {wide}px wide on a 390px screen"
    shot(small, "admin-roles-390")
    phone.close()


def test_an_administrator_sees_inbound_mail_and_retries_a_dead_message(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    with platform.unit_of_work() as uow:
        received = inbound.store(
            uow,
            recipient="service@mail.test",
            envelope_from="li@customer.test",
            raw=b"From: li@customer.test\r\nSubject: printer jams\r\n\r\nbody",
        )
        failed = inbound.store(
            uow,
            recipient="service@mail.test",
            envelope_from="wang@customer.test",
            raw=b"From: wang@customer.test\r\nSubject: leaking\r\n\r\nbody",
        )
        failed.state, failed.attempts, failed.last_error = "dead", 5, "RuntimeError: store down"
        uow.commit()
        received_id, failed_id = received.id, failed.id
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_role("tab", name="来信").click()
    table = page.get_by_test_id("mail-table")
    expect(table.locator("tr.ant-table-row")).to_have_count(2)
    expect(table).to_contain_text("处理失败")
    expect(table).to_contain_text("RuntimeError: store down")
    expect(page.get_by_test_id(f"mail-retry-{received_id}")).to_have_count(0)
    settled(page)
    shot(page, "admin-inbound-mail")
    problems = accessibility_problems(page)
    assert problems == [], problems
    page.get_by_test_id(f"mail-retry-{failed_id}").click()
    expect(page.locator(".ant-message")).to_contain_text("已重新排队处理")
    expect(page.get_by_test_id(f"mail-retry-{failed_id}")).to_have_count(0)
    with platform.unit_of_work(write=False) as uow:
        row = uow.session.get(InboundMail, failed_id)
        assert row is not None
        assert row.state == "received"
