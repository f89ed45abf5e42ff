"""The public pages in a real browser: a customer on a phone, offered the help center's article on
their problem, files a ticket through the intake link anyway with a photo (its upload's progress shown), keeps the private status link, follows it and replies
with a file; the agent sees the customer's reply on the ticket and answers in public; the customer
reads the answer. A forged status link shows the Chinese not-found page, not the sign-in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import IntakeLink, IntakeSubmission, Record
from tangram.platform.records import intake
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    no_sideways_scroll,
    settled,
    shot,
    sign_in,
)

#: A PNG of about 60 kB (its signature, then padding): big enough that a throttled upload shows
#: its progress for a while.
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60_000
NOTE = b"%PDF-1.7\n" + b"x" * 200


def intake_link(platform: Platform, owner: int) -> str:
    """A public intake link for tickets (the agent owns what it registers); its token."""
    with platform.unit_of_work() as uow:
        _, token = intake.create_link(
            uow,
            Actor.system("test"),
            "aftersales",
            "ticket",
            fields=["title", "contact_name", "contact_phone", "issue_type", "images"],
            title={"zh-CN": "售后报修", "en": "Report a problem"},
            owner_id=owner,
        )
        uow.commit()
    return token


def ticket_numbered(platform: Platform, number: str) -> int:
    """The id of the ticket with this number (the status link does not say it)."""
    with platform.unit_of_work(write=False) as uow:
        found = uow.session.scalar(
            select(Record.id).where(
                Record.form_key == "ticket", Record.data["ticket_no"].as_string() == number
            )
        )
    assert found is not None, number
    return int(found)


def test_a_customer_files_follows_and_replies_and_the_agent_answers_in_public(
    phone: Page, page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    token = intake_link(platform, people["agent"])
    with platform.unit_of_work() as uow:  # the help center has an article on leaks
        records.create_record(
            uow,
            Actor.system("test"),
            "aftersales",
            "knowledge_article",
            {
                "title": "洗衣机漏水的检查方法",
                "symptoms": "洗衣机底部有水渗出",
                "solution": "<p>检查进水管接头是否拧紧。</p>",
                "status": "published",
            },
        )
        uow.commit()
    phone.clock.install()  # time runs as usual; the status page's polling is fast-forwarded

    # the intake page: no sign-in, the link's fields, at a phone's width
    phone.goto(f"{server}/intake/{token}")
    expect(phone.get_by_test_id("intake-title")).to_have_text("售后报修")
    expect(phone).to_have_url(re.compile(r"/intake/"))
    expect(phone.locator("#root_title")).to_be_visible()
    expect(phone.locator("#root_urgency")).to_have_count(0)  # not exposed
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    # a required field left empty is pinned on the field, nothing sent
    phone.get_by_test_id("intake-submit").click()
    title_item = phone.locator("#root_title").locator(
        "xpath=ancestor::div[contains(@class, 'ant-form-item ')][1]"
    )
    expect(title_item.locator(".ant-form-item-explain-error")).to_have_text("必填")

    phone.fill("#root_title", "洗衣机漏水")
    # the help center's article on it is offered; the customer still files the ticket
    expect(phone.get_by_test_id("deflection-item")).to_contain_text("洗衣机漏水的检查方法")
    phone.fill("#root_contact_name", "王女士")
    phone.fill("#root_contact_phone", "13800000000")
    phone.locator("#root_issue_type").click()
    phone.locator(
        ".ant-select-dropdown:visible .ant-select-item-option", has_text="硬件故障"
    ).click()
    # the photo goes up slowly enough to see its progress bar, then is listed as uploaded
    network = phone.context.new_cdp_session(phone)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 20_000},
    )
    phone.set_input_files(
        "input[type=file]", files=[{"name": "leak.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    uploading = phone.locator(".ant-upload-list-item-uploading")
    expect(uploading.locator(".ant-progress")).to_be_visible()
    expect(uploading).to_have_count(0, timeout=30_000)
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(phone.locator(".ant-upload-list-item-done", has_text="leak.png")).to_be_visible()
    phone.get_by_test_id("intake-submit").click()

    # the confirmation: the ticket's number and the private status link
    done = phone.get_by_test_id("intake-done")
    expect(done).to_contain_text("提交成功")
    expect(phone.get_by_test_id("intake-number")).to_have_text(
        re.compile(r"您的编号：SV-\d{8}-\d{4}")
    )
    number = phone.get_by_test_id("intake-number").inner_text().removeprefix("您的编号：")
    expect(done).to_contain_text("这是您的专属链接")
    link = phone.get_by_test_id("intake-status-link").input_value()
    assert re.fullmatch(re.escape(server) + r"/status/tga_[\w-]{43}", link), link
    no_sideways_scroll(phone)
    shot(phone, "public-intake-done")

    # the status page behind the link
    phone.get_by_test_id("intake-open-status").click()
    expect(phone).to_have_url(link)
    expect(phone.get_by_test_id("status-number")).to_contain_text(number)
    expect(phone.get_by_test_id("status-number")).to_contain_text("洗衣机漏水")
    fields = phone.get_by_test_id("status-fields")
    expect(fields).to_contain_text("硬件故障")
    expect(fields).not_to_contain_text("王女士")  # not a public field
    expect(fields.get_by_test_id("status-file")).to_have_text("leak.png")
    expect(phone.get_by_test_id("status-entry-created")).to_be_visible()
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []

    # the customer replies with a file
    phone.get_by_test_id("status-reply-box").fill("<b>水越来越多了</b>，请尽快上门")
    phone.set_input_files(
        "input[type=file]",
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": NOTE}],
    )
    expect(phone.locator(".ant-upload-list-item-done", has_text="invoice.pdf")).to_be_visible()
    phone.get_by_test_id("status-reply-send").click()
    mine = phone.get_by_test_id("status-entry-customer_reply")
    expect(mine).to_contain_text("水越来越多了，请尽快上门")
    expect(mine).not_to_contain_text("<b>")
    expect(mine.get_by_test_id("status-file")).to_have_text("invoice.pdf")
    shot(phone, "public-status")

    # the agent sees the customer's reply on the ticket and answers in public
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{ticket_numbered(platform, number)}")
    timeline = page.get_by_test_id("timeline")
    reply_entry = timeline.get_by_test_id("timeline-record.customer_replied")
    expect(reply_entry).to_contain_text("客户回复")
    expect(reply_entry).to_contain_text("水越来越多了，请尽快上门")
    expect(reply_entry).to_contain_text("客户")
    comment = page.get_by_test_id("comment").filter(has_text="水越来越多了")
    expect(comment.get_by_test_id("comment-tag-customer")).to_have_text("客户回复")
    expect(comment).not_to_contain_text("已删除的用户")
    expect(comment.get_by_test_id("comment-file")).to_contain_text("invoice.pdf")
    box = page.get_by_role("textbox", name="评论内容")
    box.fill("工程师明天上午上门检修")
    page.get_by_test_id("comment-public").check()
    page.get_by_test_id("comment-send").click()
    answer = page.get_by_test_id("comment").filter(has_text="工程师明天上午上门检修")
    expect(answer.get_by_test_id("comment-tag-public")).to_have_text("公开回复")
    box.fill("客户情绪较急，注意安抚")  # internal: the customer never sees it
    page.get_by_test_id("comment-send").click()
    expect(page.get_by_test_id("comment").filter(has_text="注意安抚")).to_be_visible()

    # the customer's page, still open, shows the public answer by itself, not the internal note
    expect(phone.get_by_test_id("status-entry-reply")).to_have_count(0)
    phone.clock.fast_forward("00:31")
    answer_entry = phone.get_by_test_id("status-entry-reply")
    expect(answer_entry).to_contain_text("工程师明天上午上门检修")
    expect(answer_entry).to_contain_text("客服回复")
    expect(phone.get_by_test_id("status-timeline")).not_to_contain_text("注意安抚")
    # in English too
    phone.get_by_test_id("public-language").get_by_text("English").click()
    expect(phone.get_by_test_id("status-entry-reply")).to_contain_text("Service reply")

    # a forged link: the Chinese not-found page, not the sign-in
    phone.get_by_test_id("public-language").get_by_text("中文").click()
    phone.goto(f"{server}/status/tga_{'x' * 43}")
    expect(phone.get_by_test_id("public-not-found")).to_contain_text("链接不存在或已失效")
    expect(phone).to_have_url(re.compile(r"/status/tga_x+$"))
    settled(phone)
    assert accessibility_problems(phone) == []


def test_the_intake_page_says_the_rate_limit_in_the_servers_words(
    phone: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    token = intake_link(platform, people["agent"])
    with platform.unit_of_work() as uow:  # this address used up its hour's submissions
        link_id = uow.session.scalar(select(IntakeLink.id))
        assert link_id is not None
        for _ in range(platform.settings.intake_max_per_hour):
            uow.session.add(IntakeSubmission(link_id=link_id, remote_addr="127.0.0.1", at=uow.now))
        uow.commit()
    phone.goto(f"{server}/intake/{token}")
    phone.fill("#root_title", "又漏水了")
    phone.locator("#root_issue_type").click()
    phone.locator(
        ".ant-select-dropdown:visible .ant-select-item-option", has_text="硬件故障"
    ).click()
    phone.get_by_test_id("intake-submit").click()
    problem = phone.get_by_test_id("intake-problem")
    expect(problem).to_contain_text("提交太频繁")
    expect(problem).to_contain_text(re.compile(r"操作太频繁，请 \d+ 秒后再试"))
    expect(phone.get_by_test_id("intake-done")).to_have_count(0)
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Record)) == 0
