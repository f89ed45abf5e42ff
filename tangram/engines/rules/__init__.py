"""The rule engine: business calendars now; triggers, actions, decision tables and SLA build on it.

Pure: no Flask, no database session, no clock reads — instants are passed in.
"""

from tangram.engines.rules.calendar import Calendar, CalendarClosed, Segment, compile_calendar

__all__ = ["Calendar", "CalendarClosed", "Segment", "compile_calendar"]
