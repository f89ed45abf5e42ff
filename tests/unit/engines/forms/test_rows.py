"""Sub-table rows by identity: ids given once and kept, and the three-way merge of documents."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tangram.engines.forms import ROW_ID, changed_rows, compile_form, merge, with_row_ids

PLAN = compile_form(
    {
        "key": "plan",
        "label": {"zh-CN": "plan"},
        "fields": [
            {"key": "title", "type": "text", "label": {"zh-CN": "t"}},
            {"key": "status", "type": "text", "label": {"zh-CN": "s"}},
            {
                "key": "measures",
                "type": "sub_table",
                "label": {"zh-CN": "m"},
                "fields": [
                    {"key": "what", "type": "text", "label": {"zh-CN": "w"}},
                    {"key": "owner", "type": "integer", "label": {"zh-CN": "o"}},
                    {"key": "result", "type": "text", "label": {"zh-CN": "r"}},
                ],
            },
        ],
    }
)


def row(rid: str, **values: Any) -> dict[str, Any]:
    return {ROW_ID: rid, **values}


BASE = {
    "title": "plan",
    "status": "doing",
    "measures": [
        row("a", what="fix", owner=1),
        row("b", what="test", owner=2),
        row("c", what="ship", owner=3),
    ],
}


def with_result(doc: dict[str, Any], rid: str, result: str) -> dict[str, Any]:
    rows = [dict(r, result=result) if r[ROW_ID] == rid else r for r in doc["measures"]]
    return {**doc, "measures": rows}


def test_rows_get_ids_once_and_keep_them() -> None:
    counter = itertools.count(1)
    fresh = with_row_ids(
        PLAN, {"measures": [{"what": "x"}, {"what": "y"}]}, lambda: f"r{next(counter)}"
    )
    assert [r[ROW_ID] for r in fresh["measures"]] == ["r1", "r2"]
    again = with_row_ids(PLAN, {"measures": [*fresh["measures"], {"what": "z"}]}, lambda: "r3")
    assert [r[ROW_ID] for r in again["measures"]] == ["r1", "r2", "r3"]
    doubled = with_row_ids(PLAN, {"measures": [row("r1"), row("r1")]}, lambda: "r9")
    assert [r[ROW_ID] for r in doubled["measures"]] == ["r1", "r9"]


def test_owners_of_different_rows_both_keep_their_results() -> None:
    first = with_result(BASE, "a", "done")  # committed first
    second = with_result(BASE, "b", "passed")  # based on the same version
    merged = merge(PLAN, BASE, second, first)
    assert merged.conflicts == ()
    assert [r.get("result") for r in merged.data["measures"]] == ["done", "passed", None]


def test_the_same_field_changed_twice_is_a_conflict() -> None:
    first = with_result(BASE, "a", "done")
    second = with_result(BASE, "a", "failed")
    assert merge(PLAN, BASE, second, first).conflicts == ("/measures/0/result",)
    assert merge(PLAN, BASE, first, first).conflicts == ()  # the same change twice agrees


def test_rows_are_found_by_identity_not_position() -> None:
    later = {**BASE, "measures": [BASE["measures"][2], BASE["measures"][0]]}  # b removed, c first
    mine = with_result(BASE, "a", "done")
    merged = merge(PLAN, BASE, mine, later)
    assert merged.conflicts == ()
    assert merged.data["measures"] == [
        row("c", what="ship", owner=3),
        row("a", what="fix", owner=1, result="done"),
    ]
    changed_removed = merge(PLAN, BASE, with_result(BASE, "b", "x"), later)
    assert changed_removed.conflicts == ("/measures/1",)


def test_added_and_removed_rows_merge() -> None:
    mine = {**BASE, "measures": [*BASE["measures"][:2], {"what": "new"}]}  # c removed, one added
    later = with_result(BASE, "a", "done")
    merged = merge(PLAN, BASE, mine, later)
    assert merged.conflicts == ()
    assert [r.get("what") for r in merged.data["measures"]] == ["fix", "test", "new"]
    assert merged.data["measures"][0]["result"] == "done"
    edited_then_removed = merge(PLAN, BASE, mine, with_result(BASE, "c", "kept"))
    assert edited_then_removed.conflicts == ("/measures",)


def test_top_level_fields_merge_and_conflict() -> None:
    later = {**BASE, "status": "checking"}
    assert merge(PLAN, BASE, {**BASE, "title": "better"}, later).data == {
        **later,
        "title": "better",
    }
    assert merge(PLAN, BASE, {**BASE, "status": "closed"}, later).conflicts == ("/status",)
    cleared = merge(PLAN, BASE, {**BASE, "title": None}, later)
    assert "title" not in cleared.data


def test_rows_without_ids_merge_as_one_value() -> None:
    legacy = {"measures": [{"what": "fix"}]}
    changed = {"measures": [{"what": "fix", "result": "done"}]}
    assert merge(PLAN, legacy, changed, legacy).data == changed
    assert merge(PLAN, legacy, changed, {"measures": []}).conflicts == ("/measures",)


def test_what_a_writer_did_to_a_table() -> None:
    mine = [dict(BASE["measures"][0], result="done"), BASE["measures"][1], {"what": "new"}]
    assert changed_rows(BASE["measures"], mine) == ({"a"}, 1, {"c"})


_results = st.sampled_from([None, "done", "failed", "passed"])


@given(a=_results, b=_results, c=_results, theirs=_results)
def test_disjoint_rows_never_conflict_and_every_change_survives(
    a: str | None, b: str | None, c: str | None, theirs: str | None
) -> None:
    """One writer changes rows a and b; a later change touched only row c: all of it stays."""
    mine = BASE
    for rid, value in (("a", a), ("b", b)):
        if value is not None:
            mine = with_result(mine, rid, value)
    later = with_result(BASE, "c", theirs) if theirs is not None else BASE
    merged = merge(PLAN, BASE, mine, later)
    assert merged.conflicts == ()
    assert [r.get("result") for r in merged.data["measures"]] == [a, b, theirs]
