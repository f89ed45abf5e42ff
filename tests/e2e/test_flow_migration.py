"""Publishing a flow while tickets run on it: the publish dialog says where the running instances
are and which of them wait at a node the new version drops; after publishing, the migration
screen maps that node onto one of the new version's, previews every instance with the engine and
moves them all."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import FlowInstance, Task, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    opened,
    publish_dialog,
    saved,
    shot,
    sign_in,
    stored_tickets,
)
from tests.e2e.conftest import option as choice


def test_publishing_v2_without_a_node_and_moving_the_tickets_waiting_there(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    stored_tickets(platform, {"title": "屏幕闪烁"}, {"title": "无法开机"})
    with platform.unit_of_work(write=False) as uow:
        running = list(uow.session.scalars(select(FlowInstance)))
    assert [(i.version, [t["node"] for t in i.state["tasks"].values()]) for i in running] == [
        (1, ["respond"]),
        (1, ["respond"]),
    ]
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/flows/ticket_handling")
    expect(page.get_by_test_id("flow-canvas")).to_have_attribute("data-state", "ready")
    # v2 has no first response: the start goes straight to the first-contact branch
    page.get_by_test_id("flow-node-respond").click()
    page.get_by_test_id("flow-delete").click()
    expect(page.get_by_test_id("flow-node-respond")).to_have_count(0)
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    publish_dialog(page)
    impact = page.get_by_test_id("design-publish-impact")
    expect(impact).to_contain_text("v1 的 2 个运行中实例停在：首次响应 2")
    expect(impact).to_contain_text("「首次响应」不在新版本中：停在这里的 2 个实例要迁移")
    page.get_by_test_id("design-publish-note").fill("取消首次响应环节")
    page.get_by_test_id("design-publish-confirm").click()
    expect(page.get_by_test_id("design-status")).to_contain_text("v2")

    # one click away: the migration screen, the dropped node mapped onto the analysis
    offer = page.get_by_test_id("design-offer-migrate")
    expect(offer).to_contain_text("还有 2 个运行中的实例使用旧版本")
    offer.get_by_role("button").filter(has_text="迁移").click()
    dialog = opened(page.get_by_test_id("flow-migrate-dialog"))
    expect(page.get_by_test_id("flow-migrate-source")).to_contain_text("v1（2 个运行中）")
    mapping = page.get_by_test_id("flow-migrate-mapping")
    expect(mapping).to_contain_text("首次响应（respond）")
    expect(page.get_by_test_id("flow-migrate-preview")).to_be_disabled()
    page.get_by_test_id("flow-migrate-to-respond").click()
    choice(page, "原因分析（analyse）").click()
    page.get_by_test_id("flow-migrate-preview").click()
    outcome = page.get_by_test_id("flow-migrate-outcome")
    expect(outcome).to_contain_text("2 个实例都可以迁移")
    expect(outcome).to_contain_text("首次响应 → 原因分析")
    # the dialog stays open for axe: only what moves around it must have settled
    expect(page.locator(".ant-message-notice")).to_have_count(0, timeout=10_000)
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "flow-migration")
    page.get_by_test_id("flow-migrate-apply").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("design-offer-migrate")).to_have_count(0)
    with platform.unit_of_work(write=False) as uow:
        moved = list(uow.session.scalars(select(FlowInstance).order_by(FlowInstance.id)))
        tasks = list(uow.session.scalars(select(Task).where(Task.status == "open")))
    assert [i.version for i in moved] == [2, 2]
    assert {t.node for t in tasks} == {"analyse"}
