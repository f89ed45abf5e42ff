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
