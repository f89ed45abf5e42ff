"""Rule actions: set fields, assign, notify, create a record, start a flow, call a webhook,
comment, escalate, send a survey, score the record (:mod:`~tangram.engines.rules.score`). Each type compiles in a small function chosen from a table; a compiled action
turns a record into the parameters of its :class:`Effect`, which the platform applies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tangram.engines.common import DefinitionError
from tangram.engines.logic import EvalContext
from tangram.engines.rules.checker import Checker
from tangram.engines.rules.decision import DecisionTable
from tangram.engines.rules.score import compile_scorecard

ACTIONS = (
    "set_fields",
    "assign",
    "notify",
    "create_record",
    "start_flow",
    "webhook",
    "comment",
    "escalate",
    "send_survey",
    "score",
)

#: How long a survey link stays open unless an action says otherwise, and the longest it may.
SURVEY_DAYS = 14
MAX_SURVEY_DAYS = 365


STRATEGIES = ("fixed", "round_robin", "least_open", "skill")


@dataclass(frozen=True, slots=True)
class Effect:
    """One thing the platform must do, with everything the engine could resolve already resolved."""

    type: str
    rule: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Action:
    """A compiled action: its type and how it computes its parameters."""

    type: str
    build: Any  # (data, context) -> params

    def effect(self, rule: str, data: Mapping[str, Any], context: EvalContext) -> Effect:
        return Effect(self.type, rule, self.build(data, context))


def _set_fields(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
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

    return Action("set_fields", set_fields)


def _assign(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
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

        return Action("assign", from_table)
    recipients = c.recipients(raw.get("to"), f"{path}/to")

    def assign(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        return {
            "field": target,
            "strategy": strategy,
            "skill": skill(data, ctx),
            "closed": closed,
            **recipients,
        }

    return Action("assign", assign)


def _notify(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
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

    return Action("notify", notify)


def _create_record(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
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

    return Action("create_record", create)


def _start_flow(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
    flow = raw.get("flow")
    if not isinstance(flow, str) or (c.flows is not None and flow not in c.flows):
        c.problem(f"{path}/flow", "rule.flow", f"no flow {flow!r} in this app")
    return Action("start_flow", lambda _d, _c: {"flow": flow})


def _webhook(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
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

    return Action("webhook", webhook)


def _comment(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
    text = c.template(raw.get("text"), f"{path}/text")
    return Action("comment", lambda d, ctx: {"text": text.render(d, escape=False) if text else ""})


def _escalate(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
    levels = raw.get("levels", 1)
    if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 5:
        c.problem(f"{path}/levels", "rule.levels", "1 to 5 levels")
    notify_to = raw.get("notify", "group_manager")
    if notify_to not in ("group_manager", "none"):
        c.problem(f"{path}/notify", "rule.escalate", "group_manager or none")
    return Action("escalate", lambda _d, _c: {"levels": levels, "notify": notify_to})


def _send_survey(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
    form = raw.get("form")
    if not isinstance(form, str) or (c.forms is not None and form not in c.forms):
        c.problem(f"{path}/form", "rule.form", f"no form {form!r} in this app")
    link_field = raw.get("link_field")
    if not isinstance(link_field, str) or not link_field:
        c.problem(
            f"{path}/link_field",
            "rule.link_field",
            "name the reference field of the survey form that points at this record",
        )
    days = raw.get("expires_in_days", SURVEY_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_SURVEY_DAYS:
        c.problem(f"{path}/expires_in_days", "rule.expires", f"1 to {MAX_SURVEY_DAYS} days")
    to_field = raw.get("to_field")
    if to_field is not None:
        # an e-mail field of the record, or ``reference.field`` of the record it points at
        head = to_field.split(".", 1)[0] if isinstance(to_field, str) else to_field
        c.field(head, f"{path}/to_field")
    answered_field = raw.get("answered_field")
    if answered_field is not None:
        c.field(answered_field, f"{path}/answered_field")
    params = {
        "form": form,
        "link_field": link_field,
        "expires_in_days": days,
        "to_field": to_field,
        "answered_field": answered_field,
    }
    return Action("send_survey", lambda _d, _c: dict(params))


def _score(raw: Mapping[str, Any], path: str, c: Checker) -> Action | None:
    target = c.field(raw.get("field"), f"{path}/field")

    def optional(name: str) -> str | None:
        value = raw.get(name)
        return None if value is None else c.field(value, f"{path}/{name}")

    previous, explanation, factors = (
        optional("previous_field"),
        optional("explanation_field"),
        optional("factors_field"),
    )
    card = compile_scorecard(raw, path, c)

    def score(data: Mapping[str, Any], ctx: EvalContext) -> dict[str, Any]:
        values = card.values(
            data,
            ctx,
            field=target,
            previous_field=previous,
            explanation_field=explanation,
            factors_field=factors,
        )
        return {"values": values}

    return Action("score", score)


#: What compiles each type of action (its options checked, its effect's parameters computed).
_ACTIONS: dict[str, Callable[[Mapping[str, Any], str, Checker], Action | None]] = {
    "set_fields": _set_fields,
    "assign": _assign,
    "notify": _notify,
    "create_record": _create_record,
    "start_flow": _start_flow,
    "webhook": _webhook,
    "comment": _comment,
    "escalate": _escalate,
    "send_survey": _send_survey,
    "score": _score,
}


def compile_action(raw: Any, path: str, c: Checker) -> Action | None:
    """One action checked and compiled (``None``, with its problems noted, when it cannot be)."""
    if not isinstance(raw, Mapping) or raw.get("type") not in ACTIONS:
        c.problem(f"{path}/type", "rule.action", f"use one of {', '.join(ACTIONS)}")
        return None
    return _ACTIONS[raw["type"]](raw, path, c)


@dataclass(frozen=True)
class Actions:
    """A compiled list of actions outside a rule (SLA warnings and breaches, flow automation)."""

    actions: tuple[Action, ...]

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
    c = Checker(fields, tables or {}, forms, flows)
    if not isinstance(raw, list):
        c.problem(path or "/", "rule.actions", "must be a list of actions")
        raw = []
    compiled = [compile_action(a, f"{path}/{i}", c) for i, a in enumerate(raw)]
    if c.problems:
        raise DefinitionError(c.problems)
    return Actions(tuple(a for a in compiled if a is not None))
