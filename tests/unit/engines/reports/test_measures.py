"""Dataset measures: each type compiles to its output, and each mistake gives its diagnostic."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

from tangram.engines.common import DefinitionError
from tangram.engines.reports import MEASURES, compile_dataset
from tests.unit.engines.reports.test_rollup import MAIN, SOURCES


def outputs(*measures: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    dataset = compile_dataset({"form": "case", "measures": list(measures)}, SOURCES)
    return [(m.key, m.kind, m.unit) for m in dataset.measures]


def problems(measure: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_dataset({"form": "case", "measures": [measure]}, SOURCES)
    return [(d.path, d.code) for d in caught.value.diagnostics]


COMPILING: list[tuple[dict[str, Any], str | None]] = [
    ({"type": "count"}, None),
    ({"type": "count", "filter": {"==": [{"var": "issue"}, "hw"]}}, None),
    ({"type": "count_distinct", "field": "issue"}, None),
    ({"type": "sum", "field": "cost"}, None),
    ({"type": "avg", "field": "price", "unit": "CNY"}, "CNY"),
    ({"type": "min", "field": "opened_at"}, None),
    ({"type": "max", "field": "cost"}, None),
    ({"type": "median", "field": "cost"}, None),
    ({"type": "percentile", "field": "cost", "percent": 90}, None),
    ({"type": "duration", "from": "_created_at", "to": "opened_at"}, "hours"),
    (
        {
            "type": "duration",
            "from": "_created_at",
            "to": "opened_at",
            "unit": "days",
            "aggregate": "percentile",
            "percent": 50,
        },
        "days",
    ),
    ({"type": "ratio", "numerator": {"==": [{"var": "line"}, "A"]}}, "%"),
    (
        {
            "type": "ratio",
            "numerator": {"==": [{"var": "line"}, "A"]},
            "denominator": {"==": [{"var": "issue"}, "hw"]},
            "filter": {"!=": [{"var": "issue"}, "sw"]},
        },
        "%",
    ),
    ({"type": "nps", "field": "cost"}, "%"),
]


@pytest.mark.parametrize(("measure", "unit"), COMPILING, ids=lambda v: str(v))
def test_a_measure_compiles_to_an_output_of_its_type(
    measure: dict[str, Any], unit: str | None
) -> None:
    assert outputs({"key": "m", **measure}) == [("m", measure["type"], unit)]


def test_every_measure_type_compiles_in_some_case() -> None:
    assert {m["type"] for m, _ in COMPILING} | {"calculated"} == set(MEASURES)


def test_a_calculated_measure_combines_the_measures_before_it() -> None:
    assert outputs(
        {"key": "n", "type": "count"},
        {"key": "per_day", "type": "calculated", "expression": {"/": [{"var": "n"}, 7]}},
    ) == [("n", "count", None), ("per_day", "calculated", None)]


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ({"type": "count"}, [("/measures/0", "report.measure")]),
        ({"key": "m", "type": "mode"}, [("/measures/0/type", "report.measure")]),
        (
            {"key": "m", "type": "calculated", "filter": True, "expression": 1},
            [("/measures/0/filter", "report.filter")],
        ),
        ({"key": "m", "type": "sum", "field": "issue"}, [("/measures/0/field", "report.numeric")]),
        ({"key": "m", "type": "sum"}, [("/measures/0/field", "report.field")]),
        (
            {"key": "m", "type": "percentile", "field": "cost", "percent": 101},
            [("/measures/0/percent", "report.percentile")],
        ),
        (
            {"key": "m", "type": "duration", "from": "cost", "to": "opened_at"},
            [("/measures/0/from", "report.duration")],
        ),
        (
            {
                "key": "m",
                "type": "duration",
                "from": "_created_at",
                "to": "opened_at",
                "unit": "weeks",
            },
            [("/measures/0/unit", "report.duration")],
        ),
        (
            {
                "key": "m",
                "type": "duration",
                "from": "_created_at",
                "to": "opened_at",
                "aggregate": "mode",
            },
            [("/measures/0/aggregate", "report.duration")],
        ),
        ({"key": "m", "type": "nps", "field": "line"}, [("/measures/0/field", "report.numeric")]),
        (
            {"key": "m", "type": "calculated", "expression": {"var": "later"}},
            [("/measures/0/expression/var", "report.measure")],
        ),
        (
            {"key": "m", "type": "calculated", "expression": "text"},
            [("/measures/0/expression", "report.calculated")],
        ),
    ],
    ids=lambda v: str(v),
)
def test_a_measure_mistake_gives_its_diagnostic(
    measure: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems(measure) == expected


class _HintingCompiler(SQLiteCompiler):
    """SQLite's compiler rendering FROM hints as written (the platform's engine does)."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def sqlite_text(definition: dict[str, Any], where: tuple[Any, ...] = ()) -> str:
    dialect = sqlite.dialect()
    dialect.statement_compiler = _HintingCompiler
    dataset = compile_dataset({"form": "case", **definition}, SOURCES)
    once = str(dataset.query(where=where).compile(dialect=dialect))
    assert once == str(dataset.query(where=where).compile(dialect=dialect))  # the memo holds
    return once


def test_sqlite_reads_the_form_s_table_in_one_pass_unless_the_created_index_covers_the_query() -> (
    None
):
    trend = {
        "dimensions": [{"key": "month", "field": "_created_at", "bucket": "month"}],
        "measures": [{"key": "n", "type": "count"}],
    }
    assert "NOT INDEXED" not in sqlite_text(trend)
    # a condition on the dataset's own parts, a measure, a dimension: each reads beyond it
    assert "NOT INDEXED" in sqlite_text({**trend, "filter": {"==": [{"var": "line"}, "A"]}})
    assert "NOT INDEXED" in sqlite_text(
        {**trend, "measures": [{"key": "c", "type": "sum", "field": "cost"}]}
    )
    assert "NOT INDEXED" in sqlite_text(
        {**trend, "dimensions": [*trend["dimensions"], {"key": "issue", "field": "issue"}]}
    )
    # the caller's conditions count too, those on the covered columns excepted
    assert "NOT INDEXED" in sqlite_text(trend, (MAIN.c.line == "A",))
    assert "NOT INDEXED" not in sqlite_text(trend, (MAIN.c._deleted_at.is_(None),))
