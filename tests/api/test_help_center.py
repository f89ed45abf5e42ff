"""Public help centers: a form's help block publishes its articles without sign-in; search and
facets, one article, suggestions for what a visitor types on an intake page, and "did this solve
your problem?" counted per visitor and day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import HelpFeedback
from tangram.platform.public import help as centers
from tests.conftest import ApiClient, assert_problem, make_user

APP = "/api/v1/apps/app"
HELP = "/api/v1/help/app/article"


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": f"{key}字段", "en": key}, **extra}


def option(value: str, zh: str) -> dict[str, Any]:
    return {"value": value, "label": {"zh-CN": zh, "en": value}}


ARTICLE = {
    "key": "article",
    "label": {"zh-CN": "知识文章", "en": "Article"},
    "fields": [
        field("title", "text", required=True),
        field("line", "select", options=[option("A", "A 线"), option("B", "B 线")]),
        field("symptoms", "textarea"),
        field("solution", "rich_text"),
        field("internal", "textarea"),
        field("status", "select", options=[option("draft", "草稿"), option("published", "已发布")]),
    ],
    "help": {
        "title": "title",
        "summary": "symptoms",
        "body": "solution",
        "facets": ["line"],
        "shown_when": {"field": "status", "values": ["published"]},
    },
}
TICKET = {
    "key": "ticket",
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": [field("title", "text"), field("description", "textarea"), field("phone", "text")],
    "public": {
        "fields": ["title"],
        "suggest": {"form": "article", "from": ["title", "description"]},
    },
}


def publish(api: ApiClient, body: dict[str, Any]) -> None:
    created = api.post(f"{APP}/forms", json={"body": body})
    assert created.status_code == 201, created.get_json()
    published = api.post(f"{APP}/forms/{body['key']}/publish", json={})
    assert published.status_code == 201, published.get_json()


def article(api: ApiClient, title: str, status: str = "published", **data: Any) -> int:
    body = {"title": title, "status": status, "line": "A", **data}
    created = api.post(f"{APP}/records/article", json={"data": body})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def browser(app: Flask, address: str) -> ApiClient:
    """A visitor's browser at its own address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return ApiClient(client)


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    publish(admin_client, ARTICLE)
    publish(admin_client, TICKET)
    return admin_client


@pytest.fixture
def ids(api: ApiClient) -> dict[str, int]:
    return {
        "noise": article(
            api,
            "设备运行噪音大",
            symptoms="运行时噪音明显变大",
            solution="<p>检查轴承</p><script>alert(1)</script>",
        ),
        "power": article(api, "开机无响应", symptoms="按电源键没有反应", line="B"),
        "network": article(api, "安装后无法联网", symptoms="网络指示灯闪烁", internal="噪音"),
        "draft": article(api, "噪音草稿", status="draft"),
    }


def test_an_app_lists_its_help_centers_with_facets_counting_shown_articles(
    client: ApiClient, ids: dict[str, int]
) -> None:
    found = client.get("/api/v1/help/app").get_json()
    assert found["app"] == "app"
    [center] = found["centers"]
    assert center["form"] == "article"
    assert center["total"] == 3  # the draft is not shown
    [line] = center["facets"]
    assert line["key"] == "line"
    assert [(o["value"], o["label"], o["count"]) for o in line["options"]] == [
        ("A", "A 线", 2),
        ("B", "B 线", 1),
    ]
    assert_problem(client.get("/api/v1/help/nope"), 404, "help.not_found")
    assert_problem(client.get("/api/v1/help/app/ticket/articles"), 404, "help.not_found")


def test_search_finds_shown_articles_by_shown_fields_only(
    client: ApiClient, ids: dict[str, int]
) -> None:
    page = client.get(f"{HELP}/articles?q=噪音").get_json()
    # the draft holds the word in its title, the network article in a field the help hides
    assert [item["id"] for item in page["items"]] == [ids["noise"]]
    item = page["items"][0]
    assert item["title"] == "设备运行噪音大"
    assert item["summary"] == "运行时噪音明显变大"
    assert item["highlights"] == [[3, 5]]
    assert item["facets"] == [{"key": "line", "value": "A", "label": "A 线"}]
    by_line = client.get(f"{HELP}/articles?facet=line:B").get_json()
    assert [i["id"] for i in by_line["items"]] == [ids["power"]]
    assert by_line["total"] == 1
    newest = client.get(f"{HELP}/articles?size=2&page=2").get_json()
    assert newest["total"] == 3
    assert [i["id"] for i in newest["items"]] == [ids["noise"]]  # newest first


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("facet=internal:x", "internal"),
        ("facet=line:Z", "line"),
        ("facet=line", "facet"),
        ("facet=line:A&facet=line:B", "facet"),
        ("q=" + "字" * (centers.MAX_QUERY + 1), "q"),
        ("size=0", "size"),
    ],
)
def test_bad_queries_are_refused_with_their_parameter(
    client: ApiClient, ids: dict[str, int], query: str, path: str
) -> None:
    body = assert_problem(client.get(f"{HELP}/articles?{query}"), 422)
    assert path in str(body), body


def test_an_article_reads_safely_and_only_while_shown(
    client: ApiClient, api: ApiClient, ids: dict[str, int]
) -> None:
    read = client.get(f"{HELP}/articles/{ids['noise']}").get_json()
    assert read["body_format"] == "html"
    assert read["body"] == "<p>检查轴承</p>"
    assert read["solved"] == 0
    assert [r["id"] for r in read["related"]] == [ids["network"]]  # the same line
    assert "internal" not in str(read)
    for hidden in (ids["draft"], ids["power"] + 1000):
        assert_problem(client.get(f"{HELP}/articles/{hidden}"), 404, "help.not_found")
    assert api.delete(f"{APP}/records/article/{ids['noise']}?lock_version=1").status_code == 204
    assert_problem(client.get(f"{HELP}/articles/{ids['noise']}"), 404, "help.not_found")


def test_suggestions_rank_articles_by_the_words_they_share_with_the_typed_text(
    client: ApiClient, ids: dict[str, int]
) -> None:
    typed = "客户的设备开机无响应，按电源键没有任何反应"
    found = client.get(f"{HELP}/suggestions", query_string={"q": typed}).get_json()
    assert [i["id"] for i in found][:1] == [ids["power"]]
    assert ids["draft"] not in [i["id"] for i in found]
    weak = client.get(f"{HELP}/suggestions", query_string={"q": "今天天气"}).get_json()
    assert weak == []
    too_long = {"q": "字" * (centers.MAX_SUGGEST_TEXT + 1)}
    assert_problem(client.get(f"{HELP}/suggestions", query_string=too_long), 422)


def test_the_intake_page_says_where_to_find_suggestions_when_it_exposes_their_fields(
    api: ApiClient, client: ApiClient
) -> None:
    def page(exposed: list[str]) -> dict[str, Any]:
        link = api.post(
            f"{APP}/intake",
            json={"form": "ticket", "fields": exposed, "title": {"zh-CN": "报修"}},
        ).get_json()
        return dict(client.get(f"/api/v1/intake/{link['token']}").get_json())

    assert page(["title"])["suggest"] == {"app": "app", "form": "article", "fields": ["title"]}
    assert page(["description", "title"])["suggest"]["fields"] == ["title", "description"]
    assert page(["description"])["suggest"]["fields"] == ["description"]
    assert page(["phone"])["suggest"] is None


def test_feedback_counts_once_per_visitor_and_day_and_is_rate_limited(
    app: Flask,
    api: ApiClient,
    ids: dict[str, int],
    platform: Platform,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = browser(app, "198.51.100.1"), browser(app, "198.51.100.2")
    url = f"{HELP}/articles/{ids['noise']}/feedback"
    assert one.post(url, json={"solved": True}).get_json() == {
        "solved": 1,
        "not_solved": 0,
        "deflected": 0,
    }
    # the same visitor changes their mind the same day: replaced, not added
    assert one.post(url, json={"solved": False}).get_json()["not_solved"] == 1
    counts = two.post(url, json={"solved": True, "via": "intake"}).get_json()
    assert counts == {"solved": 1, "not_solved": 1, "deflected": 1}
    assert one.get(f"{HELP}/articles/{ids['noise']}").get_json()["solved"] == 1
    assert_problem(one.post(url, json={"solved": True, "via": "mail"}), 422)
    assert_problem(one.post(url, json={}), 422)
    draft = f"{HELP}/articles/{ids['draft']}/feedback"
    assert_problem(one.post(draft, json={"solved": True}), 404, "help.not_found")
    with platform.engine.connect() as connection:
        stored = connection.execute(select(HelpFeedback.visitor)).scalars().all()
    assert len(stored) == 2
    assert not any("198.51.100" in v for v in stored)
    # a new day: the visitor is counted anew (yesterday's answer stays)
    clock.advance(timedelta(days=1))
    assert one.post(url, json={"solved": True}).get_json() == {
        "solved": 2,
        "not_solved": 1,
        "deflected": 1,
    }
    monkeypatch.setattr(centers, "FEEDBACK_PER_HOUR", 2)  # what one visitor may answer an hour
    assert (
        one.post(f"{HELP}/articles/{ids['power']}/feedback", json={"solved": True}).status_code
        == 200
    )
    with platform.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(HelpFeedback)).scalar()
    limited = one.post(f"{HELP}/articles/{ids['network']}/feedback", json={"solved": True})
    assert_problem(limited, 429)
    with platform.engine.connect() as connection:
        after = connection.execute(select(func.count()).select_from(HelpFeedback)).scalar()
    assert after == before


def test_the_service_team_reads_what_visitors_answered(
    app: Flask, api: ApiClient, client: ApiClient, ids: dict[str, int], platform: Platform
) -> None:
    for n, (key, solved, via) in enumerate(
        [("noise", True, "intake"), ("noise", True, "article"), ("power", False, "article")]
    ):
        visitor = browser(app, f"203.0.113.{n}")
        url = f"{HELP}/articles/{ids[key]}/feedback"
        assert visitor.post(url, json={"solved": solved, "via": via}).status_code == 200
    summary = api.get(f"{APP}/help/article/feedback").get_json()
    assert (summary["solved"], summary["not_solved"], summary["deflected"]) == (2, 1, 1)
    assert [(i["id"], i["solved"], i["deflected"]) for i in summary["items"]] == [
        (ids["noise"], 2, 1),
        (ids["power"], 0, 0),
    ]
    assert client.get(f"{APP}/help/article/feedback").status_code == 401
    make_user(platform, "outsider", password="outsider-password-1")
    outsider = ApiClient(app.test_client())
    assert outsider.login("outsider", "outsider-password-1").status_code == 200
    assert_problem(outsider.get(f"{APP}/help/article/feedback"), 404)


def test_bad_help_blocks_are_refused_and_a_suggestion_without_help_is_warned_of(
    api: ApiClient,
) -> None:
    bad = {
        **ARTICLE,
        "key": "bad",
        "help": {
            "title": "solution",
            "body": "title",
            "facets": ["symptoms"],
            "shown_when": {"field": "status", "values": ["gone"]},
        },
    }
    checked = api.post(f"{APP}/forms/check", json={"body": bad}).get_json()
    paths = sorted(p["path"] for p in checked["problems"])
    assert paths == [
        "/help/body",
        "/help/facets/0",
        "/help/shown_when/values/0",
        "/help/title",
    ], checked
    lost = {
        **TICKET,
        "key": "lost",
        "public": {"fields": ["title"], "suggest": {"form": "ticket", "from": ["title"]}},
    }
    checked = api.post(f"{APP}/forms/check", json={"body": lost}).get_json()
    assert checked["problems"] == []
    assert [w["code"] for w in checked["warnings"]] == ["form.public.suggest_no_help"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{HELP}/articles/99999999999999999999999", 404),
        (f"{HELP}/articles/-1", 404),
        ("/api/v1/help/app/..%2Fticket/articles", 404),
        ("/api/v1/help/app/article%00/articles", 404),
        (f"{HELP}/articles?q=%00%01%02", 200),
        (f"{HELP}/articles?q=%F0%9F%98%80%F0%9F%98%80", 200),
        (f"{HELP}/articles?q=%22%2A%20OR%201%3D1%20--", 200),
        (f"{HELP}/articles?page=10001", 422),
        (f"{HELP}/suggestions?q=%3Cscript%3E", 200),
        (f"{HELP}/suggestions", 422),
    ],
)
def test_hostile_help_requests_get_a_clear_answer_never_a_500(
    client: ApiClient, ids: dict[str, int], path: str, status: int
) -> None:
    answer = client.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status >= 400:
        assert_problem(answer, status)
