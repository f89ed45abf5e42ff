"""Compile-time checks, computation (defaults, serials, formulas), permissions and the UI schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.forms import Form, SerialPattern, SerialPatternError, compile_form
from tests.unit.engines.forms.conftest import ticket_definition, valid_ticket, zh

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def problems(definition: dict[str, Any], **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_form(definition, **kw)
    return [(d.path, d.code) for d in caught.value.diagnostics]


def form_with(*fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": "f", "label": zh("表单"), "fields": list(fields), **extra}


def test_static_checks_report_every_problem_with_its_path() -> None:
    definition = form_with(
        {"key": "a", "type": "text", "label": zh("A")},
        {"key": "a", "type": "text", "label": zh("A again")},
        {
            "key": "tier",
            "type": "select",
            "label": zh("等级"),
            "default": "gold",
            "options": [{"value": "vip"}, {"value": "normal"}],
        },
        {
            "key": "total",
            "type": "formula",
            "label": zh("合计"),
            "formula": {"+": [{"var": "pirce"}, 1]},
        },
        {"key": "cust", "type": "reference", "label": zh("客户"), "reference": {"form": "clients"}},
        {"key": "n", "type": "integer", "label": zh("N"), "min": 5, "max": 1},
        {"key": "code", "type": "text", "label": zh("编码"), "pattern": "(["},
        {"key": "no", "type": "serial", "label": zh("编号"), "serial": "SV-{date:%Y%m%d}"},
        {"key": "shown", "type": "text", "label": zh("显示"), "visible_when": {"teleport": []}},
        {"key": "kept", "type": "text", "label": zh("连号"), "gapless": True},
        layout={"sections": [{"fields": ["a", "ghost"]}]},
    )
    assert problems(definition, forms={"customer": ["name"]}) == [
        ("/fields/1/key", "form.field.duplicate"),
        ("/fields/2/default", "form.default.not_an_option"),
        ("/fields/3/formula/+/0/var", "logic.var.unknown"),
        ("/fields/4/reference/form", "form.reference.unknown_form"),
        ("/fields/5/min", "form.range.invalid"),
        ("/fields/6/pattern", "form.pattern.invalid"),
        ("/fields/7/serial", "form.serial.invalid"),
        ("/fields/8/visible_when/teleport", "logic.op.unknown"),
        ("/fields/9/gapless", "form.gapless.not_serial"),
        ("/layout/sections/0/fields/1", "form.layout.unknown_field"),
    ]


def test_formula_cycles_are_refused() -> None:
    definition = form_with(
        {"key": "a", "type": "formula", "label": zh("A"), "formula": {"+": [{"var": "b"}, 1]}},
        {"key": "b", "type": "formula", "label": zh("B"), "formula": {"+": [{"var": "c"}, 1]}},
        {"key": "c", "type": "formula", "label": zh("C"), "formula": {"var": "a"}},
    )
    found = problems(definition)
    assert [code for _, code in found] == ["form.formula.cycle"]
    with pytest.raises(DefinitionError, match="a → b → c → a"):
        compile_form(definition)


def test_meta_schema_problems_come_first_and_all_together() -> None:
    assert problems(
        form_with({"key": "a", "type": "text"}, {"key": "B", "type": "text", "label": zh("B")})
    ) == [
        ("/fields/0/label", "meta.required"),
        ("/fields/1/key", "meta.pattern"),
    ]


def test_reference_display_field_is_checked_against_the_target_form() -> None:
    definition = form_with(
        {
            "key": "c",
            "type": "reference",
            "label": zh("客户"),
            "reference": {"form": "customer", "display": "nmae"},
        }
    )
    assert problems(definition, forms={"customer": ["name"]}) == [
        ("/fields/0/reference/display", "form.reference.unknown_field")
    ]


def test_the_title_and_group_fields_are_checked() -> None:
    definition = form_with({"key": "owner", "type": "user", "label": zh("负责人")})
    definition["options"] = {"title_field": "titel", "group_field": "owner"}
    assert sorted(problems(definition)) == [
        ("/options/group_field", "form.options.field"),
        ("/options/title_field", "form.options.field"),
    ]
    definition = form_with({"key": "team", "type": "group", "label": zh("组")})
    definition["options"] = {"group_field": "team"}
    assert compile_form(definition).group_field == "team"


def test_sub_tables_cannot_nest_or_be_empty() -> None:
    inner = {
        "key": "inner",
        "type": "sub_table",
        "label": zh("内"),
        "fields": [{"key": "x", "type": "text", "label": zh("X")}],
    }
    assert problems(
        form_with({"key": "outer", "type": "sub_table", "label": zh("外"), "fields": [inner]})
    ) == [("/fields/0/fields/0/type", "form.sub_table.nested")]
    assert problems(
        form_with({"key": "rows", "type": "sub_table", "label": zh("行"), "fields": []})
    ) == [("/fields/0/fields", "form.sub_table.empty")]


def test_compute_applies_defaults_serials_and_formulas_in_order(ticket: Form) -> None:
    data = {**valid_ticket(), "channel": None, "occurred_on": None}
    data["measures"] = [
        {"what": "a", "owner": 1, "cost": 10, "qty": 3},
        {"what": "b", "owner": 2, "cost": 2.5, "qty": 2},
    ]
    computed = ticket.compute(data, now=NOW, serials={"ticket_no": "SV-20261122-0001"})
    out = computed.data
    assert computed.errors == ()
    assert out["channel"] == "web"  # None means absent, so the default applies
    assert out["occurred_on"] == "2026-11-22"
    assert out["ticket_no"] == "SV-20261122-0001"
    assert [row["total"] for row in out["measures"]] == [30, 5]
    assert out["measure_total"] == 35
    assert out["per_hour"] == 8.75
    assert ticket.validate(out) == []


def test_formula_dividing_by_zero_is_reported_and_left_empty(ticket: Form) -> None:
    computed = ticket.compute({**valid_ticket(), "hours": 0}, now=NOW, lang="en")
    assert "per_hour" not in computed.data
    assert [(e.path, e.code, e.message) for e in computed.errors] == [
        ("per_hour", "formula", "the formula gives no number (e.g. a division by zero)")
    ]


def test_formula_values_sent_by_a_client_are_recomputed(ticket: Form) -> None:
    computed = ticket.compute({**valid_ticket(), "measure_total": 999}, now=NOW)
    assert computed.data["measure_total"] == 200


def test_serial_pattern_renders_and_scopes_by_day() -> None:
    pattern = SerialPattern.parse("SV-{date:%Y%m%d}-{seq:4}")
    assert pattern.format(NOW, 7) == "SV-20261122-0007"
    assert pattern.scope(NOW) == "SV-20261122-#"
    assert pattern.scope(NOW.replace(day=23)) != pattern.scope(NOW)
    for bad in ("SV-{seq:4}-{seq:2}", "SV-{date:%s}-{seq:4}", "SV-{seq:0}", "SV-{user}-{seq:3}"):
        with pytest.raises(SerialPatternError):
            SerialPattern.parse(bad)


def test_write_checks_refuse_computed_read_only_and_hidden_fields(ticket: Form) -> None:
    old = {"title": "a", "urgency": 2, "measure_total": 5}
    new = {"title": "b", "urgency": 3, "measure_total": 6, "cost": 1}
    found = ticket.check_write(old, new, {"title": "read_only", "cost": "hidden"}, lang="en")
    assert [(e.path, e.code) for e in found] == [
        ("title", "permission.read_only"),
        ("cost", "permission.hidden"),
        ("measure_total", "computed"),
    ]
    assert ticket.check_write(old, dict(old), {"title": "read_only"}) == []  # unchanged is fine


def test_restrict_hides_fields_the_permission_map_hides(ticket: Form) -> None:
    assert ticket.restrict({"title": "a", "cost": 3}, {"cost": "hidden", "title": "read_only"}) == {
        "title": "a"
    }


def test_ui_schema_carries_labels_widgets_and_layout_per_language(ticket: Form) -> None:
    en = ticket.ui_schema("en")
    zh_ui = ticket.ui_schema("zh-CN")
    assert en["ui:order"][:3] == ["ticket_no", "title", "description"]
    assert en["ui:title"] == "Service ticket"
    assert zh_ui["ui:title"] == "售后工单"
    assert en["description"]["ui:widget"] == "richtext"
    assert en["ticket_no"]["ui:readonly"] is True
    assert en["cost"]["ui:options"] == {"precision": 2, "currency": "CNY"}
    assert en["customer"]["ui:options"] == {"form": "customer", "display": "name"}
    assert en["measures"]["items"]["ui:order"] == ["what", "owner", "cost", "qty", "total"]
    assert en["ui:layout"]["sections"][0]["title"] == "基本信息"
    assert ticket.conditions()["/fields/13"]["required_when"] == {"var": "on_site"}


def test_compiled_form_lists_what_the_platform_must_handle(ticket: Form) -> None:
    assert [f.key for f in ticket.reference_fields] == ["customer"]
    assert [f.key for f in ticket.serial_fields] == ["ticket_no"]
    assert ticket.serial_pattern("ticket_no").width == 4


def test_definition_fixture_stays_a_plain_json_document() -> None:
    import json

    assert json.loads(json.dumps(ticket_definition(), ensure_ascii=False)) == ticket_definition()


def test_formula_over_empty_inputs_stays_empty_without_an_error(ticket: Form) -> None:
    computed = ticket.compute({"title": "x", "issue_type": "complaint"}, now=NOW)
    assert "per_hour" not in computed.data
    assert computed.errors == ()


def test_formulas_over_rows_name_real_columns() -> None:
    def form(total: Any, any_big: Any) -> dict[str, Any]:
        return {
            "key": "plan",
            "label": {"zh-CN": "plan"},
            "fields": [
                {
                    "key": "measures",
                    "type": "sub_table",
                    "label": {"zh-CN": "m"},
                    "fields": [{"key": "cost", "type": "number", "label": {"zh-CN": "c"}}],
                },
                {"key": "total", "type": "formula", "label": {"zh-CN": "t"}, "formula": total},
                {
                    "key": "any_big",
                    "type": "formula",
                    "result": "boolean",
                    "label": {"zh-CN": "b"},
                    "formula": any_big,
                },
            ],
        }

    def total(column: str) -> Any:
        return {
            "reduce": [
                {"var": "measures"},
                {"+": [{"var": "accumulator"}, {"var": f"current.{column}"}]},
                0,
            ]
        }

    def big(column: str) -> Any:
        return {"some": [{"var": "measures"}, {">": [{"var": column}, 100]}]}

    with pytest.raises(DefinitionError) as caught:
        compile_form(form(total("cots"), big("csot")))
    assert [(d.path, d.message) for d in caught.value.diagnostics] == [
        ("/fields/1/formula/reduce/1/+/1/var", "unknown column 'cots' of the rows"),
        ("/fields/2/formula/some/1/>/0/var", "unknown field 'csot'"),
    ]
    compiled = compile_form(form(total("cost"), big("cost")))
    data = compiled.compute({"measures": [{"cost": 60}, {"cost": 70}]}, now=NOW).data
    assert (data["total"], data["any_big"]) == (130, False)


def test_empty_operands_give_an_empty_result_and_filled_ones_no_silent_nan() -> None:
    compiled = compile_form(
        form_with(
            {"key": "a", "type": "number", "label": zh("A")},
            {"key": "b", "type": "number", "label": zh("B")},
            {
                "key": "ratio",
                "type": "formula",
                "label": zh("比"),
                "formula": {"/": [{"var": "a"}, {"var": "b"}]},
            },
            {
                "key": "product",
                "type": "formula",
                "label": zh("积"),
                "formula": {"*": [0, {"var": "b"}]},
            },
        )
    )
    empty = compiled.compute({"a": 1}, now=NOW)
    assert ("ratio" in empty.data, "product" in empty.data, empty.errors) == (False, False, ())
    filled = compiled.compute({"a": 1, "b": 0}, now=NOW)
    assert filled.data["product"] == 0
    assert "ratio" not in filled.data
    assert [(e.path, e.code) for e in filled.errors] == [("ratio", "formula")]


def test_reserved_field_keys_are_refused() -> None:
    definition = form_with(
        {"key": "constructor", "type": "text", "label": zh("A")},
        {"key": "id", "type": "integer", "label": zh("B")},
        {
            "key": "rows",
            "type": "sub_table",
            "label": zh("行"),
            "fields": [{"key": "select", "type": "text", "label": zh("C")}],
        },
    )
    assert problems(definition) == [
        ("/fields/0/key", "form.field.reserved"),
        ("/fields/1/key", "form.field.reserved"),
        ("/fields/2/fields/0/key", "form.field.reserved"),
    ]
