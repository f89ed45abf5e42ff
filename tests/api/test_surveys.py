"""Surveys: a rule sends a survey form through a single-use, expiring link; the customer answers
it without signing in (by the link, or through the record's status page); the answer is a record
linked to its subject that rules react to; a timer rule falls back on a phone callback."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import Gone
from tangram.platform.kernel.models import AccessLink, AuditEntry, Job, Record
from tangram.platform.public import surveys
from tangram.platform.worker import Worker
from tests.conftest import CHEAP_PASSWORDS, LASTING_SESSIONS, ApiClient, assert_problem, race

APP = "/api/v1/apps/app"
TICKETS = f"{APP}/records/ticket"


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": f"{key}字段", "en": key}, **extra}


def option(value: str, zh: str, en: str) -> dict[str, Any]:
    return {"value": value, "label": {"zh-CN": zh, "en": en}}


TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": [
        field("no", "serial", serial="SV-{seq:4}"),
        field("title", "text", required=True),
        field("email", "email"),
        field(
            "status",
            "select",
            options=[option("new", "新建", "New"), option("resolved", "已解决", "Resolved")],
            default="new",
        ),
        field("resolved_at", "datetime"),
        field("survey_answered_at", "datetime"),
    ],
    "options": {"title_field": "title"},
    "public": {"fields": ["no", "title", "status"]},
}
SURVEY = {
    "key": "survey",
    "label": {"zh-CN": "满意度调查", "en": "Satisfaction survey"},
    "fields": [
        field("ticket", "reference", reference={"form": "ticket"}, required=True),
        field("csat", "integer", min=1, max=5, required=True),
        field("nps", "integer", min=0, max=10),
        field("comment", "textarea"),
    ],
}
CALLBACK = {
    "key": "callback",
    "label": {"zh-CN": "电话回访", "en": "Phone callback"},
    "fields": [
        field("ticket", "reference", reference={"form": "ticket"}, required=True),
        field("reason", "text"),
    ],
}
SEND = {
    "key": "send_survey",
    "label": {"zh-CN": "解决后发送调查", "en": "Survey on resolution"},
    "form": "ticket",
    "trigger": {"type": "field_changed", "fields": ["status"]},
    "condition": {"==": [{"var": "status"}, "resolved"]},
    "actions": [
        {
            "type": "send_survey",
            "form": "survey",
            "link_field": "ticket",
            "expires_in_days": 7,
            "to_field": "email",
            "answered_field": "survey_answered_at",
        }
    ],
}
FALLBACK = {
    "key": "phone_fallback",
    "label": {"zh-CN": "三天未答则电话回访", "en": "Phone callback without an answer"},
    "form": "ticket",
    "trigger": {
        "type": "timer",
        "minutes": 3 * 24 * 60,
        "after": "resolved_at",
        "unless": {"!!": [{"var": "survey_answered_at"}]},
    },
    "actions": [
        {
            "type": "create_record",
            "form": "callback",
            "values": {"ticket": {"expr": {"var": "$record._id"}}, "reason": "no answer"},
        }
    ],
}
UNHAPPY = {
    "key": "unhappy",
    "label": {"zh-CN": "不满意则回访", "en": "Unhappy customer"},
    "form": "survey",
    "trigger": {"type": "record_created"},
    "condition": {"<=": [{"var": "csat"}, 2]},
    "actions": [
        {
            "type": "create_record",
            "form": "callback",
            "values": {"ticket": {"expr": {"var": "ticket"}}, "reason": "unhappy"},
        }
    ],
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=tmp_path,
        embedded_worker=False,
        intake_max_per_hour=3,
        smtp_url="smtp://mail.invalid:2525",
        public_url="https://service.example.com/",
        **CHEAP_PASSWORDS,
        **LASTING_SESSIONS,
    )


def publish(api: ApiClient, kind: str, body: dict[str, Any]) -> None:
    created = api.post(f"{APP}/{kind}", json={"body": body})
    assert created.status_code == 201, created.get_json()
    published = api.post(f"{APP}/{kind}/{body['key']}/publish", json={})
    assert published.status_code == 201, published.get_json()


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    for form in (TICKET, SURVEY, CALLBACK):
        publish(admin_client, "forms", form)
    for rule in (SEND, FALLBACK, UNHAPPY):
        publish(admin_client, "rules", rule)
    return admin_client


def new_ticket(api: ApiClient, client: ApiClient, email: str = "c@example.com") -> dict[str, Any]:
    """A ticket a customer submitted through an intake link: its receipt (with the status link)."""
    link = api.post(f"{APP}/intake", json={"form": "ticket", "fields": ["title", "email"]})
    assert link.status_code == 201, link.get_json()
    receipt = client.post(
        f"/api/v1/intake/{link.get_json()['token']}",
        json={"data": {"title": "漏水", "email": email}},
    )
    assert receipt.status_code == 201, receipt.get_json()
    out: dict[str, Any] = receipt.get_json()
    return out


def resolve(api: ApiClient, ticket_id: int, clock: FrozenClock) -> None:
    record = api.get(f"{TICKETS}/{ticket_id}").get_json()
    at = clock.now().isoformat()
    changed = api.patch(
        f"{TICKETS}/{ticket_id}",
        json={
            "data": {"status": "resolved", "resolved_at": at},
            "lock_version": record["lock_version"],
        },
    )
    assert changed.status_code == 200, changed.get_json()


def mailed_tokens(platform: Platform) -> list[tuple[str, str]]:
    """(address, token) of every survey mail queued, oldest first."""
    with platform.unit_of_work(write=False) as uow:
        mails = list(uow.session.scalars(select(Job).where(Job.kind == "mail").order_by(Job.id)))
    found = []
    for job in mails:
        match = re.search(r"https://service\.example\.com/survey/(tga_[\w-]+)", job.payload["html"])
        assert match is not None, job.payload
        found.append((str(job.payload["to"]), match.group(1)))
    return found


def sent_survey(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> tuple[dict[str, Any], str]:
    receipt = new_ticket(api, client)
    resolve(api, receipt["id"], clock)
    ((address, token),) = mailed_tokens(platform)
    assert address == "c@example.com"
    return receipt, token


def audit(platform: Platform, action: str) -> list[AuditEntry]:
    with platform.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def records_of(platform: Platform, form: str) -> list[Record]:
    with platform.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(select(Record).where(Record.form_key == form).order_by(Record.id))
        )


def test_resolving_a_ticket_sends_a_single_use_survey_link_by_mail_and_on_the_timeline(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt, token = sent_survey(api, client, platform, clock)
    with platform.unit_of_work(write=False) as uow:
        link = uow.session.scalar(select(AccessLink).where(AccessLink.kind == "survey"))
    assert link is not None
    assert (link.record_id, link.form_key, link.link_field) == (receipt["id"], "survey", "ticket")
    assert link.expires_at == clock.now() + timedelta(days=7)
    assert link.used_at is None
    assert token not in link.token_hash
    (sent,) = audit(platform, "record.survey_sent")
    assert (sent.object_id, sent.actor) == (str(receipt["id"]), "rule send_survey v1")
    assert sent.payload["mailed"] is True
    timeline = api.get(f"{TICKETS}/{receipt['id']}/timeline").get_json()
    assert "record.survey_sent" in str(timeline)


def test_the_survey_page_shows_the_form_without_its_link_field(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    _, token = sent_survey(api, client, platform, clock)
    page = client.get(f"/api/v1/surveys/{token}?lang=en")
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert (body["title"], body["number"], body["subject_title"]) == (
        "Satisfaction survey",
        "SV-0001",
        "漏水",
    )
    assert set(body["json_schema"]["properties"]) == {"csat", "nps", "comment"}
    assert body["ui_schema"]["ui:order"] == ["csat", "nps", "comment"]
    assert body["json_schema"]["required"] == ["csat"]
    assert [f["key"] for f in body["fields"]] == ["csat", "nps", "comment"]
    zh = client.get(f"/api/v1/surveys/{token}?lang=zh-CN").get_json()
    assert zh["title"] == "满意度调查"


def test_an_answer_is_a_record_linked_to_its_ticket_and_the_link_is_used_up(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt, token = sent_survey(api, client, platform, clock)
    answered = client.post(
        f"/api/v1/surveys/{token}", json={"data": {"csat": 5, "nps": 9, "comment": "很好"}}
    )
    assert answered.status_code == 201, answered.get_json()
    assert answered.get_json() == {"number": "SV-0001", "form": "survey"}
    (answer,) = records_of(platform, "survey")
    assert answer.data["ticket"] == receipt["id"]
    assert (answer.data["csat"], answer.data["nps"], answer.data["comment"]) == (5, 9, "很好")
    (created,) = [e for e in audit(platform, "record.created") if e.object_id == str(answer.id)]
    assert created.actor == "survey-link"
    (entry,) = audit(platform, "record.survey_answered")
    assert entry.object_id == str(receipt["id"])
    assert entry.payload["record"] == answer.id
    ticket = api.get(f"{TICKETS}/{receipt['id']}").get_json()
    assert ticket["data"]["survey_answered_at"] == clock.now().isoformat()
    again = client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 1}})
    problem = assert_problem(again, 410, "survey.answered")
    assert (
        "已提交"
        in assert_problem(
            client.get(f"/api/v1/surveys/{token}", headers={"Accept-Language": "zh-CN"}),
            410,
            "survey.answered",
        )["detail"]
    )
    assert problem["detail"]
    assert len(records_of(platform, "survey")) == 1


def test_forged_expired_and_deleted_links_answer_the_same_not_found(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt, token = sent_survey(api, client, platform, clock)
    for forged in ("tga_" + "x" * 43, "nonsense", token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert_problem(client.get(f"/api/v1/surveys/{forged}"), 404, "access.not_found")
        answer = client.post(f"/api/v1/surveys/{forged}", json={"data": {"csat": 5}})
        assert_problem(answer, 404, "access.not_found")
    # a status link is not a survey link
    status_token = receipt["status_path"].removeprefix("/status/")
    assert_problem(client.get(f"/api/v1/surveys/{status_token}"), 404, "access.not_found")
    clock.advance(timedelta(days=7))
    expired = client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 5}})
    body = assert_problem(expired, 404, "access.not_found")
    zh = client.get(f"/api/v1/surveys/{token}", headers={"Accept-Language": "zh-CN"})
    assert assert_problem(zh, 404)["detail"] == "链接不存在或已失效"
    assert body["detail"]
    assert records_of(platform, "survey") == []


def test_an_invalid_answer_is_refused_by_field_and_writes_nothing(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt, token = sent_survey(api, client, platform, clock)
    bad = client.post(f"/api/v1/surveys/{token}?lang=zh-CN", json={"data": {"csat": 6, "nps": -1}})
    errors = assert_problem(bad, 422)["errors"]
    assert set(errors) == {"csat", "nps"}
    missing = client.post(f"/api/v1/surveys/{token}", json={"data": {"nps": 3}})
    assert set(assert_problem(missing, 422)["errors"]) == {"csat"}
    # the link field is the server's to set
    smuggled = client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 4, "ticket": 999}})
    assert set(assert_problem(smuggled, 422, "record.invalid")["errors"]) == {"ticket"}
    assert records_of(platform, "survey") == []
    with platform.unit_of_work(write=False) as uow:
        link = uow.session.scalar(select(AccessLink).where(AccessLink.kind == "survey"))
    assert link is not None
    assert link.used_at is None
    assert client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 4}}).status_code == 201
    assert receipt["id"] == records_of(platform, "survey")[0].data["ticket"]


def test_rules_react_to_an_answer(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt, token = sent_survey(api, client, platform, clock)
    answered = client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 1}})
    assert answered.status_code == 201, answered.get_json()
    (callback,) = records_of(platform, "callback")
    assert (callback.data["ticket"], callback.data["reason"]) == (receipt["id"], "unhappy")


def test_racing_answers_exactly_one_wins(
    api: ApiClient,
    client: ApiClient,
    platform: Platform,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    _, token = sent_survey(api, client, platform, clock)

    def answer(p: Platform, n: int) -> str:
        try:
            with p.unit_of_work() as uow:
                surveys.answer(
                    uow,
                    token,
                    {"csat": 1 + n},
                    remote_addr=f"10.0.0.{n}",
                    lang="en",
                    max_per_hour=10,
                )
                uow.commit()
        except Gone as exc:
            return exc.code
        return "won"

    outcomes = race(settings, clock, 4, answer)
    assert sorted(outcomes) == ["survey.answered"] * 3 + ["won"]
    assert len(records_of(platform, "survey")) == 1
    assert len(audit(platform, "record.survey_answered")) == 1


def test_answers_are_rate_limited_per_address(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    for n in range(4):  # registered by an agent (intake submissions have a limit of their own)
        created = api.post(TICKETS, json={"data": {"title": f"t{n}", "email": f"c{n}@example.com"}})
        assert created.status_code == 201, created.get_json()
    for record in records_of(platform, "ticket"):
        resolve(api, record.id, clock)
    tokens = [token for _, token in mailed_tokens(platform)]
    assert len(tokens) == 4
    for token in tokens[:3]:
        assert (
            client.post(f"/api/v1/surveys/{token}", json={"data": {"csat": 5}}).status_code == 201
        )
    limited = client.post(f"/api/v1/surveys/{tokens[3]}", json={"data": {"csat": 5}})
    assert_problem(limited, 429, "rate_limited")
    assert len(records_of(platform, "survey")) == 3
    clock.advance(timedelta(hours=1, seconds=1))
    assert (
        client.post(f"/api/v1/surveys/{tokens[3]}", json={"data": {"csat": 5}}).status_code == 201
    )


def test_the_status_page_shows_the_pending_survey_and_answers_it(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt = new_ticket(api, client)
    status = "/api/v1" + receipt["status_path"]
    assert client.get(status).get_json()["survey"] is None
    assert_problem(client.get(f"{status}/survey"), 404, "survey.none")
    resolve(api, receipt["id"], clock)
    pending = client.get(f"{status}?lang=zh-CN").get_json()["survey"]
    assert pending["title"] == "满意度调查"
    form = client.get(f"{status}/survey?lang=en").get_json()
    assert set(form["json_schema"]["properties"]) == {"csat", "nps", "comment"}
    answered = client.post(f"{status}/survey", json={"data": {"csat": 4, "nps": 8}})
    assert answered.status_code == 201, answered.get_json()
    assert client.get(status).get_json()["survey"] is None
    assert_problem(client.get(f"{status}/survey"), 404, "survey.none")
    # the mailed link is used up too
    ((_, token),) = mailed_tokens(platform)
    assert_problem(client.get(f"/api/v1/surveys/{token}"), 410, "survey.answered")
    (answer,) = records_of(platform, "survey")
    assert answer.data["ticket"] == receipt["id"]


def test_an_expired_survey_leaves_the_status_page(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    receipt = new_ticket(api, client)
    status = "/api/v1" + receipt["status_path"]
    resolve(api, receipt["id"], clock)
    assert client.get(status).get_json()["survey"] is not None
    clock.advance(timedelta(days=7))
    assert client.get(status).get_json()["survey"] is None


def test_the_phone_callback_is_created_only_when_the_survey_is_not_answered_in_3_days(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    quiet = new_ticket(api, client, email="quiet@example.com")
    happy = new_ticket(api, client, email="happy@example.com")
    resolve(api, quiet["id"], clock)
    resolve(api, happy["id"], clock)
    tokens = dict(mailed_tokens(platform))
    clock.advance(timedelta(days=2))
    answer = client.post(
        f"/api/v1/surveys/{tokens['happy@example.com']}", json={"data": {"csat": 5}}
    )
    assert answer.status_code == 201, answer.get_json()
    clock.advance(timedelta(days=1) - timedelta(minutes=1))
    Worker(platform, name="test").run_due()
    assert records_of(platform, "callback") == []  # not yet three days
    clock.advance(timedelta(minutes=2))
    Worker(platform, name="test").run_due()
    (callback,) = records_of(platform, "callback")
    assert (callback.data["ticket"], callback.data["reason"]) == (quiet["id"], "no answer")


def test_a_send_survey_action_is_checked_when_published(api: ApiClient) -> None:
    def refused(key: str, action: dict[str, Any]) -> str:
        rule = {
            "key": key,
            "label": {"zh-CN": "坏", "en": "Bad"},
            "form": "ticket",
            "trigger": {"type": "record_created"},
            "actions": [{"type": "send_survey", **action}],
        }
        assert api.post(f"{APP}/rules", json={"body": rule}).status_code == 201
        return str(assert_problem(api.post(f"{APP}/rules/{key}/publish", json={}), 422))

    said = refused("bad_shape", {"form": "survey", "expires_in_days": 0})
    assert "/actions/0/link_field" in said
    assert "/actions/0/expires_in_days" in said
    said = refused(
        "bad_names",
        {"form": "nope", "link_field": "ticket", "to_field": "ghost", "answered_field": "gone"},
    )
    for path in ("/actions/0/form", "/actions/0/to_field", "/actions/0/answered_field"):
        assert path in said, said


def test_a_survey_whose_link_field_does_not_point_at_the_record_fails_the_effect_only(
    api: ApiClient, client: ApiClient, platform: Platform, clock: FrozenClock
) -> None:
    wrong = {**SEND, "key": "wrong_link"}
    wrong["actions"] = [{"type": "send_survey", "form": "survey", "link_field": "csat"}]
    publish(api, "rules", wrong)
    receipt = new_ticket(api, client)
    resolve(api, receipt["id"], clock)  # the ticket is still resolved
    assert api.get(f"{TICKETS}/{receipt['id']}").get_json()["data"]["status"] == "resolved"
    fired = [e for e in audit(platform, "rule.fired") if e.payload.get("rule") == "wrong_link"]
    assert "no reference field 'csat'" in str(fired[0].payload)
    assert len(mailed_tokens(platform)) == 1  # the good rule still sent its survey
