"""Field types: what each stores, its JSON Schema fragment and its default widget."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """Every field type a form can hold."""

    TEXT = "text"
    TEXTAREA = "textarea"
    RICH_TEXT = "rich_text"
    NUMBER = "number"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    RADIO = "radio"
    CHECKBOX = "checkbox"
    USER = "user"
    GROUP = "group"
    EMAIL = "email"
    PHONE = "phone"
    ATTACHMENT = "attachment"
    ATTACHMENTS = "attachments"
    REFERENCE = "reference"
    SUB_TABLE = "sub_table"
    FORMULA = "formula"
    SIGNATURE = "signature"
    SERIAL = "serial"


#: Default longest text per type (a definition may set ``max_length`` lower or higher).
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 200, FieldType.TEXTAREA: 5000, FieldType.RICH_TEXT: 100_000}
#: A phone number: optional +, then digits, spaces and dashes (5 to 20 characters).
PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{4,19}$"
OPTION_TYPES = frozenset({FieldType.SELECT, FieldType.MULTI_SELECT, FieldType.RADIO})
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT})
NUMERIC_TYPES = frozenset({FieldType.NUMBER, FieldType.INTEGER, FieldType.MONEY})
FILE_TYPES = frozenset({FieldType.ATTACHMENT, FieldType.ATTACHMENTS, FieldType.SIGNATURE})
#: Types whose value the platform or the engine writes, never the user.
COMPUTED_TYPES = frozenset({FieldType.FORMULA, FieldType.SERIAL})
FORMULA_RESULTS = ("number", "integer", "text", "boolean", "date", "datetime")

_WIDGETS = {
    FieldType.TEXTAREA: "textarea",
    FieldType.RICH_TEXT: "richtext",
    FieldType.MONEY: "money",
    FieldType.SELECT: "select",
    FieldType.MULTI_SELECT: "checkboxes",
    FieldType.RADIO: "radio",
    FieldType.CHECKBOX: "checkbox",
    FieldType.USER: "user",
    FieldType.GROUP: "group",
    FieldType.EMAIL: "email",
    FieldType.PHONE: "phone",
    FieldType.ATTACHMENT: "file",
    FieldType.ATTACHMENTS: "files",
    FieldType.SIGNATURE: "signature",
    FieldType.REFERENCE: "reference",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.FORMULA: "formula",
    FieldType.SERIAL: "serial",
}

_ATTACHMENT_SCHEMA: dict[str, Any] = {
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


def text(value: Any, lang: str) -> str:
    """The text of an i18n value in ``lang`` (falling back to zh-CN)."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("zh-CN") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select, multi-select or radio field."""

    value: str
    label: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class FieldDef:
    """A field of a form, parsed from its definition."""

    key: str
    type: FieldType
    label: Mapping[str, str]
    path: str
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    help: Mapping[str, str] | None = None
    placeholder: Mapping[str, str] | None = None
    unique: bool = False
    indexed: bool = False
    read_only: bool = False
    #: Only flows (tasks, automation) and rules write it, not a user's plain write.
    flow_only: bool = False
    visible_when: Any = None
    required_when: Any = None
    options: tuple[Option, ...] = ()
    reference_form: str | None = None
    reference_display: str | None = None
    fields: tuple[FieldDef, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    formula: Any = None
    result: str = "number"
    serial: str | None = None
    #: A serial field whose numbers have no gaps: drawn in the record's own transaction.
    gapless: bool = False
    precision: int = 2
    currency: str = "CNY"
    accept: tuple[str, ...] = ()
    max_size: int | None = None
    max_files: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def computed(self) -> bool:
        """Whether the platform or the engine writes this field (formula, serial number)."""
        return self.type in COMPUTED_TYPES

    def json_schema(self) -> dict[str, Any]:
        """The draft 2020-12 fragment validating this field's value (``null`` means absent)."""
        schema = _SCHEMAS[self.type](self)
        if self.required and not self.visible_when and not self.computed:
            # Required means non-empty, not merely present: "" and [] are refused by the schema
            # too (the engine reports them as "required").
            if schema.get("type") == "string":
                schema["minLength"] = max(int(schema.get("minLength", 0)), 1)
            elif schema.get("type") == "array":
                schema["minItems"] = max(int(schema.get("minItems", 0)), 1)
        if self.read_only:
            schema["readOnly"] = True
        return schema


# --- the JSON Schema of each field type ---------------------------------------------------------


def _text_schema(f: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": f.max_length or DEFAULT_MAX_LENGTH[f.type],
    }
    if f.min_length:
        schema["minLength"] = f.min_length
    if f.pattern:
        schema["pattern"] = f.pattern
    return schema


def _number_schema(f: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if f.type is FieldType.INTEGER else "number"}
    if f.minimum is not None:
        schema["minimum"] = f.minimum
    if f.maximum is not None:
        schema["maximum"] = f.maximum
    return schema


def _choice_schema(f: FieldDef) -> dict[str, Any]:
    return {"type": "string", "enum": [o.value for o in f.options]}


def _choices_schema(f: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"type": "string", "enum": [o.value for o in f.options]},
        "uniqueItems": True,
    }
    if f.min_length:
        schema["minItems"] = f.min_length
    if f.max_length:
        schema["maxItems"] = f.max_length
    return schema


def _attachments_schema(f: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": _ATTACHMENT_SCHEMA}
    if f.max_files:
        schema["maxItems"] = f.max_files
    return schema


def _sub_table_schema(f: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": row_schema(f.fields, rows=True)}
    if f.min_rows:
        schema["minItems"] = f.min_rows
    if f.max_rows is not None:
        schema["maxItems"] = f.max_rows
    return schema


def _formula_schema(f: FieldDef) -> dict[str, Any]:
    return _result_schema(f.result) | {"readOnly": True}


def _fixed(schema: Mapping[str, Any]) -> Callable[[FieldDef], dict[str, Any]]:
    """A type whose schema does not depend on the field (a fresh copy each time)."""
    return lambda _f: dict(schema)


_SCHEMAS: dict[FieldType, Callable[[FieldDef], dict[str, Any]]] = {
    FieldType.TEXT: _text_schema,
    FieldType.TEXTAREA: _text_schema,
    FieldType.RICH_TEXT: _text_schema,
    FieldType.NUMBER: _number_schema,
    FieldType.INTEGER: _number_schema,
    FieldType.MONEY: _number_schema,
    FieldType.DATE: _fixed({"type": "string", "format": "date"}),
    FieldType.DATETIME: _fixed({"type": "string", "format": "date-time"}),
    FieldType.SELECT: _choice_schema,
    FieldType.RADIO: _choice_schema,
    FieldType.MULTI_SELECT: _choices_schema,
    FieldType.CHECKBOX: _fixed({"type": "boolean"}),
    FieldType.USER: _fixed({"type": "integer", "minimum": 1}),
    FieldType.GROUP: _fixed({"type": "integer", "minimum": 1}),
    FieldType.REFERENCE: _fixed({"type": "integer", "minimum": 1}),
    FieldType.EMAIL: _fixed({"type": "string", "format": "email", "maxLength": 254}),
    FieldType.PHONE: _fixed({"type": "string", "pattern": PHONE_PATTERN}),
    FieldType.ATTACHMENT: _fixed(_ATTACHMENT_SCHEMA),
    FieldType.SIGNATURE: _fixed(_ATTACHMENT_SCHEMA),
    FieldType.ATTACHMENTS: _attachments_schema,
    FieldType.SUB_TABLE: _sub_table_schema,
    FieldType.FORMULA: _formula_schema,
    FieldType.SERIAL: _fixed({"type": "string", "maxLength": 100, "readOnly": True}),
}


def _result_schema(result: str) -> dict[str, Any]:
    return {
        "number": {"type": "number"},
        "integer": {"type": "integer"},
        "text": {"type": "string"},
        "boolean": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "datetime": {"type": "string", "format": "date-time"},
    }[result]


#: The key of a sub-table row's identity in the record document (assigned by the platform).
ROW_ID = "_id"
#: What a row id looks like.
ROW_ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{1,32}$",
    "readOnly": True,
}


def row_schema(fields: tuple[FieldDef, ...], *, rows: bool = False) -> dict[str, Any]:
    """The object schema of a record (or, with ``rows``, of a sub-table row, which also carries
    its identity ``_id``) with these fields."""
    properties = {f.key: f.json_schema() for f in fields}
    if rows:
        properties[ROW_ID] = dict(ROW_ID_SCHEMA)
    return {
        "type": "object",
        "properties": properties,
        "required": [f.key for f in fields if f.required and not f.visible_when and not f.computed],
        "additionalProperties": False,
    }


def widget(f: FieldDef) -> str | None:
    """The rjsf widget name the browser uses for this field (None: the default for its type)."""
    return _WIDGETS.get(f.type)


def map_values(
    fields: tuple[FieldDef, ...],
    data: Mapping[str, Any],
    fn: Callable[[str, FieldDef, Any], Any],
    prefix: str = "",
) -> dict[str, Any]:
    """A copy of ``data`` where every present value of a non-sub-table field is ``fn(path, field,
    value)``, sub-table rows included (paths like ``measures/2/owner``); ``data`` is not changed."""
    out = dict(data)
    for f in fields:
        if f.key not in out:
            continue
        value = out[f.key]
        path = f"{prefix}{f.key}"
        if f.type is FieldType.SUB_TABLE:
            if isinstance(value, list):
                out[f.key] = [
                    map_values(f.fields, row, fn, f"{path}/{i}/")
                    if isinstance(row, Mapping)
                    else row
                    for i, row in enumerate(value)
                ]
        else:
            out[f.key] = fn(path, f, value)
    return out
