"""The help center in a real browser: a customer on a phone, not signed in, searches the published
articles, narrows them by product line, reads one and says it solved the problem; on the intake
page the articles matching what they type are offered, and one solves the problem before any
ticket is filed. The service team reads the answers from the knowledge base's list."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import Definition, HelpFeedback, Record, User
from tangram.platform.records import intake, service
from tests.apps.test_aftersales import PASSWORD
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    no_sideways_scroll,
    saved,
    settled,
    shot,
    sign_in,
)

SYSTEM = Actor.system("test")
ARTICLES = [
    (
        "开机无响应怎么办",
        "C",
        "hardware_fault",
        "按下电源键后设备没有任何反应",
        "<p>检查电源线是否插紧。</p><p>拔掉电源 30 秒后重新上电。</p>",
        "published",
    ),
    (
        "安装后无法联网",
        "B",
        "installation",
        "网络指示灯一直闪烁",
        "<p>确认 Wi-Fi 密码。</p>",
        "published",
    ),
    (
        "设备运行噪音大",
        "A",
        "hardware_fault",
        "运行时噪音明显变大",
        "<p>检查风扇与轴承。</p>",
        "published",
    ),
    ("开机密码重置（草稿）", "C", "usage_question", "忘记开机密码", "<p>草稿</p>", "draft"),
]


@pytest.fixture
def articles(platform: Platform, people: dict[str, int]) -> dict[str, int]:
    ids = {}
    with platform.unit_of_work() as uow:
        for title, line, kind, symptoms, solution, status in ARTICLES:
            written = service.create_record(
                uow,
                SYSTEM,
                "aftersales",
                "knowledge_article",
                {
                    "title": title,
                    "product_line": line,
                    "issue_type": kind,
                    "symptoms": symptoms,
                    "solution": solution,
                    "status": status,
                },
            )
            ids[title] = written.record.id
        uow.commit()
    return ids


def answers(platform: Platform) -> list[tuple[int, bool, str]]:
    with platform.engine.connect() as connection:
        rows = connection.execute(
            select(HelpFeedback.record_id, HelpFeedback.solved, HelpFeedback.via).order_by(
                HelpFeedback.id
            )
        ).all()
    return [tuple(r) for r in rows]


def test_a_customer_finds_an_article_by_search_and_facet_and_says_it_solved_the_problem(
    phone: Page, server: str, platform: Platform, articles: dict[str, int]
) -> None:
    phone.goto(f"{server}/help/aftersales")
    expect(phone.get_by_role("heading", name="帮助中心")).to_be_visible()
    expect(phone.get_by_test_id("help-total")).to_have_text("共 3 篇文章")  # not the draft
    expect(phone.get_by_test_id("help-article")).to_have_count(3)
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    shot(phone, "help-center")

    # a search by a word of the title: the word marked in the list, the draft not found
    search = phone.get_by_test_id("help-search").locator("input")
    search.fill("开机")
    search.press("Enter")
    expect(phone).to_have_url(re.compile(r"\?q=%E5%BC%80%E6%9C%BA"))
    expect(phone.get_by_test_id("help-total")).to_have_text("找到 1 篇与“开机”相关的文章")
    expect(phone.get_by_test_id("help-article")).to_have_text(re.compile("开机无响应怎么办"))

    # by product line instead: the facet's options count the articles
    search.fill("")
    search.press("Enter")
    line = phone.get_by_test_id("help-facet-product_line")
    line.get_by_text("B 产品线 1").click()
    expect(phone.get_by_test_id("help-article")).to_have_count(1)
    expect(phone.get_by_test_id("help-article")).to_contain_text("安装后无法联网")
    line.get_by_text("全部").click()
    expect(phone.get_by_test_id("help-article")).to_have_count(3)

    # one article: its body, the question, and the answer counted
    phone.get_by_role("link", name="开机无响应怎么办").click()
    expect(phone.get_by_test_id("help-article-title")).to_have_text("开机无响应怎么办")
    expect(phone.get_by_test_id("help-article-body")).to_contain_text("拔掉电源 30 秒后重新上电")
    expect(phone.get_by_text("这篇文章解决了您的问题吗？")).to_be_visible()
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    phone.get_by_test_id("help-solved").click()
    expect(phone.get_by_test_id("help-feedback-done")).to_contain_text("感谢您的反馈")
    expect(phone.get_by_test_id("help-feedback-done")).to_contain_text("1 人表示这篇文章解决了问题")
    assert answers(platform) == [(articles["开机无响应怎么办"], True, "article")]
    # Back returns to the list as it was
    phone.get_by_test_id("help-back").click()
    expect(phone.get_by_test_id("help-article")).to_have_count(3)

    # a draft's address opens nothing
    phone.goto(f"{server}/help/aftersales/knowledge_article/{articles['开机密码重置（草稿）']}")
    expect(phone.get_by_test_id("public-not-found")).to_be_visible()


def test_the_intake_page_offers_articles_and_one_solves_the_problem_before_a_ticket(
    phone: Page,
    page: Page,
    server: str,
    platform: Platform,
    people: dict[str, int],
    articles: dict[str, int],
) -> None:
    with platform.unit_of_work() as uow:
        _, token = intake.create_link(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            fields=["title", "contact_name", "contact_phone", "issue_type", "description"],
            title={"zh-CN": "售后报修", "en": "Report a problem"},
            owner_id=people["agent"],
        )
        uow.commit()
    phone.goto(f"{server}/intake/{token}")
    expect(phone.get_by_test_id("intake-title")).to_have_text("售后报修")
    expect(phone.get_by_test_id("deflection")).to_have_count(0)  # nothing typed yet
    phone.fill("#root_title", "设备开机无响应")
    deflection = phone.get_by_test_id("deflection")
    expect(deflection).to_contain_text("这些文章也许能解决您的问题")
    expect(deflection.get_by_test_id("deflection-item").first).to_contain_text("开机无响应怎么办")
    expect(deflection).not_to_contain_text("草稿")
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    shot(phone, "intake-deflection")

    # "not solved" is counted and the article leaves the list; the visitor may go on
    expect(deflection.get_by_test_id("deflection-item")).to_have_count(
        2
    )  # 设备 is in another title
    deflection.get_by_role("button", name="开机无响应怎么办").click()
    opened_article = deflection.get_by_test_id("deflection-article")
    expect(opened_article).to_contain_text("检查电源线是否插紧")
    opened_article.get_by_role("button", name="没有解决，继续提交").click()
    expect(deflection.get_by_test_id("deflection-item")).to_have_count(1)
    expect(deflection).not_to_contain_text("开机无响应怎么办")
    assert answers(platform) == [(articles["开机无响应怎么办"], False, "intake")]

    # another visit: the article solves it, and no ticket is filed
    phone.reload()
    phone.fill("#root_title", "开机无响应")
    phone.fill("#root_description", "按电源键没有反应")
    item = phone.get_by_test_id("deflection").get_by_role("button", name="开机无响应怎么办")
    item.click()
    phone.get_by_test_id("deflection-solved").click()
    expect(phone.get_by_test_id("intake-deflected")).to_contain_text("太好了，问题已解决")
    with platform.engine.connect() as connection:
        tickets = connection.execute(
            select(func.count()).select_from(Record).where(Record.form_key == "ticket")
        ).scalar()
    assert tickets == 0
    # the same visitor on the same day: their answer replaced, not added
    assert answers(platform) == [(articles["开机无响应怎么办"], True, "intake")]
    # "submit anyway" returns to the form with what was typed
    phone.get_by_role("button", name="仍要提交").click()
    expect(phone.locator("#root_title")).to_have_value("开机无响应")

    # the service team: the knowledge base's list shows what visitors answered
    sign_in(page, server, "qe_a", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/knowledge_article")
    page.get_by_test_id("help-feedback-open").click()
    drawer = page.get_by_test_id("help-feedback-drawer")
    expect(drawer).to_contain_text("帮助中心反馈")
    row = drawer.locator("tbody tr.ant-table-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("开机无响应怎么办")
    expect(row.locator("td").nth(1)).to_have_text("1")  # solved
    expect(row.locator("td").nth(2)).to_have_text("1")  # of them before submitting
    expect(drawer.get_by_test_id("help-open-center")).to_have_attribute("href", "/help/aftersales")
    shot(page, "help-feedback")


def test_a_designer_turns_the_help_center_off_and_on_without_json(
    page: Page, server: str, platform: Platform, admin_user: User, people: dict[str, int]
) -> None:
    def draft() -> dict[str, Any]:
        with platform.unit_of_work(write=False) as uow:
            found = uow.session.scalar(
                select(Definition.draft).where(
                    Definition.kind == "form", Definition.key == "knowledge_article"
                )
            )
        assert found is not None
        return dict(found)

    sign_in(page, server, "admin", ADMIN_PASSWORD)
    page.goto(f"{server}/design/aftersales/forms/knowledge_article")
    page.get_by_role("tab", name="表单属性").click()
    switch = page.get_by_test_id("design-help-on")
    expect(switch).to_be_checked()
    settings = page.get_by_test_id("design-help")
    expect(settings.get_by_test_id("design-help-shown-field")).to_contain_text("状态")
    expect(settings.get_by_test_id("design-help-shown-values")).to_contain_text("已发布")
    shot(page, "designer-help-center")
    switch.click()
    expect(settings).to_have_count(0)
    saved(page)
    assert "help" not in draft()
    switch.click()
    saved(page)
    assert draft()["help"] == {
        "title": "title",
        "summary": "symptoms",
        "body": "solution",
        "facets": ["issue_type", "product_line"],
        "shown_when": {"field": "status", "values": ["published"]},
    }
    # the ticket's intake page suggests from the knowledge base
    page.goto(f"{server}/design/aftersales/forms/ticket")
    page.get_by_role("tab", name="表单属性").click()
    expect(page.get_by_test_id("design-suggest-form")).to_contain_text("知识库文章")
