"""A business user builds an app in the browser without seeing JSON: the workbench, the form
designer (drag and drop, properties, conditions, the engine's live verdict), publishing with its
impact, the runtime using what was built, versions and their diff, and the phone preview."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import User
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    dialog_ok,
    let_go,
    new_definition,
    pick,
    publish_dialog,
    saved,
    settled,
    shot,
    sign_in,
    still,
    watch_moves,
)

SYSTEM = Actor.system("test")
INSPECTOR_PASSWORD = "inspector-password-1"


def drag(page: Page, source: Locator, target: Locator, over: str) -> None:
    """A pointer drag as a hand makes it: press, move in steps (dnd-kit starts after 5 px), and
    let go on the target's lower part once the page has said (its screen-reader announcement) that
    the dragged thing is over ``over`` — a hand lets go where it sees the drop will land; under
    load the page runs behind the pointer. The target is first brought to the middle of its
    scrolling list, out of the edges where the list scrolls by itself under a held pointer; a
    list that scrolled all the same moved the target, and the hand follows it."""
    expect(page.get_by_test_id("design-field-undrawn")).to_have_count(0)
    settled(page)
    target.evaluate("el => el.scrollIntoView({block: 'center', inline: 'nearest'})")
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    assert start is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(
        start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2 + 10, steps=4
    )
    said = page.locator("[id^=DndLiveRegion]").filter(has_text=f"在{over}上方")
    for _ in range(10):
        # the target where it is now: a list scrolled under the held pointer moved it
        end = target.bounding_box()
        assert end is not None
        x, y = end["x"] + end["width"] / 2, end["y"] + end["height"] * 0.75
        page.mouse.move(x, y, steps=12)
        page.mouse.move(x, y + 1, steps=2)
        try:  # the page says where the drop lands once it caught up with the pointer
            expect(said).to_have_count(1, timeout=1_000)
            break
        except AssertionError:
            continue
    expect(said).to_have_count(1)
    let_go(page)


def field(page: Page, key: str) -> Locator:
    return page.locator(f"[data-testid=design-field][data-key={key}]")


def new_form(page: Page, name: str, key: str) -> None:
    new_definition(page, "forms", name, key, app="inspection")
    expect(page.get_by_test_id("design-title")).to_have_text(name)


def publish(page: Page, note: str, version: int, expect_in_diff: str) -> None:
    dialog = publish_dialog(page)
    expect(dialog.get_by_test_id("design-publish-diff")).to_contain_text(expect_in_diff)
    page.get_by_test_id("design-publish-note").fill(note)
    page.get_by_test_id("design-publish-confirm").click()
    expect(page.get_by_test_id("design-status")).to_contain_text(f"v{version}")


def fields(page: Page) -> Locator:
    return page.locator("[data-testid=design-field]")


def test_a_field_s_properties_hold_still_once_shown(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    """A field's panel is drawn where it stays: nothing in it slides down after it shows (the
    key's hint came in with a motion and pushed every property below it down by a line, under a
    pointer about to pick one of them)."""
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/forms/ticket")
    moves = watch_moves(page, "design-field-properties")
    for key in ("title", "channel", "urgency", "description"):
        field(page, key).click()
        expect(page.get_by_test_id("design-field-properties")).to_have_attribute("data-field", key)
        still(page, "design-field-properties")
    assert moves() == []


def test_a_formula_s_unapplied_picks_stay_with_its_field(
    page: Page, server: str, people: dict[str, int], admin_user: User
) -> None:
    """Picks made in one formula's template row and not applied are not offered under the next
    formula field picked: each field's panel is its own."""
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/forms/ticket")
    props = page.get_by_test_id("design-field-properties")
    field(page, "acceptance_result").click()
    expect(props).to_have_attribute("data-field", "acceptance_result")
    pick(page, page.get_by_test_id("design-formula-template"), "两个字段相加")
    expect(page.get_by_test_id("design-formula-a")).to_be_visible()
    page.get_by_test_id("design-palette-formula").click()  # a new formula field, picked
    expect(props).not_to_have_attribute("data-field", "acceptance_result")
    expect(page.get_by_test_id("design-formula-template")).not_to_contain_text("两个字段相加")
    expect(page.get_by_test_id("design-formula-a")).to_have_count(0)


def test_a_business_user_builds_publishes_and_uses_a_form(
    page: Page, server: str, platform: Platform, admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-design").click()
    expect(page).to_have_url(re.compile(r"/design$"))

    # a new app, from the browser
    page.get_by_test_id("design-new-app").click()
    page.get_by_test_id("app-name-zh").fill("设备巡检")
    page.get_by_test_id("app-name-en").fill("Equipment inspection")
    page.get_by_test_id("app-key").fill("inspection")
    dialog_ok(page)
    expect(page).to_have_url(re.compile(r"/design/inspection$"))
    expect(page.get_by_test_id("design-new-forms")).to_be_visible()
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "designer-workbench")

    # the equipment ledger: one required text field, the form's title field, published
    page.get_by_test_id("design-new-forms").click()
    page.get_by_test_id("definition-name-zh").fill("设备台账")
    # the key follows the name (pinyin) until it is typed
    expect(page.get_by_test_id("definition-key")).to_have_value("she_bei_tai_zhang")
    page.get_by_test_id("definition-key").fill("equipment")
    dialog_ok(page)
    expect(page).to_have_url(re.compile(r"/design/inspection/forms/equipment$"))
    # an empty form is a draft with a problem
    expect(page.get_by_test_id("design-problems")).to_contain_text("1 个问题")
    drag(
        page,
        page.get_by_test_id("design-palette-text"),
        page.get_by_test_id("design-container"),
        "表单",
    )
    expect(fields(page)).to_have_count(1)
    page.get_by_test_id("design-prop-label-zh").fill("设备名称")
    expect(field(page, "she_bei_ming_cheng")).to_be_visible()
    page.get_by_test_id("design-prop-required").click()
    page.get_by_role("tab", name="表单属性").click()
    pick(page, page.get_by_test_id("design-form-title-field"), "设备名称")
    saved(page)
    publish(page, "台账上线", 1, "首次发布")

    # the inspection round
    page.goto(f"{server}/design/inspection")
    new_form(page, "巡检记录", "round")

    # a linked record without its form: the engine's verdict is pinned on the card; choosing the
    # ledger fixes it
    drag(
        page,
        page.get_by_test_id("design-palette-reference"),
        page.get_by_test_id("design-container"),
        "表单",
    )
    page.get_by_test_id("design-prop-label-zh").fill("设备")
    expect(field(page, "she_bei")).to_have_attribute("data-problems", re.compile(r"\d"))
    expect(page.get_by_test_id("design-field-problems")).to_be_visible()
    shot(page, "designer-problem-pinned")
    pick(page, page.get_by_test_id("design-reference-form"), "设备台账")
    pick(page, page.get_by_test_id("design-reference-display"), "设备名称")
    saved(page)
    expect(field(page, "she_bei")).not_to_have_attribute("data-problems", re.compile(r"\d"))

    # a date defaulting to today, a person, by click (each lands after the selected field)
    page.get_by_test_id("design-palette-date").click()
    page.get_by_test_id("design-prop-label-zh").fill("巡检日期")
    pick(page, page.get_by_test_id("design-default-mode"), "当天")
    page.get_by_test_id("design-palette-user").click()
    page.get_by_test_id("design-prop-label-zh").fill("巡检人")

    # a radio group with its options typed in
    page.get_by_test_id("design-palette-radio").click()
    page.get_by_test_id("design-prop-label-zh").fill("检查结果")
    labels = page.get_by_test_id("design-option-label")
    labels.nth(0).fill("正常")
    page.get_by_test_id("design-option-value").nth(0).fill("ok")
    labels.nth(1).fill("异常")
    page.get_by_test_id("design-option-value").nth(1).fill("fault")
    # options reorder by dragging their handles, and by the arrows
    option_rows = page.get_by_test_id("design-option")
    drag(page, option_rows.nth(1).locator("button").first, option_rows.nth(0), "第 1 个选项")
    expect(page.get_by_test_id("design-option-value").first).to_have_value("fault")
    option_rows.nth(0).get_by_role("button", name="下移").click()
    expect(page.get_by_test_id("design-option-value").first).to_have_value("ok")

    # a paragraph shown, and required, only when the result is 异常: condition rows, read aloud
    page.get_by_test_id("design-palette-textarea").click()
    page.get_by_test_id("design-prop-label-zh").fill("异常描述")
    for prop in ("visible_when", "required_when"):
        page.get_by_test_id(f"design-prop-{prop}-open").click()
        builder = page.get_by_test_id(f"design-prop-{prop}")
        builder.locator(".ruleGroup-addRule").first.click()
        pick(page, builder.locator(".rule-fields"), "检查结果")
        expect(builder.locator(".rule-operators")).to_contain_text("是")
        pick(page, builder.locator(".rule-value"), "异常")
        expect(page.get_by_test_id(f"design-prop-{prop}-reading")).to_have_text(
            "含义：检查结果 是 异常"
        )
    page.get_by_test_id("design-prop-required_when").scroll_into_view_if_needed()
    shot(page, "designer-condition")

    # a sub-table of check items, dropped on the lower half of the last field (it lands after it):
    # columns dragged into it, and a formula over them
    drag(
        page,
        page.get_by_test_id("design-palette-sub_table"),
        field(page, "yi_chang_miao_shu"),
        "「异常描述」",
    )
    page.get_by_test_id("design-prop-label-zh").fill("检查项")
    drag(
        page,
        page.get_by_test_id("design-palette-text"),
        page.get_by_test_id("design-table"),
        "子表「检查项」",
    )
    page.get_by_test_id("design-prop-label-zh").fill("项目")
    drag(
        page,
        page.get_by_test_id("design-palette-number"),
        page.get_by_test_id("design-table"),
        "「项目」",
    )
    page.get_by_test_id("design-prop-label-zh").fill("得分")
    table = field(page, "jian_cha_xiang")
    expect(table.locator("[data-testid=design-field]")).to_have_count(2)
    # dropped on the lower half of the first column, the second lands after it
    expect(table.locator("[data-testid=design-field]").first).to_have_attribute(
        "data-key", "xiang_mu"
    )
    field(page, "jian_cha_xiang").locator("xpath=.").click(position={"x": 40, "y": 12})
    page.get_by_test_id("design-palette-formula").click()
    page.get_by_test_id("design-prop-label-zh").fill("总分")
    pick(page, page.get_by_test_id("design-formula-template"), "子表某列求和")
    pick(page, page.get_by_test_id("design-formula-a"), "检查项")
    pick(page, page.get_by_test_id("design-formula-b"), "得分")
    page.get_by_test_id("design-formula-apply").click()
    expect(page.get_by_test_id("design-formula")).to_have_value(re.compile("current.de_fen"))

    # delete, undo, redo
    field(page, "xun_jian_ren").click()
    page.get_by_test_id("design-delete").click()
    expect(field(page, "xun_jian_ren")).to_have_count(0)
    page.get_by_test_id("design-undo").click()
    expect(field(page, "xun_jian_ren")).to_have_count(1)
    page.get_by_test_id("design-redo").click()
    expect(field(page, "xun_jian_ren")).to_have_count(0)
    page.get_by_test_id("design-undo").click()
    expect(field(page, "xun_jian_ren")).to_have_count(1)
    saved(page)
    expect(page.get_by_test_id("design-problems")).to_contain_text("没有问题")

    # each card holds its field as the runtime's renderer draws it, shown and not used: the radio
    # group with its options, the linked record's picker, a sub-table's columns with their labels
    result = field(page, "jian_cha_jie_guo").get_by_test_id("design-field-drawing")
    expect(result.locator(".ant-radio-wrapper")).to_have_text(["正常", "异常"])
    expect(result).to_have_attribute("inert", "")
    expect(result).to_have_attribute("aria-hidden", "true")
    expect(
        field(page, "she_bei").get_by_test_id("design-field-drawing").locator(".ant-select")
    ).to_have_count(1)
    columns = table.get_by_test_id("design-field-drawing")
    expect(columns.locator("label")).to_have_text(["项目", "得分"])
    expect(columns.locator("input")).to_have_count(2)

    # drag the paragraph to the top; the keyboard and the toolbar move it back down (once every
    # card holds its drawing: a card that grows under the pointer moves the place it aims at)
    expect(page.get_by_test_id("design-field-undrawn")).to_have_count(0)
    settled(page)
    drag(page, field(page, "yi_chang_miao_shu"), field(page, "she_bei"), "「设备」")
    expect(fields(page).first).to_have_attribute("data-key", "yi_chang_miao_shu")
    page.get_by_test_id("design-field-handle").nth(0).focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("design-down").click()
    # the toolbar keeps the selection: the field can go on moving
    expect(page.get_by_test_id("design-field-properties")).to_have_attribute(
        "data-field", "yi_chang_miao_shu"
    )
    expect(fields(page).first).to_have_attribute("data-key", "she_bei")
    saved(page)
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems
    shot(page, "designer-form")

    # the preview, at a phone's width, is the runtime's own renderer
    page.get_by_role("tab", name="预览").click()
    page.get_by_test_id("design-preview-width").get_by_text("手机").click()
    drawn = page.get_by_test_id("design-preview-phone")
    expect(drawn).to_be_visible()
    box = drawn.bounding_box()
    assert box is not None
    assert box["width"] == 390
    expect(drawn.get_by_text("检查结果")).to_be_visible()
    # the very widget the canvas showed
    expect(drawn.locator(".ant-radio-wrapper")).to_have_text(["正常", "异常"])
    expect(drawn.get_by_text("异常描述")).to_have_count(0)
    shot(page, "designer-preview-phone")
    page.get_by_role("tab", name="设计").click()

    publish(page, "第一版", 1, "首次发布")

    # an ordinary inspector uses it: the paragraph appears, and is required, only for 异常
    with platform.unit_of_work() as uow:
        role = roles.create_role(uow, SYSTEM, key="inspector", name="巡检员")
        roles.add_grant(uow, SYSTEM, role.id, app_key="inspection", actions=["create", "read"])
        users.create_user(
            uow, SYSTEM, username="inspector", password=INSPECTOR_PASSWORD, roles=["inspector"]
        )
        uow.commit()
    page.context.clear_cookies()
    sign_in(page, server, "inspector", INSPECTOR_PASSWORD)
    page.goto(f"{server}/apps/inspection/records/round/new")
    expect(page.locator("#root_jian_cha_jie_guo")).to_be_visible()
    expect(page.locator("#root_yi_chang_miao_shu")).to_have_count(0)
    page.get_by_label("异常").check()
    expect(page.locator("#root_yi_chang_miao_shu")).to_be_visible()
    page.get_by_test_id("save-record").click()
    expect(page.get_by_text("必填").first).to_be_visible()
    page.locator("#root_yi_chang_miao_shu").fill("轴承异响")
    page.get_by_test_id("save-record").click()
    expect(page).to_have_url(re.compile(r"/apps/inspection/records/round/\d+$"))
    # (the timeline names the value too, first or later in its line depending on the key order
    # the database keeps: the field itself is what is checked)
    expect(
        page.get_by_test_id("record-document").locator("[data-field=yi_chang_miao_shu]")
    ).to_have_text("轴承异响")
    page.context.clear_cookies()

    # rename a field and publish v2; the diff between versions speaks of labels
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/inspection/forms/round")
    field(page, "jian_cha_jie_guo").click()
    page.get_by_test_id("design-prop-label-zh").fill("巡检结论")
    # published keys are fixed: the key did not follow the label
    expect(page.get_by_test_id("design-prop-key")).to_be_disabled()
    expect(field(page, "jian_cha_jie_guo")).to_contain_text("巡检结论")
    saved(page)
    publish(page, "改名", 2, "巡检结论")
    page.get_by_test_id("design-versions").click()
    drawer = page.get_by_test_id("design-versions-drawer")
    expect(drawer).to_contain_text("第一版")
    pick(page, page.get_by_test_id("design-diff-from"), "v1")
    pick(page, page.get_by_test_id("design-diff-to"), "v2")
    changed = drawer.locator("[data-testid=design-diff-field][data-op=changed]")
    expect(changed).to_contain_text("检查结果 → 巡检结论")
    shot(page, "designer-versions")
