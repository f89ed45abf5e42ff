"""Comments on records over HTTP: posting and listing, mentions that notify in the recipient's
language, refusals that write nothing, the record's timeline and audit, and the bell's API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import AuditEntry, Comment, Group, Notification, User
from tangram.platform.records.comments import MAX_BODY, MAX_MENTIONS
from tests.apps import test_aftersales
from tests.apps.test_aftersales import signed_in
from tests.conftest import assert_problem, count_queries

APP = "/api/v1/apps/aftersales"
SYSTEM = Actor.system("test")
people = test_aftersales.people


def line_a_ticket(platform: Platform, title: str = "设备运行噪音大") -> int:
    """A hardware fault on product line A: the rules file it under the Line A quality engineers'
    group (so ``qe_a`` may read it, ``owner_1`` of field service may not)."""
    with platform.unit_of_work() as uow:
        product = records.create_record(
            uow, SYSTEM, "aftersales", "product", {"model": "A-100", "product_line": "A"}
        ).record
        ticket = records.create_record(
            uow,
            SYSTEM,
            "aftersales",
            "ticket",
            {
                "title": title,
                "channel": "phone",
                "product": product.id,
                "product_line": "A",
                "issue_type": "hardware_fault",
                "urgency": "P3",
            },
        ).record
        line_a = uow.session.scalar(select(Group.id).where(Group.key == "line_a_qe"))
        assert ticket.group_id == line_a
        uow.commit()
    return ticket.id


def comments_of(ticket: int) -> str:
    return f"{APP}/records/ticket/{ticket}/comments"


def profile(platform: Platform, user_id: int, **values: Any) -> None:
    """Set a user's display name or language as an administrator would have."""
    with platform.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == user_id).values(**values))
        uow.commit()


def rows(platform: Platform) -> dict[str, int]:
    """How many comments, notifications and audit entries there are."""
    with platform.unit_of_work(write=False) as uow:

        def count(model: Any) -> int:
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "comments": count(Comment),
            "notifications": count(Notification),
            "audit": count(AuditEntry),
        }


def notes_of(platform: Platform, user_id: int) -> list[Notification]:
    """The mentions a user was told of (the ticket's dispatch tells its engineer of a task)."""
    with platform.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id, Notification.kind == "mention")
                .order_by(Notification.id)
            )
        )


@pytest.fixture
def ticket(platform: Platform, people: dict[str, int]) -> int:
    profile(platform, people["agent"], display_name="张三")
    profile(platform, people["qe_a"], display_name="李四")
    return line_a_ticket(platform)


def test_comment_is_posted_listed_and_on_the_timeline_when_the_author_may_read_the_record(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    agent = signed_in(app, "agent")
    posted = agent.post(
        comments_of(ticket),
        json={"body": "  @qe_a 请看一下噪音的录音\n谢谢  ", "mentions": [people["qe_a"]]},
    )
    assert posted.status_code == 201, posted.get_json()
    comment = posted.get_json()
    assert comment["body"] == "@qe_a 请看一下噪音的录音\n谢谢"  # surrounding white space goes
    assert comment["author"] == {"id": people["agent"], "username": "agent", "display_name": "张三"}
    assert comment["mentions"] == [
        {"id": people["qe_a"], "username": "qe_a", "display_name": "李四"}
    ]
    second = agent.post(comments_of(ticket), json={"body": "客户已补充照片"})
    assert second.status_code == 201
    assert second.get_json()["mentions"] == []

    listed = agent.get(comments_of(ticket)).get_json()
    assert [c["id"] for c in listed["items"]] == [comment["id"], second.get_json()["id"]]
    assert listed["items"][0] == comment
    assert listed["next_after"] is None
    first_page = agent.get(f"{comments_of(ticket)}?limit=1").get_json()
    assert [c["id"] for c in first_page["items"]] == [comment["id"]]
    rest = agent.get(f"{comments_of(ticket)}?after={first_page['next_after']}").get_json()
    assert [c["id"] for c in rest["items"]] == [second.get_json()["id"]]
    # the mentioned engineer reads the same comments
    assert signed_in(app, "qe_a").get(comments_of(ticket)).get_json() == listed

    timeline = agent.get(f"{APP}/records/ticket/{ticket}/timeline").get_json()
    said = [e for e in timeline if e["action"] == "record.commented"]
    assert [(e["actor"], e["payload"]) for e in said] == [
        (
            "agent",
            {
                "comment": comment["id"],
                "text": "@qe_a 请看一下噪音的录音\n谢谢",
                "mentions": [people["qe_a"]],
            },
        ),
        ("agent", {"comment": second.get_json()["id"], "text": "客户已补充照片", "mentions": []}),
    ]
    with platform.unit_of_work(write=False) as uow:
        entry = uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "record.commented").limit(1)
        )
        assert entry is not None
        assert (entry.actor_id, entry.object_type, entry.object_id) == (
            people["agent"],
            "record",
            str(ticket),
        )


def test_mentioned_people_are_notified_in_their_own_language_with_a_link_to_the_record(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    profile(platform, people["director"], locale="en")
    agent = signed_in(app, "agent")
    mentioned = [people["qe_a"], people["director"], people["qe_a"], people["agent"]]
    posted = agent.post(
        comments_of(ticket),
        json={"body": "@qe_a @director 客户要求今天答复", "mentions": mentioned},
    )
    assert posted.status_code == 201, posted.get_json()
    comment = posted.get_json()
    # repeats count once; the author mentioning themselves is kept but tells nobody
    assert [m["username"] for m in comment["mentions"]] == ["qe_a", "director", "agent"]
    link = {
        "app": "aftersales",
        "form": "ticket",
        "record": ticket,
        "comment": comment["id"],
        "author": people["agent"],
    }
    (chinese,) = notes_of(platform, people["qe_a"])
    assert (chinese.kind, chinese.title) == ("mention", f"张三 在 售后工单 #{ticket} 中提到了你")
    assert (chinese.body, chinese.payload, chinese.read_at) == (comment["body"], link, None)
    (english,) = notes_of(platform, people["director"])
    assert english.title == f"张三 mentioned you on Service ticket #{ticket}"
    assert english.payload == link
    assert notes_of(platform, people["agent"]) == []

    director = signed_in(app, "director")  # told of nothing but this mention
    bell = director.get("/api/v1/me/notifications?newest_first=true&limit=5").get_json()
    assert bell["unread"] == 1
    assert [n["title"] for n in bell["items"]] == [english.title]
    assert bell["items"][0]["payload"] == link
    read = director.post(f"/api/v1/me/notifications/{english.id}/read").get_json()
    assert read["read_at"] is not None
    assert director.get("/api/v1/me/notifications?limit=1").get_json()["unread"] == 0


def test_mention_of_someone_who_may_not_read_the_record_is_refused_and_nothing_is_written(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    agent = signed_in(app, "agent")
    before = rows(platform)
    body = {"body": "@owner_1 @qe_a 请看一下", "mentions": [people["owner_1"], people["qe_a"]]}
    refused = assert_problem(agent.post(comments_of(ticket), json=body), 422, "comment.invalid")
    assert refused["errors"] == {"mentions/0": ["owner_1（owner_1）无权查看这条记录，不能提及"]}
    assert "owner_1" in refused["detail"]
    english = assert_problem(
        agent.post(f"{comments_of(ticket)}?lang=en", json=body), 422, "comment.invalid"
    )
    assert english["errors"] == {
        "mentions/0": ["owner_1 (owner_1) may not read this record and cannot be mentioned"]
    }
    assert rows(platform) == before
    assert notes_of(platform, people["owner_1"]) == []
    assert notes_of(platform, people["qe_a"]) == []  # nor the one who could have read it
    assert agent.get(comments_of(ticket)).get_json()["items"] == []


def test_reading_or_commenting_without_read_permission_answers_as_the_record_does(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    engineer = signed_in(app, "owner_1")  # field service: tickets of their own group only
    record = engineer.get(f"{APP}/records/ticket/{ticket}")
    assert_problem(record, 404, "record.not_found")
    before = rows(platform)
    assert_problem(engineer.get(comments_of(ticket)), 404, "record.not_found")
    said = engineer.post(comments_of(ticket), json={"body": "我也看看"})
    assert_problem(said, 404, "record.not_found")
    assert rows(platform) == before
    missing = signed_in(app, "agent").post(comments_of(999_999), json={"body": "有人吗"})
    assert_problem(missing, 404, "record.not_found")


def test_bad_bodies_and_mentions_are_refused_with_their_paths(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    agent = signed_in(app, "agent")
    before = rows(platform)

    def refused(body: Any, status: int = 422, code: str | None = "comment.invalid") -> Any:
        answer = agent.post(f"{comments_of(ticket)}?lang=en", json=body)
        return assert_problem(answer, status, code)["errors"]

    assert refused({"body": " \n\t "}) == {"body": ["must not be empty"]}
    too_long = "长" * (MAX_BODY + 1)
    assert refused({"body": too_long}) == {
        "body": [f"must be at most {MAX_BODY} characters long (it is {MAX_BODY + 1})"]
    }
    assert agent.post(comments_of(ticket), json={"body": "长" * MAX_BODY}).status_code == 201
    assert refused({"body": "bell\x07"}) == {"body": ["must not hold control characters"]}
    assert refused({"body": "hi", "mentions": [999_999]}) == {
        "mentions/0": ["user 999999 does not exist"]
    }
    crowd = list(range(1, MAX_MENTIONS + 2))
    assert refused({"body": "hi", "mentions": crowd}) == {
        "mentions": [f"a comment may mention at most {MAX_MENTIONS} people"]
    }
    profile(platform, people["inspector"], is_active=False)
    assert refused({"body": "hi", "mentions": [people["inspector"]]}) == {
        "mentions/0": ["inspector (inspector) is deactivated and cannot be mentioned"]
    }
    # the schema's own refusals: a missing or non-text body, mentions that are no user ids
    assert "body" in refused({"mentions": []}, code=None)
    assert "body" in refused({"body": 12}, code=None)
    assert "mentions.0" in refused({"body": "hi", "mentions": ["3"]}, code=None)
    assert "mentions.1" in refused({"body": "hi", "mentions": [1, 0]}, code=None)
    assert "mentions" in refused({"body": "hi", "mentions": 3}, code=None)
    assert "color" in refused({"body": "hi", "color": "red"}, code=None)
    # NUL characters and lone surrogates never get past the JSON reader
    for raw in (b'{"body": "a\\u0000b"}', b'{"body": "a\\ud800b"}'):
        answer = agent.post(
            comments_of(ticket), data=raw, headers={"Content-Type": "application/json"}
        )
        assert_problem(answer, 400, "request.malformed_json")
    assert rows(platform)["comments"] == before["comments"] + 1
    assert rows(platform)["notifications"] == before["notifications"]


def test_comments_of_a_deleted_record_are_out_of_reach(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    manager = signed_in(app, "manager_a")
    assert manager.post(comments_of(ticket), json={"body": "先记下"}).status_code == 201
    lock = manager.get(f"{APP}/records/ticket/{ticket}").get_json()["lock_version"]
    gone = manager.delete(f"{APP}/records/ticket/{ticket}?lock_version={lock}")
    assert gone.status_code == 204
    assert_problem(manager.get(comments_of(ticket)), 404, "record.not_found")
    assert_problem(manager.post(comments_of(ticket), json={"body": "还在吗"}), 404)


def test_listing_comments_costs_the_same_queries_whatever_their_number(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    agent = signed_in(app, "agent")
    mention = {"mentions": [people["qe_a"], people["director"]]}
    assert agent.post(comments_of(ticket), json={"body": "一", **mention}).status_code == 201
    with count_queries(platform.engine) as few:
        assert len(agent.get(comments_of(ticket)).get_json()["items"]) == 1
    for n in range(6):
        said = {
            "body": f"第 {n} 条",
            "mentions": [people["manager_a"] if n % 2 else people["qe_a"]],
        }
        assert agent.post(comments_of(ticket), json=said).status_code == 201
    with count_queries(platform.engine) as many:
        assert len(agent.get(comments_of(ticket)).get_json()["items"]) == 7
    assert len(many) == len(few)


def test_the_bell_lists_newest_first_and_marks_all_read_up_to_what_it_showed(
    app: Flask, platform: Platform, people: dict[str, int], ticket: int
) -> None:
    agent = signed_in(app, "agent")
    for n in range(3):
        said = {"body": f"@director 第 {n} 条", "mentions": [people["director"]]}
        assert agent.post(comments_of(ticket), json=said).status_code == 201
    director = signed_in(app, "director")
    page = director.get("/api/v1/me/notifications?newest_first=true&limit=2").get_json()
    ids = [n["id"] for n in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert (page["unread"], page["next_after"]) == (3, None)
    older = director.get(f"/api/v1/me/notifications?newest_first=true&before={page['next_before']}")
    assert [n["body"] for n in older.get_json()["items"]] == ["@director 第 0 条"]
    assert older.get_json()["next_before"] is None
    oldest_first = director.get("/api/v1/me/notifications").get_json()
    assert [n["id"] for n in oldest_first["items"]] == sorted(
        [*ids, older.get_json()["items"][0]["id"]]
    )
    assert oldest_first["next_before"] is None

    # a fourth arrives after the panel showed the newest two
    said = {"body": "@director 第 3 条", "mentions": [people["director"]]}
    assert agent.post(comments_of(ticket), json=said).status_code == 201
    marked = director.post("/api/v1/me/notifications/read", json={"up_to": ids[0]}).get_json()
    assert marked == {"marked": 3, "unread": 1}
    assert director.post("/api/v1/me/notifications/read", json={}).get_json() == {
        "marked": 1,
        "unread": 0,
    }
    assert director.post("/api/v1/me/notifications/read", json={}).get_json() == {
        "marked": 0,
        "unread": 0,
    }
    assert_problem(director.post("/api/v1/me/notifications/read", json={"up_to": 0}), 422)
    assert notes_of(platform, people["qe_a"]) == []  # nobody else's were touched
