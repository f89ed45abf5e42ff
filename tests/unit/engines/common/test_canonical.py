"""Canonical JSON and checksums are reproducible."""

from __future__ import annotations

import pytest

from tangram.engines.common import canonical_json, checksum


def test_checksum_is_stable_when_key_order_differs() -> None:
    assert checksum({"b": 1, "a": [1, {"y": 2, "x": 1}]}) == checksum(
        {"a": [1, {"x": 1, "y": 2}], "b": 1}
    )


def test_canonical_json_keeps_chinese_text_and_drops_whitespace() -> None:
    assert canonical_json({"名称": "售后 工单", "n": 1}) == '{"n":1,"名称":"售后 工单"}'.encode()


def test_checksum_changes_when_any_value_changes() -> None:
    assert checksum({"a": 1}) != checksum({"a": 2})
    assert len(checksum({})) == 64


def test_canonical_json_refuses_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": float("nan")})
