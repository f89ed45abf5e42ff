"""The 设备巡检 (equipment inspection) approval process, end to end in the browser, no JSON typed:
an administrator draws it — the inspector's form, safety and quality checks in parallel, a 会签
of two managers that sends a rejection back to the inspector and takes the resubmission straight
back, a two-business-day timeout that escalates, an 或签 of the duty engineers, a branch on the
inspection's result with its default — publishes it, simulates it on a stored inspection (a
rejection, then approvals), runs two real inspections through the inbox as the people who hold
each task, publishes v2 without the 或签 and moves the inspection waiting there onto v2 with the
engine's preview."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.kernel.models import Definition, DefinitionVersion, FlowInstance, Record, User
from tests.apps.test_aftersales import PASSWORD, SYSTEM
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    new_definition,
    opened,
    pick,
    publish_dialog,
    saved,
    settled,
    shot,
    sign_in,
)
from tests.e2e.conftest import option as choice
from tests.e2e.test_flow_designer import connect, laid_out, node

FORM = {
    "key": "inspection",
    "label": {"zh-CN": "设备巡检单", "en": "Equipment inspection"},
    "fields": [
        {"key": "equipment", "type": "text", "label": {"zh-CN": "设备", "en": "Equipment"}},
        {
            "key": "result",
            "type": "select",
            "label": {"zh-CN": "巡检结果", "en": "Result"},
            "options": [
                {"value": "normal", "label": {"zh-CN": "正常", "en": "Normal"}},
                {"value": "abnormal", "label": {"zh-CN": "异常", "en": "Abnormal"}},
            ],
        },
        {"key": "notes", "type": "textarea", "label": {"zh-CN": "说明", "en": "Notes"}},
    ],
}
CREW = ("inspector", "owner_1", "owner_2", "director")


def setup_inspection(platform: Platform) -> int:
    """The inspection form published in the after-sales app, the crew allowed to work its
    records, and one stored inspection to simulate on."""
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, SYSTEM, "aftersales", "form", FORM)
        metadata.publish(uow, SYSTEM, "aftersales", "form", "inspection")
        crew = roles.create_role(uow, SYSTEM, key="inspection_crew", name="巡检人员")
        roles.add_grant(
            uow,
            SYSTEM,
            crew.id,
            app_key="aftersales",
            form_key="inspection",
            actions=["create", "read", "update"],
        )
        for name in CREW:
            user = uow.session.scalar(select(User).where(User.username == name))
            assert user is not None
            users.assign_role(uow, SYSTEM, role_id=crew.id, user_id=user.id)
        stored = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "inspection",
            {"equipment": "3 号空压机", "result": "abnormal"},
        ).record
        uow.commit()
    return stored.id


def select_node(page: Page, node_id: str) -> None:
    """Click a node with the whole flow in view first: a node beyond the canvas's edge is
    clipped, and a click there lands on whatever is drawn above it."""
    page.get_by_role("button", name="适应画布").click()
    node(page, node_id).click()
    expect(page.get_by_test_id("flow-node-props")).to_have_attribute("data-node", node_id)


def edge_insert(page: Page, source: str, target: str, kind: str) -> None:
    """Insert a node of ``kind`` (its palette name) on the connection from source to target."""
    page.get_by_role("button", name="适应画布").click()
    page.locator(f"[data-from='{source}'][data-to='{target}'] button").click()
    opened(page.locator(".ant-dropdown:visible")).get_by_text(kind, exact=True).click()


def name_node(page: Page, node_id: str, label: str) -> None:
    """The selected node's name and id."""
    page.get_by_test_id("flow-node-label").fill(label)
    id_box = page.get_by_test_id("flow-node-id")
    id_box.fill(node_id)
    id_box.press("Enter")
    expect(page.get_by_test_id("flow-node-props")).to_have_attribute("data-node", node_id)


def assignee(page: Page, kind: str, *values: str, part: str = "role") -> None:
    """The selected node's first assignee rule: a kind, then its people, group or role."""
    pick(page, page.get_by_test_id("flow-assignees-0-kind"), kind)
    box = page.get_by_test_id(f"flow-assignees-0-{part}")
    if part != "users":
        for value in values:
            pick(page, box, value)
        return
    box.click()  # several people: the list stays open while they are picked
    for value in values:
        choice(page, value).first.click()
    page.keyboard.press("Escape")
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)
    for value in values:
        expect(box).to_contain_text(value)


def draw(page: Page) -> None:
    new_definition(page, "flows", "设备巡检", "inspection_flow")
    laid_out(page)
    pick(page, page.get_by_test_id("flow-form"), "设备巡检单")

    # started when an inspection is written; the inspector fills the form first
    select_node(page, "start")
    pick(page, page.get_by_test_id("flow-start-trigger"), "记录创建时")
    page.get_by_test_id("flow-palette-fill").click()
    name_node(page, "inspect", "巡检员填写")
    assignee(page, "发起人自己")
    page.get_by_test_id("flow-permissions-all-editable").click()
    page.get_by_test_id("flow-required-result").check()  # the result must be filled in

    # safety and quality checks at the same time, joined again
    page.get_by_test_id("flow-palette-parallel_join").click()
    select_node(page, "inspect")
    page.get_by_test_id("flow-palette-parallel_split").click()
    expect(node(page, "parallel_split")).to_be_visible()
    edge_insert(page, "parallel_split", "parallel_join", "填写")
    name_node(page, "safety", "安全检查")
    assignee(page, "指定成员", "owner_1", part="users")
    select_node(page, "parallel_split")
    page.get_by_test_id("flow-palette-fill").click()
    name_node(page, "quality", "质量检查")
    assignee(page, "指定成员", "inspector", part="users")
    connect(page, "quality", "parallel_join")

    # the managers' 会签: a rejection goes back to the inspector, whose resubmission comes
    # straight back; two business days, then the managers' manager hears of it
    edge_insert(page, "parallel_join", "end", "审批")
    name_node(page, "countersign", "主管会签")
    props = page.get_by_test_id("flow-node-props")
    radio = props.get_by_role("radio", name="会签（需所有人同意）")
    radio.click()  # (then the assertion waits for the panel to show it)
    expect(radio).to_be_checked()
    assignee(page, "指定成员", "manager_a", "director", part="users")
    reject_to = page.get_by_test_id("flow-reject-to")
    reject_to.click()
    choice(page, "巡检员填写").click()
    page.keyboard.press("Escape")
    expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0)
    expect(reject_to).to_contain_text("巡检员填写")
    # only there: not to "the previous step" (one of the parallel checks)
    reject_to.locator(".ant-select-selection-item", has_text="上一步").locator(
        ".ant-select-selection-item-remove"
    ).click()
    expect(reject_to).not_to_contain_text("上一步")
    radio = props.get_by_role("radio", name="直接回到本节点")
    radio.click()  # (then the assertion waits for the panel to show it)
    expect(radio).to_be_checked()
    page.get_by_test_id("flow-timeout-on").click()
    expect(page.get_by_test_id("flow-timeout-amount")).to_have_value("2")
    pick(page, page.get_by_test_id("flow-timeout-action"), "升级给上级")
    expect(node(page, "countersign")).to_contain_text("超时 2 天（工作时间）")

    # any one of the duty engineers confirms (或签)
    edge_insert(page, "countersign", "end", "审批")
    name_node(page, "duty", "值班确认")
    radio = props.get_by_role("radio", name="或签（一人同意即可）")
    radio.click()  # (then the assertion waits for the panel to show it)
    expect(radio).to_be_checked()
    assignee(page, "部门 / 小组", "现场服务组", part="group")

    # an abnormal result is copied to the service managers; otherwise the default way ends
    edge_insert(page, "duty", "end", "条件分支")
    name_node(page, "abnormal", "结果异常？")
    page.get_by_test_id("flow-palette-cc").click()
    name_node(page, "notify", "通知服务经理")
    assignee(page, "角色", "service_manager")
    connect(page, "notify", "end")
    page.locator(".react-flow__pane").click(position={"x": 12, "y": 12})
    page.get_by_test_id("design-problems").click()
    page.get_by_test_id("design-problem").filter(has_text="condition").first.click()
    page.get_by_test_id("flow-edge-condition-open").click()
    builder = page.get_by_test_id("flow-edge-condition")
    builder.locator(".ruleGroup-addRule").first.click()
    pick(page, builder.locator(".rule-fields"), "巡检结果")
    pick(page, builder.locator(".rule-value"), "异常")
    expect(page.get_by_test_id("flow-edge-condition-reading")).to_contain_text("巡检结果 是 异常")
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    page.get_by_test_id("flow-arrange").click()
    saved(page)


def publish(page: Page, note: str) -> Locator:
    dialog = publish_dialog(page)
    page.get_by_test_id("design-publish-note").fill(note)
    return dialog


def simulate(page: Page) -> None:
    """On the stored inspection: a manager rejects, the inspector resubmits, then everyone
    approves; the path goes through the branch the abnormal result takes."""
    page.get_by_test_id("flow-simulate").click()
    expect(page.get_by_test_id("flow-sim-record")).to_contain_text("3 号空压机")
    page.get_by_test_id("flow-sim-start").click()
    sim = page.get_by_test_id("flow-simulator")

    def decide(testid: str, who: str | None = None) -> None:
        scope = sim.locator("[data-testid^=flow-sim-task-]", has_text=who) if who else sim
        button = scope.get_by_test_id(testid).first
        button.click()
        expect(page.get_by_test_id("flow-sim-steps")).to_have_attribute("aria-busy", "false")

    decide("flow-sim-submit-inspect")
    expect(sim.get_by_test_id("flow-sim-task-safety")).to_contain_text("owner_1")
    expect(sim.get_by_test_id("flow-sim-task-quality")).to_contain_text("inspector")
    decide("flow-sim-submit-safety")
    decide("flow-sim-submit-quality")
    expect(sim.locator("[data-testid=flow-sim-task-countersign]")).to_have_count(2)
    decide("flow-sim-reject-countersign", "manager_a")
    expect(sim.get_by_test_id("flow-sim-task-inspect")).to_be_visible()
    expect(node(page, "countersign")).to_have_attribute("data-mark", "visited")
    decide("flow-sim-submit-inspect")
    # straight back to the 会签, not through the checks again
    expect(sim.locator("[data-testid=flow-sim-task-countersign]")).to_have_count(2)
    expect(sim.get_by_test_id("flow-sim-task-safety")).to_have_count(0)
    decide("flow-sim-approve-countersign", "manager_a")
    decide("flow-sim-approve-countersign", "director")
    expect(sim.locator("[data-testid=flow-sim-task-duty]")).to_have_count(2)
    decide("flow-sim-approve-duty", "owner_2")
    expect(page.get_by_test_id("flow-sim-status")).to_have_attribute("data-status", "completed")
    steps = page.get_by_test_id("flow-sim-steps")
    expect(steps).to_contain_text("manager_a 驳回「主管会签」")
    expect(steps).to_contain_text("「巡检结果 是 异常」成立 → 通知服务经理")
    expect(steps).to_contain_text("巡检结果 = 异常")
    expect(steps).to_contain_text("流程结束（完成）")
    expect(node(page, "notify")).to_have_attribute("data-mark", "visited", timeout=15_000)
    shot(page, "inspection-simulated")
    page.get_by_test_id("flow-sim-close").click()


@contextmanager
def signed_in(browser: Browser, server: str, name: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server, name, PASSWORD)
        yield page
    finally:
        context.close()


def work(page: Page, server: str, node_id: str, action: str, *, opinion: str = "") -> None:
    """Open the first of the user's tasks at ``node_id`` from the inbox and act on it."""
    page.goto(f"{server}/inbox")
    page.get_by_test_id(f"task-{node_id}").first.click()
    if opinion:
        page.get_by_test_id("opinion").fill(opinion)
    page.get_by_test_id(f"action-{action}").click()
    if action in ("reject", "return"):  # the reason (the opinion typed) is confirmed in a dialog
        opened(page.locator(".ant-modal:visible"))
        expect(page.get_by_test_id("task-reason")).to_have_value(opinion)
        page.get_by_test_id("task-dialog-confirm").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))


def inspection(page: Page, server: str, equipment: str, result: str) -> None:
    page.goto(f"{server}/apps/aftersales/records/inspection/new")
    page.fill("#root_equipment", equipment)
    page.locator("#root_result").click()
    choice(page, result).click()
    page.get_by_test_id("save-record").click()
    expect(page).to_have_url(re.compile(r"/records/inspection/\d+$"))


def test_an_inspection_process_drawn_simulated_run_and_moved_to_v2(
    page: Page,
    browser: Browser,
    server: str,
    platform: Platform,
    people: dict[str, int],
    admin_user: User,
) -> None:
    stored = setup_inspection(platform)
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales?kind=flows")
    draw(page)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "inspection-drawn")
    dialog = publish(page, "设备巡检上线")
    expect(dialog).to_contain_text("首次发布")
    page.get_by_test_id("design-publish-confirm").click()
    expect(dialog).to_be_hidden()  # the publication is done (the dialog closes on success)
    expect(page.get_by_test_id("design-status")).to_contain_text("v1")
    with platform.unit_of_work(write=False) as uow:
        body = uow.session.scalar(
            select(DefinitionVersion.body)
            .join(Definition, Definition.id == DefinitionVersion.definition_id)
            .where(Definition.key == "inspection_flow")
        )
    assert body is not None
    by_id = {n["id"]: n for n in body["nodes"]}
    assert by_id["inspect"]["required"] == ["result"]
    assert by_id["countersign"]["mode"] == "all"
    assert by_id["countersign"]["reject_to"] == ["inspect"]
    assert by_id["countersign"]["after_return"] == "direct"
    assert by_id["countersign"]["timeout"] == {
        "minutes": 2880,
        "business": True,
        "action": "escalate",
    }
    assert by_id["duty"]["mode"] == "any"
    assert by_id["duty"]["assignees"] == {"group": "field_service"}
    assert {
        "from": "abnormal",
        "to": "notify",
        "condition": {"==": [{"var": "result"}, "abnormal"]},
    } in body["edges"]

    simulate(page)
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(FlowInstance)).all() == []  # simulating wrote nothing
    assert stored

    # two real inspections, worked from the inbox by the people who hold each task
    with signed_in(browser, server, "inspector") as inspector:
        inspection(inspector, server, "1 号冷却塔", "异常")
        inspection(inspector, server, "2 号冷却塔", "正常")
        for _ in range(2):
            work(inspector, server, "inspect", "submit")
            work(inspector, server, "quality", "submit")
    with signed_in(browser, server, "owner_1") as engineer:
        for _ in range(2):
            work(engineer, server, "safety", "submit")
    with platform.unit_of_work(write=False) as uow:
        first, second = uow.session.scalars(
            select(Record.id)
            .where(Record.form_key == "inspection", Record.id != stored)
            .order_by(Record.id)
        ).all()
    with signed_in(browser, server, "manager_a") as manager:
        work(manager, server, "countersign", "approve", opinion="同意")
        work(manager, server, "countersign", "reject", opinion="补充照片")
    with signed_in(browser, server, "inspector") as inspector:
        work(inspector, server, "inspect", "submit")  # straight back to the 会签
    with signed_in(browser, server, "manager_a") as manager:
        work(manager, server, "countersign", "approve", opinion="同意")
    with signed_in(browser, server, "director") as director:
        work(director, server, "countersign", "approve", opinion="同意")
        work(director, server, "countersign", "approve", opinion="同意")
    with signed_in(browser, server, "owner_2") as duty:
        work(duty, server, "duty", "approve", opinion="已确认")
    with platform.unit_of_work(write=False) as uow:
        instances = {
            i.record_id: i
            for i in uow.session.scalars(
                select(FlowInstance).where(FlowInstance.flow_key == "inspection_flow")
            )
        }
    done = [i for i in instances.values() if i.status == "completed"]
    waiting = [i for i in instances.values() if i.status == "running"]
    assert len(done) == 1
    assert len(waiting) == 1
    assert {first, second} == set(instances)
    assert {t["node"] for t in waiting[0].state["tasks"].values() if t["status"] == "open"} == {
        "duty"
    }

    # v2 drops the 或签; the inspection waiting there moves to the 会签's place in v2
    page.goto(f"{server}/design/aftersales/flows/inspection_flow")
    laid_out(page)
    select_node(page, "duty")
    page.get_by_test_id("flow-delete").click()
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_have_text("没有问题", timeout=10_000)
    dialog = publish(page, "取消值班确认")
    expect(dialog).to_contain_text("「值班确认」不在新版本中：停在这里的 1 个实例要迁移")
    page.get_by_test_id("design-publish-confirm").click()
    expect(page.get_by_test_id("design-status")).to_contain_text("v2")
    offer = page.get_by_test_id("design-offer-migrate")
    offer.get_by_role("button").filter(has_text="迁移").click()
    opened(page.get_by_test_id("flow-migrate-dialog"))
    expect(page.get_by_test_id("flow-migrate-mapping")).to_contain_text("值班确认（duty）")
    expect(page.get_by_test_id("flow-migrate-to-duty")).to_contain_text("主管会签（countersign）")
    page.get_by_test_id("flow-migrate-preview").click()
    expect(page.get_by_test_id("flow-migrate-outcome")).to_contain_text("1 个实例都可以迁移")
    shot(page, "inspection-migration")
    page.get_by_test_id("flow-migrate-apply").click()
    expect(page.get_by_test_id("flow-migrate-dialog")).to_be_hidden()
    with platform.unit_of_work(write=False) as uow:
        moved = uow.session.get(FlowInstance, waiting[0].id)
        assert moved is not None
        assert moved.version == 2
        assert {t["node"] for t in moved.state["tasks"].values() if t["status"] == "open"} == {
            "countersign"
        }
