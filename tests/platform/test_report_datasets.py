"""Datasets compiled by the report engine, run on the projection tables of both databases."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.forms import compile_form
from tangram.engines.reports import JoinLimit, Source, compile_dataset
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel.caches import Caches
from tangram.platform.metadata import compiled
from tangram.platform.records import projections
from tests.platform.rules_fixtures import World, build_world, field, options, text

CUSTOMER = {
    "key": "customer",
    "label": text("customer"),
    "fields": [field("name", "text"), field("tier", "select", options=options("vip", "normal"))],
}
CASE = {
    "key": "case",
    "label": text("case"),
    "fields": [
        field("issue", "select", options=options("hw", "sw", "usage")),
        field("line", "select", options=options("A", "B")),
        field("status", "select", options=options("open", "closed")),
        field("cost", "number"),
        field("score", "integer"),
        field("reopened", "integer"),
        field("tags", "multi_select", options=options("noise", "heat")),
        field("opened_at", "datetime"),
        field("resolved_at", "datetime"),
        field("day", "date"),
        field("customer", "reference", reference={"form": "customer", "display": "name"}),
        field("parts", "sub_table", fields=[field("part", "text"), field("qty", "integer")]),
    ],
}
BASE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def rows() -> list[dict[str, Any]]:
    out = []
    for i in range(12):
        opened = BASE + timedelta(days=i)
        out.append(
            {
                "issue": ("hw", "sw", "usage")[i % 3],
                "line": "A" if i < 8 else "B",
                "status": "closed" if i % 4 else "open",
                "cost": float(i * 10),
                "score": i % 11,
                "reopened": 1 if i == 5 else 0,
                "tags": ["noise"] if i % 2 else ["heat", "noise"],
                "opened_at": opened.isoformat(),
                "resolved_at": (opened + timedelta(hours=i + 1)).isoformat(),
                "day": (opened.date()).isoformat(),
                "parts": [{"part": "fan", "qty": 1}, {"part": "belt", "qty": i}],
            }
        )
    return out


@pytest.fixture
def world(platform: Platform) -> World:
    w = build_world(platform)
    w.publish("form", CUSTOMER)
    w.publish("form", CASE)
    vip = w.create({"name": "Acme", "tier": "vip"}, form="customer")
    other = w.create({"name": "Bolt", "tier": "normal"}, form="customer")
    for i, data in enumerate(rows()):
        w.create({**data, "customer": vip.id if i % 2 else other.id}, form="case")
    return w


def run(
    world: World, definition: dict[str, Any], joined: JoinLimit | None = None
) -> list[dict[str, Any]]:
    with world.platform.unit_of_work(write=False) as uow:
        sources = {}
        for key in ("case", "customer"):
            _, form = compiled.form(uow, "svc", key)
            app_id = uow.session.execute(
                projections.ProjectionTable.__table__.select().with_only_columns(
                    projections.ProjectionTable.app_id
                )
            ).scalar()
            t = projections.tables(uow.caches, int(app_id or 0), key, form.projection)
            sources[key] = Source(form, t.main, t.children)
        dataset = compile_dataset(definition, sources)
        return [dict(r._mapping) for r in uow.session.execute(dataset.query(joined=joined))]


def test_dimensions_buckets_and_plain_measures(world: World) -> None:
    data = rows()
    out = run(
        world,
        {
            "form": "case",
            "dimensions": [{"key": "issue", "field": "issue"}],
            "measures": [
                {"key": "n", "type": "count"},
                {"key": "cost", "type": "sum", "field": "cost"},
                {"key": "avg_cost", "type": "avg", "field": "cost"},
                {"key": "max_cost", "type": "max", "field": "cost"},
                {"key": "lines", "type": "count_distinct", "field": "line"},
            ],
        },
    )
    expected = {}
    for issue in ("hw", "sw", "usage"):
        mine = [d for d in data if d["issue"] == issue]
        costs = [d["cost"] for d in mine]
        expected[issue] = {
            "issue": issue,
            "n": len(mine),
            "cost": sum(costs),
            "avg_cost": statistics.mean(costs),
            "max_cost": max(costs),
            "lines": len({d["line"] for d in mine}),
        }
    assert out == [expected[k] for k in ("hw", "sw", "usage")]
    weekly = run(
        world,
        {
            "form": "case",
            "dimensions": [{"key": "week", "field": "opened_at", "bucket": "week"}],
            "measures": [{"key": "n", "type": "count"}],
        },
    )
    assert weekly == [
        {"week": "2026-11-02", "n": 7},
        {"week": "2026-11-09", "n": 5},
    ]
    for bucket, first in (  # one key for every bucket: each must compile to its own SQL
        ("day", "2026-11-02"),
        ("week", "2026-11-02"),
        ("month", "2026-11"),
        ("quarter", "2026-Q4"),
        ("year", "2026"),
    ):
        found = run(
            world,
            {
                "form": "case",
                "dimensions": [{"key": "b", "field": "opened_at", "bucket": bucket}],
                "measures": [{"key": "n", "type": "count"}],
            },
        )
        assert found[0]["b"] == first
    medians = [
        run(
            world,
            {
                "form": "case",
                "measures": [{"key": "p", "type": "percentile", "percent": pct, "field": "cost"}],
            },
        )[0]["p"]
        for pct in (50, 90)
    ]
    costs = sorted(d["cost"] for d in data)
    assert medians == [
        pytest.approx(statistics.median(costs)),
        pytest.approx(statistics.quantiles(costs, n=10, method="inclusive")[-1]),
    ]
    by_day = run(
        world,
        {
            "form": "case",
            "dimensions": [{"key": "d", "field": "day", "bucket": "month"}],
            "measures": [{"key": "n", "type": "count"}],
        },
    )
    assert by_day == [{"d": "2026-11", "n": 12}]


def test_percentiles_durations_ratios_nps_and_calculated(world: World) -> None:
    data = rows()
    (out,) = run(
        world,
        {
            "form": "case",
            "measures": [
                {"key": "n", "type": "count"},
                {"key": "median_cost", "type": "median", "field": "cost"},
                {"key": "p90_cost", "type": "percentile", "field": "cost", "percent": 90},
                {
                    "key": "mttr",
                    "type": "duration",
                    "from": "opened_at",
                    "to": "resolved_at",
                    "unit": "hours",
                },
                {
                    "key": "mttr_median",
                    "type": "duration",
                    "from": "opened_at",
                    "to": "resolved_at",
                    "unit": "minutes",
                    "aggregate": "median",
                },
                {
                    "key": "fcr",
                    "type": "ratio",
                    "numerator": {"==": [{"var": "reopened"}, 0]},
                    "denominator": {"==": [{"var": "status"}, "closed"]},
                },
                {"key": "nps", "type": "nps", "field": "score"},
                {"key": "per_case", "type": "calculated", "expression": {"/": [{"var": "n"}, 4]}},
            ],
        },
    )
    costs = sorted(d["cost"] for d in data)
    hours = [i + 1 for i in range(12)]
    closed = [d for d in data if d["status"] == "closed"]
    scores = [d["score"] for d in data]
    assert out["n"] == 12
    assert out["median_cost"] == pytest.approx(statistics.median(costs))
    assert out["p90_cost"] == pytest.approx(
        statistics.quantiles(costs, n=10, method="inclusive")[-1]
    )
    assert out["mttr"] == pytest.approx(statistics.mean(hours))
    assert out["mttr_median"] == pytest.approx(statistics.median(hours) * 60)
    assert out["fcr"] == pytest.approx(
        100 * sum(1 for d in closed if d["reopened"] == 0) / len(closed)
    )
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    assert out["nps"] == pytest.approx(100 * (promoters - detractors) / len(scores))
    assert out["per_case"] == pytest.approx(3.0)


def test_filters_sub_tables_and_references(world: World) -> None:
    out = run(
        world,
        {
            "form": "case",
            "filter": {
                "and": [
                    {"in": [{"var": "issue"}, ["hw", "sw"]]},
                    {">=": [{"var": "cost"}, 20]},
                    {"in": ["heat", {"var": "tags"}]},
                    {"!!": {"var": "resolved_at"}},
                    {
                        "<": [
                            "2026-11-01T00:00:00+08:00",
                            {"var": "opened_at"},
                            "2026-12-01T00:00:00+08:00",
                        ]
                    },
                ]
            },
            "dimensions": [{"key": "tier", "field": "customer.tier"}],
            "measures": [{"key": "n", "type": "count"}],
        },
    )
    data = rows()
    picked = [
        i
        for i, d in enumerate(data)
        if d["issue"] in ("hw", "sw") and d["cost"] >= 20 and "heat" in d["tags"]
    ]
    tiers: dict[str, int] = {}
    for i in picked:
        tier = "vip" if i % 2 else "normal"
        tiers[tier] = tiers.get(tier, 0) + 1
    assert out == [{"tier": t, "n": n} for t, n in sorted(tiers.items())]
    parts = run(
        world,
        {
            "form": "case",
            "dimensions": [{"key": "part", "field": "parts.part"}],
            "measures": [{"key": "qty", "type": "sum", "field": "parts.qty"}],
        },
    )
    assert parts == [
        {"part": "belt", "qty": float(sum(range(12)))},
        {"part": "fan", "qty": 12.0},
    ]


def test_a_referenced_record_outside_the_join_limit_reads_as_empty_when_limited(
    world: World,
) -> None:
    definition = {
        "form": "case",
        "dimensions": [{"key": "customer", "field": "customer.name"}],
        "measures": [{"key": "n", "type": "count"}],
    }
    everyone = run(world, definition)
    assert everyone == [{"customer": "Acme", "n": 6}, {"customer": "Bolt", "n": 6}]
    asked: list[str] = []

    def only_acme(form_key: str, table: Any) -> list[Any]:
        asked.append(form_key)
        return [table.c.name == "Acme"]

    limited = run(world, definition, joined=only_acme)
    assert sorted(limited, key=str) == [{"customer": "Acme", "n": 6}, {"customer": None, "n": 6}]
    assert asked == ["customer"]
    plain = run(world, {"form": "case", "measures": [{"key": "n", "type": "count"}]}, only_acme)
    assert plain == [{"n": 12}]
    assert asked == ["customer"]  # a dataset that joins nothing asks for no limit


def test_a_dataset_names_every_form_it_reads() -> None:
    sources = {}
    for key, body in (("case", CASE), ("customer", CUSTOMER)):
        form = compile_form(body, forms={"customer": ["name", "tier"]})
        t = projections.tables(Caches(), 1, key, form.projection)  # tables only: nothing runs
        sources[key] = Source(form, t.main, t.children)
    own = compile_dataset({"form": "case", "measures": [{"key": "n", "type": "count"}]}, sources)
    assert own.forms == ("case",)
    through = compile_dataset(
        {
            "form": "case",
            "filter": {"==": [{"var": "customer.tier"}, "vip"]},
            "measures": [{"key": "n", "type": "count"}],
        },
        sources,
    )
    assert through.forms == ("case", "customer")


def test_bad_definitions_are_refused_with_paths() -> None:
    form = compile_form(
        CASE, forms={"case": [f["key"] for f in CASE["fields"]], "customer": ["name", "tier"]}
    )
    t = projections.tables(Caches(), 1, "case", form.projection)  # tables only: nothing runs
    with pytest.raises(DefinitionError) as caught:
        compile_dataset(
            {
                "form": "case",
                "filter": {"==": [{"var": "cost"}, "cheap"]},
                "dimensions": [
                    {"key": "a", "field": "colour"},
                    {"key": "b", "field": "issue", "bucket": "week"},
                ],
                "measures": [
                    {"key": "s", "type": "sum", "field": "issue"},
                    {"key": "p", "type": "percentile", "field": "cost", "percent": 120},
                    {
                        "key": "r",
                        "type": "ratio",
                        "numerator": {"regex_match": [{"var": "issue"}, "h"]},
                    },
                    {"key": "q", "type": "magic"},
                ],
            },
            {"case": Source(form, t.main, t.children)},
        )
    found = {(d.path, d.code) for d in caught.value.diagnostics}
    assert ("/dimensions/0/field", "report.field") in found
    assert ("/dimensions/1/bucket", "report.bucket") in found
    assert ("/measures/0/field", "report.numeric") in found
    assert ("/measures/1/percent", "report.percentile") in found
    assert ("/measures/2/numerator/regex_match", "report.operator") in found
    assert ("/measures/3/type", "report.measure") in found
    assert ("/filter/==/1", "report.value") in found


def test_measures_with_their_own_filters_share_one_scan(world: World) -> None:
    data = rows()
    out = run(
        world,
        {
            "form": "case",
            "dimensions": [{"key": "line", "field": "line"}],
            "measures": [
                {"key": "all", "type": "count"},
                {"key": "open", "type": "count", "filter": {"==": [{"var": "status"}, "open"]}},
                {
                    "key": "open_cost",
                    "type": "sum",
                    "field": "cost",
                    "filter": {"==": [{"var": "status"}, "open"]},
                },
                {
                    "key": "hw_p50",
                    "type": "median",
                    "field": "cost",
                    "filter": {"==": [{"var": "issue"}, "hw"]},
                },
                {
                    "key": "p90_hours",
                    "type": "duration",
                    "from": "opened_at",
                    "to": "resolved_at",
                    "aggregate": "percentile",
                    "percent": 90,
                },
                {
                    "key": "closed_hours",
                    "type": "duration",
                    "from": "opened_at",
                    "to": "resolved_at",
                    "aggregate": "max",
                    "filter": {"==": [{"var": "status"}, "closed"]},
                },
            ],
        },
    )
    for line in ("A", "B"):
        mine = [(i, d) for i, d in enumerate(data) if d["line"] == line]
        opened = [d for _, d in mine if d["status"] == "open"]
        hw = sorted(d["cost"] for _, d in mine if d["issue"] == "hw")
        found = next(r for r in out if r["line"] == line)
        assert found["all"] == len(mine)
        assert found["open"] == len(opened)
        assert found["open_cost"] == sum(d["cost"] for d in opened)
        assert found["hw_p50"] == statistics.median(hw)
        assert found["closed_hours"] == max(i + 1 for i, d in mine if d["status"] == "closed")
        hours = sorted(float(i + 1) for i, _ in mine)
        assert found["p90_hours"] == pytest.approx(
            statistics.quantiles(hours, n=10, method="inclusive")[-1]
        )
    with pytest.raises(DefinitionError) as caught:
        run(
            world,
            {
                "form": "case",
                "measures": [
                    {"key": "n", "type": "count"},
                    {
                        "key": "c",
                        "type": "calculated",
                        "expression": {"var": "n"},
                        "filter": {"==": [{"var": "status"}, "open"]},
                    },
                ],
            },
        )
    assert [d.path for d in caught.value.diagnostics] == ["/measures/1/filter"]
