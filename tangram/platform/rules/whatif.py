"""What-if: run a draft rule, decision table or SLA policy over stored records without writing
anything.

The draft (the definition's saved draft, or a body sent with the request) is compiled into the
app's rulebook in place of the published version, then evaluated over the records a filter picks
(at most :data:`MAX_LIMIT`). The answer counts the outcomes, shows what each record would get and
lists the records where the draft and the published version disagree.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tangram.engines.common import DefinitionError
from tangram.engines.logic import EvalContext
from tangram.engines.meta import validate_definition
from tangram.engines.rules import (
    DecisionError,
    Rule,
    Rulebook,
    RuleEvent,
    RuleSet,
    SlaPolicy,
    SlaState,
    compile_decision_table,
)
from tangram.platform import metadata, records
from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import NotFound, TangramError, ValidationFailed
from tangram.platform.kernel.models import App, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records.listing import Filter
from tangram.platform.rules import rulebook
from tangram.platform.rules.effects import apply_effects
from tangram.platform.rules.evaluation import evaluation
from tangram.platform.rules.sla import history as sla_history

MAX_LIMIT = 1000
#: Records listed one by one in the answer (the counts cover all of them).
SHOWN = 50
#: Stored records a rule about to be published is rehearsed on (the newest ones).
REHEARSED = 20


def _event(rule: Rule, data: Mapping[str, Any]) -> RuleEvent:
    """The event that would trigger ``rule`` for a stored record."""
    if rule.trigger in ("timer", "schedule"):
        return RuleEvent(rule.event, rule=rule.key)
    if rule.trigger == "field_changed":
        return RuleEvent(rule.event, changed=rule.fields)
    if rule.trigger == "record_updated":
        return RuleEvent(rule.event, changed=frozenset(data))
    return RuleEvent(rule.event)


def _signature(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)[:300]


def _rule_outcome(
    rule: Rule | None, record: Record, variables: Mapping[str, Any], context: EvalContext
) -> dict[str, Any] | None:
    if rule is None:
        return None
    result = RuleSet((rule,)).run(
        _event(rule, record.data), record.data, variables=variables, context=context
    )
    if not result.traces:
        return {"outcome": "not triggered", "effects": []}
    trace = result.traces[0]
    if trace.error:
        return {"outcome": "error", "error": trace.error, "effects": []}
    return {
        "outcome": "matched" if trace.matched else "not matched",
        "effects": [{"type": e.type, "params": dict(e.params)} for e in result.effects],
    }


def simulate(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    key: str,
    *,
    body: Mapping[str, Any] | None = None,
    filters: Sequence[Filter] = (),
    limit: int = 100,
) -> dict[str, Any]:
    """Evaluate the draft of rule ``key`` (or ``body``) over up to ``limit`` records."""
    require_design(actor, app_key)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}.",
            errors=[{"path": "limit", "message": f"between 1 and {MAX_LIMIT}"}],
        )
    view = metadata.get_definition(uow, actor, app_key, "rule", key)
    draft_body = dict(body) if body is not None else dict(view.definition.draft)
    if draft_body.get("key") != key:
        raise ValidationFailed(
            "The body's key must be the rule's key.",
            errors=[{"path": "body/key", "message": f"must be {key!r}"}],
        )
    problems = validate_definition("rule", draft_body)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The draft is not a valid rule: {len(problems)} problem(s).", problems
        )
    kind = draft_body.get("type", "rule")
    form_key = draft_body.get("form")
    if not isinstance(form_key, str):
        raise ValidationFailed(
            "Only definitions bound to a form can be simulated over records.",
            errors=[{"path": "body/form", "message": "unsupported"}],
        )
    if kind == "rule" and draft_body.get("enabled", True) is False:
        raise ValidationFailed(
            "The draft is disabled: enable it to see what it would do.",
            errors=[{"path": "body/enabled", "message": "is false"}],
        )
    published, draft = rulebook.compile_draft(uow, app_key, key, draft_body)
    page = records.list_records(uow, actor, app_key, form_key, filters=filters, limit=limit)
    if kind == "sla":
        return _simulate_sla(uow, key, form_key, published, draft, page.items)
    counts: Counter[str] = Counter()
    effects: Counter[str] = Counter()
    shown: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    changed = 0
    for record in page.items:
        if kind == "decision_table":
            new = _table_outcome(draft.tables.get(key), record)
            old = _table_outcome(published.tables[key], record) if key in published.tables else None
            counts[_signature(new.get("result")) if new["outcome"] == "decided" else "error"] += 1
        else:
            # what the rule would see when it runs (clock, calendar, the record's id)
            variables, context = evaluation(uow, draft, record, None)
            new = _rule_outcome(draft.rules.get(key), record, variables, context) or {}
            old = _rule_outcome(published.rules.get(key), record, variables, context)
            counts[new["outcome"]] += 1
            for effect in new.get("effects", []):
                effects[f"{effect['type']} {_signature(effect['params'])}"] += 1
        if len(shown) < SHOWN:
            shown.append({"record": record.id, **new})
        if old is not None and old != new:
            changed += 1
            if len(changes) < SHOWN:
                changes.append({"record": record.id, "draft": new, "published": old})
    return {
        "rule": key,
        "type": kind,
        "form": form_key,
        "published_version": published.versions.get(key),
        "evaluated": len(page.items),
        "counts": dict(counts.most_common()),
        "effects": dict(effects.most_common(20)),
        "changed": changed if key in published.versions else None,
        "records": shown,
        "changes": changes,
    }


def _policy(book: Rulebook, key: str) -> SlaPolicy | None:
    for policies in book.slas.values():
        for policy in policies:
            if policy.key == key:
                return policy
    return None


def _sla_outcome(
    policy: SlaPolicy | None, snapshots: Sequence[tuple[datetime, Mapping[str, Any]]], now: datetime
) -> dict[str, Any] | None:
    """Where each target of ``policy`` stands for a record with these snapshots, now: a record
    has breached when any target ran out of time in any cycle."""
    if policy is None:
        return None

    def local(at: datetime | None, priority: Any) -> str | None:
        # in the zone of the calendar the record's priority counts on, as its explanation says
        zone = policy.calendars.get(str(priority), policy.calendar).zone
        return at.astimezone(zone).isoformat() if at else None

    targets = [
        {
            "key": s.key,
            "state": s.state.value,
            "breaches": s.breaches,
            "priority": s.priority,
            "due_at": local(s.due_at, s.priority),
            "met_at": local(s.met_at, s.priority),
            "explanation": s.explanation,
        }
        for s in policy.evaluate(snapshots, now)
    ]
    late = any(t["breaches"] or t["state"] == SlaState.BREACHED.value for t in targets)
    return {"outcome": "breached" if late else "within", "targets": targets}


def _sla_signature(outcome: Mapping[str, Any] | None) -> Any:
    """What a change of policy changes for a record: each target's state and breaches (the
    explanation's wording and the due time follow from those, or only move)."""
    if outcome is None:
        return None
    return [(t["key"], t["state"], t["breaches"]) for t in outcome["targets"]]


def _simulate_sla(
    uow: UnitOfWork,
    key: str,
    form_key: str,
    published: Rulebook,
    draft: Rulebook,
    stored: Sequence[Record],
) -> dict[str, Any]:
    """An SLA policy's draft replayed over each record's history up to now: how many records
    would have breached, per target and state, against the published version."""
    new_policy, old_policy = _policy(draft, key), _policy(published, key)
    counts: Counter[str] = Counter()
    counted_before: Counter[str] = Counter()
    targets: defaultdict[str, Counter[str]] = defaultdict(Counter)
    before: defaultdict[str, Counter[str]] = defaultdict(Counter)
    shown: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    changed = 0
    for record in stored:
        snapshots = sla_history(uow, record)
        new = _sla_outcome(new_policy, snapshots, uow.now) or {"outcome": "absent", "targets": []}
        old = _sla_outcome(old_policy, snapshots, uow.now)
        counts[new["outcome"]] += 1
        for target in new["targets"]:
            targets[target["key"]][_target_state(target)] += 1
        if old is not None:
            counted_before[old["outcome"]] += 1
        for target in old["targets"] if old else []:
            before[target["key"]][_target_state(target)] += 1
        if len(shown) < SHOWN:
            shown.append({"record": record.id, **new})
        if old is not None and _sla_signature(old) != _sla_signature(new):
            changed += 1
            if len(changes) < SHOWN:
                changes.append({"record": record.id, "draft": new, "published": old})
    return {
        "rule": key,
        "type": "sla",
        "form": form_key,
        "published_version": published.versions.get(key),
        "evaluated": len(stored),
        "counts": dict(counts.most_common()),
        "effects": {},
        "changed": changed if key in published.versions else None,
        "records": shown,
        "changes": changes,
        "targets": {name: dict(c) for name, c in targets.items()},
        "published_counts": dict(counted_before.most_common()) if old_policy is not None else None,
        "published_targets": {name: dict(c) for name, c in before.items()}
        if old_policy is not None
        else None,
    }


def _target_state(target: Mapping[str, Any]) -> str:
    """A target's state as the preview counts it: one met after its time ran out is met late."""
    if target["state"] == SlaState.BREACHED.value and target["met_at"]:
        return "met_late"
    return str(target["state"])


def _table_outcome(table: Any, record: Record) -> dict[str, Any]:
    if table is None:
        return {"outcome": "absent"}
    try:
        decision = table.decide(record.data)
    except DecisionError as exc:
        return {"outcome": "error", "error": str(exc)}
    return {
        "outcome": "decided",
        "result": decision.result,
        "rows": [r + 1 for r in decision.matched],
    }


def advise(
    uow: UnitOfWork, app_key: str, _kind: str, key: str, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rehearse a rule about to be published on the newest stored records of its form: its
    effects are really applied (assignments, notifications, writes, cascades) inside a savepoint
    that is rolled back, and each action that fails is a warning naming on how many of the records
    it failed and why (an assignment followed by a notification of the assignee, a group without
    members). Decision tables and SLA policies are not rehearsed; nor is a rule when its form has
    no records yet."""
    form_key = body.get("form")
    if body.get("type") == "decision_table":
        return _gap_warnings(uow, app_key, body)
    if body.get("type", "rule") != "rule" or body.get("enabled", True) is False:
        return []
    if not isinstance(form_key, str):
        return []
    if not uow.write:
        # a read-only verdict (the designer's live check) rehearses nothing: its writes would
        # turn the read into a write, and on SQLite two such upgrades at once fail one of them
        # (the draft's save and the publication still rehearse)
        return []
    stored = list(
        uow.session.scalars(
            select(Record)
            .join(App, App.id == Record.app_id)
            .where(App.key == app_key, Record.form_key == form_key, Record.deleted_at.is_(None))
            .order_by(Record.id.desc())
            .limit(REHEARSED)
        )
    )
    if not stored:
        return []
    try:
        _, draft = rulebook.compile_draft(uow, app_key, key, body)
    except ValidationFailed:
        return []
    rule = draft.rules.get(key)
    if rule is None:
        return []
    failures: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for record in stored:
        for failed in _rehearse(uow, draft, rule, record):
            kind, _, why = failed.partition(": ")
            failures[kind, why].append(record.id)
    return [
        _failure_warning(body, kind, why, ids, len(stored))
        for (kind, why), ids in sorted(failures.items(), key=lambda item: -len(item[1]))
    ]


#: Gaps a warning lists (the count covers all of them).
GAPS_SHOWN = 20


def _shown_value(value: Any) -> Any:
    """A gap's value as people can read it: the engine's stand-ins for "a text no cell names"
    (just above a constant, or past every text) become ``{"other": true}``."""
    if isinstance(value, str) and (value.endswith("\x00") or value.startswith("\uffff")):
        return {"other": True}
    return value


def _gap_warnings(uow: UnitOfWork, app_key: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A decision table that lets some inputs through without a row: which combinations (the
    engine finds them exactly, one value per class of each column's domain)."""
    form_key = body.get("form")
    fields: frozenset[str] | None = None
    if isinstance(form_key, str):
        try:
            fields = frozenset(compiled.form(uow, app_key, form_key)[1].by_key)
        except NotFound:
            fields = None
    try:
        # without its test cases: a failing case is the verdict's problem, and must not hide
        # the gaps
        table = compile_decision_table({**body, "tests": []}, fields=fields)
    except DefinitionError:
        return []  # its problems are the verdict's
    if not table.gaps:
        return []
    # the stand-ins of one class read alike: each combination once
    readable = {
        json.dumps(g, sort_keys=True, ensure_ascii=False): g
        for g in ({k: _shown_value(v) for k, v in gap.items()} for gap in table.gaps)
    }
    gaps = list(readable.values())
    shown = gaps[:GAPS_SHOWN]
    example = ", ".join(
        f"{k} = {'(other)' if isinstance(v, dict) else '(empty)' if v is None else v}"
        for k, v in shown[0].items()
    )
    return [
        {
            "code": "decision.gap",
            "path": "/rules",
            "message": (
                f"no row matches {len(gaps)} input combination(s), e.g. {example}: "
                "add a row for them (or a last row of '-' cells)"
            ),
            "gaps": shown,
            "count": len(gaps),
        }
    ]


def _rehearse(uow: UnitOfWork, book: Rulebook, rule: Rule, record: Record) -> list[str]:
    """What failed when the rule's effects were applied to ``record`` (then undone)."""
    variables, context = evaluation(uow, book, record, None)
    result = RuleSet((rule,)).run(
        _event(rule, record.data), record.data, variables=variables, context=context
    )
    trace = result.traces[0] if result.traces else None
    if trace is not None and trace.error:
        return [f"condition: {trace.error}"]
    if trace is None or not trace.matched or not result.effects:
        return []
    with uow.rehearsal():
        try:
            outcomes = apply_effects(uow, uow.settings, book, record, [(rule.key, result.effects)])
        except TangramError as exc:  # a cascade the rule's writes set off refused them
            return [f"write: {exc.detail}"]
    return [failed for outcome in outcomes for failed in outcome.failed]


def _failure_warning(
    body: Mapping[str, Any], kind: str, why: str, ids: list[int], tried: int
) -> dict[str, Any]:
    actions = body.get("actions") or []
    at = next(
        (i for i, a in enumerate(actions) if isinstance(a, Mapping) and a.get("type") == kind),
        None,
    )
    shown = ", ".join(f"#{i}" for i in ids[:5]) + (" …" if len(ids) > 5 else "")
    return {
        "code": "rule.action_fails",
        "path": f"/actions/{at}" if at is not None else "/condition",
        "message": (
            f"{kind} failed on {len(ids)} of the {tried} newest records it was tried on "
            f"({shown}): {why}"
        ),
    }
