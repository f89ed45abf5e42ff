"""The score action: components from scoped KPIs and dates, their points, the explanation in words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.logic import EvalContext
from tangram.engines.rules import RuleEvent, compile_rules

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
FIELDS = frozenset(
    {"contract_end", "health_score", "health_score_previous", "health_explanation", "factors"}
)
ME = {"var": "$record._id"}


class Kpis:
    """Known KPI values by (key, period, via, record); what was asked is kept."""

    def __init__(self, values: dict[tuple[str, str], float | None]) -> None:
        self.values = values
        self.asked: list[tuple[str, str, str | None, int | None]] = []

    def kpi(
        self, key: str, period: str, *, via: str | None = None, record: int | None = None
    ) -> float | None:
        self.asked.append((key, period, via, record))
        return self.values.get((key, period))


def rule(**score: Any) -> dict[str, Any]:
    action = {
        "type": "score",
        "field": "health_score",
        "previous_field": "health_score_previous",
        "explanation_field": "health_explanation",
        "factors_field": "factors",
        "title": {"zh-CN": "健康分", "en": "Health score"},
        "components": [
            {
                "key": "csat",
                "label": {"zh-CN": "满意度变化", "en": "CSAT change"},
                "unit": {"zh-CN": "个百分点", "en": " pts"},
                "value": {
                    "-": [
                        {"kpi": ["csat", "last_90_days", "customer", ME]},
                        {"kpi": ["csat", "last_365_days", "customer", ME]},
                    ]
                },
                "points": {"*": [{"var": "$value"}, 0.5]},
                "min": -20,
                "max": 5,
            },
            {
                "key": "overdue",
                "label": {"zh-CN": "逾期工单", "en": "Overdue tickets"},
                "unit": {"zh-CN": "张"},
                "value": {"kpi": ["overdue", "last_365_days", "customer", ME]},
                "points": {"*": [{"var": "$value"}, -8]},
                "decimals": 0,
            },
            {
                "key": "renewal",
                "label": {"zh-CN": "距续约", "en": "Days to renewal"},
                "unit": {"zh-CN": "天", "en": " days"},
                "value": {"date_diff": [{"now": []}, {"var": "contract_end"}, "days"]},
                "points": {"if": [{"<=": [{"var": "$value"}, 60]}, -5, 0]},
                "decimals": 0,
            },
            {
                "key": "repeats",
                "label": {"zh-CN": "重复故障", "en": "Repeat faults"},
                "value": {"kpi": ["repeats", "last_90_days", "customer", ME]},
                "points": {"*": [{"var": "$value"}, -5]},
            },
        ],
        **score,
    }
    return {
        "key": "health",
        "label": {"zh-CN": "健康分"},
        "form": "customer",
        "trigger": {"type": "schedule", "cron": "0 6 * * *"},
        "condition": True,
        "actions": [action],
    }


def scored(data: dict[str, Any], kpis: Kpis, **score: Any) -> dict[str, Any]:
    ruleset = compile_rules([rule(**score)], fields=FIELDS)
    variables = {"$record": {**data, "_id": 7}}
    result = ruleset.run(
        RuleEvent("schedule", rule="health"),
        data,
        variables=variables,
        context=EvalContext(now=NOW, kpis=kpis),
    )
    (effect,) = result.effects
    assert effect.type == "score"
    return dict(effect.params["values"])


def test_each_component_adds_its_points_and_is_explained_in_words_when_scored() -> None:
    kpis = Kpis({("csat", "last_90_days"): 60.0, ("csat", "last_365_days"): 90.0})
    kpis.values[("overdue", "last_365_days")] = 1
    values = scored({"contract_end": "2027-01-06", "health_score": 80}, kpis)
    # csat −30 pts × 0.5 = −15 (its floor is −20); 1 overdue −8; 45 days to renewal −5; no data
    assert values["health_score"] == 72
    assert values["health_score_previous"] == 80
    assert values["health_explanation"] == (
        "健康分 72：满意度变化 \u221230个百分点 \u221215；逾期工单 1张 \u22128；"
        "距续约 45天 \u22125；重复故障 无数据"
    )
    assert values["factors"] == [
        {"factor": "满意度变化", "value": -30.0, "points": -15},
        {"factor": "逾期工单", "value": 1.0, "points": -8},
        {"factor": "距续约", "value": 45.0, "points": -5},
        {"factor": "重复故障", "value": None, "points": 0},
    ]
    # every KPI was asked in the scope of this record, through its customer field
    assert {(via, record) for _, _, via, record in kpis.asked} == {("customer", 7)}


def test_points_are_kept_within_their_bounds_and_the_score_within_its_own() -> None:
    kpis = Kpis({("csat", "last_90_days"): 20.0, ("csat", "last_365_days"): 100.0})
    kpis.values[("overdue", "last_365_days")] = 20
    values = scored({"contract_end": "2027-06-30"}, kpis)
    assert [f["points"] for f in values["factors"]] == [-20, -160, 0, 0]
    assert values["health_score"] == 0  # 100 − 180, kept at the minimum
    assert "health_score_previous" not in values  # nothing was scored before


def test_an_unchanged_score_keeps_the_previous_one_when_scored_again() -> None:
    values = scored({"contract_end": "2027-06-30", "health_score": 100}, Kpis({}))
    assert values["health_score"] == 100
    assert "health_score_previous" not in values
    assert values["health_explanation"] == (
        "健康分 100：满意度变化 0个百分点 ±0；逾期工单 无数据；距续约 220天 ±0；重复故障 无数据"
    )


def test_the_explanation_speaks_english_when_asked() -> None:
    ruleset = compile_rules([rule()], fields=FIELDS)
    action = ruleset.rules[0].actions[0]
    card = action.build.__closure__  # the compiled scorecard sits in the action's closure
    assert card is not None
    from tangram.engines.rules.score import Scorecard

    (scorecard,) = [c.cell_contents for c in card if isinstance(c.cell_contents, Scorecard)]
    said = scorecard.evaluate(
        {"contract_end": "2027-01-06", "$record": {"_id": 7}},
        EvalContext(now=NOW, kpis=Kpis({})),
        lang="en",
    )
    assert said.explanation.startswith("Health score 95: CSAT change 0 pts ±0; ")
    assert "Days to renewal 45 days \u22125" in said.explanation


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        ({"components": []}, "/health/actions/0/components", "rule.score"),
        ({"field": "nope"}, "/health/actions/0/field", "rule.field"),
        ({"min": 50, "max": 10}, "/health/actions/0/max", "rule.score"),
        ({"base": "high"}, "/health/actions/0/base", "rule.score"),
    ],
)
def test_a_bad_score_is_refused_with_its_path_when_compiled(
    change: dict[str, Any], path: str, code: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_rules([rule(**change)], fields=FIELDS)
    assert (path, code) in {(d.path, d.code) for d in caught.value.diagnostics}


def test_points_may_read_only_the_value_and_the_record_when_compiled() -> None:
    bad = rule()
    bad["actions"][0]["components"][0]["points"] = {"var": "$elsewhere"}
    with pytest.raises(DefinitionError) as caught:
        compile_rules([bad], fields=FIELDS)
    assert any(
        d.path.startswith("/health/actions/0/components/0/points") for d in caught.value.diagnostics
    )


def test_a_scoped_kpi_takes_a_literal_reference_field_when_compiled() -> None:
    bad = rule()
    bad["actions"][0]["components"][1]["value"] = {"kpi": ["overdue", "last_90_days", "customer"]}
    with pytest.raises(DefinitionError) as caught:
        compile_rules([bad], fields=FIELDS)
    assert "logic.kpi.scope" in {d.code for d in caught.value.diagnostics}
