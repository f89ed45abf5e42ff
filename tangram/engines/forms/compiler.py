"""``compile_form``: check a form definition completely and build a :class:`Form`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms.fields import (
    OPTION_TYPES,
    TEXT_TYPES,
    FieldDef,
    FieldType,
    Option,
)
from tangram.engines.forms.form import Form, HelpCenter, Suggest
from tangram.engines.forms.serial import SerialPattern, SerialPatternError
from tangram.engines.logic import CompiledLogic, VariableSpec, compile_logic, referenced_variables
from tangram.engines.meta import validate_definition

#: What a referenced form looks like to the checker: its field keys.
FormCatalog = Mapping[str, Iterable[str]]


#: Field keys a form may not use: names JavaScript objects already have, the record's id, and SQL
#: words that projections, filters and exports would have to tiptoe around.
RESERVED_KEYS = frozenset(
    {
        "constructor",
        "prototype",
        "id",
        "select",
        "insert",
        "update",
        "delete",
        "from",
        "where",
        "table",
        "order",
        "null",
        "true",
        "false",
    }
)


class _Checker:
    def __init__(self, forms: FormCatalog | None) -> None:
        self.forms = forms
        self.diagnostics: list[Diagnostic] = []

    def problem(self, path: str, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(path, code, message))

    def fields(self, raw: list[dict[str, Any]], base: str, *, in_row: bool) -> tuple[FieldDef, ...]:
        seen: set[str] = set()
        out = []
        for index, item in enumerate(raw):
            path = f"{base}/{index}"
            key = item["key"]
            if key in seen:
                self.problem(
                    f"{path}/key", "form.field.duplicate", f"the key {key!r} is used twice"
                )
            if key in RESERVED_KEYS:
                self.problem(
                    f"{path}/key",
                    "form.field.reserved",
                    f"{key!r} is reserved (JavaScript object members, record ids and SQL words "
                    "would be mistaken for it): choose another key",
                )
            seen.add(key)
            out.append(self.field(item, path, in_row=in_row))
        return tuple(out)

    def field(self, raw: Mapping[str, Any], path: str, *, in_row: bool) -> FieldDef:
        t = FieldType(raw["type"])
        options = tuple(
            Option(str(o["value"]), o.get("label", {"zh-CN": str(o["value"])}))
            for o in raw.get("options", [])
        )
        if t in OPTION_TYPES:
            values = [o.value for o in options]
            if not values:
                self.problem(f"{path}/options", "form.options.missing", "give at least one option")
            elif len(set(values)) != len(values):
                self.problem(
                    f"{path}/options", "form.options.duplicate", "option values must differ"
                )
        sub: tuple[FieldDef, ...] = ()
        if t is FieldType.SUB_TABLE:
            if in_row:
                self.problem(
                    f"{path}/type", "form.sub_table.nested", "a sub-table cannot hold a sub-table"
                )
            elif not raw.get("fields"):
                self.problem(f"{path}/fields", "form.sub_table.empty", "a sub-table needs fields")
            else:
                sub = self.fields(raw["fields"], f"{path}/fields", in_row=True)
        reference = raw.get("reference") or {}
        if t is FieldType.REFERENCE:
            self._reference(reference, path)
        if t is FieldType.FORMULA and "formula" not in raw:
            self.problem(
                f"{path}/formula", "form.formula.missing", "a formula field needs a formula"
            )
        serial = raw.get("serial")
        if t is FieldType.SERIAL:
            try:
                SerialPattern.parse(serial or "")
            except SerialPatternError as exc:
                self.problem(f"{path}/serial", "form.serial.invalid", str(exc))
        if raw.get("gapless") and t is not FieldType.SERIAL:
            self.problem(
                f"{path}/gapless",
                "form.gapless.not_serial",
                "only a serial-number field draws numbers without gaps",
            )
        for low, high, name in (
            ("min", "max", "range"),
            ("min_length", "max_length", "length"),
            ("min_rows", "max_rows", "rows"),
        ):
            if raw.get(low) is not None and raw.get(high) is not None and raw[low] > raw[high]:
                self.problem(
                    f"{path}/{low}", f"form.{name}.invalid", f"{low} is greater than {high}"
                )
        if raw.get("pattern") is not None:
            try:
                re.compile(raw["pattern"])
            except re.error as exc:
                self.problem(f"{path}/pattern", "form.pattern.invalid", f"invalid pattern: {exc}")
        return FieldDef(
            key=raw["key"],
            type=t,
            label=raw["label"],
            path=path,
            required=bool(raw.get("required", False)),
            default=raw.get("default"),
            minimum=raw.get("min"),
            maximum=raw.get("max"),
            min_length=raw.get("min_length"),
            max_length=raw.get("max_length"),
            pattern=raw.get("pattern"),
            help=raw.get("help"),
            placeholder=raw.get("placeholder"),
            unique=bool(raw.get("unique", False)),
            indexed=bool(raw.get("indexed", False)),
            read_only=bool(raw.get("read_only", False)),
            flow_only=bool(raw.get("flow_only", False)),
            visible_when=raw.get("visible_when"),
            required_when=raw.get("required_when"),
            options=options,
            reference_form=reference.get("form"),
            reference_display=reference.get("display"),
            fields=sub,
            min_rows=raw.get("min_rows"),
            max_rows=raw.get("max_rows"),
            formula=raw.get("formula"),
            result=raw.get("result", "number"),
            serial=serial,
            gapless=bool(raw.get("gapless", False)),
            precision=int(raw.get("precision", 2)),
            currency=raw.get("currency", "CNY"),
            accept=tuple(raw.get("accept", ())),
            max_size=raw.get("max_size"),
            max_files=raw.get("max_files"),
            raw=dict(raw),
        )

    def _reference(self, reference: Mapping[str, Any], path: str) -> None:
        target = reference.get("form")
        if not target:
            self.problem(
                f"{path}/reference",
                "form.reference.missing",
                'a reference field needs {"form": ..., "display": ...}',
            )
            return
        if self.forms is None:
            return
        if target not in self.forms:
            self.problem(
                f"{path}/reference/form",
                "form.reference.unknown_form",
                f"there is no form {target!r} in this app",
            )
            return
        display = reference.get("display")
        if display and display not in set(self.forms[target]):
            self.problem(
                f"{path}/reference/display",
                "form.reference.unknown_field",
                f"form {target!r} has no field {display!r}",
            )

    def defaults(self, fields: tuple[FieldDef, ...]) -> None:
        from tangram.engines.forms.form import schema_errors  # the validator lives beside Form

        for f in fields:
            if f.default is None:
                continue
            if f.computed:
                self.problem(
                    f"{f.path}/default",
                    "form.default.computed",
                    "formula and serial-number fields take no default",
                )
                continue
            if f.type in OPTION_TYPES:
                values = {o.value for o in f.options}
                chosen = f.default if isinstance(f.default, list) else [f.default]
                outside = [v for v in chosen if v not in values]
                if outside:
                    self.problem(
                        f"{f.path}/default",
                        "form.default.not_an_option",
                        f"{outside[0]!r} is not one of the options",
                    )
                    continue
            if f.default in ("$now", "$today") and f.type in {FieldType.DATETIME, FieldType.DATE}:
                continue
            if schema_errors(f.json_schema(), f.default):
                self.problem(
                    f"{f.path}/default",
                    "form.default.invalid",
                    f"the default does not fit a {f.type.value} field",
                )
            self.defaults(f.fields)

    def expressions(
        self, fields: tuple[FieldDef, ...], spec: VariableSpec, compiled: dict[str, CompiledLogic]
    ) -> None:
        for f in fields:
            for name in ("visible_when", "required_when", "formula"):
                expression = getattr(f, name)
                if expression is None:
                    continue
                try:
                    compiled[f"{f.path}/{name}"] = compile_logic(
                        expression, variables=spec, strict=True
                    )
                except DefinitionError as exc:
                    for d in exc.diagnostics:
                        self.problem(f"{f.path}/{name}{d.path}", d.code, d.message)
            if f.fields:
                row_spec = VariableSpec(
                    fields=frozenset(s.key for s in f.fields) | {"$record"}, context=spec.context
                )
                self.expressions(f.fields, row_spec, compiled)

    def formula_order(self, fields: tuple[FieldDef, ...]) -> tuple[str, ...]:
        """Formula keys in dependency order; cycles are reported."""
        formulas = {
            f.key: f for f in fields if f.type is FieldType.FORMULA and f.formula is not None
        }
        deps = {k: referenced_variables(f.formula) & set(formulas) for k, f in formulas.items()}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(key: str, trail: list[str]) -> None:
            if state.get(key) == 2:
                return
            if state.get(key) == 1:
                cycle = [*trail[trail.index(key) :], key]
                self.problem(
                    f"{formulas[key].path}/formula",
                    "form.formula.cycle",
                    "formulas depend on each other in a cycle: " + " → ".join(cycle),
                )
                return
            state[key] = 1
            for dep in sorted(deps[key]):
                visit(dep, [*trail, key])
            state[key] = 2
            order.append(key)

        for key in formulas:
            visit(key, [])
        return tuple(order)

    def layout(self, layout: Mapping[str, Any] | None, keys: set[str]) -> None:
        if not layout:
            return
        placed: set[str] = set()
        for s_index, section in enumerate(layout.get("sections", [])):
            for f_index, key in enumerate(section.get("fields", [])):
                where = f"/layout/sections/{s_index}/fields/{f_index}"
                if key not in keys:
                    self.problem(where, "form.layout.unknown_field", f"there is no field {key!r}")
                elif key in placed:
                    self.problem(where, "form.layout.duplicate", f"{key!r} is placed twice")
                placed.add(key)


def compile_form(definition: Mapping[str, Any], *, forms: FormCatalog | None = None) -> Form:
    """Check ``definition`` completely and compile it.

    ``forms`` maps the app's other form keys to their field keys, so references can be checked;
    without it, reference targets are not checked. Raises :class:`DefinitionError` listing every
    problem (meta-schema, duplicate keys, options and defaults, patterns, serial patterns,
    references, layout, and every expression: unknown fields, limits, formula cycles).
    """
    diagnostics = validate_definition("form", definition)
    if diagnostics:
        raise DefinitionError(diagnostics)
    checker = _Checker(forms)
    fields = checker.fields(list(definition["fields"]), "/fields", in_row=False)
    checker.defaults(fields)
    keys = {f.key for f in fields}
    tables = {f.key: frozenset(s.key for s in f.fields) for f in fields if f.fields}
    spec = VariableSpec(fields=frozenset(keys), tables=tables)
    compiled: dict[str, CompiledLogic] = {}
    checker.expressions(fields, spec, compiled)
    order = checker.formula_order(fields)
    row_orders = {f.key: checker.formula_order(f.fields) for f in fields if f.fields}
    checker.layout(definition.get("layout"), keys)
    options = definition.get("options") or {}
    by_key = {f.key: f for f in fields}
    for name, kinds in (("title_field", None), ("group_field", (FieldType.GROUP,))):
        named = options.get(name)
        if named is None:
            continue
        found = by_key.get(named)
        if found is None:
            checker.problem(f"/options/{name}", "form.options.field", f"no field {named!r}")
        elif kinds is not None and found.type not in kinds:
            checker.problem(
                f"/options/{name}", "form.options.field", f"{named!r} is not a group field"
            )
    for i, named in enumerate(options.get("summary_fields") or []):
        if named not in by_key:
            checker.problem(
                f"/options/summary_fields/{i}", "form.options.field", f"no field {named!r}"
            )
    public = _public_fields(definition.get("public"), by_key, checker)
    mail = _mail_intake(definition.get("mail"), by_key, checker)
    if mail is not None and public is None:
        checker.problem(
            "/mail", "form.mail.public", "e-mail intake needs a public block (the status link)"
        )
    suggest = _suggest(definition.get("public"), by_key, forms, checker)
    help_center = _help_center(definition.get("help"), by_key, checker)
    if checker.diagnostics:
        raise DefinitionError(checker.diagnostics)
    return Form(
        key=definition["key"],
        label=definition["label"],
        fields=fields,
        layout=definition.get("layout") or {},
        logic=compiled,
        formula_order=order,
        row_formula_order=row_orders,
        group_field=options.get("group_field"),
        title_field=options.get("title_field"),
        public_fields=public,
        mail=mail,
        suggest=suggest,
        help=help_center,
    )


#: Field types a status page cannot show as a value (sub-tables, signatures).
_NOT_PUBLIC = (FieldType.SUB_TABLE, FieldType.SIGNATURE)


def _public_fields(
    raw: Mapping[str, Any] | None, by_key: Mapping[str, FieldDef], checker: _Checker
) -> tuple[str, ...] | None:
    """The fields the ``public`` block shows a customer: top-level fields of the form that read
    as a value (not sub-tables or signatures). ``None`` without a block."""
    if raw is None:
        return None
    keys = list(raw.get("fields", []))
    for index, key in enumerate(keys):
        found = by_key.get(key)
        if found is None:
            checker.problem(f"/public/fields/{index}", "form.public.field", f"no field {key!r}")
        elif found.type in _NOT_PUBLIC:
            checker.problem(
                f"/public/fields/{index}",
                "form.public.field",
                f"{key!r} is a {found.type.value} field: a status page cannot show it",
            )
    return tuple(keys)


#: What each slot of the ``mail`` block may name: the field types that can take that value.
_MAIL_SLOTS: dict[str, frozenset[FieldType]] = {
    "subject": frozenset({FieldType.TEXT, FieldType.TEXTAREA}),
    "body": frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT}),
    "attachments": frozenset({FieldType.ATTACHMENT, FieldType.ATTACHMENTS}),
    "sender": frozenset({FieldType.EMAIL, FieldType.TEXT}),
    "sender_name": frozenset({FieldType.TEXT}),
}


def _check_slots(
    raw: Mapping[str, Any],
    slots: Mapping[str, frozenset[FieldType]],
    where: str,
    code: str,
    by_key: Mapping[str, FieldDef],
    checker: _Checker,
) -> None:
    """Each slot of a form-level block (``mail``, ``help``: at ``where``) that is set names a
    top-level field of a type that can take it; ``code`` for those that do not."""
    for slot, kinds in slots.items():
        key = raw.get(slot)
        if key is None:
            continue
        found = by_key.get(key)
        if found is None:
            checker.problem(f"{where}/{slot}", code, f"no field {key!r}")
        elif found.type not in kinds:
            wanted = ", ".join(sorted(k.value for k in kinds))
            checker.problem(
                f"{where}/{slot}",
                code,
                f"{key!r} is a {found.type.value} field; {slot} needs one of: {wanted}",
            )


def _mail_intake(
    raw: Mapping[str, Any] | None, by_key: Mapping[str, FieldDef], checker: _Checker
) -> dict[str, Any] | None:
    """The ``mail`` block (e-mail intake), its fields checked against the form: each slot names
    a top-level field of a type that can take it, fixed ``values`` name fields, and the customer
    match names a reference field. ``None`` without a block. (The matched form's e-mail field
    is checked by the platform when mail arrives: this form may be compiled alone.)"""
    if raw is None:
        return None
    _check_slots(raw, _MAIL_SLOTS, "/mail", "form.mail.field", by_key, checker)
    for key in raw.get("values") or {}:
        if key not in by_key:
            checker.problem(f"/mail/values/{key}", "form.mail.field", f"no field {key!r}")
    customer = raw.get("customer")
    if customer is not None:
        ref = by_key.get(customer["field"])
        if ref is None or ref.type is not FieldType.REFERENCE:
            checker.problem(
                "/mail/customer/field",
                "form.mail.field",
                f"{customer['field']!r} is not a reference field",
            )
        elif ref.reference_form is not None and ref.reference_form != customer["form"]:
            checker.problem(
                "/mail/customer/form",
                "form.mail.field",
                f"{customer['field']!r} refers to {ref.reference_form!r}, not {customer['form']!r}",
            )
    return dict(raw)


def _suggest(
    public: Mapping[str, Any] | None,
    by_key: Mapping[str, FieldDef],
    forms: FormCatalog | None,
    checker: _Checker,
) -> Suggest | None:
    """The intake page's suggestions (``public.suggest``): the articles' form (checked against
    the app's forms when they are known; whether it has a help block is the platform's to check,
    as this form may be compiled alone) and the text fields whose words find them."""
    raw = (public or {}).get("suggest")
    if raw is None:
        return None
    if forms is not None and raw["form"] not in forms:
        checker.problem("/public/suggest/form", "form.public.suggest", f"no form {raw['form']!r}")
    for index, key in enumerate(raw["from"]):
        found = by_key.get(key)
        if found is None or found.type not in TEXT_TYPES:
            checker.problem(
                f"/public/suggest/from/{index}",
                "form.public.suggest",
                f"{key!r} is not a text field of this form",
            )
    return Suggest(form=raw["form"], fields=tuple(raw["from"]))


#: What each slot of the ``help`` block may name.
_HELP_SLOTS: dict[str, frozenset[FieldType]] = {
    "title": frozenset({FieldType.TEXT}),
    "summary": frozenset({FieldType.TEXT, FieldType.TEXTAREA}),
    "body": frozenset({FieldType.TEXTAREA, FieldType.RICH_TEXT}),
}


def _help_center(
    raw: Mapping[str, Any] | None, by_key: Mapping[str, FieldDef], checker: _Checker
) -> HelpCenter | None:
    """The ``help`` block: its slots name top-level fields of fitting types, its facets and its
    ``shown_when`` field are single-choice fields, and ``shown_when``'s values are options of
    that field. ``None`` without a block."""
    if raw is None:
        return None
    _check_slots(raw, _HELP_SLOTS, "/help", "form.help.field", by_key, checker)
    choice = (FieldType.SELECT, FieldType.RADIO)
    for index, key in enumerate(raw.get("facets") or []):
        found = by_key.get(key)
        if found is None or found.type not in choice:
            checker.problem(
                f"/help/facets/{index}",
                "form.help.field",
                f"{key!r} is not a select or radio field of this form",
            )
    when = raw["shown_when"]
    found = by_key.get(when["field"])
    if found is None or found.type not in choice:
        checker.problem(
            "/help/shown_when/field",
            "form.help.field",
            f"{when['field']!r} is not a select or radio field of this form",
        )
    else:
        values = {o.value for o in found.options}
        for index, value in enumerate(when["values"]):
            if value not in values:
                checker.problem(
                    f"/help/shown_when/values/{index}",
                    "form.help.field",
                    f"{value!r} is not an option of {when['field']!r}",
                )
    return HelpCenter(
        title=raw["title"],
        summary=raw.get("summary"),
        body=raw["body"],
        facets=tuple(raw.get("facets") or ()),
        shown_field=when["field"],
        shown_values=tuple(when["values"]),
    )
