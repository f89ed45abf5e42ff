"""Full-text search: the list's search box over the search index (Chinese cut by jieba), on
SQLite's FTS5 and PostgreSQL's tsvector alike, within what the viewer may read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from tangram.platform import records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import RecordSearch
from tests.conftest import ApiClient, assert_problem

SYSTEM = Actor.system("test")
APP = "/api/v1/apps/desk"
TICKETS = f"{APP}/records/ticket"
PASSWORD = "reader-password-1"


def field(key: str, type_: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": zh, "en": en}, **extra}


TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "售后工单", "en": "Service ticket"},
    "options": {"title_field": "title", "group_field": "team"},
    "fields": [
        field("number", "serial", "工单号", "Ticket no.", serial="SV-{date:%Y%m%d}-{seq:4}"),
        field("title", "text", "标题", "Title"),
        field("description", "rich_text", "问题描述", "Description"),
        field(
            "issue",
            "select",
            "问题类型",
            "Issue type",
            options=[
                {"value": "hardware", "label": {"zh-CN": "硬件故障", "en": "Hardware fault"}},
                {"value": "billing", "label": {"zh-CN": "账单", "en": "Billing"}},
            ],
        ),
        field("note", "textarea", "内部备注", "Internal note"),
        field("team", "group", "处理组", "Team"),
        field(
            "measures",
            "sub_table",
            "措施",
            "Measures",
            fields=[field("what", "text", "内容", "What")],
        ),
    ],
}
ARTICLE = {
    "key": "article",
    "label": {"zh-CN": "知识库", "en": "Knowledge article"},
    "options": {"title_field": "title"},
    "fields": [
        field("title", "text", "标题", "Title"),
        field("solution", "rich_text", "解决方案", "Solution"),
    ],
}


@dataclass
class Desk:
    platform: Platform
    app: Flask
    team: dict[str, int]

    def create(self, form: str, data: dict[str, Any]) -> int:
        with self.platform.unit_of_work() as uow:
            record = records.create_record(uow, SYSTEM, "desk", form, data).record
            uow.commit()
        return record.id

    def update(self, form: str, record_id: int, changes: dict[str, Any]) -> None:
        with self.platform.unit_of_work() as uow:
            current = records.get_record(uow, SYSTEM, "desk", form, record_id)
            records.update_record(
                uow, SYSTEM, "desk", form, record_id, changes, lock_version=current.lock_version
            )
            uow.commit()

    def reader(self, name: str, team: str, *, hidden: tuple[str, ...] = ()) -> ApiClient:
        """``name``, a member of ``team``, reading tickets of their group (with ``hidden``
        fields) and every article."""
        with self.platform.unit_of_work() as uow:
            user = users.create_user(uow, SYSTEM, username=name, password=PASSWORD)
            groups.add_member(uow, SYSTEM, group_id=self.team[team], user_id=user.id)
            role = roles.create_role(uow, SYSTEM, key=f"{name}_reader", name=name)
            roles.add_grant(
                uow,
                SYSTEM,
                role.id,
                app_key="desk",
                form_key="ticket",
                actions=["read"],
                scope="group",
                field_rules=dict.fromkeys(hidden, "hidden"),
            )
            roles.add_grant(
                uow, SYSTEM, role.id, app_key="desk", form_key="article", actions=["read"]
            )
            users.assign_role(uow, SYSTEM, role_id=role.id, user_id=user.id)
            uow.commit()
        client = ApiClient(self.app.test_client())
        assert client.login(name, PASSWORD).status_code == 200
        return client


def open_desk(platform: Platform, app: Flask, admin_client: ApiClient) -> Desk:
    """App ``desk`` with the ticket and article forms published, and groups line_a and line_b."""
    api = admin_client
    assert (
        api.post("/api/v1/apps", json={"key": "desk", "name": {"zh-CN": "服务台"}}).status_code
        == 201
    )
    for body in (TICKET, ARTICLE):
        assert api.post(f"{APP}/forms", json={"body": body}).status_code == 201
        assert api.post(f"{APP}/forms/{body['key']}/publish", json={}).status_code == 201
    team = {}
    with platform.unit_of_work() as uow:
        for key in ("line_a", "line_b"):
            team[key] = groups.create_group(uow, SYSTEM, key=key, name=key).id
        uow.commit()
    return Desk(platform, app, team)


@pytest.fixture
def desk(platform: Platform, app: Flask, admin_client: ApiClient) -> Desk:
    return open_desk(platform, app, admin_client)


def found(api: ApiClient, words: str, **params: Any) -> list[int]:
    response = api.get(f"{TICKETS}?{urlencode({'_q': words, **params})}")
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json()["items"])


BLACK_SCREEN = "<p>客户反映设备<b>开机后</b>屏幕黑屏，按电源键无响应。</p>"


def test_a_ticket_is_found_by_a_chinese_phrase_from_its_description(
    desk: Desk, admin_client: ApiClient
) -> None:
    screen = desk.create("ticket", {"title": "设备故障", "description": BLACK_SCREEN})
    noise = desk.create("ticket", {"title": "风扇噪音", "description": "<p>运行时风扇噪音很大</p>"})
    assert found(admin_client, "屏幕黑屏") == [screen]
    assert found(admin_client, "无响应 黑屏") == [screen]  # another word order
    assert found(admin_client, "电源键无响应") == [screen]
    assert found(admin_client, "风扇") == [noise]
    assert found(admin_client, "设备") == [screen]
    assert found(admin_client, "黑屏 风扇") == []  # every word must be found
    # a word is found by any of its characters, and a part the segmenter cuts otherwise
    assert found(admin_client, "屏") == [screen]
    assert found(admin_client, "扇") == [noise]
    assert found(admin_client, "幕黑") == [screen]
    assert found(admin_client, "屏 噪") == []
    # tags are not words: the markup of rich text is never found
    assert found(admin_client, "b") == []
    # an option is found by its labels in both languages
    desk.update("ticket", noise, {"issue": "hardware"})
    assert found(admin_client, "硬件故障") == [noise]
    assert found(admin_client, "hardware fault") == [noise]
    assert found(admin_client, "HARD") == [noise]  # Latin words match as prefixes
    # and sub-table text is searched
    desk.update("ticket", screen, {"measures": [{"what": "更换主板"}]})
    assert found(admin_client, "主板") == [screen]


def test_a_serial_number_is_found_whole_and_by_its_parts(
    desk: Desk, admin_client: ApiClient
) -> None:
    first = desk.create("ticket", {"title": "一"})
    second = desk.create("ticket", {"title": "二"})
    numbers = {
        item["id"]: item["data"]["number"] for item in admin_client.get(TICKETS).get_json()["items"]
    }
    assert numbers[second].endswith("-0002")
    assert found(admin_client, numbers[second]) == [second]
    assert found(admin_client, numbers[second].lower()) == [second]
    assert found(admin_client, numbers[second].rsplit("-", 1)[1]) == [second]  # 0002
    assert found(admin_client, numbers[first].split("-")[1]) == [first, second]  # the day
    assert found(admin_client, f"#{first}") == [first]  # the record number still works
    assert found(admin_client, "一", count="true") == [first]


def test_a_hidden_field_never_makes_a_record_findable(desk: Desk, admin_client: ApiClient) -> None:
    team = desk.team["line_a"]
    secret = desk.create("ticket", {"title": "主机", "note": "供应商回扣", "team": team})
    both = desk.create("ticket", {"title": "供应商发货", "note": "回扣", "team": team})
    cat = desk.reader("cat", "line_a", hidden=("note",))
    assert found(cat, "供应商") == [both]  # through the title only
    assert found(cat, "回扣") == []
    assert found(cat, "供应商 回扣") == []  # a word in the title and one in the note
    assert found(admin_client, "供应商 回扣") == [secret, both]
    # a hidden sub-table is not searched either
    desk.update("ticket", secret, {"measures": [{"what": "私下处理"}]})
    hidden_rows = desk.reader("dan", "line_a", hidden=("measures",))
    assert found(hidden_rows, "私下处理") == []
    assert found(admin_client, "私下处理") == [secret]


def test_search_never_returns_a_record_outside_the_viewer_scope(
    desk: Desk, admin_client: ApiClient
) -> None:
    ours = desk.create("ticket", {"title": "打印机卡纸", "team": desk.team["line_a"]})
    theirs = desk.create("ticket", {"title": "打印机漏墨", "team": desk.team["line_b"]})
    ann = desk.reader("ann", "line_a")
    bob = desk.reader("bob", "line_b")
    assert found(ann, "打印机") == [ours]
    assert found(bob, "打印机") == [theirs]
    assert found(ann, "漏墨") == []
    assert found(ann, f"#{theirs}") == []  # nor by its number
    assert found(admin_client, "打印机") == [ours, theirs]


def test_updates_deletions_and_restorations_are_reflected(
    desk: Desk, admin_client: ApiClient
) -> None:
    ticket = desk.create("ticket", {"title": "网络中断", "description": "<p>路由器重启后恢复</p>"})
    desk.update("ticket", ticket, {"description": "<p>更换交换机</p>"})
    assert found(admin_client, "路由器") == []
    assert found(admin_client, "交换机") == [ticket]
    assert found(admin_client, "网络中断") == [ticket]  # an unchanged field keeps its words
    desk.update("ticket", ticket, {"title": None})
    assert found(admin_client, "网络") == []
    version = admin_client.get(f"{TICKETS}/{ticket}").get_json()["lock_version"]
    assert admin_client.delete(f"{TICKETS}/{ticket}?lock_version={version}").status_code == 204
    assert found(admin_client, "交换机") == []
    assert admin_client.post(f"{TICKETS}/{ticket}/restore").status_code == 200
    assert found(admin_client, "交换机") == [ticket]


def test_reindex_rebuilds_the_search_rows(desk: Desk, admin_client: ApiClient) -> None:
    ticket = desk.create("ticket", {"title": "空调制冷差", "description": "<p>压缩机异响</p>"})
    article = desk.create("article", {"title": "空调保养", "solution": "<p>清洗滤网</p>"})
    with desk.platform.unit_of_work() as uow:
        rows = uow.session.scalar(select(func.count()).select_from(RecordSearch))
        uow.session.execute(delete(RecordSearch))
        uow.commit()
    assert rows == 5  # the ticket's number, title and description; the article's two fields
    assert found(admin_client, "压缩机") == []
    with desk.platform.unit_of_work() as uow:
        records.reindex(uow, app_key="desk")
        uow.commit()
    assert found(admin_client, "压缩机") == [ticket]
    articles = admin_client.get(f"{APP}/records/article?_q=滤网").get_json()["items"]
    assert [a["id"] for a in articles] == [article]
    with desk.platform.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(RecordSearch)) == rows


def test_an_upgrade_fills_the_search_of_forms_never_indexed(
    desk: Desk, admin_client: ApiClient
) -> None:
    """The search's migration leaves the index empty; ``tangram db upgrade`` (``only_missing``)
    fills it for every form that has records and no search row, and leaves the others."""
    ticket = desk.create("ticket", {"title": "空调制冷差", "description": "<p>压缩机异响</p>"})
    article = desk.create("article", {"title": "空调保养", "solution": "<p>清洗滤网</p>"})
    with desk.platform.unit_of_work() as uow:
        uow.session.execute(delete(RecordSearch).where(RecordSearch.record_id == ticket))
        uow.session.execute(
            delete(RecordSearch).where(
                RecordSearch.record_id == article, RecordSearch.field == "solution"
            )
        )
        uow.commit()
    with desk.platform.unit_of_work() as uow:
        records.reindex(uow, only_missing=True)
        uow.commit()
    assert found(admin_client, "压缩机") == [ticket]  # the tickets had no row: filled
    articles = admin_client.get(f"{APP}/records/article?_q=滤网").get_json()["items"]
    assert articles == []  # the articles were indexed: left as they were


@pytest.mark.parametrize(
    "words",
    [
        "'; DROP TABLE records; --",
        '" OR 1=1 --',
        '"',
        "*",
        "黑屏*",
        "NEAR(黑屏 响应)",
        "黑屏 AND 响应",
        "NOT 黑屏",
        "title:黑屏",
        "^黑屏",
        "黑屏 OR",
        "(((",
        "':* & !",
        "a" * 64 + "b",
        "%_\\",
        "x" * 100,
    ],
)
def test_hostile_queries_find_nothing_or_a_match_never_fail(
    desk: Desk, admin_client: ApiClient, words: str
) -> None:
    desk.create("ticket", {"title": "黑屏", "description": "<p>开机无响应</p>"})
    response = admin_client.get(f"{TICKETS}?{urlencode({'_q': words})}")
    assert response.status_code == 200, response.get_json()
    # a query is its words: the index's operators are plain words ("and", "near", "title",
    # which this ticket does not hold) or nothing (punctuation)
    expected = 1 if words in ("黑屏*", "^黑屏") else 0
    assert len(response.get_json()["items"]) == expected


def test_a_query_too_long_is_refused(desk: Desk, admin_client: ApiClient) -> None:
    problem = assert_problem(admin_client.get(f"{TICKETS}?_q={'黑' * 1000}"), 422)
    assert problem["errors"]
