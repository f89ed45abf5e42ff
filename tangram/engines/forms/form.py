"""The compiled form: one JSON Schema for server and browser, validation, computation, permissions."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import jsonschema_rs

from tangram.engines.common import settle
from tangram.engines.forms.fields import (
    PHONE_PATTERN,
    ROW_ID,
    FieldDef,
    FieldType,
    row_schema,
    text,
    widget,
)
from tangram.engines.forms.messages import message
from tangram.engines.forms.projection import Projection, project
from tangram.engines.forms.serial import SerialPattern
from tangram.engines.logic import (
    CompiledLogic,
    EvalContext,
    LogicEvaluationError,
    referenced_variables,
    truthy,
)

Permission = Literal["editable", "read_only", "hidden"]
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True, order=True)
class FieldError:
    """One problem with a value: ``path`` like ``measures/2/owner``, a code and a message."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Plain-data form for the API."""
        return {"path": self.path, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Suggest:
    """``public.suggest``: the help center's articles (of ``form``) suggested on the intake page,
    found by the words of ``fields``."""

    form: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HelpCenter:
    """The ``help`` block: the form's records readable without signing in, those whose
    ``shown_field`` holds one of ``shown_values``."""

    title: str
    summary: str | None
    body: str
    facets: tuple[str, ...]
    shown_field: str
    shown_values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Computed:
    """The data after defaults, serial numbers and formulas, and formulas that failed."""

    data: dict[str, Any]
    errors: tuple[FieldError, ...] = ()


def _validator(schema: Mapping[str, Any]) -> Any:
    return jsonschema_rs.validator_for(dict(schema), validate_formats=True)


def schema_errors(schema: Mapping[str, Any], value: Any) -> bool:
    """Whether ``value`` breaks ``schema`` (used to check defaults at compile time)."""
    return not _validator(schema).is_valid(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _join(*parts: Any) -> str:
    return "/".join(str(p) for p in parts if p != "")


@dataclass(frozen=True, slots=True, eq=False)
class Form:
    """A compiled form definition (immutable; safe to share between threads)."""

    key: str
    label: Mapping[str, str]
    fields: tuple[FieldDef, ...]
    layout: Mapping[str, Any]
    logic: Mapping[str, CompiledLogic]
    formula_order: tuple[str, ...]
    row_formula_order: Mapping[str, tuple[str, ...]]
    #: The group field whose group a record belongs to (``options.group_field``), if any.
    group_field: str | None = None
    #: The field that names a record to people (``options.title_field``), if any.
    title_field: str | None = None
    #: The fields a customer sees on the record's public status page (``public.fields``);
    #: ``None`` when the form has no ``public`` block (its records have no public side).
    public_fields: tuple[str, ...] | None = None
    #: E-mail intake (the ``mail`` block as written, checked); ``None`` without one.
    mail: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    #: The intake page's article suggestions (``public.suggest``); ``None`` without them.
    suggest: Suggest | None = None
    #: The form's public help center (the ``help`` block); ``None`` without one.
    help: HelpCenter | None = None
    json_schema: dict[str, Any] = field(init=False)
    projection: Projection = field(init=False)
    by_key: Mapping[str, FieldDef] = field(init=False)
    #: Whether any field, sub-table fields included, is rich text (sanitised on every write).
    has_rich_text: bool = field(init=False)
    _validators: list[Any] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _conditional_top: tuple[FieldDef, ...] = field(init=False, repr=False)
    _conditional_rows: tuple[tuple[FieldDef, tuple[FieldDef, ...]], ...] = field(
        init=False, repr=False
    )
    _money_top: tuple[FieldDef, ...] = field(init=False, repr=False)
    _money_rows: tuple[tuple[FieldDef, tuple[FieldDef, ...]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        schema = {"$schema": SCHEMA_DIALECT, **row_schema(self.fields)}
        object.__setattr__(self, "json_schema", schema)
        object.__setattr__(self, "by_key", {f.key: f for f in self.fields})
        object.__setattr__(self, "projection", project(self.fields))
        object.__setattr__(
            self,
            "has_rich_text",
            any(f.type is FieldType.RICH_TEXT for f in self._all_fields()),
        )

        # Only these fields need checks the schema cannot express; everything else is the
        # compiled validator's job (so a valid document costs little more than the schema).
        def conditional(fields: Iterable[FieldDef]) -> tuple[FieldDef, ...]:
            return tuple(
                f
                for f in fields
                if not f.computed
                and (f.required_when is not None or (f.required and f.visible_when is not None))
            )

        def money(fields: Iterable[FieldDef]) -> tuple[FieldDef, ...]:
            """Fields whose values get a check the schema cannot make: money's decimals, and
            dates in year 0 (the format accepts them; no calendar or database does)."""
            return tuple(f for f in fields if f.type in _VALUE_CHECKED)

        object.__setattr__(self, "_conditional_top", conditional(self.fields))
        object.__setattr__(
            self,
            "_conditional_rows",
            tuple(
                (f, conditional(f.fields))
                for f in self.fields
                if f.fields and conditional(f.fields)
            ),
        )
        object.__setattr__(self, "_money_top", money(self.fields))
        object.__setattr__(
            self,
            "_money_rows",
            tuple((f, money(f.fields)) for f in self.fields if f.fields and money(f.fields)),
        )

    # --- what the platform needs to know -------------------------------------------------

    @property
    def reference_fields(self) -> tuple[FieldDef, ...]:
        """Fields holding record ids of other forms (the platform checks they exist)."""
        return tuple(f for f in self.fields if f.type is FieldType.REFERENCE)

    @property
    def serial_fields(self) -> tuple[FieldDef, ...]:
        """Serial-number fields (the platform draws their sequence numbers)."""
        return tuple(f for f in self.fields if f.type is FieldType.SERIAL)

    @property
    def unique_fields(self) -> tuple[FieldDef, ...]:
        """Fields whose values must not repeat across records (checked by the platform)."""
        return tuple(f for f in self.fields if f.unique)

    def serial_pattern(self, key: str) -> SerialPattern:
        """The parsed pattern of a serial-number field."""
        return SerialPattern.parse(self.by_key[key].serial or "")

    # --- the browser's view --------------------------------------------------------------

    def ui_schema(self, lang: str = "zh-CN") -> dict[str, Any]:
        """Widgets, order, layout, labels, help and placeholders for react-jsonschema-form."""
        ui: dict[str, Any] = {"ui:order": [f.key for f in self.fields]}
        for f in self.fields:
            ui[f.key] = _ui_field(f, lang)
        if self.layout:
            ui["ui:layout"] = {
                "sections": [
                    {**section, "title": text(section.get("title"), lang)}
                    for section in self.layout.get("sections", [])
                ]
            }
        ui["ui:title"] = text(self.label, lang)
        return ui

    def conditions(self) -> dict[str, dict[str, Any]]:
        """The visible-when / required-when expressions by field path, for the browser to evaluate."""
        out: dict[str, dict[str, Any]] = {}
        for f in self._all_fields():
            entry = {
                k: v
                for k, v in (
                    ("visible_when", f.visible_when),
                    ("required_when", f.required_when),
                    ("formula", f.formula),
                )
                if v is not None
            }
            if entry:
                out[f.path] = entry
        return out

    def _all_fields(self) -> Iterable[FieldDef]:
        for f in self.fields:
            yield f
            yield from f.fields

    # --- validation ----------------------------------------------------------------------

    def _schema_validator(self) -> Any:
        if self._validators:  # built: no lock on the hot path
            return self._validators[0]
        with self._lock:
            if not self._validators:
                self._validators.append(_validator(self.json_schema))
            return self._validators[0]

    def validate(
        self, data: Any, *, lang: str = "zh-CN", context: EvalContext | None = None
    ) -> list[FieldError]:
        """Every problem of ``data`` at once: types, limits, options, formats, unknown fields,
        required and required-when (for visible fields), sub-table rows and money precision."""
        if not isinstance(data, Mapping):
            return [FieldError("", "not_object", message("not_object", lang))]
        validator = self._schema_validator()
        document = data if isinstance(data, dict) else dict(data)
        found: list[FieldError] = []
        if not validator.is_valid(document):
            for error in validator.iter_errors(document):
                found.extend(self._translate(error, lang))
        if self._conditional_top or self._conditional_rows:
            self._conditional(data, lang, context, found)
        if self._money_top or self._money_rows:
            self._precision(data, lang, found)
        if not found:
            return []
        errors: dict[tuple[str, str], FieldError] = {}
        for error in found:  # the first of each (path, code)
            errors.setdefault((error.path, error.code), error)
        return sorted(errors.values(), key=lambda e: (self._order(e.path), e.path, e.code))

    def _order(self, path: str) -> int:
        head = path.split("/", 1)[0]
        keys = [f.key for f in self.fields]
        return keys.index(head) if head in keys else len(keys)

    def _field_at(self, path: list[Any]) -> FieldDef | None:
        names = [p for p in path if isinstance(p, str)]
        if not names:
            return None
        f = self.by_key.get(names[0])
        if f is not None and len(names) > 1 and f.fields:
            return next((s for s in f.fields if s.key == names[1]), None)
        return f

    def _translate(self, error: Any, lang: str) -> list[FieldError]:
        kind = error.kind
        name = kind.name
        path = list(error.instance_path)
        where = _join(*path)
        f = self._field_at(path)
        if name == "required":
            return [FieldError(_join(where, kind.property), "required", message("required", lang))]
        if name == "additionalProperties":
            return [
                FieldError(_join(where, k), "unknown", message("unknown", lang))
                for k in kind.unexpected
            ]
        if name == "type":
            wanted = kind.types[0] if kind.types else "object"
            return [FieldError(where, "type", message(f"type.{wanted}", lang))]
        if name == "format":
            return [FieldError(where, "format", message(f"format.{kind.format}", lang))]
        if name == "pattern":
            code = "pattern.phone" if kind.pattern == PHONE_PATTERN else "pattern"
            return [FieldError(where, "pattern", message(code, lang))]
        if name in {"minLength", "minItems"} and kind.limit == 1 and f is not None and f.required:
            return [FieldError(where, "required", message("required", lang))]
        if name in {"maxItems", "minItems"}:
            rows = f is not None and f.type is FieldType.SUB_TABLE and len(path) == 1
            return [
                FieldError(
                    where, name, message(name + (".rows" if rows else ""), lang, limit=kind.limit)
                )
            ]
        if name in {"maxLength", "minLength", "maximum", "minimum"}:
            return [FieldError(where, name, message(name, lang, limit=kind.limit))]
        if name in {"enum", "uniqueItems"}:
            return [FieldError(where, name, message(name, lang))]
        return [FieldError(where, "invalid", message("invalid", lang))]

    # The checks below append to one list rather than yield: on a valid document they find
    # nothing, and generators would cost more than the checks themselves.

    def _conditional(
        self, data: Mapping[str, Any], lang: str, context: EvalContext | None, out: list[FieldError]
    ) -> None:
        self._required(self._conditional_top, data, "", data, lang, context, out)
        for f, sub in self._conditional_rows:
            rows = data.get(f.key)
            if isinstance(rows, list):
                for index, row in enumerate(rows):
                    if isinstance(row, Mapping):
                        scoped = {**row, "$record": data}
                        self._required(sub, row, _join(f.key, index), scoped, lang, context, out)

    def _required(
        self,
        fields: Iterable[FieldDef],
        values: Mapping[str, Any],
        base: str,
        scope: Mapping[str, Any],
        lang: str,
        context: EvalContext | None,
        out: list[FieldError],
    ) -> None:
        for f in fields:
            if _empty(values.get(f.key)):  # cheap first: a filled field is never missing
                path = _join(base, f.key)
                if f.computed or not self._holds(
                    f, "visible_when", scope, context, path, lang, out
                ):
                    continue
                required = f.required
                if not required and f.required_when is not None:
                    required = self._holds(f, "required_when", scope, context, path, lang, out)
                if required:
                    out.append(FieldError(path, "required", message("required", lang)))

    def _holds(
        self,
        f: FieldDef,
        which: str,
        scope: Mapping[str, Any],
        context: EvalContext | None,
        path: str,
        lang: str,
        out: list[FieldError],
    ) -> bool:
        """Whether the field's ``visible_when`` / ``required_when`` holds (true when it has none).
        One that cannot be evaluated is the field's error: the field counts as shown, not as
        required (one error for it, not two)."""
        if getattr(f, which) is None:
            return True
        try:
            return truthy(self.logic[f"{f.path}/{which}"](scope, context))
        except LogicEvaluationError as exc:
            out.append(
                FieldError(path, "condition", message("condition", lang, detail=exc.message))
            )
            return which == "visible_when"

    def _visible(self, f: FieldDef, scope: Mapping[str, Any], context: EvalContext | None) -> bool:
        if f.visible_when is None:
            return True
        try:
            return truthy(self.logic[f"{f.path}/visible_when"](scope, context))
        except LogicEvaluationError:  # shown, so that someone sees what the condition hides
            return True

    def visible_fields(
        self, data: Mapping[str, Any], context: EvalContext | None = None
    ) -> list[str]:
        """Keys of the top-level fields visible for ``data``."""
        return [f.key for f in self.fields if self._visible(f, data, context)]

    def _precision(self, data: Mapping[str, Any], lang: str, out: list[FieldError]) -> None:
        for f in self._money_top:
            _check_value(f, data.get(f.key), f.key, lang, out)
        for f, sub in self._money_rows:
            rows = data.get(f.key)
            if isinstance(rows, list):
                for index, row in enumerate(rows):
                    if isinstance(row, Mapping):
                        for s in sub:
                            path = _join(f.key, index, s.key)
                            _check_value(s, row.get(s.key), path, lang, out)

    # --- computation ---------------------------------------------------------------------

    def compute(
        self,
        data: Mapping[str, Any],
        *,
        now: datetime,
        serials: Mapping[str, str] | None = None,
        context: EvalContext | None = None,
        lang: str = "zh-CN",
        defaults: bool = True,
        added_rows: frozenset[str] = frozenset(),
    ) -> Computed:
        """Defaults (``$now`` / ``$today`` allowed), serial numbers and formulas, before validation.

        Without ``defaults`` (an update), only the sub-table rows whose ``_id`` is in
        ``added_rows`` (rows the update adds) get their defaults.

        ``None`` means absent and is dropped. Formulas run in dependency order, row formulas per
        row (a row formula reads the row's fields and ``$record``). A formula that cannot be
        computed (e.g. a division by zero) leaves its field empty and is reported.
        """
        out = {k: v for k, v in data.items() if v is not None}
        errors: list[FieldError] = []
        if defaults:
            _apply_defaults(self.fields, out, now)
        for f in self.serial_fields:
            if f.key not in out and serials and f.key in serials:
                out[f.key] = serials[f.key]
        for f in self.fields:
            rows = out.get(f.key)
            if f.fields and isinstance(rows, list):
                new_rows = []
                for index, row in enumerate(rows):
                    if not isinstance(row, Mapping):
                        new_rows.append(row)
                        continue
                    clean = {k: v for k, v in row.items() if v is not None}
                    if defaults or clean.get(ROW_ID) in added_rows:
                        _apply_defaults(f.fields, clean, now)
                    scope_extra = {"$record": out}
                    for key in self.row_formula_order.get(f.key, ()):
                        sub = next(s for s in f.fields if s.key == key)
                        self._formula(
                            sub,
                            clean,
                            {**clean, **scope_extra},
                            _join(f.key, index, key),
                            context,
                            lang,
                            errors,
                        )
                    new_rows.append(clean)
                out[f.key] = new_rows
        for key in self.formula_order:
            self._formula(self.by_key[key], out, out, key, context, lang, errors)
        return Computed(out, tuple(errors))

    def _formula(
        self,
        f: FieldDef,
        target: dict[str, Any],
        scope: Mapping[str, Any],
        path: str,
        context: EvalContext | None,
        lang: str,
        errors: list[FieldError],
    ) -> None:
        target.pop(f.key, None)
        try:
            value = self.logic[f"{f.path}/formula"](scope, context)
        except LogicEvaluationError as exc:
            errors.append(FieldError(path, "formula", message("formula", lang, detail=exc.message)))
            return
        if value is None:
            return
        if f.result in {"number", "integer"}:
            if isinstance(value, bool) or not isinstance(value, int | float):
                from tangram.engines.logic.semantics import number

                value = number(value)
            if isinstance(value, float) and not math.isfinite(value):
                # Empty inputs leave the result empty; filled ones that give no number are an error.
                if all(not _empty(scope.get(v)) for v in referenced_variables(f.formula)):
                    errors.append(FieldError(path, "formula", message("formula.not_finite", lang)))
                return
            if f.result == "integer":
                value = round(value)
            elif isinstance(value, float):
                # the decimal the float stands for (0.1 + 0.2 is 0.3), at the field's precision
                # when it names one
                value = settle(value, f.raw.get("precision"))
        elif f.result == "text":
            from tangram.engines.logic.semantics import string

            value = string(value)
        elif f.result == "boolean":
            value = truthy(value)
        target[f.key] = value

    # --- permissions ---------------------------------------------------------------------

    def restrict(
        self, data: Mapping[str, Any], permissions: Mapping[str, Permission]
    ) -> dict[str, Any]:
        """``data`` without the fields the permission map hides (fields not named are editable)."""
        return {k: v for k, v in data.items() if permissions.get(k) != "hidden"}

    def check_write(
        self,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any],
        permissions: Mapping[str, Permission] | None = None,
        *,
        lang: str = "zh-CN",
        flow: bool = False,
    ) -> list[FieldError]:
        """Refuse changes to computed fields, read-only fields, fields the map does not let
        this writer edit and, unless the writer is a ``flow`` (or acts for one), flow-only
        fields. Unchanged values are always allowed (clients send whole documents), and so are a
        new record's empty fields and defaults."""
        permissions = permissions or {}
        before = old or {}
        errors = []
        for f in self.fields:
            if f.key not in new or new.get(f.key) == before.get(f.key):
                continue
            if old is None and (_empty(new[f.key]) or new[f.key] == f.default):
                continue  # a new record's form sends empty fields and defaults: no write
            level = permissions.get(f.key, "editable")
            if f.computed:
                errors.append(FieldError(f.key, "computed", message("computed", lang)))
            elif f.flow_only and not flow:
                errors.append(
                    FieldError(f.key, "permission.flow_only", message("permission.flow_only", lang))
                )
            elif level == "hidden":
                errors.append(
                    FieldError(f.key, "permission.hidden", message("permission.hidden", lang))
                )
            elif level == "read_only" or f.read_only:
                errors.append(
                    FieldError(f.key, "permission.read_only", message("permission.read_only", lang))
                )
        return errors


def _too_precise(value: float, precision: int) -> bool:
    """Whether ``value`` has more decimals than ``precision`` as written: the shortest repr
    (``0.07``, not the binary ``0.07000000000000000666``), the way people typed it."""
    text = repr(value)
    if "e" in text or "." not in text:  # 1e-07, 1e+16, inf, nan
        try:
            exponent = Decimal(text).as_tuple().exponent
        except InvalidOperation:
            return False
        return isinstance(exponent, int) and -exponent > precision
    return len(text) - text.index(".") - 1 > precision


_VALUE_CHECKED = frozenset({FieldType.MONEY, FieldType.DATE, FieldType.DATETIME})


def _check_value(f: FieldDef, value: Any, path: str, lang: str, out: list[FieldError]) -> None:
    """A money value with more decimals than its field allows, or a date in year 0, is an error
    at ``path``."""
    if f.type is FieldType.MONEY:
        if isinstance(value, float) and _too_precise(value, f.precision):
            out.append(FieldError(path, "precision", message("precision", lang, limit=f.precision)))
    elif isinstance(value, str) and value.startswith("0000"):
        kind = "format.date" if f.type is FieldType.DATE else "format.date-time"
        out.append(FieldError(path, "format", message(kind, lang)))


def _apply_defaults(fields: Iterable[FieldDef], out: dict[str, Any], now: datetime) -> None:
    for f in fields:
        if f.key in out or f.default is None or f.computed:
            continue
        if f.default == "$now" and f.type is FieldType.DATETIME:
            out[f.key] = now.isoformat()
        elif f.default == "$today" and f.type is FieldType.DATE:
            out[f.key] = now.date().isoformat()
        else:
            out[f.key] = f.default


def _ui_field(f: FieldDef, lang: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"ui:title": text(f.label, lang)}
    chosen = widget(f)
    if chosen:
        entry["ui:widget"] = chosen
    if f.help:
        entry["ui:help"] = text(f.help, lang)
    if f.placeholder:
        entry["ui:placeholder"] = text(f.placeholder, lang)
    if f.read_only or f.computed:
        entry["ui:readonly"] = True
    if f.options:
        entry["ui:enumNames"] = [text(o.label, lang) for o in f.options]
    options: dict[str, Any] = {}
    if f.type is FieldType.MONEY:
        options.update(precision=f.precision, currency=f.currency)
    if f.type is FieldType.REFERENCE:
        options.update(form=f.reference_form, display=f.reference_display)
    if f.type in {FieldType.ATTACHMENT, FieldType.ATTACHMENTS, FieldType.SIGNATURE}:
        options.update(accept=list(f.accept), max_size=f.max_size)
    if options:
        entry["ui:options"] = options
    if f.fields:
        entry["items"] = {
            "ui:order": [s.key for s in f.fields],
            **{s.key: _ui_field(s, lang) for s in f.fields},
            ROW_ID: {"ui:widget": "hidden"},
        }
    return entry
