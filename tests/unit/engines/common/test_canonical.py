"""Canonical JSON and checksums are reproducible."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tangram.engines.common import canonical_json, checksum, jcs
from tangram.engines.common.canonical import _doubles


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


def test_jcs_writes_numbers_as_the_rfc_writes_them() -> None:
    # the number examples of RFC 8785, section 3.2.2.3
    assert jcs([333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]) == (
        b"[333333333.3333333,1e+30,4.5,0.002,1e-27]"
    )
    assert jcs({"b": 1, "a": "售后"}) == '{"a":"售后","b":1}'.encode()


@pytest.mark.parametrize(
    ("written", "read_back"),
    [(1.0, 1), (1e16, 10**16), (1e300, 10**300), (-2.5e20, -(25 * 10**19)), (0.1 + 0.2, 0.1 + 0.2)],
)
def test_jcs_gives_one_form_to_equal_numbers_whatever_their_text(
    written: float, read_back: int | float
) -> None:
    """PostgreSQL's JSONB reads ``1e16`` back as ``10000000000000000``: both hash alike."""
    assert jcs({"n": written}) == jcs({"n": read_back})


def test_jcs_keeps_integers_no_double_can_hold_and_refuses_non_finite_numbers() -> None:
    huge = 10**400
    assert jcs([huge]) == f'["{huge}"]'.encode()
    assert jcs([2**53 - 1]) == b"[9007199254740991]"
    with pytest.raises(ValueError, match="not representable"):
        jcs({"x": float("inf")})


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1.0, 2.0**53, 2.0**53 + 2, 1e21, 5e-7])
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=2000, deadline=None)
@given(JSON_VALUES)
def test_jcs_writes_what_the_reference_writer_writes(value: Any) -> None:
    """The fast path (the standard encoder) and the reference writer agree on every value, or
    both refuse it."""
    try:
        expected: bytes | None = rfc8785.dumps(_doubles(value))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError):
        expected = None
    if expected is None:
        with pytest.raises((ValueError, UnicodeEncodeError)):
            jcs(value)
    else:
        assert jcs(value) == expected


def test_jcs_orders_keys_by_utf16_code_units() -> None:
    """U+1F600 (a surrogate pair, 0xD83D…) sorts before U+FF01 in UTF-16, after it by code point."""
    assert jcs({"\uff01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uff01":1}'.encode()
    assert (
        jcs({"a": -0.0, "b": [1.0, "\x7f\u2028\x1f"]})
        == b'{"a":0,"b":[1,"\x7f\xe2\x80\xa8\\u001f"]}'
    )


def test_jcs_never_takes_text_for_a_number() -> None:
    """Numbers pass the standard encoder as placeholders: text shaped like one stays text."""
    shaped = "\x00" + "0" * 32 + ":0"
    value = {"n": 0.5, "s": shaped, "t": [shaped, 1e-7, 2**60]}
    assert jcs(value) == rfc8785.dumps(_doubles(value))
    assert jcs(value).startswith(b'{"n":0.5,"s":"\\u0000')
