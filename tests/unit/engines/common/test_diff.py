"""Structural diff as JSON-pointer paths."""

from __future__ import annotations

import pytest

from tangram.engines.common import diff, join_pointer


def ops(old: object, new: object) -> list[tuple[str, str]]:
    return [(c.kind.value, c.path) for c in diff(old, new)]


def test_diff_is_empty_when_documents_are_equal() -> None:
    doc = {"a": [1, {"b": "x"}], "c": None}
    assert diff(doc, {"c": None, "a": [1, {"b": "x"}]}) == []


def test_diff_reports_deepest_paths_when_nested_values_change() -> None:
    old = {"fields": [{"key": "a", "label": {"zh-CN": "甲"}}], "layout": {}}
    new = {"fields": [{"key": "a", "label": {"zh-CN": "乙"}}], "options": {"x": 1}}
    assert [c.as_dict() for c in diff(old, new)] == [
        {"op": "changed", "path": "/fields/0/label/zh-CN", "old": "甲", "new": "乙"},
        {"op": "removed", "path": "/layout", "old": {}},
        {"op": "added", "path": "/options", "new": {"x": 1}},
    ]


def test_diff_compares_arrays_by_index_when_lengths_differ() -> None:
    assert ops([1, 2], [1, 2, 3]) == [("added", "/2")]
    assert ops([1, 2, 3], [1]) == [("removed", "/1"), ("removed", "/2")]


def test_diff_escapes_pointer_tokens_when_keys_hold_slash_or_tilde() -> None:
    assert ops({"a/b": 1, "c~d": 1}, {"a/b": 2, "c~d": 2}) == [
        ("changed", "/a~1b"),
        ("changed", "/c~0d"),
    ]
    assert join_pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        (1, 1.0, False),
        (True, 1, True),
        (0, False, True),
        ("1", 1, True),
        ([], {}, True),
        (None, None, False),
    ],
)
def test_diff_distinguishes_json_types_when_values_look_alike(
    old: object, new: object, changed: bool
) -> None:
    assert bool(diff({"v": old}, {"v": new})) is changed


def test_diff_replaces_whole_value_when_type_changes() -> None:
    assert [c.as_dict() for c in diff({"v": [1]}, {"v": {"a": 1}})] == [
        {"op": "changed", "path": "/v", "old": [1], "new": {"a": 1}}
    ]
