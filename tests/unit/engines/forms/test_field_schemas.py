"""Each field type's JSON Schema fragment, and what required and read-only add to it."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.engines.forms import FieldDef, FieldType, Option

ATTACHMENT: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "name": {"type": "string", "maxLength": 255},
        "size": {"type": "integer", "minimum": 0},
        "content_type": {"type": "string", "maxLength": 127},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
    "additionalProperties": False,
}
ROW = FieldDef(key="what", type=FieldType.TEXT, label={}, path="", required=True)
OPTIONS = (Option("a", {}), Option("b", {}))

CASES: list[tuple[FieldType, dict[str, Any], dict[str, Any]]] = [
    (FieldType.TEXT, {}, {"type": "string", "maxLength": 200}),
    (
        FieldType.TEXT,
        {"min_length": 2, "max_length": 9, "pattern": "^a"},
        {"type": "string", "maxLength": 9, "minLength": 2, "pattern": "^a"},
    ),
    (FieldType.TEXTAREA, {}, {"type": "string", "maxLength": 5000}),
    (FieldType.RICH_TEXT, {}, {"type": "string", "maxLength": 100_000}),
    (
        FieldType.NUMBER,
        {"minimum": 0, "maximum": 9.5},
        {"type": "number", "minimum": 0, "maximum": 9.5},
    ),
    (FieldType.INTEGER, {}, {"type": "integer"}),
    (FieldType.MONEY, {"minimum": 0}, {"type": "number", "minimum": 0}),
    (FieldType.DATE, {}, {"type": "string", "format": "date"}),
    (FieldType.DATETIME, {}, {"type": "string", "format": "date-time"}),
    (FieldType.SELECT, {"options": OPTIONS}, {"type": "string", "enum": ["a", "b"]}),
    (FieldType.RADIO, {"options": OPTIONS}, {"type": "string", "enum": ["a", "b"]}),
    (
        FieldType.MULTI_SELECT,
        {"options": OPTIONS, "min_length": 1, "max_length": 2},
        {
            "type": "array",
            "items": {"type": "string", "enum": ["a", "b"]},
            "uniqueItems": True,
            "minItems": 1,
            "maxItems": 2,
        },
    ),
    (FieldType.CHECKBOX, {}, {"type": "boolean"}),
    (FieldType.USER, {}, {"type": "integer", "minimum": 1}),
    (FieldType.GROUP, {}, {"type": "integer", "minimum": 1}),
    (FieldType.REFERENCE, {}, {"type": "integer", "minimum": 1}),
    (FieldType.EMAIL, {}, {"type": "string", "format": "email", "maxLength": 254}),
    (FieldType.PHONE, {}, {"type": "string", "pattern": r"^\+?[0-9][0-9 \-]{4,19}$"}),
    (FieldType.ATTACHMENT, {}, ATTACHMENT),
    (FieldType.SIGNATURE, {}, ATTACHMENT),
    (
        FieldType.ATTACHMENTS,
        {"max_files": 3},
        {"type": "array", "items": ATTACHMENT, "maxItems": 3},
    ),
    (
        FieldType.SUB_TABLE,
        {"fields": (ROW,), "min_rows": 1, "max_rows": 0},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "what": {"type": "string", "maxLength": 200, "minLength": 1},
                    "_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$", "readOnly": True},
                },
                "required": ["what"],
                "additionalProperties": False,
            },
            "minItems": 1,
            "maxItems": 0,
        },
    ),
    (FieldType.FORMULA, {"result": "date"}, {"type": "string", "format": "date", "readOnly": True}),
    (FieldType.SERIAL, {}, {"type": "string", "maxLength": 100, "readOnly": True}),
]


def field(type_: FieldType, **options: Any) -> FieldDef:
    return FieldDef(key="f", type=type_, label={}, path="/fields/0", **options)


@pytest.mark.parametrize(
    ("type_", "options", "expected"),
    CASES,
    ids=[f"{t.value}-{i}" for i, (t, _, _) in enumerate(CASES)],
)
def test_a_field_type_gives_its_schema(
    type_: FieldType, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert field(type_, **options).json_schema() == expected


def test_every_field_type_has_a_schema_case() -> None:
    assert {t for t, _, _ in CASES} == set(FieldType)


@pytest.mark.parametrize(
    ("type_", "options", "added"),
    [
        (FieldType.TEXT, {"required": True}, {"minLength": 1}),
        (FieldType.TEXT, {"required": True, "min_length": 3}, {"minLength": 3}),
        (FieldType.ATTACHMENTS, {"required": True}, {"minItems": 1}),
        (FieldType.INTEGER, {"required": True}, {}),
        (FieldType.TEXT, {"required": True, "visible_when": {"var": "x"}}, {}),
        (FieldType.SERIAL, {"required": True}, {}),
        (FieldType.CHECKBOX, {"read_only": True}, {"readOnly": True}),
    ],
)
def test_required_and_read_only_add_to_the_schema_when_they_apply(
    type_: FieldType, options: dict[str, Any], added: dict[str, Any]
) -> None:
    plain = field(type_, **{k: v for k, v in options.items() if k == "min_length"}).json_schema()
    assert field(type_, **options).json_schema() == plain | added


def test_each_call_gives_a_schema_of_its_own() -> None:
    first = field(FieldType.DATE).json_schema()
    first["format"] = "changed"
    assert field(FieldType.DATE).json_schema()["format"] == "date"
