"""Rollup plans: which datasets add up from day to day, and how days merge back (pure)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from sqlalchemy import Column, Date, DateTime, Float, Integer, MetaData, Numeric, String, Table
from sqlalchemy.dialects import sqlite

from tangram.engines.forms import ColumnKind, compile_form
from tangram.engines.reports import PercentileAggregate, Source, compile_dataset
from tangram.engines.reports.rollup import NotRollable, bucket_of, compile_rollup, percentile


def label(text: str) -> dict[str, str]:
    return {"zh-CN": text, "en": text}


FORM = compile_form(
    {
        "key": "case",
        "label": label("case"),
        "fields": [
            {
                "key": "issue",
                "type": "select",
                "label": label("issue"),
                "options": [{"value": v} for v in ("hw", "sw")],
            },
            {
                "key": "line",
                "type": "select",
                "label": label("line"),
                "options": [{"value": v} for v in ("A", "B")],
            },
            {"key": "cost", "type": "number", "label": label("cost")},
            {"key": "price", "type": "money", "label": label("price")},
            {"key": "opened_at", "type": "datetime", "label": label("opened")},
            {"key": "day", "type": "date", "label": label("day")},
        ],
    }
)
TYPES = {
    ColumnKind.TEXT: String,
    ColumnKind.FLOAT: Float,
    ColumnKind.DECIMAL: Numeric,
    ColumnKind.DATETIME: DateTime,
    ColumnKind.DATE: Date,
}
MAIN = Table(
    "rp_case",
    MetaData(),
    Column("_id", Integer, primary_key=True),
    Column("_owner", Integer),
    Column("_group", Integer),
    Column("_created_at", DateTime),
    Column("_updated_at", DateTime),
    Column("_deleted_at", DateTime),
    *(Column(c.key, TYPES[c.kind]) for c in FORM.projection.columns),
)
SOURCES = {"case": Source(FORM, MAIN)}


def plan(dataset: dict[str, Any], keys: tuple[str, ...] = ()) -> Any:
    definition = {"form": "case", **dataset}
    compile_dataset(definition, SOURCES)  # a rollup is only asked of a dataset that compiles
    return compile_rollup(definition, SOURCES, day_field="_created_at", keys=keys)


def test_buckets_are_derived_from_the_local_day_as_the_sql_writes_them() -> None:
    assert bucket_of("2026-11-22", "day") == "2026-11-22"
    assert bucket_of("2026-11-22", "week") == "2026-11-16"  # a Sunday: the Monday before
    assert bucket_of("2026-11-16", "week") == "2026-11-16"
    assert bucket_of("2027-01-01", "week") == "2026-12-28"
    assert bucket_of("2026-11-22", "month") == "2026-11"
    assert bucket_of("2026-11-22", "quarter") == "2026-Q4"
    assert bucket_of("2026-03-31", "quarter") == "2026-Q1"
    assert bucket_of("2026-11-22", "year") == "2026"


def test_days_merge_into_the_rows_of_the_dataset() -> None:
    p = plan(
        {
            "dimensions": [
                {"key": "issue", "field": "issue"},
                {"key": "week", "field": "_created_at", "bucket": "week"},
            ],
            "measures": [
                {"key": "n", "type": "count"},
                {"key": "cost", "type": "sum", "field": "cost"},
                {"key": "avg", "type": "avg", "field": "cost"},
                {"key": "high", "type": "max", "field": "cost"},
                {"key": "share", "type": "ratio", "numerator": {"==": [{"var": "line"}, "A"]}},
                {"key": "per", "type": "calculated", "expression": {"/": [{"var": "cost"}, 0]}},
            ],
        },
        keys=("line",),
    )
    assert p.columns == ("issue", "week", "n", "cost", "avg", "high", "share", "per")
    # tuple: issue, line (cells); n, cost sum, cost sum and count (avg), max, ratio top and bottom
    payloads = [
        (
            "2026-11-16",
            [["hw", "A", 2, 10.0, 10.0, 2, 7.0, 2, 2], [None, "B", 1, None, None, 0, None, 0, 1]],
        ),
        ("2026-11-17", [["hw", "B", 1, 5.0, 5.0, 1, 5.0, 0, 1]]),
        ("2026-11-23", [["sw", "A", 3, 30.0, 30.0, 3, 12.0, 3, 3]]),
    ]
    rows = p.rows(payloads, nulls_first=False)
    assert rows == [
        ["hw", "2026-11-16", 3, 15.0, 5.0, 7.0, 2 * 100.0 / 3, None],
        ["sw", "2026-11-23", 3, 30.0, 10.0, 12.0, 100.0, None],
        [None, "2026-11-16", 1, None, None, None, 0.0, None],
    ]
    assert p.rows(payloads, nulls_first=True)[0][0] is None  # SQLite puts empty values first
    only_b = p.rows(payloads, {"line": ["B"]})
    assert [r[:3] for r in only_b] == [[None, "2026-11-16", 1], ["hw", "2026-11-16", 1]]


def test_no_rows_give_one_row_of_empty_aggregates_without_dimensions() -> None:
    p = plan(
        {
            "measures": [
                {"key": "n", "type": "count"},
                {"key": "cost", "type": "sum", "field": "cost"},
                {"key": "share", "type": "ratio", "numerator": {"==": [{"var": "line"}, "A"]}},
            ]
        }
    )
    assert p.rows([]) == [[0, None, None]]


@pytest.mark.parametrize(
    ("measure", "reason"),
    [
        ({"type": "count_distinct", "field": "line"}, "add up"),
        ({"type": "min", "field": "price"}, "price"),
    ],
)
def test_measures_that_do_not_add_up_are_left_to_the_query(
    measure: dict[str, Any], reason: str
) -> None:
    with pytest.raises(NotRollable, match=reason):
        plan({"measures": [{"key": "m", **measure}]})


def test_a_rollup_keeps_its_days_by_a_date_field_and_filters_by_text_fields() -> None:
    with pytest.raises(NotRollable, match="not a date field"):
        compile_rollup(
            {"form": "case", "measures": [{"key": "n", "type": "count"}]},
            SOURCES,
            day_field="issue",
        )
    with pytest.raises(NotRollable, match="cannot be held"):
        plan({"measures": [{"key": "n", "type": "count"}]}, keys=("cost",))


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999, 1.0])
def test_percentiles_of_sorted_runs_are_those_of_all_the_values(fraction: float) -> None:
    rng = random.Random(int(fraction * 1000))
    runs = [
        sorted(
            round(rng.expovariate(1 / 45), rng.choice([0, 3])) for _ in range(rng.randint(0, 300))
        )
        for _ in range(40)
    ]
    aggregate = PercentileAggregate()  # what SQLite computes, as PostgreSQL's percentile_cont
    for value in itertools.chain.from_iterable(runs):
        aggregate.step(value, fraction)
    assert percentile([r for r in runs if r], fraction) == aggregate.finalize()
    assert percentile([], fraction) is None
    assert percentile([[7.0]], fraction) == 7.0


def test_medians_roll_up_as_runs_of_values() -> None:
    p = plan(
        {
            "dimensions": [{"key": "issue", "field": "issue"}],
            "measures": [
                {"key": "m", "type": "median", "field": "cost"},
                {"key": "p90", "type": "percentile", "percent": 90, "field": "cost"},
                {"key": "n", "type": "count"},
            ],
        }
    )
    day1 = [["hw", [1.0, 5.0], [1.0, 5.0], 2]]
    day2 = [["hw", [2.0], [2.0], 1], ["sw", [], [], 1]]
    rows = p.rows([("2026-11-16", day1), ("2026-11-17", day2)])
    assert rows == [["hw", 2.0, 4.4, 3], ["sw", None, None, 1]]
    month = p.merge([day1, day2])
    assert [list(t[1]) for t in month] == [[1.0, 2.0, 5.0], []]
    assert p.rows([("2026-11-01", month)]) == rows


def test_the_query_of_some_days_is_built_once_with_its_days_bound() -> None:
    dialect = sqlite.dialect()
    by_time = plan({"measures": [{"key": "n", "type": "count"}]})
    assert by_time.days_query is by_time.days_query
    assert {"rollup_from", "rollup_to"} <= set(by_time.days_query.compile(dialect=dialect).params)
    by_day = compile_rollup(
        {"form": "case", "measures": [{"key": "n", "type": "count"}]}, SOURCES, day_field="day"
    )
    assert by_day.day_is_date
    assert by_day.days_query is by_day.days_query
    assert "rollup_days" in by_day.days_query.compile(dialect=dialect).params
