"""The flow designer in the browser: an after-sales flow opens laid out and unchanged, and a
business user draws a new approval flow — nodes from the palette, a 会签 approval, an exclusive
branch with a condition and its default, a timeout — sees the engine's verdict on the canvas,
publishes it, and finds it again as drawn."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.models import Definition, DefinitionVersion, User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    enter_found,
    new_definition,
    opened,
    pick,
    publish_draft,
    saved,
    settled,
    shot,
    sign_in,
    still,
    watch_moves,
)

DESIGN = "/design/aftersales/flows"


def laid_out(page: Page) -> None:
    """Every node has its place, and the view is set (a flow without positions is laid out when
    it opens: a node clicked before would move under the pointer)."""
    expect(page.get_by_test_id("flow-canvas")).to_have_attribute("data-state", "ready")


def node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id(f"flow-node-{node_id}")


def steady_box(page: Page, locator: Locator) -> dict[str, float]:
    """Where an element is once the canvas stopped moving: fitting the view applies its new
    transform on a later frame, and a box read before is where the handle no longer is (under
    load the drag then started or ended beside it)."""
    box = locator.bounding_box()
    for _ in range(50):
        page.evaluate(
            "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        again = locator.bounding_box()
        if box is not None and again == box:
            return box
        box = again
    raise AssertionError(f"{locator} never stopped moving")


def offset(page: Page, locator: Locator, panel: Locator) -> float:
    """How far below the panel's top an element is drawn, once both stopped moving."""
    return steady_box(page, locator)["y"] - steady_box(page, panel)["y"]


def connect(page: Page, source: str, target: str) -> None:
    """Drag from the source node's way out (bottom handle) to the target node's way in, with the
    whole flow in view first (a handle below the canvas's edge cannot be reached)."""
    page.get_by_role("button", name="适应画布").click()
    out = page.locator(f".react-flow__node[data-id={source}] .react-flow__handle.source")
    into = page.locator(f".react-flow__node[data-id={target}] .react-flow__handle.target")
    start, end = steady_box(page, out), steady_box(page, into)
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    page.mouse.up()


def test_an_after_sales_flow_opens_laid_out_and_unchanged(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/ticket_handling")
    expect(page.get_by_test_id("flow-designer")).to_be_visible()
    laid_out(page)
    expect(page.locator(".react-flow__node")).to_have_count(28)
    expect(node(page, "countersign")).to_contain_text("会签")
    # conditions read aloud on their branches, the default marked
    expect(page.locator("[data-testid^=flow-edge-label-]", has_text="默认")).to_have_count(6)
    # opening the flow (and laying it out) wrote nothing: the draft is still version 1
    with platform.unit_of_work(write=False) as uow:
        flow = uow.session.scalar(
            select(Definition).where(Definition.kind == "flow", Definition.key == "ticket_handling")
        )
        assert flow is not None
        assert "layout" not in flow.draft
    # the whole flow in view: a node below the canvas's edge is not clicked through its clipping
    page.get_by_role("button", name="适应画布").click()
    node(page, "countersign").click()
    props = page.get_by_test_id("flow-node-props")
    expect(props).to_have_attribute("data-node", "countersign")
    expect(props.get_by_role("radio", name="会签（需所有人同意）")).to_be_checked()
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "flow-designer-ticket")


def test_a_node_s_properties_hold_still_once_shown(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    """A node's panel is drawn where it stays: nothing in it slides down after it shows (a hint
    brought in with a motion pushed the fields below it down by a line, and a radio clicked
    right after a node was picked or renamed landed on its neighbour)."""
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/ticket_handling")
    laid_out(page)
    moves = watch_moves(page, "flow-properties")
    props = page.get_by_test_id("flow-node-props")
    for node_id in ("respond", "countersign", "approve", "analyse"):
        page.get_by_role("button", name="适应画布").click()
        node(page, node_id).click()
        expect(props).to_have_attribute("data-node", node_id)
        still(page, "flow-properties")
    assert moves() == []


def test_a_business_user_draws_checks_and_publishes_an_approval_flow(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales?kind=flows")
    new_definition(page, "flows", "工单复核", "review")
    # a new flow starts from its start and its end, connected
    laid_out(page)
    expect(page.locator(".react-flow__node")).to_have_count(2)
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    pick(page, page.get_by_test_id("flow-form"), "工单")

    # an approval after the start: clicked in the palette with the start selected, it takes the
    # start's way out
    node(page, "start").click()
    page.get_by_test_id("flow-palette-approval").click()
    expect(page.get_by_test_id("flow-node-props")).to_have_attribute("data-node", "approval")
    page.get_by_test_id("flow-node-label").fill("主管会签")
    radio = page.get_by_test_id("flow-node-props").get_by_role("radio", name="会签（需所有人同意）")
    radio.click()  # (then the assertion waits for the panel to show it)
    expect(radio).to_be_checked()
    pick(page, page.get_by_test_id("flow-assignees-0-kind"), "角色")
    pick(page, page.get_by_test_id("flow-assignees-0-role"), "service_manager")
    page.get_by_test_id("flow-timeout-on").click()
    expect(page.get_by_test_id("flow-timeout-amount")).to_have_value("2")
    expect(node(page, "approval")).to_contain_text("会签")
    expect(node(page, "approval")).to_contain_text("超时 2 天（工作时间）")

    # an exclusive branch after it, then a carbon copy dropped on the canvas for urgent tickets
    page.get_by_test_id("flow-palette-exclusive").click()
    expect(page.locator("[data-testid^=flow-edge-label-]", has_text="默认")).to_have_count(1)
    canvas = page.get_by_test_id("flow-canvas")
    box = canvas.bounding_box()
    assert box is not None
    page.get_by_test_id("flow-palette-cc").drag_to(
        canvas, target_position={"x": box["width"] - 160, "y": box["height"] / 2}
    )
    expect(node(page, "cc")).to_be_visible()
    connect(page, "exclusive", "cc")
    edge = page.get_by_test_id("flow-edge-props")
    expect(edge).to_be_visible()
    # the branch has no condition yet: the engine says so, on the canvas
    expect(page.get_by_test_id("design-problems")).to_contain_text(
        re.compile(r"\d+ 个问题"), timeout=10_000
    )
    # picked from the list, the problem selects the connection it is pinned on
    page.locator(".react-flow__pane").click(position={"x": 12, "y": 12})
    expect(page.get_by_test_id("flow-settings")).to_be_visible()
    page.get_by_test_id("design-problems").click()
    page.get_by_test_id("design-problem").filter(has_text="condition").first.click()
    expect(edge).to_be_visible()
    page.get_by_test_id("flow-edge-condition-open").click()
    builder = page.get_by_test_id("flow-edge-condition")
    builder.locator(".ruleGroup-addRule").first.click()
    pick(page, builder.locator(".rule-fields"), "紧急程度")
    pick(page, builder.locator(".rule-value"), "P1 紧急")
    expect(page.get_by_test_id("flow-edge-condition-reading")).to_contain_text(
        "紧急程度 是 P1 紧急"
    )
    # the copy has no way out yet: the engine's verdict pins that on the node, below its
    # properties, with the count on the panel's heading; the fields stay where they are when
    # it comes and goes (drawn above them, it would push them down under a pointer about to
    # click one)
    node(page, "cc").click()
    props = page.get_by_test_id("flow-node-props")
    count = props.get_by_test_id("pinned-problem-count")
    expect(props.get_by_test_id("flow-props-problems")).to_contain_text(
        "node 'cc' has no outgoing edge", timeout=10_000
    )
    expect(count).to_have_text("2 个问题")
    kind = page.get_by_test_id("flow-assignees-0-kind")
    with_problems = offset(page, kind, props)
    connect(page, "cc", "end")
    node(page, "cc").click()
    expect(count).to_have_count(0, timeout=10_000)
    assert offset(page, kind, props) == with_problems
    pick(page, kind, "发起人的上级")
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    # arranged by the layout: the exclusive branch below the approval, the end below both ways
    page.get_by_test_id("flow-arrange").click()
    page.wait_for_function(
        """() => {
          const top = (id) =>
            document.querySelector(`[data-testid=flow-node-${id}]`).getBoundingClientRect().y;
          const order = ["start", "approval", "exclusive", "cc", "end"].map(top);
          return order.every((y, i) => i === 0 || order[i - 1] < y);
        }"""
    )
    saved(page)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "flow-designer-drawn")

    # undo takes back the last change, redo puts it back
    page.get_by_test_id("flow-undo").click()
    page.get_by_test_id("flow-redo").click()
    saved(page)

    # publish: the engine compiles what was drawn
    publish_draft(page, "复核流程上线")
    expect(page.get_by_test_id("design-status")).to_contain_text("v1")
    with platform.unit_of_work(write=False) as uow:
        body = uow.session.scalar(
            select(DefinitionVersion.body)
            .join(Definition, Definition.id == DefinitionVersion.definition_id)
            .where(Definition.kind == "flow", Definition.key == "review")
        )
    assert body is not None
    assert [n["type"] for n in body["nodes"]] == ["start", "end", "approval", "exclusive", "cc"]
    approval = next(n for n in body["nodes"] if n["id"] == "approval")
    assert approval["mode"] == "all"
    assert approval["assignees"] == {"role": "service_manager"}
    assert approval["timeout"] == {"minutes": 2880, "business": True, "action": "remind"}
    branches = [e for e in body["edges"] if e["from"] == "exclusive"]
    assert branches == [
        {"from": "exclusive", "to": "end", "default": True},
        {"from": "exclusive", "to": "cc", "condition": {"==": [{"var": "urgency"}, "P1"]}},
    ]
    assert set(body["layout"]["nodes"]) == {"start", "end", "approval", "exclusive", "cc"}

    # opened again, it is as it was drawn
    page.reload()
    laid_out(page)
    expect(page.locator(".react-flow__node")).to_have_count(5)
    expect(node(page, "approval")).to_contain_text("主管会签")
    expect(page.get_by_test_id("design-save-state")).to_have_attribute("data-state", "saved")


def test_an_automation_nodes_actions_are_edited_without_json(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}{DESIGN}/ticket_handling")
    laid_out(page)
    page.get_by_role("button", name="适应画布").click()
    node(page, "resolve").click()
    actions = page.get_by_test_id("flow-actions")
    # the package's action, read in words with the option's label and the computed value
    # (in the order the database keeps the keys: either may come first)
    reading = page.get_by_test_id("flow-actions-0-reading")
    expect(reading).to_contain_text("「状态」为 “已解决”")
    expect(reading).to_contain_text("「解决时间」为 当前时间")
    expect(actions.locator("textarea")).to_have_count(0)  # no JSON anywhere
    # (the package's survey is the second action) a notice to the ticket's assignee, its title
    # with the ticket number inserted
    page.get_by_test_id("flow-actions-add").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text("发送通知", exact=True).click()
    page.get_by_test_id("flow-actions-2-to-add").click()
    pick(page, page.get_by_test_id("flow-actions-2-to-0-value"), "处理人")
    title = page.get_by_test_id("flow-actions-2-title")
    title.fill("工单已解决：")
    insert = page.get_by_test_id("flow-actions-2-title-insert")
    insert.click()
    page.keyboard.type("工单号")
    enter_found(page, "工单号")
    expect(title).to_have_value("工单已解决：{{ticket_no}}")
    expect(page.get_by_test_id("flow-actions-2-reading")).to_have_text(
        "给 「处理人」中的人 发站内通知：工单已解决：{{ticket_no}}"
    )
    # the status it sets becomes another of the field's options, picked by its label
    pick(page, page.get_by_test_id("flow-actions-0-values-status-value"), "回访")
    expect(reading).to_contain_text("「状态」为 “回访”")
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    with platform.unit_of_work(write=False) as uow:
        flow = uow.session.scalar(
            select(Definition).where(Definition.kind == "flow", Definition.key == "ticket_handling")
        )
        assert flow is not None
        (resolve,) = [n for n in flow.draft["nodes"] if n["id"] == "resolve"]
    assert resolve["actions"] == [
        {
            "type": "set_fields",
            "values": {"status": "callback", "resolved_at": {"expr": {"now": []}}},
        },
        {
            "type": "send_survey",
            "form": "satisfaction_survey",
            "link_field": "ticket",
            "expires_in_days": 3,
            "to_field": "contact_email",
            "answered_field": "survey_answered_at",
        },
        {"type": "notify", "to": [{"field": "assignee"}], "title": "工单已解决：{{ticket_no}}"},
    ]
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
