"""Simulating the after-sales ticket flow in the designer on a stored ticket: start, decide for
each person, see the conditions read with their values and the path drawn on the canvas, change
a value and go through the board's countersign with a rejection — and nothing is written."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import AuditEntry, FlowInstance, Task, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, shot, sign_in, stored_tickets


def written(platform: Platform) -> tuple[int, int, int]:
    with platform.unit_of_work(write=False) as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (AuditEntry, FlowInstance, Task)
        )


def test_a_designer_plays_the_ticket_flow_on_a_stored_ticket(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    (ticket_id,) = stored_tickets(
        platform,
        {"title": "投诉：安装延误", "issue_type": "complaint", "assignee": people["qe_a"]},
    )
    sign_in(page, server, "admin", ADMIN_PASSWORD)  # (signing in is audited)
    page.goto(f"{server}/design/aftersales/flows/ticket_handling")
    expect(page.get_by_test_id("flow-canvas")).to_have_attribute("data-state", "ready")
    before = written(platform)
    page.get_by_test_id("flow-simulate").click()
    simulator = page.get_by_test_id("flow-simulator")
    expect(simulator).to_be_visible()
    # the newest ticket is picked; the simulation starts at the engineer's first response
    expect(page.get_by_test_id("flow-sim-record")).to_contain_text(f"#{ticket_id} 投诉：安装延误")
    page.get_by_test_id("flow-sim-start").click()
    status = page.get_by_test_id("flow-sim-status")
    expect(status).to_have_attribute("data-status", "running")
    respond = page.get_by_test_id("flow-sim-task-respond")
    expect(respond).to_contain_text("agent")
    page.get_by_test_id("flow-sim-submit-respond").click()
    steps = page.get_by_test_id("flow-sim-steps")
    # the first-contact branch is read with the value it found
    expect(steps).to_contain_text("「首次接触即解决 是 是」不成立")
    expect(steps).to_contain_text("首次接触即解决 = 否")
    expect(page.get_by_test_id("flow-sim-task-analyse")).to_be_visible()
    # the path is drawn: passed nodes and connections, the waiting node marked
    expect(page.get_by_test_id("flow-node-respond")).to_have_attribute("data-mark", "visited")
    expect(page.get_by_test_id("flow-node-analyse")).to_have_attribute("data-mark", "current")
    expect(page.locator("[data-testid^=flow-edge-label-][data-taken=true]")).to_have_count(1)
    # undo takes the last decision back
    page.get_by_test_id("flow-sim-undo").click()
    expect(page.get_by_test_id("flow-sim-task-respond")).to_be_visible()
    expect(page.get_by_test_id("flow-node-respond")).to_have_attribute("data-mark", "current")

    # the same ticket as a major complaint: the board countersigns, one member rejects
    simulator.get_by_role("button", name="改几个字段的值再试").click()
    page.get_by_test_id("flow-sim-value-major").click()
    page.get_by_test_id("flow-sim-start").click()
    expect(status).to_have_attribute("data-status", "running")
    for step in ("respond", "analyse", "plan"):
        page.get_by_test_id(f"flow-sim-submit-{step}").click()
        expect(page.get_by_test_id(f"flow-sim-task-{step}")).to_have_count(0)
    expect(steps).to_contain_text("「重大问题 是 是」成立 → ")
    expect(steps).to_contain_text("重大问题 = 是")
    tasks = page.locator("[data-testid=flow-sim-task-countersign]")
    expect(tasks).to_have_count(2)
    expect(tasks.filter(has_text="board_1")).to_have_count(1)
    tasks.filter(has_text="board_2").get_by_test_id("flow-sim-reject-countersign").click()
    expect(page.get_by_test_id("flow-sim-task-plan")).to_be_visible()
    expect(steps).to_contain_text("board_2 驳回「")
    expect(page.get_by_test_id("flow-node-plan")).to_have_attribute("data-mark", "current")
    expect(page.get_by_test_id("flow-node-countersign")).to_have_attribute("data-mark", "visited")
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "flow-simulation")
    # closing the simulation takes the path off the canvas; nothing was written by any of it
    page.get_by_test_id("flow-sim-close").click()
    expect(page.locator("[data-mark]")).to_have_count(0)
    assert written(platform) == before
