"""The rule engine: rules (triggers, conditions, actions → effects and traces), decision tables, business calendars and SLA policies.

Pure: no Flask, no database session, no clock reads — instants are passed in.
"""

from tangram.engines.rules.actions import Actions, Effect, compile_actions
from tangram.engines.rules.book import (
    BOOK_KINDS,
    BookSource,
    Fingerprint,
    Rulebook,
    catalog,
    compile_book,
    named_recipients,
)
from tangram.engines.rules.calendar import Calendar, CalendarClosed, Segment, compile_calendar
from tangram.engines.rules.checker import Template
from tangram.engines.rules.decision import (
    Decision,
    DecisionError,
    DecisionTable,
    compile_decision_table,
)
from tangram.engines.rules.rule import (
    Rule,
    RuleEvent,
    RuleSet,
    RuleTrace,
    RunResult,
    compile_rule,
    compile_rules,
)
from tangram.engines.rules.sla import SlaPolicy, SlaState, Target, TargetStatus, compile_sla

__all__ = [
    "BOOK_KINDS",
    "Actions",
    "BookSource",
    "Calendar",
    "CalendarClosed",
    "Decision",
    "DecisionError",
    "DecisionTable",
    "Effect",
    "Fingerprint",
    "Rule",
    "RuleEvent",
    "RuleSet",
    "RuleTrace",
    "Rulebook",
    "RunResult",
    "Segment",
    "SlaPolicy",
    "SlaState",
    "Target",
    "TargetStatus",
    "Template",
    "catalog",
    "compile_actions",
    "compile_book",
    "compile_calendar",
    "compile_decision_table",
    "compile_rule",
    "compile_rules",
    "compile_sla",
    "named_recipients",
]
