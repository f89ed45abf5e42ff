"""A record's flow on its canvas, read-only: the path taken in green, the node where it waits
pulsing, with who holds the task and for how long — for the people who work the record, without
the designer (the canvas is loaded when the diagram opens)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tangram.platform.bootstrap import Platform
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import accessibility_problems, settled, shot, sign_in
from tests.e2e.test_runtime import act, open_task, register


def test_the_engineer_sees_the_ticket_flow_drawn_with_where_it_waits(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, title="屏幕不亮")
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "respond"),
        action="submit",
        data={"response_note": "已联系"},
    )
    flows_loaded: list[str] = []
    page.on(
        "request",
        lambda r: flows_loaded.append(r.url) if "InstanceDiagram" in r.url else None,
    )
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    opener = page.get_by_test_id("flow-diagram-open")
    expect(opener).to_be_visible()
    assert flows_loaded == []  # the record page does without the canvas until it is asked for
    opener.click()
    diagram = page.get_by_test_id("flow-diagram")
    expect(diagram).to_be_visible()
    assert flows_loaded
    expect(diagram.get_by_test_id("flow-node-respond")).to_have_attribute("data-mark", "visited")
    expect(diagram.get_by_test_id("flow-node-first_contact")).to_have_attribute(
        "data-mark", "visited"
    )
    analyse = diagram.get_by_test_id("flow-node-analyse")
    expect(analyse).to_have_attribute("data-mark", "current")
    expect(analyse).to_contain_text("qe_a · 已等待")
    # the branch not taken is not marked; the one taken is
    expect(diagram.get_by_test_id("flow-node-resolve")).not_to_have_attribute(
        "data-mark", "visited"
    )
    expect(diagram.locator("[data-testid^=flow-edge-label-][data-taken=true]")).to_have_count(1)
    expect(diagram.locator("[data-testid^=flow-edge-label-][data-taken=true]")).to_have_text(
        "2. 默认"
    )
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "flow-diagram")
