"""The rule engine: business calendars, decision tables and SLA policies now; triggers, actions, decision tables and SLA build on it.

Pure: no Flask, no database session, no clock reads — instants are passed in.
"""

from tangram.engines.rules.calendar import Calendar, CalendarClosed, Segment, compile_calendar
from tangram.engines.rules.decision import (
    Decision,
    DecisionError,
    DecisionTable,
    compile_decision_table,
)
from tangram.engines.rules.sla import SlaPolicy, SlaState, TargetStatus, compile_sla

__all__ = [
    "Calendar",
    "CalendarClosed",
    "Decision",
    "DecisionError",
    "DecisionTable",
    "Segment",
    "SlaPolicy",
    "SlaState",
    "TargetStatus",
    "compile_calendar",
    "compile_decision_table",
    "compile_sla",
]
