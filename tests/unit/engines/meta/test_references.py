"""The reference finder: every group, role, user, calendar and definition a body names, with the
pointer that names it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tangram.engines.meta import KINDS, Found, Reference, app_references, references

PACKAGE = Path(__file__).resolve().parents[4] / "apps" / "aftersales"
TEXT = {"zh-CN": "x"}


def refs(kind: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r.path, r.kind, r.key) for r in references(kind, body)]


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str, str]]]] = [
    (
        "form",
        {
            "key": "job",
            "fields": [
                {"key": "team", "type": "group", "default": 4},
                {"key": "owner", "type": "user", "default": 7},
                {"key": "level", "type": "integer", "default": 3},
                {"key": "site", "type": "reference", "reference": {"form": "site"}},
                {
                    "key": "rows",
                    "type": "sub_table",
                    "fields": [{"key": "part", "type": "reference", "reference": {"form": "part"}}],
                },
                {"key": "note", "type": "text", "visible_when": {"in_group": ["maint_elec"]}},
            ],
        },
        [
            ("/fields/0/default", "group_id", "4"),
            ("/fields/1/default", "user", "7"),
            ("/fields/3/reference/form", "form", "site"),
            ("/fields/4/fields/0/reference/form", "form", "part"),
            ("/fields/5/visible_when/in_group/0", "group", "maint_elec"),
        ],
    ),
    (
        "rule",
        {
            "key": "dispatch",
            "form": "job",
            "trigger": {"type": "timer", "business": True, "calendar": "workdays"},
            "condition": {
                "and": [{"has_role": ["lead"]}, {">": [{"kpi": ["fcr", "last_month"]}, 1]}]
            },
            "actions": [
                {"type": "assign", "field": "team", "to": {"group": "maint_elec"}},
                {"type": "notify", "to": [{"role": "supervisor"}, {"user": 3}, {"field": "x"}]},
                {"type": "assign", "field": "team", "table": "route", "output": "team"},
                {"type": "create_record", "form": "visit"},
                {"type": "start_flow", "flow": "repair"},
                {"type": "set_fields", "values": {"kpi": "fcr"}},  # a field named kpi
                {"type": "set_fields", "values": {"in_group": ["x", "y"]}},
            ],
        },
        [
            ("/form", "form", "job"),
            ("/trigger/calendar", "calendar", "workdays"),
            ("/actions/0/to/group", "group", "maint_elec"),
            ("/actions/1/to/0/role", "role", "supervisor"),
            ("/actions/1/to/1/user", "user", "3"),
            ("/actions/2/table", "rule", "route"),
            ("/actions/3/form", "form", "visit"),
            ("/actions/4/flow", "flow", "repair"),
            ("/condition/and/0/has_role/0", "role", "lead"),
            ("/condition/and/1/>/0/kpi/0", "kpi", "fcr"),
        ],
    ),
    (
        "rule",
        {
            "key": "sla",
            "type": "sla",
            "form": "job",
            "calendar": "workdays",
            "calendars": {"P1": "always"},
            "on_warn": [{"type": "notify", "to": {"role": "supervisor"}}],
            "escalation": [{"actions": [{"type": "notify", "to": {"group": "managers"}}]}],
        },
        [
            ("/form", "form", "job"),
            ("/calendar", "calendar", "workdays"),
            ("/calendars/P1", "calendar", "always"),
            ("/on_warn/0/to/role", "role", "supervisor"),
            ("/escalation/0/actions/0/to/group", "group", "managers"),
        ],
    ),
    (
        "flow",
        {
            "key": "repair",
            "form": "job",
            "nodes": [
                {"id": "fix", "type": "fill", "assignees": {"group": "maint_elec"}},
                {
                    "id": "ok",
                    "type": "approval",
                    "assignees": [{"role": "supervisor"}, {"users": [5, 6]}],
                    "fallback": {"group": "managers"},
                },
                {"id": "sub", "type": "sub_process", "flow": "check", "record": {"form": "visit"}},
                {
                    "id": "auto",
                    "type": "automation",
                    "actions": [{"type": "start_flow", "flow": "x"}],
                },
            ],
            "options": {"fallback": [{"role": "admin"}]},
        },
        [
            ("/form", "form", "job"),
            ("/nodes/0/assignees/group", "group", "maint_elec"),
            ("/nodes/1/assignees/0/role", "role", "supervisor"),
            ("/nodes/1/assignees/1/users/0", "user", "5"),
            ("/nodes/1/assignees/1/users/1", "user", "6"),
            ("/nodes/1/fallback/group", "group", "managers"),
            ("/nodes/2/flow", "flow", "check"),
            ("/nodes/2/record/form", "form", "visit"),
            ("/nodes/3/actions/0/flow", "flow", "x"),
            ("/options/fallback/0/role", "role", "admin"),
        ],
    ),
    ("kpi", {"key": "n", "form": "job", "measure": {"type": "count"}}, [("/form", "form", "job")]),
    (
        "report",
        {"key": "r", "dataset": {"form": "job", "measures": [{"key": "m", "kpi": "n"}]}},
        [("/dataset/form", "form", "job"), ("/dataset/measures/0/kpi", "kpi", "n")],
    ),
    (
        "dashboard",
        {"key": "d", "widgets": [{"id": "a", "kpi": "n"}, {"id": "b", "report": "r"}]},
        [("/widgets/0/kpi", "kpi", "n"), ("/widgets/1/report", "report", "r")],
    ),
    ("calendar", {"key": "workdays", "always_open": True}, []),
]


@pytest.mark.parametrize(("kind", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_definition_names_what_its_fields_hold_when_it_is_well_formed(
    kind: str, body: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    assert refs(kind, body) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_a_malformed_body_names_nothing_instead_of_failing_when_shapes_are_wrong(
    kind: str,
) -> None:
    odd: dict[str, Any] = {
        "fields": "x",
        "actions": {"type": "assign", "to": 3},
        "nodes": [1, {"assignees": "x"}],
        "dataset": [],
        "widgets": None,
        "trigger": [],
        "calendars": [],
        "options": 1,
    }
    assert references(kind, odd) == []


def test_a_decision_table_names_the_groups_an_assignment_reads_from_it_when_read_as_groups() -> (
    None
):
    table = {
        "key": "route",
        "type": "decision_table",
        "outputs": [{"key": "level"}, {"key": "team"}],
        "rules": [{"when": ["e"], "then": [1, "maint_elec"]}, {"when": ["-"], "then": [2, None]}],
    }
    dispatch = {
        "key": "dispatch",
        "form": "job",
        "actions": [{"type": "assign", "table": "route", "output": "team"}],
    }
    by_role = {
        "key": "escalate",
        "form": "job",
        "actions": [{"type": "assign", "table": "route", "output": "team", "as": "role"}],
    }
    found = app_references({("rule", "route"): table, ("rule", "dispatch"): dispatch})
    assert Found("rule", "route", Reference("/rules/0/then/1", "group", "maint_elec")) in found
    assert Found("rule", "dispatch", Reference("/actions/0/table", "rule", "route")) in found
    as_role = app_references({("rule", "route"): table, ("rule", "escalate"): by_role})
    assert Found("rule", "route", Reference("/rules/0/then/1", "role", "maint_elec")) in as_role


def test_the_shipped_package_names_only_groups_and_roles_it_brings() -> None:
    definitions: dict[tuple[str, str], dict[str, Any]] = {}
    folders = {"forms": "form", "rules": "rule", "flows": "flow", "kpis": "kpi"}
    folders |= {"reports": "report", "dashboards": "dashboard", "calendars": "calendar"}
    for folder, kind in folders.items():
        for path in (PACKAGE / folder).glob("*.json"):
            definitions[(kind, path.stem)] = json.loads(path.read_text(encoding="utf-8"))
    found = app_references(definitions)
    named = {(f.reference.kind, f.reference.key) for f in found}
    groups = {p.stem for p in (PACKAGE / "groups").glob("*.json")}
    roles = {p.stem for p in (PACKAGE / "roles").glob("*.json")}
    assert {key for kind, key in named if kind == "group"} <= groups
    assert {key for kind, key in named if kind == "role"} <= roles | {"admin"}
    assert not {kind for kind, _ in named} & {"user", "group_id"}
    for kind in ("calendar", "form", "flow", "kpi", "report"):
        assert {key for k, key in named if k == kind} <= {
            key for k, key in definitions if k == kind
        }
    assert ("group", "line_a_qe") in named  # from the dispatch matrix's output cells
