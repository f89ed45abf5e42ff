"""Reporting periods and KPI definitions turned into datasets (pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.reports import expand_kpis, kpi_dataset, kpi_measure, resolve_period

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Sunday 22 November 2026, 01:30 in Shanghai (still Saturday in UTC)
NOW = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)


def days(spec: str) -> tuple[date, date, date, date]:
    p = resolve_period(spec, now=NOW, zone=SHANGHAI)
    return p.first, p.last, p.previous.first, p.previous.last


def test_presets_follow_the_local_calendar_and_the_unit_before() -> None:
    assert days("today") == (
        date(2026, 11, 22),
        date(2026, 11, 22),
        date(2026, 11, 21),
        date(2026, 11, 21),
    )
    assert days("this_week") == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        date(2026, 11, 9),
        date(2026, 11, 15),
    )
    assert days("this_month") == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert days("last_month")[:2] == (date(2026, 10, 1), date(2026, 10, 31))
    assert days("this_quarter") == (
        date(2026, 10, 1),
        date(2026, 12, 31),
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    assert days("last_year") == (
        date(2025, 1, 1),
        date(2025, 12, 31),
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    assert days("last_7_days") == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        date(2026, 11, 9),
        date(2026, 11, 15),
    )
    # a range: the same number of days before it
    assert days("2026-11-08..2026-11-13") == (
        date(2026, 11, 8),
        date(2026, 11, 13),
        date(2026, 11, 2),
        date(2026, 11, 7),
    )
    # a short month's previous month starts on its first day
    march = resolve_period("this_month", now=datetime(2026, 3, 31, 4, tzinfo=UTC), zone=SHANGHAI)
    assert march.previous.as_dict() == {"from": "2026-02-01", "to": "2026-02-28"}


def test_a_period_is_half_open_between_local_midnights() -> None:
    p = resolve_period("today", now=NOW, zone=SHANGHAI)
    assert p.start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fortnight", "is no period"),
        ("2026-11-30..2026-11-01", "ends before it starts"),
        ("2026-11-01..later", "is no period"),
    ],
)
def test_bad_periods_say_what_is_accepted(spec: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        resolve_period(spec, now=NOW, zone=SHANGHAI, path="period")
    assert caught.value.diagnostics[0].path == "period"


MTTR = {
    "key": "mttr",
    "form": "ticket",
    "filter": {"==": [{"var": "status"}, "closed"]},
    "measure": {"type": "duration", "from": "_created_at", "to": "resolved_at"},
    "period_field": "resolved_at",
}


def test_a_kpi_becomes_one_measure_per_period_in_one_dataset() -> None:
    now = resolve_period("this_month", now=NOW, zone=SHANGHAI)
    dataset = kpi_dataset(MTTR, {"value": now, "previous": now.previous})
    assert dataset["form"] == "ticket"
    assert dataset["filter"]["and"][0] == MTTR["filter"]
    assert [m["key"] for m in dataset["measures"]] == ["value", "previous"]
    assert dataset["measures"][1]["filter"] == {
        "and": [
            {">=": [{"var": "resolved_at"}, "2026-10-01"]},
            {"<": [{"var": "resolved_at"}, "2026-11-01"]},
        ]
    }
    reused = kpi_measure(MTTR, "mttr_h")
    assert reused["key"] == "mttr_h"
    assert reused["filter"] == MTTR["filter"]


def test_reports_reuse_kpis_of_their_own_form_only() -> None:
    expanded = expand_kpis(
        {"form": "ticket", "measures": [{"key": "m", "type": "kpi", "kpi": "mttr"}]},
        {"mttr": MTTR},
    )
    assert expanded["measures"][0]["type"] == "duration"
    assert expanded["measures"][0]["key"] == "m"
    with pytest.raises(DefinitionError) as caught:
        expand_kpis(
            {
                "form": "callback",
                "measures": [
                    {"key": "a", "type": "kpi", "kpi": "mttr"},
                    {"key": "b", "type": "kpi", "kpi": "ghost"},
                ],
            },
            {"mttr": MTTR},
        )
    assert [(d.path, d.message) for d in caught.value.diagnostics] == [
        ("/measures/0/kpi", "KPI 'mttr' measures form 'ticket', not 'callback'"),
        ("/measures/1/kpi", "no published KPI 'ghost'"),
    ]
