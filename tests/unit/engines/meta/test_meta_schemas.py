"""Meta-schemas: themselves valid, accepting valid fixtures, and exact about invalid ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tangram.engines.meta import KINDS, meta_schema, validate_definition

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("kind", KINDS)
def test_meta_schema_is_a_valid_2020_12_schema(kind: str) -> None:
    Draft202012Validator.check_schema(meta_schema(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_valid_definition_passes_when_it_follows_the_outline(kind: str) -> None:
    body = json.loads((FIXTURES / "valid" / f"{kind}.json").read_text(encoding="utf-8"))
    assert validate_definition(kind, body) == []


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "invalid").glob("*.json")), ids=lambda p: p.stem
)
def test_invalid_definition_reports_every_problem_with_its_path(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    found = [
        {"path": d.path, "code": d.code} for d in validate_definition(path.stem, case["definition"])
    ]
    assert found == case["diagnostics"]


def test_every_diagnostic_has_a_message() -> None:
    for diagnostic in validate_definition("dashboard", {"key": 1}):
        assert diagnostic.message


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown definition kind"):
        meta_schema("spreadsheet")


def test_non_object_body_is_one_diagnostic_at_the_root() -> None:
    diagnostics = validate_definition("form", ["not", "an", "object"])
    assert [(d.path, d.code) for d in diagnostics] == [("", "meta.type")]


_FLOW = {"key": "p", "label": {"zh-CN": "p"}, "form": "f"}
_RULE = {"key": "r", "label": {"zh-CN": "r"}, "form": "f"}


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (
            "flow",
            {
                **_FLOW,
                "nodes": [
                    {"id": "a", "type": "approval", "assignees": {"users": [1]}, "timout": {}},
                    {
                        "id": "b",
                        "type": "approval",
                        "assignees": {"users": [1]},
                        "reject_too": [],
                        "timeout": {"minutes": 5, "actoin": "remind"},
                    },
                    {"id": "j", "type": "parallel_join", "wiat": 1, "timeout": {}},
                    {
                        "id": "s",
                        "type": "sub_process",
                        "flow": "x",
                        "record": {"field": "y"},
                        "multi": {"over": "rows", "mode": "parallel"},
                    },
                ],
                "edges": [{"from": "a", "to": "b", "conditon": True}],
            },
            [
                ("/edges/0/conditon", "unknown property 'conditon'; did you mean 'condition'?"),
                ("/nodes/0/timout", "unknown property 'timout'; did you mean 'timeout'?"),
                ("/nodes/1/reject_too", "unknown property 'reject_too'; did you mean 'reject_to'?"),
                # inside a part with a diagnostic of its own, too
                ("/nodes/1/timeout/actoin", "unknown property 'actoin'; did you mean 'action'?"),
                (
                    "/nodes/2/timeout",
                    "unknown property 'timeout'; allowed: id, label, remaining, type, wait",
                ),
                ("/nodes/2/wiat", "unknown property 'wiat'; did you mean 'wait'?"),
                ("/nodes/3/multi/mode", "unknown property 'mode'; allowed: over, wait, where"),
            ],
        ),
        (
            "rule",
            {
                **_RULE,
                "trigger": {"type": "timer", "minuts": 5},
                "actions": [{"type": "notify", "to": {"field": "a"}, "title": "t", "tiltle": "x"}],
                "prioirty": 2,
            },
            [
                ("/actions/0/tiltle", "unknown property 'tiltle'; did you mean 'title'?"),
                ("/prioirty", "unknown property 'prioirty'; did you mean 'priority'?"),
                ("/trigger/minuts", "unknown property 'minuts'; did you mean 'minutes'?"),
            ],
        ),
    ],
    ids=["flow", "rule"],
)
def test_unknown_properties_are_refused_where_they_stand_with_the_likely_name(
    kind: str, body: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    found = [(d.path, d.message) for d in validate_definition(kind, body)]
    assert found == expected
