"""The inbox as people work it: open tasks by due time (overdue first), each with its due time,
whether it is overdue and its urgency; filters by form and flow, a search by number or title,
and pages beyond the first."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import load_actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import User
from tests.apps import test_aftersales
from tests.apps.test_aftersales import PASSWORD
from tests.conftest import ApiClient, assert_problem

#: The after-sales package with its people (qe_a works Line A's tickets).
people = test_aftersales.people


def _register(platform: Platform, people: dict[str, int], title: str, urgency: str) -> int:
    with platform.unit_of_work() as uow:
        agent = load_actor(uow.session, uow.session.get(User, people["agent"]), via="test")
        written = records.create_record(
            uow,
            agent,
            "aftersales",
            "ticket",
            {
                "title": title,
                "issue_type": "hardware_fault",
                "product_line": "A",
                "urgency": urgency,
            },
        )
        uow.commit()
    return written.record.id


def test_open_tasks_come_by_due_time_with_urgency_and_filters(
    platform: Platform, app: Flask, clock: FrozenClock, people: dict[str, int]
) -> None:
    slow = _register(platform, people, "噪音偏大", "P4")
    clock.advance(timedelta(minutes=5))
    urgent = _register(platform, people, "整机无法启动", "P1")  # to answer in 5 minutes
    clock.advance(timedelta(minutes=1))
    usual = _register(platform, people, "屏幕闪烁", "P3")
    engineer = ApiClient(app.test_client())
    assert engineer.login("qe_a", PASSWORD).status_code == 200

    box = engineer.get("/api/v1/tasks?box=todo").get_json()
    items = box["items"]
    # the P1 ticket's first response is due soonest; newest first would put it second
    assert [i["record_id"] for i in items] == [urgent, usual, slow]
    first = items[0]
    assert first["urgency"] == {"value": "P1", "label": "P1 紧急", "rank": 0}
    assert first["due"] is not None
    assert first["overdue"] is False
    dues = [i["due"] for i in items]
    assert dues == sorted(dues)

    # time passes: the P1 response is late, and says so
    clock.advance(timedelta(hours=6))
    late = engineer.get("/api/v1/tasks?box=todo&lang=en").get_json()["items"]
    assert late[0]["record_id"] == urgent
    assert late[0]["overdue"] is True
    assert late[0]["urgency"]["label"] == "P1 critical"
    # the ticket list marks the same ticket overdue
    listed = engineer.get("/api/v1/apps/aftersales/records/ticket").get_json()["items"]
    assert {r["id"]: r["overdue"] for r in listed} == {urgent: True, usual: False, slow: False}

    # the filters offer the forms and flows the box holds
    facets = box["facets"]
    assert facets["forms"] == [
        {"app": "aftersales", "key": "ticket", "label": "售后工单", "count": 3}
    ]
    assert [(f["key"], f["label"], f["count"]) for f in facets["flows"]] == [
        ("ticket_handling", "工单处理", 3)
    ]

    # a search by title or number, and filters by form and flow
    found = engineer.get("/api/v1/tasks?box=todo&q=闪烁").get_json()
    assert [i["record_id"] for i in found["items"]] == [usual]
    assert found["counts"]["todo"] == 1
    by_number = engineer.get(f"/api/v1/tasks?box=todo&q=%23{slow}").get_json()
    assert [i["record_id"] for i in by_number["items"]] == [slow]
    assert engineer.get("/api/v1/tasks?box=todo&q=50%25").get_json()["items"] == []
    assert len(engineer.get("/api/v1/tasks?box=todo&form=ticket").get_json()["items"]) == 3
    assert engineer.get("/api/v1/tasks?box=todo&form=customer").get_json()["items"] == []
    flow = engineer.get("/api/v1/tasks?box=todo&flow=ticket_handling").get_json()
    assert flow["counts"]["todo"] == 3

    # pages beyond the first
    page = engineer.get("/api/v1/tasks?box=todo&limit=2").get_json()
    assert len(page["items"]) == 2
    assert page["next_offset"] == 2
    rest = engineer.get("/api/v1/tasks?box=todo&limit=2&offset=2").get_json()
    assert [i["record_id"] for i in rest["items"]] == [slow]
    assert rest["next_offset"] is None
    assert_problem(engineer.get("/api/v1/tasks?box=todo&offset=-1"), 422)
    assert_problem(engineer.get("/api/v1/tasks?box=todo&q=" + "x" * 201), 422)


def test_task_notifications_are_titled_in_the_recipient_s_language(
    platform: Platform, app: Flask, people: dict[str, int]
) -> None:
    first = _register(platform, people, "整机无法启动", "P1")
    engineer = ApiClient(app.test_client())
    assert engineer.login("qe_a", PASSWORD).status_code == 200
    titles = [n["title"] for n in engineer.get("/api/v1/me/notifications").get_json()["items"]]
    assert f"待办：首次响应 · 售后工单 #{first} 整机无法启动" in titles
    me = engineer.get(f"/api/v1/users/{people['qe_a']}").get_json()
    changed = engineer.patch(
        f"/api/v1/users/{me['id']}", json={"locale": "en", "lock_version": me["lock_version"]}
    )
    assert changed.status_code == 200, changed.get_json()
    second = _register(platform, people, "屏幕闪烁", "P3")
    titles = [n["title"] for n in engineer.get("/api/v1/me/notifications").get_json()["items"]]
    assert f"To do: First response · Service ticket #{second} 屏幕闪烁" in titles
