"""What search reads of a record: token text per field, and queries as the same tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tangram.engines.forms import compile_form
from tangram.engines.forms.search import (
    document_tokens,
    index_tokens,
    query_tokens,
    searchable_fields,
    snippet,
    tokens,
)


def pairs(run: str) -> Iterable[str]:
    """A stand-in segmenter: the run whole, then its characters two by two."""
    yield run
    yield from (run[i : i + 2] for i in range(0, len(run) - 1, 2))


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key}, **extra}


FORM = compile_form(
    {
        "key": "ticket",
        "label": {"zh-CN": "工单"},
        "fields": [
            field("number", "serial", serial="SV-{date:%Y%m%d}-{seq:4}"),
            field("title", "text"),
            field("body", "rich_text"),
            field(
                "issue",
                "select",
                options=[{"value": "hw", "label": {"zh-CN": "硬件", "en": "Hardware"}}],
            ),
            field("tags", "multi_select", options=[{"value": "vip"}, {"value": "new"}]),
            field("hours", "number"),
            field("mail", "email"),
            field("rows", "sub_table", fields=[field("what", "text"), field("n", "integer")]),
        ],
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SV-20261122-0001", ["sv", "20261122", "0001"]),
        ("Fan NOISE, fan!", ["fan", "noise"]),
        ("ＡＢＣ１２３", ["abc123"]),  # full-width reads as ASCII
        ("黑屏", ["黑屏"]),
        ("开机黑屏 x", ["开机黑屏", "开机", "黑屏", "x"]),
        ("'; DROP--\"*:&|!()", ["drop"]),
        ("___ ... ？！", []),
        ("snake_case", ["snake", "case"]),
    ],
)
def test_text_becomes_lower_case_tokens_without_punctuation(text: str, expected: list[str]) -> None:
    assert tokens(text, pairs) == expected


def test_a_query_keeps_at_most_twelve_tokens() -> None:
    assert len(query_tokens(" ".join(f"w{i}" for i in range(30)), pairs)) == 12


def test_a_document_gives_token_text_per_searched_field() -> None:
    data = {
        "number": "SV-20261122-0001",
        "title": "Fan",
        "body": "<p>风扇<b>噪音</b> &amp; dust</p>",
        "issue": "hw",
        "tags": ["vip"],
        "hours": 3,
        "mail": "li@example.com",
        "rows": [{"what": "换风扇", "n": 2}, {"what": "test"}],
    }
    assert document_tokens(FORM.fields, data, pairs) == {
        "number": "sv 20261122 0001",
        "title": "fan",
        "body": "风扇 噪音 dust 风 扇 噪 音",  # a word's characters too
        "issue": "hw 硬件 hardware 硬 件",
        "tags": "vip",
        "mail": "li example com",
        "rows.what": "换风扇 换风 test 换 风 扇",
    }
    assert searchable_fields(FORM.fields) == [
        "number",
        "title",
        "body",
        "issue",
        "tags",
        "mail",
        "rows.what",
    ]


def test_empty_values_give_no_rows() -> None:
    assert document_tokens(FORM.fields, {"title": "", "body": "<p></p>", "rows": []}, pairs) == {}


def test_a_snippet_marks_the_words_around_the_first_one_found() -> None:
    text = "一" * 50 + "设备开机后黑屏" + "二" * 50
    part, marks = snippet(text, ["黑屏", "开机"], width=30)
    assert part.startswith("…")
    assert part.endswith("…")
    assert [part[a:b] for a, b in marks] == ["开机", "黑屏"]
    assert snippet("Fan noise", ["noise"]) == ("Fan noise", [[4, 9]])
    assert snippet("nothing here", ["x"]) == ("nothing here", [])


def test_a_document_is_found_by_any_character_of_its_words_but_a_query_is_not_cut_so() -> None:
    assert index_tokens("开机黑屏 x", pairs) == [
        "开机黑屏",
        "开机",
        "黑屏",
        "x",
        "开",
        "机",
        "黑",
        "屏",
    ]
    assert index_tokens("屏", pairs) == ["屏"]
    assert query_tokens("黑屏", pairs) == ["黑屏"]  # the query's words must all be found
