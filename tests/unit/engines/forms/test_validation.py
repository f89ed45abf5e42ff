"""Validation: every field type, conditions, sub-table rows, messages in two languages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tangram.engines.forms import Form, compile_form
from tangram.engines.forms.form import _too_precise
from tests.unit.engines.forms.conftest import valid_ticket

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def errors(form: Form, data: dict[str, Any], lang: str = "en") -> dict[str, str]:
    return {e.path: e.code for e in form.validate(data, lang=lang)}


def test_valid_ticket_has_no_errors(ticket: Form) -> None:
    assert ticket.validate(ticket.compute(valid_ticket(), now=NOW).data) == []


def test_json_schema_is_a_valid_2020_12_schema(ticket: Form) -> None:
    Draft202012Validator.check_schema(ticket.json_schema)
    assert ticket.json_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert ticket.json_schema["required"] == ["title", "issue_type"]
    assert ticket.json_schema["additionalProperties"] is False


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("title", 42, "type"),
    ("title", "x" * 51, "maxLength"),
    ("notes", "x", "minLength"),
    ("channel", "fax", "enum"),
    ("issue_type", "other", "enum"),
    ("tags", ["a", "a"], "uniqueItems"),
    ("tags", ["a", "b", "c"], "maxItems"),
    ("tags", ["z"], "enum"),
    ("urgency", 0, "minimum"),
    ("urgency", 5, "maximum"),
    ("urgency", 2.5, "type"),
    ("hours", "four", "type"),
    ("cost", 1.234, "precision"),
    ("cost", -1, "minimum"),
    ("occurred_on", "2026-13-01", "format"),
    ("occurred_on", "20/11/2026", "format"),
    ("occurred_at", "2026-11-20 10:30", "format"),
    ("on_site", "yes", "type"),
    ("assignee", 0, "minimum"),
    ("team", "rnd", "type"),
    ("contact_email", "not-an-email", "format"),
    ("contact_phone", "call me", "pattern"),
    ("photo", {"name": "x.jpg"}, "required"),
    ("files", [{"id": "1"}, {"id": "2"}, {"id": "3"}], "maxItems"),
    ("signature", "data:image/png;base64,xx", "type"),
    ("customer", "ACME", "type"),
    ("measures", [{"what": "x", "owner": 1}] * 4, "maxItems"),
]


@pytest.mark.parametrize(
    ("key", "value", "code"), BAD_VALUES, ids=[f"{k}-{c}" for k, _, c in BAD_VALUES]
)
def test_bad_value_is_reported_at_its_field(ticket: Form, key: str, value: Any, code: str) -> None:
    data = {**valid_ticket(), key: value}
    found = errors(ticket, data)
    at_field = {c for path, c in found.items() if path == key or path.startswith(f"{key}/")}
    assert at_field == {code}, found
    assert set(found) <= {key} | {p for p in found if p.startswith(f"{key}/")}, found


def test_every_problem_is_reported_at_once_with_row_paths(ticket: Form) -> None:
    data = {
        "title": "",
        "bogus": 1,
        "measures": [
            {"what": "a", "owner": 1},
            {"what": "b"},
            {"what": "c", "owner": "x", "extra": 1},
        ],
    }
    assert errors(ticket, data) == {
        "title": "required",
        "issue_type": "required",
        "measures/1/owner": "required",
        "measures/2/owner": "type",
        "measures/2/extra": "unknown",
        "bogus": "unknown",
    }


def test_messages_come_in_the_requested_language(ticket: Form) -> None:
    data = {**valid_ticket(), "urgency": 9, "title": None}
    zh = {
        e.path: e.message for e in ticket.validate(ticket.compute(data, now=NOW).data, lang="zh-CN")
    }
    en = {e.path: e.message for e in ticket.validate(ticket.compute(data, now=NOW).data, lang="en")}
    assert zh == {"title": "必填", "urgency": "不能大于 4"}
    assert en == {"title": "is required", "urgency": "must be at most 4"}


def test_required_when_applies_only_while_the_field_is_visible(ticket: Form) -> None:
    base = valid_ticket()
    assert "address" not in errors(ticket, {**base, "on_site": False})
    assert errors(ticket, {**base, "on_site": True})["address"] == "required"
    assert "address" not in errors(ticket, {**base, "on_site": True, "address": "上海"})
    assert ticket.visible_fields({"on_site": True}).count("address") == 1
    assert "address" not in ticket.visible_fields({"on_site": False})


def test_non_object_document_is_one_error(ticket: Form) -> None:
    assert [(e.path, e.code) for e in ticket.validate([1, 2])] == [("", "not_object")]


FIXTURES: list[dict[str, Any]] = [
    valid_ticket(),
    {**valid_ticket(), "occurred_at": "2026-11-20T10:30:00Z"},
    *({**valid_ticket(), k: v} for k, v, _ in BAD_VALUES if k != "cost"),
    {"title": 1, "bogus": True, "measures": [{"what": 1}]},
]


@pytest.mark.parametrize("document", FIXTURES, ids=lambda d: json.dumps(d, ensure_ascii=False)[:40])
def test_reference_validator_agrees_with_the_fast_one(
    ticket: Form, document: dict[str, Any]
) -> None:
    """jsonschema (with its format extras) and jsonschema-rs accept and refuse the same documents."""
    reference = Draft202012Validator(
        ticket.json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    slow = {"/".join(map(str, e.absolute_path)) for e in reference.iter_errors(document)}
    fast = {
        "/".join(map(str, e.instance_path))
        for e in ticket._schema_validator().iter_errors(document)
    }
    assert slow == fast


def test_money_precision_counts_decimals_as_written_in_rows_too(ticket: Form) -> None:
    rows = [{"what": "a", "owner": 1, "cost": c} for c in (0.07, 1.005, 120.5)]
    data = {**valid_ticket(), "cost": 12.0, "measures": rows}
    assert {p: c for p, c in errors(ticket, data).items() if c == "precision"} == {
        "measures/1/cost": "precision"
    }
    assert errors(ticket, {**valid_ticket(), "cost": 1e-07})["cost"] == "precision"
    assert "cost" not in errors(ticket, {**valid_ticket(), "cost": 1e16})


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 6))
def test_precision_agrees_with_the_decimal_reading_of_the_float(
    value: float, precision: int
) -> None:
    exponent = Decimal(repr(value)).as_tuple().exponent
    assert isinstance(exponent, int)
    assert _too_precise(value, precision) == (-exponent > precision)


def test_a_date_in_year_zero_is_refused_though_its_format_looks_right() -> None:
    form = compile_form(
        {
            "key": "f",
            "label": {"zh-CN": "f"},
            "fields": [
                {"key": "d", "type": "date", "label": {"zh-CN": "d"}},
                {"key": "t", "type": "datetime", "label": {"zh-CN": "t"}},
                {
                    "key": "rows",
                    "type": "sub_table",
                    "label": {"zh-CN": "r"},
                    "fields": [{"key": "d", "type": "date", "label": {"zh-CN": "d"}}],
                },
            ],
        }
    )
    found = form.validate(
        {"d": "0000-01-01", "t": "0000-01-01T00:00:00+00:00", "rows": [{"d": "0000-12-31"}]}
    )
    assert [(e.path, e.code) for e in found] == [
        ("d", "format"),
        ("t", "format"),
        ("rows/0/d", "format"),
    ]
    assert form.validate({"d": "0001-01-01", "rows": [{"d": "9999-12-31"}]}) == []
