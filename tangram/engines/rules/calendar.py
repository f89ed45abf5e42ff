"""Business calendars: working hours per weekday (with breaks), holidays, per-date exceptions.

``compile_calendar(definition)`` checks a calendar completely and gives a :class:`Calendar` whose
arithmetic is exact in any IANA time zone: working hours are wall-clock times of the calendar's
zone, turned into instants day by day, so a day with a DST jump has as many working minutes as the
clock really shows. Nothing here reads the clock: instants are passed in (aware datetimes).

A definition::

    {"key": "cn_office", "time_zone": "Asia/Shanghai",
     "week": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ..., "sat": [], "sun": []},
     "holidays": ["2026-10-01", ...],
     "exceptions": [{"date": "2026-09-27", "hours": [["09:00", "18:00"]], "note": "调休"}]}

``"always_open": true`` makes a 24×7 calendar (holidays and week then do not apply). An exception
replaces the hours of its date (an empty list closes it), and wins over holidays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tangram.engines.common import DefinitionError, Diagnostic

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead arithmetic looks for working time before declaring the calendar closed.
MAX_DAYS = 3 * 366

Hours = tuple[tuple[time, time], ...]


class CalendarClosed(ValueError):
    """The calendar has no working time in the searched span."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of working time, as aware UTC instants (``end`` excluded)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Calendar:
    """A compiled business calendar (immutable, shareable between threads)."""

    key: str
    zone: ZoneInfo
    week: tuple[Hours, ...]
    holidays: frozenset[date] = frozenset()
    exceptions: Mapping[date, Hours] = field(default_factory=dict)
    notes: Mapping[date, str] = field(default_factory=dict)
    always_open: bool = False

    # --- what a day holds ----------------------------------------------------------------

    def hours_on(self, day: date) -> Hours:
        """The wall-clock working hours of a local date."""
        if day in self.exceptions:
            return self.exceptions[day]
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]

    def segments_on(self, day: date) -> list[Segment]:
        """The working segments of a local date as UTC instants."""
        out = []
        for start, end in self.hours_on(day):
            begin = _instant(day, start, self.zone)
            finish = (
                _instant(day + timedelta(days=1), time(0), self.zone)
                if end == time(0)
                else _instant(day, end, self.zone)
            )
            if finish > begin:
                out.append(Segment(begin, finish))
        return out

    def segments(self, start: datetime, end: datetime | None = None) -> Iterator[Segment]:
        """Working segments from ``start`` (clipped), in order, up to ``end`` if given."""
        start = _aware(start)
        if end is not None:
            end = _aware(end)
        if self.always_open:
            yield Segment(start, end if end is not None else start + timedelta(days=MAX_DAYS))
            return
        day = start.astimezone(self.zone).date()  # hours end by midnight: earlier days are over
        last = day + timedelta(days=MAX_DAYS)
        while day <= last:
            for seg in self.segments_on(day):
                if seg.end <= start:
                    continue
                if end is not None and seg.start >= end:
                    return
                clipped = Segment(
                    max(seg.start, start), seg.end if end is None else min(seg.end, end)
                )
                if clipped.end > clipped.start:
                    yield clipped
            if end is not None and _instant(day + timedelta(days=1), time(0), self.zone) >= end:
                return
            day += timedelta(days=1)

    # --- arithmetic ------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in working time."""
        at = _aware(at)
        return any(s.start <= at < s.end for s in self.segments(at, at + timedelta(seconds=1)))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start`` (UTC).

        Zero from a closed moment gives the next opening; a calendar with no working time in
        three years raises :class:`CalendarClosed`.
        """
        if seconds < 0:
            raise ValueError("business time to add must not be negative")
        left = float(seconds)
        for seg in self.segments(start):
            if left <= seg.seconds:
                return seg.start + timedelta(seconds=left)
            left -= seg.seconds
        raise CalendarClosed(f"calendar {self.key!r} has no working time in {MAX_DAYS} days")

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """:meth:`add` in minutes."""
        return self.add(start, minutes * 60)

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds from ``start`` to ``end`` (negative when ``end`` comes first)."""
        start, end = _aware(start), _aware(end)
        if end < start:
            return -self.between(end, start)
        return sum(seg.seconds for seg in self.segments(start, end))

    def business_minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (what ``date_diff`` in business units reads)."""
        return self.between(start, end) / 60

    def explain(self, start: datetime, seconds: float) -> list[Segment]:
        """The working segments that :meth:`add` consumes (to show why a due time is what it is)."""
        due = self.add(start, seconds)
        return list(self.segments(start, due))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("calendar arithmetic needs aware datetimes")
    return value.astimezone(UTC)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant; a time skipped by DST moves forward with it."""
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    # Round-trip: a wall time that does not exist (spring forward) maps past the gap.
    back = instant.astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        instant = local.replace(fold=1).astimezone(UTC)
    return instant


# --- compiling --------------------------------------------------------------------------------


def _parse_time(text: Any) -> time | None:
    if not isinstance(text, str):
        return None
    if text == "24:00":
        return time(0)
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        return None
    return parsed if len(text) == 5 else None


def _hours(raw: Any, path: str, problems: list[Diagnostic]) -> Hours:
    if not isinstance(raw, list):
        problems.append(Diagnostic(path, "calendar.hours", "must be a list of [start, end] pairs"))
        return ()
    spans: list[tuple[time, time]] = []
    for i, pair in enumerate(raw):
        where = f"{path}/{i}"
        if not isinstance(pair, list) or len(pair) != 2:
            problems.append(Diagnostic(where, "calendar.hours", 'must be ["HH:MM", "HH:MM"]'))
            continue
        start, end = _parse_time(pair[0]), _parse_time(pair[1])
        if start is None or end is None or pair[0] == "24:00":
            problems.append(
                Diagnostic(where, "calendar.time", "times are HH:MM (the end may be 24:00)")
            )
            continue
        if end != time(0) and end <= start:
            problems.append(Diagnostic(where, "calendar.order", "must end after it starts"))
            continue
        spans.append((start, end))

    ordered = sorted(spans)
    for previous, current in pairwise(ordered):
        if previous[1] == time(0) or current[0] < previous[1]:
            problems.append(
                Diagnostic(
                    path,
                    "calendar.overlap",
                    f"{previous[0]:%H:%M}–{'24:00' if previous[1] == time(0) else f'{previous[1]:%H:%M}'}"
                    f" overlaps {current[0]:%H:%M}",
                )
            )
    return tuple(ordered)


def _date(raw: Any, path: str, problems: list[Diagnostic]) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        pass
    problems.append(Diagnostic(path, "calendar.date", "must be a date like 2026-10-01"))
    return None


def compile_calendar(definition: Mapping[str, Any]) -> Calendar:
    """Check a calendar definition (every problem with its path) and compile it."""
    problems: list[Diagnostic] = []
    key = definition.get("key")
    if not isinstance(key, str) or not key:
        problems.append(Diagnostic("/key", "calendar.key", "is required"))
    zone_name = definition.get("time_zone", "Asia/Shanghai")
    zone = ZoneInfo("UTC")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Diagnostic("/time_zone", "calendar.zone", f"{zone_name!r} is not an IANA time zone")
        )
    unknown = set(definition) - {
        "key",
        "label",
        "description",
        "time_zone",
        "always_open",
        "week",
        "holidays",
        "exceptions",
    }
    for name in sorted(unknown):
        problems.append(Diagnostic(f"/{name}", "calendar.unknown", "is not a calendar property"))
    always = bool(definition.get("always_open", False))
    week_raw = definition.get("week", {})
    week: list[Hours] = []
    if not isinstance(week_raw, Mapping):
        problems.append(Diagnostic("/week", "calendar.week", "must map mon…sun to hours"))
        week_raw = {}
    for name in sorted(set(week_raw) - set(WEEKDAYS)):
        problems.append(Diagnostic(f"/week/{name}", "calendar.weekday", "use mon, tue, … sun"))
    for name in WEEKDAYS:
        week.append(_hours(week_raw.get(name, []), f"/week/{name}", problems))
    holidays: set[date] = set()
    for i, raw in enumerate(definition.get("holidays", []) or []):
        found = _date(raw, f"/holidays/{i}", problems)
        if found is not None:
            holidays.add(found)
    exceptions: dict[date, Hours] = {}
    notes: dict[date, str] = {}
    for i, raw in enumerate(definition.get("exceptions", []) or []):
        where = f"/exceptions/{i}"
        if not isinstance(raw, Mapping):
            problems.append(Diagnostic(where, "calendar.exception", "must be an object"))
            continue
        day = _date(raw.get("date"), f"{where}/date", problems)
        hours = _hours(raw.get("hours", []), f"{where}/hours", problems)
        if day is not None:
            if day in exceptions:
                problems.append(
                    Diagnostic(f"{where}/date", "calendar.duplicate", f"{day} is listed twice")
                )
            exceptions[day] = hours
            if raw.get("note"):
                notes[day] = str(raw["note"])
    if not always and not any(week) and not any(exceptions.values()):
        problems.append(Diagnostic("/week", "calendar.closed", "has no working hours at all"))
    if problems:
        raise DefinitionError(problems)
    return Calendar(
        key=str(key),
        zone=zone,
        week=tuple(week),
        holidays=frozenset(holidays),
        exceptions=exceptions,
        notes=notes,
        always_open=always,
    )
