"""Every case of the official JsonLogic test suite passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tangram.engines.logic import compile_logic
from tangram.engines.logic.compiler import compile_closures

CASES = [
    case
    for case in json.loads((Path(__file__).parent / "data" / "jsonlogic-tests.json").read_text())
    if not isinstance(case, str)
]


def test_suite_has_all_267_cases() -> None:
    assert len(CASES) == 267


@pytest.mark.parametrize(
    ("logic", "data", "expected"), CASES, ids=[json.dumps(c[0])[:60] for c in CASES]
)
def test_official_case_gives_the_reference_result(logic: Any, data: Any, expected: Any) -> None:
    result = compile_logic(logic)(data)
    assert result == expected
    assert type(result) is type(expected) or {type(result), type(expected)} <= {int, float}


@pytest.mark.parametrize(
    ("logic", "data", "expected"), CASES, ids=[json.dumps(c[0])[:60] for c in CASES]
)
def test_official_case_gives_the_reference_result_through_closures(
    logic: Any, data: Any, expected: Any
) -> None:
    """The closure form (traces, and the fallback for very deep expressions) passes too."""
    assert compile_closures(logic)(data) == expected
