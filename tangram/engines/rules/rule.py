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

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, EvalContext, VariableSpec, compile_logic
from tangram.engines.rules.decision import DecisionError, DecisionTable

TRIGGERS = (
    "record_created",
    "record_updated",
    "field_changed",
    "record_deleted",
    "task_created",
    "task_completed",
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
    "schedule": "schedule",
    "timer": "timer",
}
ACTIONS = (
    "set_fields",
    "assign",
    "notify",
    "create_record",
    "start_flow",
    "webhook",
    "comment",
    "escalate",
)
STRATEGIES = ("fixed", "round_robin", "least_open", "skill")
PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_$][\w$]*(?:\.[\w$]+)*)\s*\}\}")
MAX_TEMPLATE = 10_000


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
class Effect:
    """One thing the platform must do, with everything the engine could resolve already resolved."""

    type: str
    rule: str
    params: Mapping[str, Any]


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


@dataclass(frozen=True, slots=True)
class _Value:
    """A parameter: a literal, or ``{"expr": <JsonLogic>}`` evaluated on the record."""

    literal: Any = None
    logic: CompiledLogic | None = None

    def __call__(self, data: Mapping[str, Any], context: EvalContext) -> Any:
        return self.literal if self.logic is None else self.logic.function(data, context)


@dataclass(frozen=True, slots=True)
class Template:
    """Text with ``{{field}}`` placeholders (dotted paths; ``$old.x`` and context variables too)."""

    text: str
    paths: tuple[str, ...]

    def render(self, data: Mapping[str, Any], *, escape: bool) -> str:
        """Fill the placeholders from the record (and ``$`` variables in it); ``escape``
        HTML-escapes the values (for HTML mail)."""

        def value(match: re.Match[str]) -> str:
            path = match.group(1)
            head, *rest = path.split(".")
            current: Any = data.get(head)
            for part in rest:
                current = current.get(part) if isinstance(current, Mapping) else None
            shown = "" if current is None else str(current)
            return html.escape(shown) if escape else shown

        return PLACEHOLDER.sub(value, self.text)


class _Checker:
    def __init__(
        self,
        fields: frozenset[str] | None,
        tables: Mapping[str, DecisionTable],
        forms: frozenset[str] | None,
        flows: frozenset[str] | None,
    ) -> None:
        self.fields = fields
        self.spec = VariableSpec(fields=fields) if fields is not None else None
        self.tables = tables
        self.forms = forms
        self.flows = flows
        self.problems: list[Diagnostic] = []

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Diagnostic(path, code, message))

    def logic(self, expression: Any, path: str) -> CompiledLogic | None:
        try:
            return compile_logic(expression, variables=self.spec)
        except DefinitionError as exc:
            self.problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    def value(self, raw: Any, path: str) -> _Value:
        if isinstance(raw, Mapping) and set(raw) == {"expr"}:
            return _Value(logic=self.logic(raw["expr"], f"{path}/expr"))
        return _Value(literal=raw)

    def field(self, key: Any, path: str) -> str:
        if not isinstance(key, str) or (self.fields is not None and key not in self.fields):
            self.problem(path, "rule.field", f"{key!r} is not a field of the form")
        return str(key)

    def template(self, raw: Any, path: str, *, required: bool = True) -> Template | None:
        if raw is None and not required:
            return None
        if not isinstance(raw, str) or (required and not raw.strip()):
            self.problem(path, "rule.template", "must be text")
            return None
        if len(raw) > MAX_TEMPLATE:
            self.problem(path, "rule.template", f"at most {MAX_TEMPLATE} characters")
        paths = tuple(m.group(1) for m in PLACEHOLDER.finditer(raw))
        for p in paths:
            head = p.split(".")[0]
            known = head.startswith("$") and self.spec is not None and head in self.spec.context
            if self.fields is not None and head not in self.fields and not known:
                self.problem(path, "rule.placeholder", f"{{{{{p}}}}} names no field of the form")
        return Template(raw, paths)

    def recipients(self, raw: Any, path: str) -> dict[str, Any]:
        """``{"user": id}``, ``{"group": key}``, ``{"role": key}``, ``{"field": key}`` (also
        ``reference.field``: a field of the record a reference points at),
        ``{"manager_of": "group" | field}``, ``{"email_field": key}`` (the address an e-mail
        field holds, for e-mail notices to people without an account), or a list of those."""
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for i, item in enumerate(items):
            where = f"{path}/{i}" if isinstance(raw, list) else path
            if not isinstance(item, Mapping) or len(item) != 1:
                self.problem(
                    where,
                    "rule.recipient",
                    "one of {user: id}, {group: key}, {role: key}, {field: key}, {manager_of: key},"
                    " {email_field: key}",
                )
                continue
            ((kind, value),) = item.items()
            if kind == "field" and isinstance(value, str) and "." in value:
                # a user or group field of the record a reference field points at
                self.field(value.split(".", 1)[0], f"{where}/{kind}")
            elif kind in ("field", "manager_of", "email_field"):
                self.field(value, f"{where}/{kind}")
            elif kind == "user":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    self.problem(f"{where}/user", "rule.recipient", "a user id")
            elif kind in ("group", "role"):
                if not isinstance(value, str) or not value:
                    self.problem(f"{where}/{kind}", "rule.recipient", f"a {kind} key")
            else:
                self.problem(where, "rule.recipient", f"unknown recipient kind {kind!r}")
            out.append({kind: value})
        return {"recipients": out}


# --- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Action:
    type: str
    build: Any  # (data, context) -> params

    def effect(self, rule: str, data: Mapping[str, Any], context: EvalContext) -> Effect:
        return Effect(self.type, rule, self.build(data, context))


def _set_fields(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    values = raw.get("values")
    if not isinstance(values, Mapping) or not values:
        c.problem(f"{path}/values", "rule.values", "maps fields to values or {expr: ...}")
        return None
    compiled = {
        c.field(k, f"{path}/values/{k}"): c.value(v, f"{path}/values/{k}")
        for k, v in values.items()
    }

    def set_fields(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        return {"values": {k: v(data, ctx) for k, v in compiled.items()}}

    return _Action("set_fields", set_fields)


def _assign(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    target = c.field(raw.get("field", "assignee"), f"{path}/field")
    strategy = raw.get("strategy", "fixed")
    if strategy not in STRATEGIES:
        c.problem(f"{path}/strategy", "rule.strategy", f"use one of {', '.join(STRATEGIES)}")
    if strategy == "skill" and not isinstance(raw.get("skill"), str | Mapping):
        c.problem(f"{path}/skill", "rule.skill", "name the skill tag (or {expr: ...})")
    skill = c.value(raw.get("skill"), f"{path}/skill")
    closed = raw.get("closed", [])
    if not isinstance(closed, list) or not all(isinstance(v, str) for v in closed):
        c.problem(f"{path}/closed", "rule.closed", "a list of statuses that end work")
        closed = []
    table_key = raw.get("table")
    if table_key is not None:
        table = c.tables.get(str(table_key))
        output = raw.get("output")
        if table is None:
            c.problem(f"{path}/table", "rule.table", f"no decision table {table_key!r}")
        elif output not in table.outputs:
            c.problem(
                f"{path}/output",
                "rule.output",
                f"the table's outputs are {', '.join(table.outputs)}",
            )
        kind_of = raw.get("as", "group")
        if kind_of not in ("group", "role", "user"):
            c.problem(f"{path}/as", "rule.recipient", "group, role or user")

        def from_table(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
            assert table is not None
            decision = table.decide(data, ctx)
            result = decision.result
            chosen = result.get(output) if isinstance(result, Mapping) else None
            return {
                "field": target,
                "strategy": strategy,
                "skill": skill(data, ctx),
                "closed": closed,
                "recipients": [{kind_of: chosen}] if chosen is not None else [],
                "table": table_key,
                "rows": [r + 1 for r in decision.matched],
            }

        return _Action("assign", from_table)
    recipients = c.recipients(raw.get("to"), f"{path}/to")

    def assign(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        return {
            "field": target,
            "strategy": strategy,
            "skill": skill(data, ctx),
            "closed": closed,
            **recipients,
        }

    return _Action("assign", assign)


def _notify(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    recipients = c.recipients(raw.get("to"), f"{path}/to")
    channel = raw.get("channel", "in_app")
    if channel not in ("in_app", "email"):
        c.problem(f"{path}/channel", "rule.channel", "in_app or email")
    title = c.template(raw.get("title"), f"{path}/title")
    body = c.template(raw.get("body", ""), f"{path}/body", required=False)

    def notify(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        escape = channel == "email"
        return {
            **recipients,
            "channel": channel,
            "title": title.render(data, escape=False) if title else "",
            "body": body.render(data, escape=escape) if body else "",
        }

    return _Action("notify", notify)


def _create_record(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    form = raw.get("form")
    if not isinstance(form, str) or (c.forms is not None and form not in c.forms):
        c.problem(f"{path}/form", "rule.form", f"no form {form!r} in this app")
    values = raw.get("values", {})
    compiled_values = {
        str(k): c.value(v, f"{path}/values/{k}")
        for k, v in (values.items() if isinstance(values, Mapping) else [])
    }

    def create(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        return {"form": form, "values": {k: v(data, ctx) for k, v in compiled_values.items()}}

    return _Action("create_record", create)


def _start_flow(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    flow = raw.get("flow")
    if not isinstance(flow, str) or (c.flows is not None and flow not in c.flows):
        c.problem(f"{path}/flow", "rule.flow", f"no flow {flow!r} in this app")
    return _Action("start_flow", lambda _d, _c: {"flow": flow})


def _webhook(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    url = raw.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        c.problem(f"{path}/url", "rule.url", "an http(s) URL with a host")
    include = raw.get("fields")
    if include is not None:
        if not isinstance(include, list):
            c.problem(f"{path}/fields", "rule.fields", "a list of fields")
            include = []
        for i, key in enumerate(include):
            c.field(key, f"{path}/fields/{i}")
    event_name = raw.get("event", "record")

    def webhook(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        body = data if include is None else {k: data.get(k) for k in include}
        return {"url": url, "event": event_name, "data": dict(body)}

    return _Action("webhook", webhook)


def _comment(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    text = c.template(raw.get("text"), f"{path}/text")
    return _Action("comment", lambda d, ctx: {"text": text.render(d, escape=False) if text else ""})


def _escalate(raw: Mapping[str, Any], path: str, c: _Checker) -> _Action | None:
    levels = raw.get("levels", 1)
    if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 5:
        c.problem(f"{path}/levels", "rule.levels", "1 to 5 levels")
    notify_to = raw.get("notify", "group_manager")
    if notify_to not in ("group_manager", "none"):
        c.problem(f"{path}/notify", "rule.escalate", "group_manager or none")
    return _Action("escalate", lambda _d, _c: {"levels": levels, "notify": notify_to})


#: What compiles each type of action (its options checked, its effect's parameters computed).
_ACTIONS: dict[str, Callable[[Mapping[str, Any], str, _Checker], _Action | None]] = {
    "set_fields": _set_fields,
    "assign": _assign,
    "notify": _notify,
    "create_record": _create_record,
    "start_flow": _start_flow,
    "webhook": _webhook,
    "comment": _comment,
    "escalate": _escalate,
}


def _compile_action(raw: Any, path: str, c: _Checker) -> _Action | None:
    if not isinstance(raw, Mapping) or raw.get("type") not in ACTIONS:
        c.problem(f"{path}/type", "rule.action", f"use one of {', '.join(ACTIONS)}")
        return None
    return _ACTIONS[raw["type"]](raw, path, c)


@dataclass(frozen=True)
class Actions:
    """A compiled list of actions outside a rule (SLA warnings and breaches, flow automation)."""

    actions: tuple[_Action, ...]

    def effects(
        self, source: str, data: Mapping[str, Any], context: EvalContext | None = None
    ) -> tuple[Effect, ...]:
        """The effects of every action on ``data``; ``source`` names their origin in traces."""
        ctx = context or EvalContext()
        return tuple(a.effect(source, data, ctx) for a in self.actions)


def compile_actions(
    raw: Any,
    *,
    fields: frozenset[str] | None = None,
    tables: Mapping[str, DecisionTable] | None = None,
    forms: frozenset[str] | None = None,
    flows: frozenset[str] | None = None,
    path: str = "",
) -> Actions:
    """Check a list of rule actions (every problem with its path under ``path``) and compile it."""
    c = _Checker(fields, tables or {}, forms, flows)
    if not isinstance(raw, list):
        c.problem(path or "/", "rule.actions", "must be a list of actions")
        raw = []
    compiled = [_compile_action(a, f"{path}/{i}", c) for i, a in enumerate(raw)]
    if c.problems:
        raise DefinitionError(c.problems)
    return Actions(tuple(a for a in compiled if a is not None))


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
    actions: tuple[_Action, ...]
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


def _compile_trigger(raw: Any, c: _Checker) -> tuple[str, frozenset[str], dict[str, Any], Any]:
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
    c = _Checker(fields, tables or {}, forms, flows)
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
    actions = [_compile_action(a, f"/actions/{i}", c) for i, a in enumerate(raw_actions)]
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
                produced = [a.effect(rule.key, data, ctx) for a in rule.actions] if matched else []
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
