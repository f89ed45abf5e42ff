"""A satisfaction survey in a real browser: a ticket is resolved; its customer, on a phone, finds
「请为本次服务评分」 on the ticket's status page, taps the CSAT, NPS and CES scales, writes a comment
and is thanked; the survey leaves the status page; the agent finds the answer on the ticket's
timeline and among its related records."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tangram.platform import flows, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel.models import Record, Task, User
from tangram.platform.records import access, surveys
from tests.apps.test_aftersales import PASSWORD
from tests.e2e.conftest import (
    accessibility_problems,
    no_sideways_scroll,
    settled,
    shot,
    sign_in,
)


def resolved_ticket(platform: Platform) -> tuple[int, str]:
    """A ticket solved at first contact (its flow's resolve step sends the survey), and the
    customer's status link."""
    system = Actor.system("test")
    with platform.unit_of_work() as uow:
        ticket = records.create_record(
            uow,
            system,
            "aftersales",
            "ticket",
            {"title": "洗衣机漏水", "issue_type": "usage_question", "urgency": "P4"},
        ).record
        _, token = access.create(uow, ticket.id)
        uow.commit()
    with platform.unit_of_work() as uow:
        task = uow.session.scalar(
            select(Task).where(Task.record_id == ticket.id, Task.status == "open")
        )
        assert task is not None
        assert task.node == "respond"
        assert task.assignee_id is not None
        user = uow.session.get(User, task.assignee_id)
        record = uow.session.get(Record, ticket.id)
        assert record is not None
        flows.act(
            uow,
            platform.settings,
            load_actor(uow.session, user, via="test"),
            task.id,
            flows.TaskCommand(
                action="submit",
                data={"response_note": "电话指导客户完成设置", "first_contact_resolved": True},
                lock_version=record.lock_version,
            ),
        )
        uow.commit()
    return ticket.id, token


def test_a_customer_rates_a_resolved_ticket_and_the_agent_sees_the_scores(
    phone: Page, page: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    ticket_id, token = resolved_ticket(platform)

    # the status page offers the survey
    phone.goto(f"{server}/status/{token}")
    card = phone.get_by_test_id("status-survey")
    expect(card).to_contain_text("请为本次服务评分")
    expect(card).to_contain_text("满意度调查")
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    phone.get_by_test_id("status-survey-open").click()

    # the survey: the ticket it is about, scales to tap at a phone's width
    expect(phone).to_have_url(re.compile(r"/status/tga_[\w-]+/survey$"))
    expect(phone.get_by_test_id("survey-title")).to_have_text("满意度调查")
    expect(phone.get_by_test_id("survey-subject")).to_contain_text("关于 SV-")
    expect(phone.locator("#root_ticket")).to_have_count(0)  # the server sets the link field
    for value in range(11):
        expect(phone.get_by_test_id(f"scale-nps-{value}")).to_be_visible()
    box = phone.locator("label", has=phone.get_by_test_id("scale-csat-1")).bounding_box()
    assert box is not None
    assert box["width"] >= 40
    assert box["height"] >= 40
    no_sideways_scroll(phone)
    settled(phone)
    assert accessibility_problems(phone) == []
    # in English too
    phone.get_by_test_id("public-language").get_by_text("English").click()
    expect(phone.get_by_test_id("survey-title")).to_have_text("Satisfaction survey")
    expect(phone.get_by_test_id("survey-subject")).to_contain_text("About SV-")
    phone.get_by_test_id("public-language").get_by_text("中文").click()
    expect(phone.get_by_test_id("survey-title")).to_have_text("满意度调查")
    # CSAT is required: sending without it is refused on the field
    phone.get_by_test_id("survey-submit").click()
    expect(phone.get_by_test_id("survey-problem")).to_contain_text("请按提示修改后再提交")
    phone.get_by_test_id("scale-csat-4").click()
    phone.get_by_test_id("scale-nps-9").click()
    phone.get_by_test_id("scale-ces-2").click()
    phone.fill("#root_comment", "工程师很耐心")
    shot(phone, "public-survey")
    phone.get_by_test_id("survey-submit").click()

    # thanked; the status page no longer asks
    thanks = phone.get_by_test_id("survey-thanks")
    expect(thanks).to_contain_text("感谢您的评价！")
    settled(phone)
    assert accessibility_problems(phone) == []
    phone.get_by_test_id("survey-back").click()
    expect(phone.get_by_test_id("status-number")).to_be_visible()
    expect(phone.get_by_test_id("status-survey")).to_have_count(0)
    # nothing waits any more: the survey through the status link opens nothing
    phone.goto(f"{server}/status/{token}/survey")
    expect(phone.get_by_test_id("public-not-found")).to_contain_text("链接不存在或已失效")

    with platform.unit_of_work(write=False) as uow:
        answers = list(
            uow.session.scalars(select(Record.data).where(Record.form_key == "satisfaction_survey"))
        )
    assert answers == [
        {"ticket": ticket_id, "csat": 4, "nps": 9, "ces": 2, "comment": "工程师很耐心"}
    ]

    # the agent sees the survey sent and answered on the ticket's timeline, and the answer among
    # its related records
    sign_in(page, server, "agent", PASSWORD)
    page.goto(f"{server}/apps/aftersales/records/ticket/{ticket_id}")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-record.survey_sent")).to_contain_text(
        "已发送满意度调查"
    )
    expect(timeline.get_by_test_id("timeline-record.survey_answered")).to_contain_text(
        "客户已提交满意度调查"
    )
    expect(page.get_by_text("满意度调查").first).to_be_visible()


def test_a_mailed_survey_link_is_answered_once_and_a_forged_one_opens_nothing(
    phone: Page, server: str, platform: Platform, people: dict[str, int]
) -> None:
    ticket_id, _ = resolved_ticket(platform)
    with platform.unit_of_work() as uow:  # a second survey link, as a mail would carry it
        ticket = uow.session.get(Record, ticket_id)
        assert ticket is not None
        sent = surveys.send(
            uow,
            platform.settings,
            "aftersales",
            ticket,
            ticket.data,
            form_key="satisfaction_survey",
            link_field="ticket",
            expires_in_days=3,
            source="test",
        )
        uow.commit()
    phone.goto(f"{server}/survey/{sent.token}")
    expect(phone.get_by_test_id("survey-title")).to_have_text("满意度调查")
    phone.get_by_test_id("scale-csat-5").click()
    phone.get_by_test_id("survey-submit").click()
    expect(phone.get_by_test_id("survey-thanks")).to_contain_text("感谢您的评价！")
    expect(phone.get_by_test_id("survey-back")).to_have_count(0)  # no status link to go back to
    phone.reload()
    expect(phone.get_by_test_id("survey-thanks")).to_contain_text("此调查已提交，感谢您的评价")
    settled(phone)
    assert accessibility_problems(phone) == []
    phone.goto(f"{server}/survey/tga_{'x' * 43}")
    expect(phone.get_by_test_id("public-not-found")).to_contain_text("链接不存在或已失效")
    expect(phone).to_have_url(re.compile(r"/survey/tga_x+$"))
