"""Record lists over HTTP: filters on every kind of field, sorting, keyset cursors, counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tangram.platform.kernel.clock import FrozenClock
from tests.conftest import ApiClient, assert_problem

BASE = "/api/v1/apps/app/records/ticket"
OPTIONS = [{"value": v} for v in ("a", "b", "c")]


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key}, **extra}


FORM = {
    "key": "ticket",
    "label": {"zh-CN": "工单"},
    "fields": [
        field("title", "text"),
        field("kind", "select", options=OPTIONS),
        field("hours", "number"),
        field("due", "date"),
        field("at", "datetime"),
        field("tags", "multi_select", options=OPTIONS),
        field("done", "checkbox"),
        field("who", "user"),
        field(
            "measures",
            "sub_table",
            fields=[field("what", "text"), field("owner", "user")],
        ),
    ],
}
#: (title, kind, hours, due, at, tags, done, measures) — gaps are empty fields.
ROWS: list[dict[str, Any]] = [
    {"title": "fan noise", "kind": "a", "hours": 2, "due": "2026-12-01", "tags": ["a", "b"]},
    {"title": "Fan broken", "kind": "b", "hours": 5.5, "due": "2026-12-03", "done": True},
    {"title": "belt 50%_off", "kind": "a", "at": "2026-11-22T10:00:00+08:00", "tags": ["c"]},
    {"title": "motor", "kind": "c", "hours": 2, "measures": [{"what": "swap", "owner": 1}]},
    {"hours": 8, "done": False, "measures": [{"what": "oil", "owner": 2}, {"what": "x"}]},
    {"title": "door", "kind": "b", "due": "2026-12-01", "at": "2026-11-22T01:00:00Z"},
]


@pytest.fixture
def ids(admin_client: ApiClient, clock: FrozenClock) -> list[int]:
    api = admin_client
    api.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    api.post("/api/v1/apps/app/forms", json={"body": FORM})
    assert api.post("/api/v1/apps/app/forms/ticket/publish", json={}).status_code == 201
    out = []
    for data in ROWS:
        clock.advance(timedelta(minutes=1))
        response = api.post(BASE, json={"data": data})
        assert response.status_code == 201, response.get_json()
        out.append(response.get_json()["id"])
    return out


def listed(api: ApiClient, **params: Any) -> list[int]:
    response = api.get(f"{BASE}?{urlencode(params, doseq=True)}")
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(
    ("params", "rows"),
    [
        ({"kind": "a"}, [0, 2]),
        ({"kind__ne": "a"}, [1, 3, 4, 5]),
        ({"kind__in": "b,c"}, [1, 3, 5]),
        ({"kind__in": ["b", "c"]}, [1, 3, 5]),
        ({"title__contains": "FAN"}, [0, 1]),
        ({"title__contains": "50%_"}, [2]),
        ({"title__contains": "%"}, [2]),
        ({"hours__gte": "2", "hours__lt": "8"}, [0, 1, 3]),
        ({"hours": "5.5"}, [1]),
        ({"hours__empty": "true"}, [2, 5]),
        ({"hours__empty": "false"}, [0, 1, 3, 4]),
        ({"due": "2026-12-01"}, [0, 5]),
        ({"due__gt": "2026-12-01"}, [1]),
        ({"at__lte": "2026-11-22T02:00:00Z"}, [2, 5]),
        ({"at__lt": "2026-11-22T02:00:00Z"}, [5]),
        ({"at__gte": "2026-11-22T09:30:00"}, [2]),  # local time in the app's zone
        ({"tags": "a"}, [0]),
        ({"tags__contains": "c"}, [2]),
        ({"tags__in": "b,c"}, [0, 2]),
        ({"tags__ne": "a"}, [1, 2, 3, 4, 5]),
        ({"tags__empty": "true"}, [1, 3, 4, 5]),
        ({"done": "true"}, [1]),
        ({"done": "false"}, [4]),
        ({"measures.owner": "2"}, [4]),
        ({"measures.what__contains": "o"}, [4]),
        ({"measures.owner__empty": "true"}, [4]),
        ({"measures__empty": "false"}, [3, 4]),
        ({"measures__empty": "true"}, [0, 1, 2, 5]),
        ({"title__empty": "true"}, [4]),
        ({"kind": "a", "hours__empty": "false"}, [0]),
    ],
)
def test_filters(
    ids: list[int], admin_client: ApiClient, params: dict[str, Any], rows: list[int]
) -> None:
    assert sorted(listed(admin_client, **params)) == sorted(ids[r] for r in rows)


def test_meta_fields_filter_too(ids: list[int], admin_client: ApiClient) -> None:
    assert sorted(listed(admin_client, _id__gt=ids[3])) == ids[4:]
    assert sorted(listed(admin_client, _created_at__gte="2026-11-22T01:03:00Z")) == ids[2:]
    assert len(listed(admin_client, _owner="1")) == len(ids)


def test_the_search_box_finds_text_in_any_field_or_the_number(
    ids: list[int], admin_client: ApiClient
) -> None:
    assert sorted(listed(admin_client, _q="fan")) == [ids[0], ids[1]]
    assert listed(admin_client, _q="50%_") == [ids[2]]
    assert listed(admin_client, _q=f"#{ids[3]}") == [ids[3]]
    assert listed(admin_client, _q=str(ids[5])) == [ids[5]]
    assert listed(admin_client, _q="fan", kind="b") == [ids[1]]  # with the other filters
    assert len(listed(admin_client, _q="  ")) == len(ids)  # blank: no condition
    assert_problem(admin_client.get(f"{BASE}?_q={'x' * 101}"), 422)


def test_every_bad_filter_is_reported_at_once(ids: list[int], admin_client: ApiClient) -> None:
    response = admin_client.get(
        f"{BASE}?nope=1&hours=many&kind__like=a&done__lt=true&hours__contains=2&due=12/01"
        "&measures=x&measures.nope=1"
    )
    body = assert_problem(response, 422, "query.invalid")
    assert set(body["errors"]) == {
        "nope",
        "hours",
        "kind__like",
        "done__lt",
        "hours__contains",
        "due",
        "measures",
        "measures.nope",
    }
    assert "'many' is not a number" in body["errors"]["hours"][0]


def test_default_order_is_newest_first_and_count_is_on_request(
    ids: list[int], admin_client: ApiClient
) -> None:
    page = admin_client.get(f"{BASE}?count=true&kind__in=a,b").get_json()
    assert [i["id"] for i in page["items"]] == [ids[5], ids[2], ids[1], ids[0]]
    assert page["total"] == 4
    assert admin_client.get(BASE).get_json()["total"] is None


def expected_order(ids: list[int], key: str, descending: bool) -> list[int]:
    """Python's idea of the order: empty values last both ways, then ids ascending."""
    present = [(ROWS[i][key], ids[i]) for i in range(len(ROWS)) if ROWS[i].get(key) is not None]
    present.sort(key=lambda p: p[1])
    present.sort(key=lambda p: p[0], reverse=descending)
    empty = [ids[i] for i in range(len(ROWS)) if ROWS[i].get(key) is None]
    return [p[1] for p in present] + empty


@pytest.mark.parametrize("sort", ["hours", "-hours", "due", "-due", "kind", "-kind", "title"])
@pytest.mark.parametrize("limit", [1, 2, 4, 50])
def test_keyset_pages_walk_every_record_once_in_order_with_empty_values_last(
    ids: list[int], admin_client: ApiClient, sort: str, limit: int
) -> None:
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = admin_client.get(f"{BASE}?{urlencode(params)}").get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    key = sort.lstrip("-")
    if key == "title":  # SQLite and PostgreSQL collate case differently: compare as sets of ties
        assert sorted(seen) == sorted(ids)
        assert seen[-1] == ids[4]  # the record without a title comes last
    else:
        assert seen == expected_order(ids, key, sort.startswith("-"))


def test_sort_by_several_keys(ids: list[int], admin_client: ApiClient) -> None:
    assert listed(admin_client, sort="kind,-hours") == [
        ids[0],  # a, 2
        ids[2],  # a, empty
        ids[1],  # b, 5.5
        ids[5],  # b, empty
        ids[3],  # c
        ids[4],  # no kind
    ]


def test_bad_sort_and_cursor_are_refused(ids: list[int], admin_client: ApiClient) -> None:
    body = assert_problem(admin_client.get(f"{BASE}?sort=tags,-nope"), 422, "query.invalid")
    assert len(body["errors"]["sort"]) == 2
    assert_problem(admin_client.get(f"{BASE}?sort=a,b,c,d"), 422, "query.invalid")
    page = admin_client.get(f"{BASE}?sort=hours&limit=2").get_json()
    assert_problem(
        admin_client.get(f"{BASE}?sort=-hours&cursor={page['next_cursor']}"), 422, "query.invalid"
    )
    assert_problem(admin_client.get(f"{BASE}?cursor=garbage!"), 422, "query.invalid")
