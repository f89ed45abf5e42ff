"""Reporting periods: presets and date ranges in the app's time zone, and the period before each.

A period is half-open, ``[start, end)``, between local midnights. ``resolve_period`` reads a
preset (``this_month``, ``last_7_days`` …) or a range of local dates ``2026-11-01..2026-11-30``
(both days included) against ``now`` (passed in: the engine reads no clock). The previous period
of a calendar preset is the calendar unit before it (``this_month`` → last month); of a rolling
preset or a range, the window of the same length that ends where it starts. KPI cards compare a
period with its previous one; before/after widgets compare two named periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tangram.engines.common import DefinitionError, Diagnostic

CALENDAR = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
)
ROLLING = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}
PRESETS = (*CALENDAR, *ROLLING)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` … ``last`` (both included) in ``zone``; ``unit`` for calendar units."""

    first: date
    last: date
    zone: ZoneInfo
    unit: str | None = (
        None  # day, week, month, quarter, year: the previous period is the unit before
    )

    @property
    def start(self) -> datetime:
        """The first instant (local midnight of ``first``, in UTC)."""
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after ``last``, in UTC)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)

    @property
    def previous(self) -> Period:
        """The period before: the unit before a calendar unit, else the same number of days."""
        if self.unit in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.unit]
            first = _add_months(self.first, -months)
            return Period(first, self.first - timedelta(days=1), self.zone, self.unit)
        days = (self.last - self.first).days + 1
        return Period(
            self.first - timedelta(days=days), self.first - timedelta(days=1), self.zone, self.unit
        )

    def as_dict(self) -> dict[str, str]:
        """``{"from": first, "to": last}`` as ISO dates."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _calendar(name: str, today: date, zone: ZoneInfo) -> Period:
    which, _, unit = name.partition("_")
    if name in ("today", "yesterday"):
        day = today if name == "today" else today - timedelta(days=1)
        return Period(day, day, zone, "day")
    if unit == "week":
        first = today - timedelta(days=today.weekday())
        current = Period(first, first + timedelta(days=6), zone, "week")
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[unit]
        month = (today.month - 1) // months * months + 1
        first = date(today.year, month, 1)
        current = Period(first, _add_months(first, months) - timedelta(days=1), zone, unit)
    return current if which == "this" else current.previous


def resolve_period(spec: str, *, now: datetime, zone: ZoneInfo, path: str = "period") -> Period:
    """The period ``spec`` names at ``now``; a bad spec raises :class:`DefinitionError` at ``path``."""
    today = now.astimezone(zone).date()
    if spec in CALENDAR:
        return _calendar(spec, today, zone)
    if spec in ROLLING:
        return Period(today - timedelta(days=ROLLING[spec] - 1), today, zone)
    low, sep, high = spec.partition("..")
    try:
        first, last = date.fromisoformat(low), date.fromisoformat(high)
    except ValueError:
        first = last = None  # type: ignore[assignment]
    if not sep or first is None or last is None:
        raise DefinitionError(
            [
                Diagnostic(
                    path,
                    "report.period",
                    f"{spec!r} is no period: use FIRST..LAST (ISO dates) or one of "
                    + ", ".join(PRESETS),
                )
            ]
        )
    if last < first:
        raise DefinitionError(
            [Diagnostic(path, "report.period", f"{spec!r} ends before it starts")]
        )
    return Period(first, last, zone)
