"""Rules: a trigger, a condition and actions, compiled once; running them returns effects and traces.

``compile_rules(definitions, fields=..., tables=..., forms=...)`` checks every rule of a form
(trigger, condition, each action and its parameters, template placeholders, decision-table
references) and returns a :class:`RuleSet`. ``RuleSet.run(event, data, old=..., context=...)``
evaluates the rules the event triggers, in priority order (higher first, then by key), stopping
after a matching rule marked ``stop_processing``, and returns the :class:`Effect` list the platform
applies in the event's transaction plus one :class:`RuleTrace` per rule considered (matched or not,
with the value of every sub-expression of its condition).

Effects are data: the engine resolves expressions, decision tables and templates; the platform
resolves people (assignment strategies read the directory and open work), writes, notifies, queues
webhooks and starts flows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, EvalContext
from tangram.engines.rules.actions import Action, Effect, compile_action
from tangram.engines.rules.checker import Checker
from tangram.engines.rules.decision import DecisionError, DecisionTable

TRIGGERS = (
    "record_created",
    "record_updated",
    "field_changed",
    "record_deleted",
    "task_created",
    "task_completed",
    "customer_replied",
    "schedule",
    "timer",
)
#: The domain event each trigger listens to.
EVENT_OF = {
    "record_created": "record.created",
    "record_updated": "record.updated",
    "field_changed": "record.updated",
    "record_deleted": "record.deleted",
    "task_created": "task.created",
    "task_completed": "task.completed",
    # a customer's reply through the record's status link (a public page)
    "customer_replied": "record.customer_replied",
    "schedule": "schedule",
    "timer": "timer",
}


@dataclass(frozen=True, slots=True)
class RuleEvent:
    """What happened: ``name`` (``record.created``, ``record.updated``, ``timer``, ...), the
    fields an update changed, and what scheduled events name (the rule key of a timer or
    schedule)."""

    name: str
    changed: frozenset[str] = frozenset()
    rule: str | None = None
    task: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """Why a rule did or did not act: its condition's value and every sub-expression's."""

    rule: str
    matched: bool
    condition: Any
    values: Mapping[str, Any]
    effects: tuple[str, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the audit log and the record's timeline."""
        return {
            "rule": self.rule,
            "matched": self.matched,
            "condition": self.condition,
            "values": dict(self.values),
            "effects": list(self.effects),
            "error": self.error,
        }


# --- values: literals, expressions, templates -------------------------------------------------


# --- actions ----------------------------------------------------------------------------------


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A compiled rule."""

    key: str
    trigger: str
    event: str
    priority: int
    stop_processing: bool
    fields: frozenset[str]
    condition: CompiledLogic | None
    actions: tuple[Action, ...]
    #: Trigger parameters: ``cron`` and ``time_zone`` for schedules; ``minutes``, ``after``,
    #: ``unless`` and ``business`` for timers.
    schedule: Mapping[str, Any] = field(default_factory=dict)
    unless: CompiledLogic | None = None
    #: Whether the event's name alone does not decide (changed fields, the timer's rule).
    filtered: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "filtered", self.trigger in ("field_changed", "schedule", "timer"))

    def triggered_by(self, event: RuleEvent) -> bool:
        """Whether ``event`` triggers this rule."""
        if event.name != self.event:
            return False
        if self.trigger in ("schedule", "timer"):
            return event.rule == self.key
        if self.trigger == "field_changed":
            return bool(self.fields & event.changed)
        return True

    def next_run(self, after: datetime) -> datetime:
        """The next firing of a schedule rule after ``after`` (in the rule's time zone)."""
        zone = ZoneInfo(str(self.schedule.get("time_zone", "Asia/Shanghai")))
        return next(CronSim(str(self.schedule["cron"]), after.astimezone(zone)))


def _compile_trigger(raw: Any, c: Checker) -> tuple[str, frozenset[str], dict[str, Any], Any]:
    if not isinstance(raw, Mapping) or raw.get("type") not in TRIGGERS:
        c.problem("/trigger/type", "rule.trigger", f"use one of {', '.join(TRIGGERS)}")
        return "record_created", frozenset(), {}, None
    kind = raw["type"]
    fields: set[str] = set()
    schedule: dict[str, Any] = {}
    unless = None
    if kind == "field_changed":
        listed = raw.get("fields")
        if not isinstance(listed, list) or not listed:
            c.problem("/trigger/fields", "rule.trigger", "list the fields whose change triggers")
            listed = []
        fields = {c.field(k, f"/trigger/fields/{i}") for i, k in enumerate(listed)}
    elif kind == "schedule":
        cron = raw.get("cron")
        zone = raw.get("time_zone", "Asia/Shanghai")
        try:
            CronSim(str(cron), datetime(2026, 1, 1, tzinfo=ZoneInfo(str(zone))))
        except (CronSimError, ValueError, KeyError, ZoneInfoNotFoundError) as exc:
            c.problem("/trigger/cron", "rule.cron", f"{cron!r} is not a cron expression: {exc}")
        schedule = {"cron": cron, "time_zone": zone}
    elif kind == "timer":
        minutes = raw.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
            c.problem("/trigger/minutes", "rule.timer", "a positive number of minutes")
        after = raw.get("after", "created_at")
        if after not in ("created_at", "updated_at"):
            c.field(after, "/trigger/after")
        schedule = {"minutes": minutes, "after": after, "business": bool(raw.get("business"))}
        if "unless" in raw:
            unless = c.logic(raw["unless"], "/trigger/unless")
    return kind, frozenset(fields), schedule, unless


def compile_rule(
    definition: Mapping[str, Any],
    *,
    fields: frozenset[str] | None = None,
    tables: Mapping[str, DecisionTable] | None = None,
    forms: frozenset[str] | None = None,
    flows: frozenset[str] | None = None,
) -> Rule:
    """Check one rule completely (every problem with its JSON-pointer path) and compile it."""
    c = Checker(fields, tables or {}, forms, flows)
    key = definition.get("key")
    if not isinstance(key, str) or not key:
        c.problem("/key", "rule.key", "is required")
    kind, trigger_fields, schedule, unless = _compile_trigger(definition.get("trigger"), c)
    condition = (
        c.logic(definition["condition"], "/condition") if "condition" in definition else None
    )
    raw_actions = definition.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        c.problem("/actions", "rule.actions", "needs at least one action")
        raw_actions = []
    actions = [compile_action(a, f"/actions/{i}", c) for i, a in enumerate(raw_actions)]
    priority = definition.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        c.problem("/priority", "rule.priority", "a whole number (higher runs first)")
        priority = 0
    if c.problems:
        raise DefinitionError(c.problems)
    return Rule(
        key=str(key),
        trigger=kind,
        event=EVENT_OF[kind],
        priority=priority,
        stop_processing=bool(definition.get("stop_processing", False)),
        fields=trigger_fields,
        condition=condition,
        actions=tuple(a for a in actions if a is not None),
        schedule=schedule,
        unless=unless,
    )


@dataclass(frozen=True, slots=True)
class RunResult:
    """What running a rule set for one event gives."""

    effects: tuple[Effect, ...]
    traces: tuple[RuleTrace, ...]


@dataclass(frozen=True)
class RuleSet:
    """The enabled rules of a form, in the order they run."""

    rules: tuple[Rule, ...]
    _by_event: Mapping[str, tuple[Rule, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_event: dict[str, list[Rule]] = {}
        for rule in self.rules:
            by_event.setdefault(rule.event, []).append(rule)
        object.__setattr__(self, "_by_event", {k: tuple(v) for k, v in by_event.items()})

    def run(
        self,
        event: RuleEvent,
        data: Mapping[str, Any],
        *,
        old: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        context: EvalContext | None = None,
        trace: bool = True,
    ) -> RunResult:
        """Evaluate the rules ``event`` triggers; a rule that fails is traced, not fatal.

        ``variables`` are the ``$`` context variables (``$user``, ``$now``, ...) expressions and
        templates read beside the fields; ``context`` carries what platform operations need
        (clock, groups, roles, calendar); the event's changed fields and ``old`` are added to it.
        With ``trace=False`` only rules that acted (or failed) are traced, without sub-expression
        values: the fast path for events nobody is inspecting.

        Rules run in order and so do a rule's actions; each sees the record as the ``set_fields``
        before it left it (later conditions, expressions and templates read those values).
        Values the platform decides when it applies the effects (who an ``assign`` picks) reach
        later actions that address people by that field, not expressions.
        """
        candidates = self._by_event.get(event.name, ())
        if not candidates:
            return RunResult((), ())
        previous = old or {}
        ctx = replace(context or EvalContext(), old=previous, changed=event.changed)
        data = {**data, "$old": previous, "$record": data, **(variables or {})}
        effects: list[Effect] = []
        traces: list[RuleTrace] = []
        for rule in candidates:
            if rule.filtered and not rule.triggered_by(event):
                continue
            try:
                if rule.unless is not None and rule.unless.function(data, ctx):
                    traces.append(RuleTrace(rule.key, False, "unless", {}))
                    continue
                values: Mapping[str, Any] = {}
                if rule.condition is None:
                    matched = True
                    outcome: Any = True
                elif trace:
                    outcome, steps = rule.condition.trace(data, ctx)
                    values = {step.path or "/": step.value for step in steps}
                    matched = bool(outcome)
                else:
                    outcome = rule.condition.function(data, ctx)
                    matched = bool(outcome)
                produced = []
                for action in rule.actions if matched else ():
                    effect = action.effect(rule.key, data, ctx)
                    produced.append(effect)
                    if effect.type in ("set_fields", "score"):  # what later actions and rules see
                        data = _with_values(data, effect.params["values"])
            except (ValueError, TypeError, DecisionError) as exc:
                traces.append(RuleTrace(rule.key, False, None, {}, error=str(exc)))
                continue
            if trace or matched:
                effects.extend(produced)
                traces.append(
                    RuleTrace(rule.key, matched, outcome, values, tuple(e.type for e in produced))
                )
            if matched and rule.stop_processing:
                break
        return RunResult(tuple(effects), tuple(traces))


def _with_values(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (fields and ``$`` variables) after a ``set_fields``: the fields and ``$record``."""
    out = {**data, **values}
    record = data.get("$record")
    if isinstance(record, Mapping):
        out["$record"] = {**record, **values}
    return out


def compile_rules(
    definitions: Sequence[Mapping[str, Any]],
    *,
    fields: frozenset[str] | None = None,
    tables: Mapping[str, DecisionTable] | None = None,
    forms: frozenset[str] | None = None,
    flows: frozenset[str] | None = None,
) -> RuleSet:
    """Compile the enabled rules of a form; problems are collected across rules (paths prefixed
    with ``/<rule key>``)."""
    problems: list[Diagnostic] = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, definition in enumerate(definitions):
        key = str(definition.get("key", f"#{i}"))
        if key in seen:
            problems.append(Diagnostic(f"/{key}/key", "rule.duplicate", "two rules share a key"))
        seen.add(key)
        if definition.get("enabled", True) is False:
            continue
        try:
            rules.append(
                compile_rule(definition, fields=fields, tables=tables, forms=forms, flows=flows)
            )
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"/{key}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
    if problems:
        raise DefinitionError(problems)
    return RuleSet(tuple(sorted(rules, key=lambda r: (-r.priority, r.key))))
