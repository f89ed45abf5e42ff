"""Search across an app: every form the viewer may read, by form, with snippets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask

from tangram.platform.bootstrap import Platform
from tests.api.test_search import APP, BLACK_SCREEN, Desk, open_desk
from tests.conftest import ApiClient, assert_problem


@pytest.fixture
def desk(platform: Platform, app: Flask, admin_client: ApiClient) -> Desk:
    return open_desk(platform, app, admin_client)


def search(api: ApiClient, words: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"{APP}/search?{urlencode({'q': words, **params})}")
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_the_app_search_groups_matches_by_form_within_the_viewer_scope(
    desk: Desk, admin_client: ApiClient
) -> None:
    ours = desk.create(
        "ticket",
        {"title": "投影仪不亮", "description": BLACK_SCREEN, "team": desk.team["line_a"]},
    )
    desk.create("ticket", {"title": "显示器黑屏", "team": desk.team["line_b"]})
    article = desk.create("article", {"title": "黑屏排查", "solution": "<p>检查电源线</p>"})
    ann = desk.reader("ann", "line_a")
    result = search(ann, "黑屏", lang="en")
    assert result["total"] == 2
    by_form = {g["form"]: g for g in result["groups"]}
    assert set(by_form) == {"ticket", "article"}  # the other group's ticket is not counted
    ticket = by_form["ticket"]
    assert (ticket["form_label"], ticket["total"]) == ("Service ticket", 1)
    (item,) = ticket["items"]
    assert (item["id"], item["title"], item["field"]) == (ours, "投影仪不亮", "description")
    assert item["field_label"] == "Description"
    marked = [item["snippet"][a:b] for a, b in item["highlights"]]
    assert marked == ["黑屏"]
    assert "<" not in item["snippet"]  # rich text shows as plain text
    (found_article,) = by_form["article"]["items"]
    assert (found_article["id"], found_article["field"]) == (article, "title")
    everything = search(admin_client, "黑屏")
    assert everything["total"] == 3
    assert [g["form_label"] for g in everything["groups"]] == ["知识库", "售后工单"]
    assert search(ann, "没有这种词")["groups"] == []


def test_the_app_search_reads_no_hidden_field(desk: Desk) -> None:
    desk.create("ticket", {"title": "主机", "note": "回扣", "team": desk.team["line_a"]})
    cat = desk.reader("cat", "line_a", hidden=("note",))
    assert search(cat, "回扣") == {"query": "回扣", "total": 0, "groups": []}


@pytest.mark.parametrize("words", ["", "   ", "黑" * 101, "x" * 1000])
def test_the_app_search_refuses_an_empty_or_too_long_query(
    desk: Desk, admin_client: ApiClient, words: str
) -> None:
    problem = assert_problem(admin_client.get(f"{APP}/search?{urlencode({'q': words})}"), 422)
    assert problem["errors"]
    assert_problem(admin_client.get(f"{APP}/search"), 422)


def test_the_app_search_of_an_app_out_of_sight_is_not_found(desk: Desk) -> None:
    ann = desk.reader("ann", "line_a")
    assert_problem(ann.get("/api/v1/apps/nowhere/search?q=x"), 404, "app.not_found")
