"""Business calendars: working hours, breaks, weekends, holidays, make-up days, DST, 24×7."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tangram.engines.common import DefinitionError
from tangram.engines.rules import Calendar, CalendarClosed, compile_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = [["09:00", "12:00"], ["13:00", "18:00"]]
CN: dict[str, Any] = {
    "key": "cn_office",
    "time_zone": "Asia/Shanghai",
    "week": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), OFFICE),
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-05"],
    "exceptions": [
        {"date": "2026-10-10", "hours": [["09:00", "18:00"]], "note": "调休"},
        {"date": "2026-12-31", "hours": [["09:00", "12:00"]]},
    ],
}


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture(scope="module")
def cn() -> Calendar:
    return compile_calendar(CN)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        ("2026-11-23 10:00", 30, "2026-11-23 10:30"),  # Monday morning
        ("2026-11-23 11:45", 30, "2026-11-23 13:15"),  # lunch is not working time
        ("2026-11-23 11:30", 30, "2026-11-23 12:00"),  # ends exactly at the break
        ("2026-11-23 12:20", 10, "2026-11-23 13:10"),  # starts inside the break
        ("2026-11-23 07:00", 0, "2026-11-23 09:00"),  # zero from a closed moment: next opening
        ("2026-11-27 17:50", 30, "2026-11-30 09:20"),  # Friday evening → Monday
        ("2026-11-28 10:00", 60, "2026-11-30 10:00"),  # Saturday
        ("2026-09-30 17:00", 120, "2026-10-06 10:00"),  # National Day holidays and the weekend
        ("2026-10-09 17:30", 60, "2026-10-10 09:30"),  # the make-up Saturday works
        ("2026-12-31 11:00", 120, "2027-01-01 10:00"),  # short day; 2027-01-01 is a Friday
        ("2026-11-23 09:00", 8 * 60 * 5, "2026-11-27 18:00"),  # one full working week
    ],
)
def test_adding_business_minutes(cn: Calendar, start: str, minutes: int, due: str) -> None:
    assert cn.add_minutes(local(start), minutes) == local(due).astimezone(UTC)


def test_between_counts_only_working_time(cn: Calendar) -> None:
    assert cn.between(local("2026-11-23 11:00"), local("2026-11-23 14:00")) == 2 * 3600
    assert cn.between(local("2026-11-27 17:00"), local("2026-11-30 10:00")) == 2 * 3600
    assert cn.between(local("2026-11-30 10:00"), local("2026-11-27 17:00")) == -2 * 3600
    assert cn.between(local("2026-11-28 10:00"), local("2026-11-29 10:00")) == 0
    assert cn.is_open(local("2026-11-23 09:00"))
    assert not cn.is_open(local("2026-11-23 12:30"))
    assert not cn.is_open(local("2026-10-01 10:00"))
    assert cn.is_open(local("2026-10-10 10:00"))


def test_explain_lists_the_working_segments_behind_a_due_time(cn: Calendar) -> None:
    segments = cn.explain(local("2026-11-23 11:35"), 30 * 60)
    assert [
        (
            s.start.astimezone(SHANGHAI).strftime("%H:%M"),
            s.end.astimezone(SHANGHAI).strftime("%H:%M"),
        )
        for s in segments
    ] == [("11:35", "12:00"), ("13:00", "13:05")]


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
    ),
    seconds=st.integers(min_value=0, max_value=40 * 3600),
)
def test_between_undoes_add(start: datetime, seconds: int) -> None:
    cn = compile_calendar(CN)
    due = cn.add(start, seconds)
    assert due >= start
    assert cn.between(start, due) == pytest.approx(seconds)
    assert cn.add(start, seconds) == due  # deterministic


NEW_YORK = ZoneInfo("America/New_York")
ALL_DAY = [["00:00", "24:00"]]
DST: dict[str, Any] = {
    "key": "ny",
    "time_zone": "America/New_York",
    "week": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ALL_DAY),
}


def test_working_hours_follow_the_wall_clock_across_dst_changes() -> None:
    ny = compile_calendar(DST)
    spring = ny.between(local("2026-03-08 00:00", NEW_YORK), local("2026-03-09 00:00", NEW_YORK))
    autumn = ny.between(local("2026-11-01 00:00", NEW_YORK), local("2026-11-02 00:00", NEW_YORK))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)
    due = ny.add(local("2026-03-07 12:00", NEW_YORK), 24 * 3600)
    assert due == local("2026-03-08 13:00", NEW_YORK).astimezone(UTC)
    office = compile_calendar(
        {**DST, "week": {d: [["01:00", "04:00"]] for d in ("sat", "sun")}}
    )  # 02:00–03:00 does not exist on 2026-03-08
    assert (
        office.between(local("2026-03-08 00:00", NEW_YORK), local("2026-03-09 00:00", NEW_YORK))
        == 2 * 3600
    )


def test_always_open_calendars_are_plain_clock_time() -> None:
    open24 = compile_calendar({"key": "x", "always_open": True})
    start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    assert open24.add(start, 90) == start + timedelta(seconds=90)
    assert open24.between(start, start + timedelta(days=2)) == 2 * 86400


def test_bad_calendars_are_refused_with_every_problem_and_its_path() -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_calendar(
            {
                "key": "bad",
                "time_zone": "Mars/Olympus",
                "week": {
                    "mon": [["09:00", "12:00"], ["11:00", "13:00"]],
                    "tue": [["9am", "5pm"]],
                    "wed": [["18:00", "09:00"]],
                    "funday": [],
                },
                "holidays": ["2026-02-30"],
                "exceptions": [
                    {"date": "2026-10-10", "hours": []},
                    {"date": "2026-10-10", "hours": []},
                ],
                "colour": "red",
            }
        )
    found = {(d.path, d.code) for d in caught.value.diagnostics}
    assert found == {
        ("/time_zone", "calendar.zone"),
        ("/week/mon", "calendar.overlap"),
        ("/week/tue/0", "calendar.time"),
        ("/week/wed/0", "calendar.order"),
        ("/week/funday", "calendar.weekday"),
        ("/holidays/0", "calendar.date"),
        ("/exceptions/1/date", "calendar.duplicate"),
        ("/colour", "calendar.unknown"),
    }
    with pytest.raises(DefinitionError) as closed:
        compile_calendar({"key": "never", "week": {}})
    assert closed.value.diagnostics[0].code == "calendar.closed"


def test_labels_and_descriptions_are_calendar_properties() -> None:
    described = compile_calendar(
        {
            "key": "office",
            "label": {"zh-CN": "办公时间"},
            "description": {"zh-CN": "周一至周五", "en": "Mon–Fri"},
            "week": {"mon": [["09:00", "18:00"]]},
        }
    )
    assert described.hours_on(date(2026, 11, 23)) != ()


def test_a_calendar_without_future_working_time_says_so() -> None:
    only_once = compile_calendar(
        {"key": "once", "exceptions": [{"date": "2026-01-05", "hours": [["09:00", "10:00"]]}]}
    )
    with pytest.raises(CalendarClosed):
        only_once.add(local("2026-06-01 09:00"), 60)
    with pytest.raises(ValueError, match="aware"):
        only_once.between(datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10))
