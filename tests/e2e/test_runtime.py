"""The runtime a newcomer sees, in a real browser."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tangram.platform import flows, metadata, packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel.models import (
    App,
    Grant,
    Group,
    Record,
    Role,
    RoleAssignment,
    SavedView,
    Task,
    User,
)
from tests.apps.test_aftersales import PACKAGE, PASSWORD
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    enter_found,
    opened,
    pick,
    settled,
    shot,
    sign_in,
    within_window,
)
from tests.e2e.conftest import option as choice

SYSTEM = Actor.system("test")


def test_sign_in_shows_errors_then_the_apps_in_both_languages(
    page: Page, server: str, people: dict[str, int]
) -> None:
    page.goto(f"{server}/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("#username", "agent")
    page.fill("#password", "wrong-password-0")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码不正确")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_text("售后服务").first).to_be_visible()
    expect(page.get_by_test_id("form-ticket")).to_contain_text("售后工单")
    page.get_by_test_id("switch-language").click()
    expect(page.get_by_test_id("form-ticket")).to_contain_text("Service ticket")
    shot(page, "launcher-en")


# a 1×1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def choose(page: Page, field: str, option: str) -> None:
    """Pick an option of an antd select drawn by the form, and see it picked."""
    shown = page.locator(f"#root_{field}").locator(
        "xpath=ancestor::div[contains(@class, 'ant-select ')][1]"
    )
    pick(page, shown, option)
    expect(shown).to_contain_text(option)


def test_register_a_ticket_with_an_image_see_422_then_the_dispatch(
    page: Page, server: str, people: dict[str, int]
) -> None:
    sign_in(page, server, "agent", PASSWORD)
    page.get_by_test_id("form-ticket").click()
    page.get_by_test_id("new-record").click()
    page.fill("#root_title", "设备运行噪音大")
    choose(page, "issue_type", "硬件故障")
    choose(page, "product_line", "A 产品线")
    page.fill("#root_contact_email", "not-an-email")
    # rich text is written as formatted text, with the editor's tools and shortcuts (no tags
    # typed), and read as formatted text
    description = page.locator("#root_description")
    description.click()
    page.keyboard.type("开机后")
    page.get_by_role("button", name="加粗").click()
    page.keyboard.type("左侧")
    expect(page.get_by_role("button", name="加粗")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Control+b")
    page.keyboard.type("异响")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="无序列表").click()
    page.keyboard.type("<script>window.hit = 1</script>")
    expect(description.locator("strong")).to_have_text("左侧")
    problems = accessibility_problems(page)  # the editor and its named tools
    assert problems == [], problems
    # the intake only: the analysis (five whys) is the engineer's, later
    expect(page.locator("#root_five_whys__add")).to_have_count(0)
    page.set_input_files(
        "input[type=file]", files=[{"name": "noise.png", "mimeType": "image/png", "buffer": PNG}]
    )
    # uploaded: the entry's name becomes a link to the file (while it uploads, plain text shows)
    expect(page.locator("a.ant-upload-list-item-name", has_text="noise.png")).to_be_visible()
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "notes.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}],
    )
    expect(page.locator(".ant-upload-list-item-error")).to_contain_text(
        "notes.exe"
    )  # refused, said why
    page.locator(".ant-upload-list-item-error").get_by_role(
        "button"
    ).last.click()  # taken off the list
    expect(page.locator(".ant-upload-list-item-error")).to_have_count(0)
    page.get_by_test_id("save-record").click()
    email_item = page.locator("#root_contact_email").locator(
        "xpath=ancestor::div[contains(@class, 'ant-form-item ')][1]"
    )
    expect(email_item.locator(".ant-form-item-explain-error")).to_have_text("邮箱格式不正确")
    expect(page).to_have_url(re.compile(r"/records/ticket/new$"))  # checked before sending
    shot(page, "record-invalid")
    page.fill("#root_contact_email", "wang@example.com")
    page.get_by_test_id("save-record").click()
    expect(page).to_have_url(re.compile(r"/records/ticket/\d+$"), timeout=15_000)
    timeline = page.get_by_test_id("timeline")
    # the timeline speaks the reader's words: why the dispatch rule fired and what it set, by
    # label and name; the new record by the fields that were set
    expect(timeline).to_contain_text("按 问题类型=硬件故障、产品线=A 产品线，设置 ")
    expect(timeline).to_contain_text("处理组=A线质量工程师组")
    expect(timeline).to_contain_text("通知 ")  # what else it did, in the reader's words too
    expect(timeline).not_to_contain_text("notified")
    expect(timeline).not_to_contain_text("set status")
    expect(timeline).to_contain_text("创建记录")
    expect(timeline).to_contain_text("标题：设备运行噪音大")
    expect(timeline).not_to_contain_text("∅ → 设备运行噪音大")
    # the record reads as a document: values as text, the group named, not an id
    document = page.get_by_test_id("record-document")
    expect(document.locator("[data-field=group]")).to_have_text("A线质量工程师组")
    expect(document.locator("[data-field=title]")).to_have_text("设备运行噪音大")
    expect(document.locator("input")).to_have_count(0)
    shown = document.locator("[data-field=description]")
    expect(shown.locator("strong")).to_have_text("左侧")
    expect(shown).to_contain_text("开机后左侧异响")
    expect(shown).not_to_contain_text("<p>")
    # what was typed as tags is text, in a list item
    expect(shown.locator("li")).to_have_text("<script>window.hit = 1</script>")
    expect(shown.locator("script")).to_have_count(0)
    expect(page.get_by_test_id("document-empty-toggle")).to_be_visible()
    shot(page, "record-detail")


def test_a_server_422_lands_next_to_its_field(
    page: Page, server: str, platform: Platform, admin_user: User, people: dict[str, int]
) -> None:
    with platform.unit_of_work() as uow:
        first = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "A-100", "product_line": "A"}
        ).record
        uow.commit()
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/product/new")
    page.fill("#root_model", "A-100")  # unique: only the server knows it is taken
    choose(page, "product_line", "A 产品线")
    with page.expect_response(re.compile(r"/records/product$")) as answer:
        page.get_by_test_id("save-record").click()
    assert answer.value.status == 422
    model = page.locator("#root_model").locator(
        "xpath=ancestor::div[contains(@class, 'ant-form-item ')][1]"
    )
    expect(model.locator(".ant-form-item-explain-error")).to_have_text(
        f"该值已被记录 {first.id} 使用"
    )
    shot(page, "record-422")
    with platform.unit_of_work(write=False) as uow:
        count = uow.session.scalars(select(Record.id).where(Record.form_key == "product")).all()
    assert count == [first.id]


def register(platform: Platform, people: dict[str, int], title: str = "开机无响应") -> int:
    """A ticket registered by the agent (dispatched to Line A's quality engineer)."""
    with platform.unit_of_work() as uow:
        agent = load_actor(uow.session, uow.session.get(User, people["agent"]), via="test")
        written = records.create_record(
            uow,
            agent,
            "aftersales",
            "ticket",
            {"title": title, "issue_type": "hardware_fault", "product_line": "A", "urgency": "P3"},
        )
        uow.commit()
    return written.record.id


def open_task(platform: Platform, record_id: int, node: str) -> Task:
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.scalar(
            select(Task).where(
                Task.record_id == record_id, Task.node == node, Task.status == "open"
            )
        )
        assert found is not None, f"no open {node} task"
        return found


def act(platform: Platform, people: dict[str, int], user: str, task: Task, **command: Any) -> None:
    with platform.unit_of_work() as uow:
        actor = load_actor(uow.session, uow.session.get(User, people[user]), via="test")
        if "data" in command:  # based on the record as the task shows it now
            view = flows.task_view(uow, actor, task.id)
            command.setdefault("lock_version", view["record"]["lock_version"])
        flows.act(uow, platform.settings, actor, task.id, flows.TaskCommand(**command))
        uow.commit()


def test_an_engineer_works_a_task_from_the_inbox_on_a_phone(
    browser: Browser, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = phone.new_page()
    sign_in(page, server, "qe_a", PASSWORD)
    page.get_by_test_id("nav-inbox").click()
    expect(page.get_by_test_id("box-todo")).to_contain_text("1")
    shot(page, "inbox-390")
    page.get_by_test_id("task-respond").click()
    page.fill("#root_response_note", "已电话联系客户")
    expect(page.locator("#root_title")).to_have_count(0)  # the step asks for its fields only
    page.get_by_text("完整记录").click()
    # the rest reads as a document here, not as inputs
    whole = page.get_by_test_id("task-record")
    expect(whole.locator("[data-field=title]")).to_be_visible()
    expect(whole.locator("input, textarea")).to_have_count(0)
    # the actions stay at the bottom of the screen
    bar = page.get_by_test_id("task-action-bar")
    expect(bar).to_have_attribute("data-placement", "bottom")
    within_window(page, bar)
    shot(page, "task-390")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the task page is {wide}px wide on a 390px screen"
    page.get_by_test_id("action-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    page.get_by_test_id("box-done").click()
    expect(page.get_by_test_id("task-respond")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox is {width}px wide on a 390px screen"
    page.goto(f"{server}/apps/aftersales/records/ticket/new")
    expect(page.locator("#root_title")).to_be_visible()
    # a new ticket asks for the intake only: the engineer's and the callback's fields come later
    for later in ("response_note", "root_cause", "measures", "csat"):
        expect(page.locator(f"#root_{later}")).to_have_count(0)
    shot(page, "record-form-390")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the record form is {wide}px wide on a 390px screen"
    phone.close()
    with platform.unit_of_work(write=False) as uow:
        ticket = uow.session.get(Record, record_id)
        assert ticket is not None
        assert ticket.data["response_note"] == "已电话联系客户"
        assert ticket.data["status"] == "in_progress"


def test_a_rejected_plan_goes_back_then_is_approved_from_the_inbox(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "报警灯常亮")
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "respond"),
        action="submit",
        data={"response_note": "已联系"},
    )
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "analyse"),
        action="submit",
        data={"root_cause": "传感器老化", "cause_category": "production"},
    )
    act(
        platform,
        people,
        "qe_a",
        open_task(platform, record_id, "plan"),
        action="submit",
        data={
            "major": True,
            "measures": [
                {
                    "what": "更换传感器",
                    "owner": people["owner_1"],
                    "due": "2026-12-01",
                    "verify": "24小时无报警",
                }
            ],
        },
    )
    sign_in(page, server, "director", PASSWORD)
    page.get_by_test_id("nav-inbox").click()
    page.get_by_test_id("task-approve").click()
    page.get_by_test_id("opinion").fill("验证标准需要量化")
    page.get_by_test_id("action-reject").click()
    dialog = opened(page.locator(".ant-modal:visible"))
    expect(page.get_by_test_id("task-reason")).to_have_value("验证标准需要量化")
    expect(dialog.get_by_test_id("reject-target")).to_have_text("整改方案")
    page.get_by_test_id("task-dialog-confirm").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    back = open_task(platform, record_id, "plan")  # the engineer has the plan again
    assert back.assignee_id == people["qe_a"]
    act(platform, people, "qe_a", back, action="submit", data={"major": True})
    page.reload()  # the resubmission happened elsewhere
    page.get_by_test_id("task-approve").click()  # straight back to the director
    page.get_by_test_id("opinion").fill("同意")
    page.get_by_test_id("action-approve").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    execution = open_task(platform, record_id, "execute")  # one task per measure owner
    assert execution.assignee_id == people["owner_1"]


def test_a_label_with_markup_is_shown_as_text(
    page: Page, server: str, platform: Platform, admin_user: User
) -> None:
    evil = "<img src=x onerror=alert(1)>"
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, SYSTEM, key="xss", name={"zh-CN": evil})
        metadata.create_definition(
            uow,
            SYSTEM,
            "xss",
            "form",
            {
                "key": "note",
                "label": {"zh-CN": evil},
                "fields": [{"key": "body", "type": "text", "label": {"zh-CN": evil}}],
            },
        )
        metadata.publish(uow, SYSTEM, "xss", "form", "note")
        uow.commit()
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    expect(page.get_by_test_id("form-note")).to_contain_text(evil)
    page.get_by_test_id("form-note").click()
    page.get_by_test_id("new-record").click()
    expect(page.get_by_text(evil).first).to_be_visible()
    assert page.locator("img[src=x]").count() == 0
    shot(page, "markup-as-text")


def test_the_cockpit_renders_numbers_and_drills_down(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    for title in ("开机无响应", "配件缺失"):
        register(platform, people, title)
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/apps/aftersales/dashboards/cockpit")
    card = page.get_by_test_id("widget-open_tickets")
    expect(card.locator(".ant-statistic-content-value")).to_have_text("2")
    expect(page.get_by_test_id("widget-issue_types").locator("canvas")).to_be_visible()
    shot(page, "cockpit")
    page.get_by_test_id("filter-product_line").click()  # options by label, not typed codes
    choice(page, "B 产品线").click()
    page.keyboard.press("Escape")
    expect(card.locator(".ant-statistic-content-value")).to_have_text("0")  # both are on line A
    page.get_by_test_id("filter-product_line").locator(".ant-select-clear").click()
    expect(card.locator(".ant-statistic-content-value")).to_have_text("2")
    card.locator(".ant-statistic").click()
    drawer = page.locator(".ant-drawer")
    expect(drawer).to_contain_text("开机无响应")
    expect(drawer).to_contain_text("配件缺失")
    # a drilled record opens on its own page
    drawer.get_by_role("link", name=re.compile("开机无响应")).click()
    expect(page).to_have_url(re.compile(r"/apps/aftersales/records/ticket/\d+$"))
    expect(page.locator(".ant-card-head-title").first).to_contain_text("开机无响应")


def test_the_cockpit_works_by_keyboard_and_reads_its_charts_as_tables(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    for title in ("开机无响应", "配件缺失"):
        register(platform, people, title)
    sign_in(page, server, "director", PASSWORD)
    page.goto(f"{server}/apps/aftersales/dashboards/cockpit")
    card = page.get_by_test_id("widget-open_tickets").get_by_role(
        "button", name=re.compile("查看明细")
    )
    expect(card).to_have_accessible_name(re.compile(r"^未结工单（查看明细）：\s*2"))
    card.focus()
    page.keyboard.press("Enter")  # a KPI card opens its records without a pointer
    drawer = page.locator(".ant-drawer")
    expect(drawer).to_contain_text("配件缺失")
    page.keyboard.press("Escape")
    expect(drawer.locator(".ant-drawer-content")).to_be_hidden()

    # a chart reads as a table of its numbers, each row opening the records behind it
    issues = page.get_by_test_id("widget-issue_types")
    expect(issues.get_by_role("img", name=re.compile("图表"))).to_be_visible()
    switch = page.get_by_test_id("widget-table-issue_types")
    switch.focus()
    page.keyboard.press("Enter")
    expect(switch).to_have_attribute("aria-pressed", "true")
    table = issues.locator("table")
    expect(table).to_contain_text("硬件故障")
    row = issues.get_by_role("button", name="明细：硬件故障")
    row.focus()
    page.keyboard.press("Enter")
    expect(drawer).to_contain_text("开机无响应")
    expect(drawer).to_contain_text("配件缺失")
    page.keyboard.press("Escape")
    expect(drawer.locator(".ant-drawer-content")).to_be_hidden()
    settled(page)
    assert accessibility_problems(page) == []


def test_an_administrator_checks_then_imports_a_package_and_sets_a_manager(
    page: Page, server: str, platform: Platform, admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_role("tab", name="应用包").click()
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "aftersales.zip",
                "mimeType": "application/zip",
                "buffer": packages.pack(PACKAGE),
            }
        ],
    )
    page.get_by_test_id("package-check").click()
    report = page.get_by_test_id("package-report")
    # checking a package compiles and checks its 62 definitions: seconds on a loaded machine
    expect(report).to_contain_text("首次安装", timeout=30_000)
    expect(report).to_contain_text("新增 62 项")
    with platform.unit_of_work(write=False) as uow:  # checked only: nothing written yet
        assert uow.session.scalar(select(App.id).where(App.key == "aftersales")) is None
    shot(page, "package-check")
    page.get_by_test_id("package-confirm").click()
    expect(page.get_by_role("cell", name="aftersales", exact=True)).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="组织").click()
    page.get_by_text("A线质量工程师组 (line_a_qe)").click()
    page.locator(".ant-descriptions .ant-select").first.click()
    choice(page, "admin").click()
    expect(page.locator(".ant-descriptions .ant-select").first).to_contain_text("admin")
    manager = None
    for _ in range(50):  # the change is saved by a request the page sends
        with platform.unit_of_work(write=False) as uow:
            manager = uow.session.scalar(select(Group.manager_id).where(Group.key == "line_a_qe"))
        if manager is not None:
            break
        page.wait_for_timeout(100)
    assert manager == admin_user.id


def test_a_list_saves_views_names_people_and_exports_what_it_shows(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "开机无响应")
    with platform.unit_of_work() as uow:  # a customer, named in the list by its name
        customer = records.create_record(
            uow, SYSTEM, "aftersales", "customer", {"name": "华东精密", "tier": "key"}
        ).record
        ticket = uow.session.get(Record, record_id)
        assert ticket is not None
        records.system_update(
            uow, SYSTEM, "aftersales", "ticket", ticket, {"customer": customer.id}
        )
        uow.commit()
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket")
    row = page.locator(".ant-table-row").first
    expect(row).to_contain_text("开机无响应")
    expect(row).to_contain_text("A线质量工程师组")  # the group by name, not its id
    expect(row).to_contain_text("华东精密")  # the customer by its display field
    # the frame's and the table's styles came with the build's sheet: the page computed none
    computed = page.evaluate(
        "() => [...document.querySelectorAll('style')].map((s) => s.textContent).join('')"
    )
    assert ".ant-table-row" not in computed
    assert ".ant-menu-item" not in computed
    assert page.locator("link[rel=stylesheet][href*='/assets/antd-']").count() == 1
    page.get_by_test_id("filters-unfold").click()  # the query form shows a row until 展开
    page.locator(".ant-form-item", has_text="问题类型").locator(".ant-select").click()
    choice(page, "硬件故障").click()
    page.keyboard.press("Escape")
    page.get_by_test_id("apply-filters").click()
    page.get_by_test_id("view-name").fill("硬件")
    page.get_by_test_id("view-name").press("Enter")
    expect(page.get_by_test_id("view-硬件")).to_be_visible()
    page.get_by_test_id("reset-filters").click()
    page.reload()  # views live on the server: still there, and they fill the filters back
    view = page.get_by_role("button", name=re.compile(r"^硬件"))
    expect(view).to_have_attribute("aria-pressed", "false")
    view.focus()
    page.keyboard.press("Enter")  # by keyboard as by pointer
    expect(page.locator(".ant-form-item", has_text="问题类型")).to_contain_text("硬件故障")
    expect(page.get_by_test_id("view-硬件")).to_have_class(re.compile("ant-tag-blue"))
    expect(view).to_have_attribute("aria-pressed", "true")
    with platform.unit_of_work() as uow:  # a view saved before its field left the form
        app_id = uow.session.scalar(select(App.id).where(App.key == "aftersales"))
        uow.session.add(
            SavedView(
                user_id=people["agent"],
                app_id=app_id,
                form_key="ticket",
                name="旧视图",
                filters={"legacy_code": "X1"},
                sort="",
                shared=False,
                created_at=uow.now,
                updated_at=uow.now,
            )
        )
        uow.commit()
    page.reload()
    page.get_by_test_id("view-旧视图").click()
    expect(page.get_by_test_id("list-error")).to_contain_text("legacy_code")
    page.get_by_test_id("list-reset").click()
    expect(page.get_by_test_id("list-error")).to_have_count(0)
    page.get_by_test_id("view-硬件").click()
    expect(page).to_have_url(re.compile(r"issue_type__in=hardware_fault"))
    export = page.get_by_test_id("export-csv")
    expect(export).to_have_attribute("href", re.compile(r"issue_type__in=hardware_fault"))
    href = export.get_attribute("href") or ""
    assert "issue_type__in=hardware_fault" in href
    assert "format=csv" in href
    exported = page.request.get(f"{server}{href}")
    assert exported.ok
    assert "开机无响应" in exported.text()


def test_an_administrator_creates_a_group_and_a_role_with_a_grant(
    page: Page, server: str, platform: Platform, people: dict[str, int], admin_user: User
) -> None:
    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_role("tab", name="组织").click()
    page.get_by_test_id("group-key").fill("night_shift")
    page.get_by_test_id("group-name").fill("夜班")
    page.get_by_test_id("group-create").click()
    expect(page.get_by_text("夜班 (night_shift)")).to_be_visible()
    page.get_by_role("tab", name="角色").click()
    page.get_by_test_id("role-key").fill("auditor")
    page.get_by_test_id("role-name").fill("审计")
    page.get_by_test_id("role-create").click()
    # the grant is picked by names, not typed as keys, and reads as a sentence
    pick(page, page.get_by_test_id("grant-app"), "售后服务")
    pick(page, page.get_by_test_id("grant-form"), "售后工单")
    page.get_by_test_id("grant-add").click()
    expect(page.get_by_test_id("grant-table")).to_contain_text("售后服务 · 售后工单：查看（全部）")
    # and who holds the role is shown and edited here
    members = page.get_by_test_id("role-members")
    expect(members).to_contain_text("还没有用户拥有此角色")
    page.get_by_test_id("role-add-member").click()
    page.get_by_test_id("role-add-member").locator("input").fill("agent")
    enter_found(page, "agent")
    expect(members).to_contain_text("agent")
    with platform.unit_of_work(write=False) as uow:
        role = uow.session.scalar(select(Role).where(Role.key == "auditor"))
        assert role is not None
        grants = uow.session.scalars(select(Grant).where(Grant.role_id == role.id)).all()
        assert [(g.app_key, g.form_key, g.actions, g.scope) for g in grants] == [
            ("aftersales", "ticket", ["read"], "all")
        ]
        assert uow.session.scalar(select(Group.name).where(Group.key == "night_shift")) == "夜班"
        holders = uow.session.scalars(
            select(RoleAssignment.user_id).where(RoleAssignment.role_id == role.id)
        ).all()
        assert holders == [people["agent"]]
    settled(page)
    problems = accessibility_problems(page)
    assert problems == [], problems


def test_the_initiator_urges_withdraws_revises_and_resubmits(
    page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    record_id = register(platform, people, "屏幕闪烁")
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{record_id}")
    flow = page.get_by_test_id("flow-ticket_handling")
    expect(flow).to_contain_text("首次响应 · qe_a")  # the node's label and its holder's name
    page.get_by_test_id("flow-urge").click()
    expect(page.locator(".ant-message")).to_contain_text("已催办")
    page.get_by_test_id("flow-withdraw").click()
    opened(page.locator(".ant-popconfirm")).get_by_role("button").last.click()
    expect(page.locator(".ant-message")).to_contain_text("已撤回")
    flow.get_by_text("流转记录").click()
    expect(flow).to_contain_text("撤回")
    with platform.unit_of_work(write=False) as uow:
        tasks = uow.session.execute(
            select(Task.node, Task.status, Task.assignee_id)
            .where(Task.record_id == record_id)
            .order_by(Task.id)
        ).all()
    # the engineer's task is taken back; the ticket waits for the agent to resubmit it
    assert [tuple(t) for t in tasks] == [
        ("respond", "cancelled", people["qe_a"]),
        ("start", "open", people["agent"]),
    ]
    # the agent corrects the registration in the start task and submits it again
    page.goto(f"{server}/tasks/{open_task(platform, record_id, 'start').id}")
    expect(page.locator("#root_response_note")).to_have_count(0)  # the handling's fields: not here
    page.fill("#root_title", "屏幕闪烁（夜间）")
    page.get_by_test_id("action-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    with platform.unit_of_work(write=False) as uow:
        ticket = uow.session.get(Record, record_id)
        assert ticket is not None
        assert ticket.data["title"] == "屏幕闪烁（夜间）"
    assert open_task(platform, record_id, "respond").assignee_id == people["qe_a"]


def test_the_list_and_the_cockpit_fit_a_phone(
    browser: Browser, server: str, platform: Platform, people: dict[str, int]
) -> None:
    for title in ("开机无响应", "配件缺失"):
        register(platform, people, title)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = phone.new_page()
    sign_in(page, server, "director", PASSWORD)
    for path, ready in (
        ("/apps/aftersales/records/ticket", page.get_by_text("配件缺失")),
        ("/apps/aftersales/dashboards/cockpit", page.get_by_test_id("widget-open_tickets")),
        ("/", page.get_by_test_id("form-ticket")),
    ):
        page.goto(f"{server}{path}")
        expect(ready.first).to_be_visible()
        settled(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{path} is {wide}px wide on a 390px screen"
    shot(page, "launcher-390")
    phone.close()
