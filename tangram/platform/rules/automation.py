"""Rules at run time: record events in, effects applied in the same transaction, traces kept.

:func:`install` subscribes to ``record.created``, ``record.updated`` and ``record.deleted`` and
registers the job kinds of rules (relative timers, cron schedules, SLA checks, webhooks, mail).
For each event the app's :mod:`rulebook` gives the form's rule set; the engine returns effects
and traces, and this module applies the effects inside the unit of work of the event:

- ``set_fields``, ``assign`` and ``escalate`` write through :func:`records.system_update`, so the
  record is validated, projected, audited and raises ``record.updated`` (further rules may run, up
  to :data:`MAX_DEPTH` levels; deeper cascades are cut and reported as ``rule.loop``);
- ``notify`` writes in-app notifications (and queues mail when a server is configured);
- ``create_record`` creates through the records service; ``comment`` adds a timeline entry;
- ``webhook`` queues a signed delivery (:mod:`webhooks`);
- ``start_flow`` publishes ``flow.start_requested`` for the flow engine.

An effect that cannot be applied (an invalid value, nobody to assign, a refused webhook target)
does not undo the user's write: it is recorded as failed in the rule's timeline entry, beside the
effects that worked. Every rule that acted leaves a ``rule.fired`` entry on the record's timeline
with the values its condition read ("because issue_type = hardware_fault, product_line = A").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tangram.config import Settings
from tangram.engines.forms import FieldType, Form
from tangram.engines.logic import EvalContext
from tangram.engines.rules import (
    Calendar,
    Effect,
    Rulebook,
    RuleEvent,
    RuleSet,
    SlaPolicy,
    SlaState,
)
from tangram.platform import records
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import App, AuditEntry, Group, Record, SlaStatus, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.metadata.store import PUBLISHED
from tangram.platform.outbound import mail, notify, webhooks
from tangram.platform.records import projections
from tangram.platform.reports import dashboards
from tangram.platform.rules import assignment, rulebook

log = logging.getLogger(__name__)

#: How deep effects may trigger further rules inside one command.
MAX_DEPTH = 5
RECORD_EVENTS = ("record.created", "record.updated", "record.deleted")
TASK_EVENTS = ("task.created", "task.completed")
TIMER_JOB = "rule.timer"
SCHEDULE_JOB = "rule.schedule"
SLA_JOB = "sla.check"
RECALC_JOB = "sla.recalculate"
#: Records a scheduled rule visits per run (in batches, oldest first).
SCHEDULE_LIMIT = 10_000
_DEPTH = "rule_depth"
_CHAIN = "rule_chain"
_SLA_BUSY = "sla_busy"


class EffectFailed(ValueError):
    """An effect that could not be applied (the message says why)."""


# --- installation ------------------------------------------------------------------------------


def install(hooks: Hooks, settings: Settings) -> None:
    """Subscribe to record events and publications, register the job kinds of rules and the
    check that keeps an app's rule book compiling."""
    events, registry = hooks.events, hooks.jobs

    def on_event(uow: UnitOfWork, event: Event) -> None:
        handle_event(uow, settings, event)

    def on_published(uow: UnitOfWork, event: Event) -> None:
        p = event.payload
        published(uow, event.app, event.subject, str(p["key"]), p["body"], int(p["version"]))

    for name in RECORD_EVENTS:
        events.subscribe(name, on_event)
    for name in TASK_EVENTS:
        events.subscribe(name, on_event)
    registry.register(TIMER_JOB, lambda uow, job: _run_timer(uow, settings, job))
    registry.register(SCHEDULE_JOB, lambda uow, job: _run_schedule(uow, settings, job))
    registry.register(SLA_JOB, lambda uow, job: _run_sla_check(uow, settings, job))
    registry.register(RECALC_JOB, lambda uow, job: _run_recalculate(uow, settings, job))
    registry.register(webhooks.KIND, webhooks.deliverer(settings))
    registry.register(mail.KIND, mail.sender(settings))
    events.subscribe(PUBLISHED, on_published)
    hooks.checks.register(rulebook.CHECKED_KINDS, rulebook.check)


# --- events ------------------------------------------------------------------------------------


def handle_event(uow: UnitOfWork, settings: Settings, event: Event) -> None:
    """Run the rules and SLA policies of the event's form."""
    book = rulebook.load(uow, event.app)
    rule_set = book.rule_sets.get(event.subject)
    policies = book.slas.get(event.subject, ())
    if rule_set is None and not policies:
        return
    record = uow.session.get(Record, event.object_id)
    if record is None:
        return
    changes: Mapping[str, Any] = event.payload.get("changes", {})
    changed = frozenset(changes)
    old = (
        {**record.data, **{k: v[0] for k, v in changes.items()}}
        if event.name == "record.updated"
        else {}
    )
    if event.name in TASK_EVENTS:
        if rule_set is not None:
            task = event.payload.get("task") or {}
            run_rules(
                uow,
                settings,
                book,
                record,
                rule_set,
                RuleEvent(event.name, task=task),
                actor_id=event.actor_id,
            )
        return
    if rule_set is not None:
        run_rules(
            uow,
            settings,
            book,
            record,
            rule_set,
            RuleEvent(event.name, changed),
            old=old,
            actor_id=event.actor_id,
        )
        _schedule_timers(uow, book, record, event.name, changed)
    if policies and record.deleted_at is None:
        refresh_sla(uow, settings, book, record, policies)


def _actor(label: str) -> Actor:
    return Actor(user_id=None, username=label[:200], is_admin=True, via="system")


def calendar_of(book: Rulebook, form_key: str) -> Calendar | None:
    """The business calendar of a form: its first SLA policy's, else the app's only one."""
    policies = book.slas.get(form_key, ())
    if policies:
        return policies[0].calendar
    if len(book.calendars) == 1:
        return next(iter(book.calendars.values()))
    return None


class References(dict[str, Any]):
    """``$ref``: the records a record's reference fields point at, by field, loaded (one query)
    the first time an expression reads one. A ``dict``, so expressions walk into it as into any
    record data."""

    def __init__(self, uow: UnitOfWork, app_key: str, record: Record) -> None:
        super().__init__()
        self._uow = uow
        self._app = app_key
        self._record = record
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        _, form = compiled.form(self._uow, self._app, self._record.form_key)
        wanted = {
            f.key: self._record.data.get(f.key)
            for f in form.fields
            if f.type is FieldType.REFERENCE and isinstance(self._record.data.get(f.key), int)
        }
        if not wanted:
            return
        found = {
            r.id: r
            for r in self._uow.session.scalars(
                select(Record).where(
                    Record.id.in_(sorted(set(wanted.values()))), Record.deleted_at.is_(None)
                )
            )
        }
        self.update(
            {key: {**found[rid].data, "_id": rid} for key, rid in wanted.items() if rid in found}
        )

    def get(self, key: str, default: Any = None) -> Any:
        self._load()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._load()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()


def evaluation(
    uow: UnitOfWork,
    book: Rulebook,
    record: Record,
    actor_id: int | None,
    *,
    time_zone: str = records.DEFAULT_TIME_ZONE,
) -> tuple[dict[str, Any], EvalContext]:
    variables = {
        "$now": uow.now.isoformat(),
        "$user": actor_id,
        "$app": book.app,
        # The record with its id and form (``{"var": "$record._id"}`` links a created record).
        "$record": {**record.data, "_id": record.id, "_form": record.form_key},
        "$ref": References(uow, book.app, record),
    }
    return variables, EvalContext(
        now=uow.now,
        user=actor_id,
        calendar=calendar_of(book, record.form_key),
        kpis=dashboards.RuleKpis(uow, book.app, time_zone),
    )


def run_rules(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    rule_set: RuleSet,
    event: RuleEvent,
    *,
    old: Mapping[str, Any] | None = None,
    actor_id: int | None = None,
) -> None:
    """Evaluate ``rule_set`` for ``event`` on ``record`` and apply what it decides."""
    depth = uow.scratch.get(_DEPTH, 0)
    chain: list[str] = uow.scratch.setdefault(_CHAIN, [])
    variables, context = evaluation(uow, book, record, actor_id, time_zone=settings.time_zone)
    result = rule_set.run(event, record.data, old=old, variables=variables, context=context)
    acting = [t for t in result.traces if t.matched or t.error]
    if not acting:
        return
    if depth >= MAX_DEPTH:
        uow.audit(
            None,
            "rules",
            "rule.loop",
            "record",
            record.id,
            {
                "event": event.name,
                "chain": chain[-2 * MAX_DEPTH :],
                "stopped": [t.rule for t in acting],
                "detail": f"rules kept triggering each other; stopped after {MAX_DEPTH} levels",
            },
        )
        return
    by_rule: dict[str, list[Effect]] = {}
    for effect in result.effects:
        by_rule.setdefault(effect.rule, []).append(effect)
    entries: list[tuple[str, dict[str, Any]]] = []
    for trace in acting:
        chain.append(trace.rule)
        entry: dict[str, Any] = {
            "app": book.app,
            "form": record.form_key,
            "rule": trace.rule,
            "version": book.versions.get(trace.rule),
            "event": event.name,
            "because": _because(book, trace.rule, record.data),
            "values": _plain(trace.values),
        }
        if trace.error:
            entry["error"] = trace.error
        entries.append((trace.rule, entry))
    uow.scratch[_DEPTH] = depth + 1
    try:
        outcomes = iter(
            apply_effects(
                uow,
                settings,
                book,
                record,
                [(book.label(key), by_rule.get(key, [])) for key, e in entries if "error" not in e],
            )
        )
    finally:
        uow.scratch[_DEPTH] = depth
    for key, entry in entries:
        if "error" in entry:
            uow.audit(None, book.label(key), "rule.failed", "record", record.id, entry)
            continue
        outcome = next(outcomes)
        entry["effects"] = outcome.done
        if outcome.failed:
            entry["failed"] = outcome.failed
        uow.audit(None, book.label(key), "rule.fired", "record", record.id, entry)


def _reads(expression: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for op, args in node.items():
                if op == "var":
                    path = args[0] if isinstance(args, list) and args else args
                    if isinstance(path, str) and path and not path.startswith("$"):
                        found.append(path)
                else:
                    walk(args)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(expression)
    return list(dict.fromkeys(found))


def _because(book: Rulebook, key: str, data: Mapping[str, Any]) -> str:
    body = book.bodies.get(key, {})
    paths = _reads(body.get("condition"))
    for action in body.get("actions", []):
        table = book.tables.get(str(action.get("table"))) if isinstance(action, Mapping) else None
        if table is not None:
            paths += [
                p for p in _reads(book.bodies.get(table.key, {}).get("inputs")) if p not in paths
            ]
            paths += [k for k in table.inputs if k not in paths and k in data]
    shown = []
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        shown.append(f"{path} = {value}")
    return ", ".join(shown)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for path, value in list(values.items())[:50]:
        out[path] = (
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        )
    return out


# --- effects -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one rule's (or one SLA step's) effects did, as sentences for the timeline."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Write:
    """Field values an effect wants written (merged with the others of the same event)."""

    values: Mapping[str, Any]
    text: str


_EXPECTED = (TangramError, assignment.Unresolvable, webhooks.TargetRefused, EffectFailed)


def apply_effects(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    groups: Sequence[tuple[str, Sequence[Effect]]],
) -> list[Outcome]:
    """Apply the effects of several sources (rules) in order, one outcome per source.

    Field writes of all sources are merged into one validated update of the record (one
    ``record.updated`` event); if it is refused, each source's write is tried on its own so that
    only the invalid ones fail.
    """
    outcomes: list[Outcome] = []
    writes: list[tuple[Outcome, str, _Write, str]] = []
    for source, effects in groups:
        outcome = Outcome()
        outcomes.append(outcome)
        for effect in effects:
            try:
                result = _apply(uow, settings, book, record, effect, source)
            except _EXPECTED as exc:
                outcome.failed.append(f"{effect.type}: {_reason(exc)}")
                continue
            if isinstance(result, _Write):
                writes.append((outcome, effect.type, result, source))
            outcome.done.append(result.text if isinstance(result, _Write) else result)
    if not writes:
        return outcomes
    merged: dict[str, Any] = {}
    for _outcome, _kind, write, _source in writes:
        merged.update(write.values)
    sources = list(dict.fromkeys(source for *_rest, source in writes))
    try:
        _set(uow, book, record, merged, ", ".join(sources))
    except TangramError:
        for outcome, kind, write, source in writes:
            try:
                _set(uow, book, record, write.values, source)
            except TangramError as exc:
                outcome.done.remove(write.text)
                outcome.failed.append(f"{kind}: {_reason(exc)}")
    return outcomes


def _reason(exc: Exception) -> str:
    if isinstance(exc, TangramError):
        problems = "; ".join(f"{e.get('path')}: {e.get('message')}" for e in (exc.errors or [])[:5])
        return f"{exc.detail} {problems}".strip()
    return str(exc)


def _set(
    uow: UnitOfWork, book: Rulebook, record: Record, values: Mapping[str, Any], source: str
) -> list[str]:
    written = records.system_update(
        uow, _actor(source), book.app, record.form_key, record, dict(values)
    )
    return [f"{k} ← {v[1]!r}" for k, v in written.changes.items()]


def _shown(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} ← {v!r}" for k, v in values.items())


def _apply(
    uow: UnitOfWork, settings: Settings, book: Rulebook, record: Record, effect: Effect, source: str
) -> str | _Write:
    p = effect.params
    _, form = compiled.form(uow, book.app, record.form_key)
    if effect.type == "set_fields":
        return _Write(dict(p["values"]), "set " + _shown(p["values"]))
    if effect.type == "assign":
        return _assign(uow, book, record, form, p, effect.rule)
    if effect.type == "notify":
        return _notify(uow, settings, book, record, form, p)
    if effect.type == "create_record":
        written = records.create_record(uow, _actor(source), book.app, str(p["form"]), p["values"])
        return f"created {p['form']} #{written.record.id}"
    if effect.type == "comment":
        uow.audit(None, source, "record.commented", "record", record.id, {"text": p["text"]})
        return "commented"
    if effect.type == "webhook":
        job = webhooks.enqueue(
            uow,
            settings,
            app_key=book.app,
            url=str(p["url"]),
            event=str(p["event"]),
            source=source,
            record={"id": record.id, "form": record.form_key},
            data=p["data"],
        )
        return f"webhook to {p['url']} queued (job {job})"
    if effect.type == "start_flow":
        uow.publish(
            Event(
                "flow.start_requested",
                book.app,
                record.form_key,
                record.id,
                None,
                {"flow": p["flow"], "source": source},
            )
        )
        return f"start of flow {p['flow']} requested"
    if effect.type == "escalate":
        return _escalate(uow, book, record, form, p, source)
    raise EffectFailed(f"unknown effect {effect.type!r}")


def _assign(
    uow: UnitOfWork,
    book: Rulebook,
    record: Record,
    form: Form,
    p: Mapping[str, Any],
    rule: str,
) -> _Write:
    key = str(p["field"])
    field = form.by_key.get(key)
    if field is None:
        raise EffectFailed(f"form {record.form_key!r} has no field {key!r}")
    recipients = list(p.get("recipients") or [])
    if not recipients:
        raise EffectFailed("the rule named nobody (the decision table gave no result)")
    if field.type is FieldType.GROUP:
        group = assignment.group_of(uow, recipients, record.data)
        return _Write({key: group.id}, f"{key} ← group {group.key}")
    if field.type is not FieldType.USER:
        raise EffectFailed(f"field {key!r} holds neither a user nor a group")
    t = projections.ready(uow, record.app_id, record.form_key, form)
    candidates = assignment.users_of(uow, recipients, form, record.data)
    pool = ",".join(f"{k}:{v}" for r in recipients for k, v in r.items())
    chosen, why = assignment.choose(
        uow,
        pool_key=f"{book.app}:{rule}:{key}:{pool}"[:300],
        strategy=str(p.get("strategy", "fixed")),
        candidates=candidates,
        t=t,
        field=key,
        skill=p.get("skill"),
        closed=list(p.get("closed") or []),
    )
    return _Write({key: chosen.id}, f"{key} ← {chosen.display_name} ({why} in {pool})")


def _notify(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    form: Form,
    p: Mapping[str, Any],
) -> str:
    recipients = list(p.get("recipients") or [])
    addresses = [
        str(record.data[str(r["email_field"])])
        for r in recipients
        if "email_field" in r and record.data.get(str(r["email_field"]))
    ]
    named = [r for r in recipients if "email_field" not in r]
    if addresses and not (p.get("channel") == "email" and mail.enabled(settings)):
        raise EffectFailed(
            "e-mail to an address needs the email channel and a mail server (TANGRAM_SMTP_URL)"
        )
    for address in addresses:
        mail.enqueue(uow, to=address, subject=str(p["title"]), html=str(p["body"]))
    users = assignment.users_of(uow, named, form, record.data) if named else []
    if not users and not addresses:
        raise EffectFailed("nobody to notify")
    link = {"app": book.app, "form": record.form_key, "record": record.id}
    mailed = len(addresses)
    for user in users:
        if p.get("channel") == "email" and mail.enabled(settings) and user.email:
            mail.enqueue(uow, to=user.email, subject=str(p["title"]), html=str(p["body"]))
            mailed += 1
        else:
            notify.notify(
                uow, user.id, kind="rule", title=str(p["title"]), body=str(p["body"]), payload=link
            )
    shown = [*addresses, *(u.display_name for u in users)]
    names = ", ".join(shown[:5]) + (" …" if len(shown) > 5 else "")
    return f"notified {names}" + (f" ({mailed} by e-mail)" if mailed else "")


def _escalate(
    uow: UnitOfWork,
    book: Rulebook,
    record: Record,
    form: Form,
    p: Mapping[str, Any],
    source: str,
) -> str | _Write:
    parts = []
    values: dict[str, Any] = {}
    if "escalation_level" in form.by_key:
        level = int(record.data.get("escalation_level") or 0) + int(p["levels"])
        values["escalation_level"] = level
        parts.append(f"escalation level {level}")
    if p.get("notify") == "group_manager":
        group_field = next((f.key for f in form.fields if f.type is FieldType.GROUP), None)
        group_id = record.data.get(group_field) if group_field else None
        group = uow.session.get(Group, group_id if group_id is not None else record.group_id or 0)
        if group is None or group.manager_id is None:
            raise EffectFailed("the record's group has no manager to notify")
        manager = uow.session.get(User, group.manager_id)
        assert manager is not None
        notify.notify(
            uow,
            manager.id,
            kind="escalation",
            title=f"{record.form_key} #{record.id} escalated",
            body=f"Escalated by {source}.",
            payload={"app": book.app, "form": record.form_key, "record": record.id},
        )
        parts.append(f"notified {manager.display_name} (manager of {group.key})")
    text = ", ".join(parts) or "escalated"
    return _Write(values, text) if values else text


# --- timers and schedules ----------------------------------------------------------------------


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _schedule_timers(
    uow: UnitOfWork, book: Rulebook, record: Record, event: str, changed: frozenset[str]
) -> None:
    if event == "record.deleted":
        return
    for key, rule in book.rules.items():
        if rule.trigger != "timer" or book.form_of.get(key) != record.form_key:
            continue
        after = str(rule.schedule["after"])
        if after == "created_at":
            anchor = record.created_at if event == "record.created" else None
            anchor_value: Any = None
        elif after == "updated_at":
            anchor, anchor_value = uow.now, uow.now.isoformat()
        else:
            if event == "record.updated" and after not in changed:
                continue
            anchor_value = record.data.get(after)
            anchor = _parse_instant(anchor_value)
        if anchor is None:
            continue
        minutes = float(rule.schedule["minutes"])
        calendar = book.calendars.get(str(book.bodies[key]["trigger"].get("calendar", "")))
        if rule.schedule.get("business") and calendar is not None:
            due = calendar.add_minutes(anchor, minutes)
        else:
            due = anchor + timedelta(minutes=minutes)
        jobs.enqueue(
            uow,
            TIMER_JOB,
            {
                "app": book.app,
                "form": record.form_key,
                "record": record.id,
                "rule": key,
                "anchor": anchor_value,
            },
            run_at=max(due, uow.now),
        )


def _live_record(uow: UnitOfWork, record_id: int) -> Record | None:
    record = uow.session.get(Record, record_id)
    return record if record is not None and record.deleted_at is None else None


def _run_timer(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    book = rulebook.load(uow, str(p["app"]))
    rule = book.rules.get(str(p["rule"]))
    record = _live_record(uow, int(p["record"]))
    if rule is None or rule.trigger != "timer" or record is None:
        return  # the rule was removed or changed, or the record deleted: nothing is due
    after = str(rule.schedule["after"])
    if after == "updated_at" and p.get("anchor") != record.updated_at.isoformat():
        return  # a later change scheduled its own timer
    if after not in ("created_at", "updated_at") and record.data.get(after) != p.get("anchor"):
        return
    run_rules(uow, settings, book, record, RuleSet((rule,)), RuleEvent("timer", rule=rule.key))


def schedule_rule(
    uow: UnitOfWork, app_key: str, key: str, body: Mapping[str, Any], version: int
) -> None:
    """Queue the next run of a published schedule rule (called when it is published)."""
    trigger = body.get("trigger") or {}
    if body.get("type", "rule") != "rule" or trigger.get("type") != "schedule":
        return
    if body.get("enabled", True) is False:
        return
    book = rulebook.load(uow, app_key)
    rule = book.rules.get(key)
    if rule is None:
        return
    jobs.enqueue(
        uow,
        SCHEDULE_JOB,
        {"app": app_key, "rule": key, "version": version},
        run_at=rule.next_run(uow.now),
    )


def _run_schedule(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    book = rulebook.load(uow, str(p["app"]))
    key = str(p["rule"])
    rule = book.rules.get(key)
    if rule is None or rule.trigger != "schedule" or book.versions.get(key) != p.get("version"):
        return  # replaced by a newer version (which queued its own run) or removed
    form_key = book.form_of[key]
    app_id = uow.session.scalar(select(App.id).where(App.key == book.app))
    after = 0
    visited = 0
    single = RuleSet((rule,))
    while app_id is not None and visited < SCHEDULE_LIMIT:
        batch = list(
            uow.session.scalars(
                select(Record)
                .where(
                    Record.app_id == app_id,
                    Record.form_key == form_key,
                    Record.deleted_at.is_(None),
                    Record.id > after,
                )
                .order_by(Record.id)
                .limit(200)
            )
        )
        if not batch:
            break
        for record in batch:
            run_rules(uow, settings, book, record, single, RuleEvent("schedule", rule=key))
        after = batch[-1].id
        visited += len(batch)
    jobs.enqueue(uow, SCHEDULE_JOB, dict(p), run_at=rule.next_run(job.now))


# --- SLA -----------------------------------------------------------------------------------------


def history(uow: UnitOfWork, record: Record) -> list[tuple[datetime, dict[str, Any]]]:
    """The record's snapshots (oldest first), replayed from its audit trail."""
    entries: list[tuple[datetime, str, Mapping[str, Any]]] = [
        (e.at, e.action, e.payload)
        for e in uow.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "record",
                AuditEntry.object_id == str(record.id),
                AuditEntry.action.in_(("record.created", "record.updated")),
            )
            .order_by(AuditEntry.seq)
        )
    ]
    entries += [
        (uow.now, a.action, a.payload)
        for a in uow.pending_audit("record", record.id)
        if a.action in ("record.created", "record.updated")
    ]
    snapshots: list[tuple[datetime, dict[str, Any]]] = []
    data: dict[str, Any] = {}
    for at, _action, payload in entries:
        for key, (_old, new) in payload.get("changes", {}).items():
            if new is None:
                data.pop(key, None)
            else:
                data[key] = new
        if snapshots and snapshots[-1][0] == at:
            snapshots[-1] = (at, dict(data))
        else:
            snapshots.append((at, dict(data)))
    if not snapshots:
        snapshots.append((record.created_at, dict(record.data)))
    return snapshots


def refresh_sla(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    policies: Sequence[SlaPolicy],
) -> None:
    """Evaluate the record's SLA targets now: store them, keep due fields in step, run warning
    and escalation actions on state changes and queue the next check."""
    busy: set[int] = uow.scratch.setdefault(_SLA_BUSY, set())
    if record.id in busy:
        return  # the fields this refresh writes raise record.updated: do not recurse
    busy.add(record.id)
    try:
        snapshots = history(uow, record)
        for policy in policies:
            _refresh_policy(uow, settings, book, record, policy, snapshots)
    finally:
        busy.discard(record.id)


def _refresh_policy(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    policy: SlaPolicy,
    snapshots: Sequence[tuple[datetime, Mapping[str, Any]]],
) -> None:
    statuses = policy.evaluate(snapshots, uow.now)
    rows = {
        row.target: row
        for row in uow.session.scalars(
            select(SlaStatus).where(
                SlaStatus.record_id == record.id, SlaStatus.policy == policy.key
            )
        )
    }
    targets = {t.key: t for t in policy.targets}
    fields: dict[str, Any] = {}
    warned: list[str] = []
    breached: list[str] = []
    for status in statuses:
        row = rows.get(status.key)
        previous = row.state if row is not None else None
        if row is None:
            row = SlaStatus(record_id=record.id, policy=policy.key, target=status.key)
            uow.session.add(row)
        planned = row.next_check
        row.state = status.state.value
        row.due_at = status.due_at
        row.warn_at = status.warn_at
        row.next_check = status.next_check
        row.breached_at = status.breached_at
        row.met_at = status.met_at
        row.detail = status.as_dict()
        row.updated_at = uow.now
        target = targets[status.key]
        if target.due_field:
            fields[target.due_field] = status.due_at.isoformat() if status.due_at else None
        if target.breached_field:
            fields[target.breached_field] = status.breached_at is not None
        if target.used_field:
            fields[target.used_field] = (
                round(status.used_seconds / 60, 2) if status.met_at is not None else None
            )
        if status.state is SlaState.WARNED and previous in (None, "running", "paused"):
            warned.append(status.key)
        if (
            status.breached_at is not None
            and previous != "breached"
            and (previous is not None or status.met_at is None)
        ):
            breached.append(status.key)
        if status.next_check is not None and status.next_check != planned:
            jobs.enqueue(
                uow,
                SLA_JOB,
                {
                    "app": book.app,
                    "record": record.id,
                    "policy": policy.key,
                    "at": status.next_check.isoformat(),
                },
                run_at=status.next_check,
            )
    uow.flush()
    source = f"sla {policy.key}"
    _, form = compiled.form(uow, book.app, record.form_key)
    wanted = {k: v for k, v in fields.items() if k in form.by_key and record.data.get(k) != v}
    done: list[str] = []
    failed: list[str] = []
    if wanted:
        try:
            done += _set(uow, book, record, wanted, source)
        except TangramError as exc:
            failed.append(f"set_fields: {_reason(exc)}")
    variables, context = evaluation(uow, book, record, None, time_zone=settings.time_zone)
    data = {**record.data, **variables}
    if warned and policy.on_warn is not None:
        effects = policy.on_warn.effects(source, data, context)
        (outcome,) = apply_effects(uow, settings, book, record, [(source, effects)])
        done += outcome.done
        failed += outcome.failed
    for target_key in breached:
        count = len(
            list(
                uow.session.scalars(
                    select(SlaStatus.id).where(
                        SlaStatus.record_id == record.id, SlaStatus.breached_at.is_not(None)
                    )
                )
            )
        )
        if policy.escalation:
            actions = policy.escalation[min(count, len(policy.escalation)) - 1]
            (outcome,) = apply_effects(
                uow, settings, book, record, [(source, actions.effects(source, data, context))]
            )
            done += [f"breach {count} of {target_key}: {x}" for x in outcome.done]
            failed += outcome.failed
    if warned or breached or failed:
        uow.audit(
            None,
            source,
            "sla.changed",
            "record",
            record.id,
            {
                "policy": policy.key,
                "warned": warned,
                "breached": breached,
                "effects": done,
                "failed": failed,
                "explanations": {s.key: s.explanation for s in statuses},
            },
        )


def _run_sla_check(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    record = _live_record(uow, int(p["record"]))
    if record is None:
        return
    row = uow.session.scalar(
        select(SlaStatus).where(
            SlaStatus.record_id == record.id,
            SlaStatus.policy == str(p["policy"]),
            SlaStatus.next_check == datetime.fromisoformat(str(p["at"])),
        )
    )
    if row is None:
        return  # re-planned since: a newer check is queued
    book = rulebook.load(uow, str(p["app"]))
    policies = [x for x in book.slas.get(record.form_key, ()) if x.key == p["policy"]]
    if policies:
        refresh_sla(uow, settings, book, record, policies)


def _run_recalculate(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    """Re-evaluate every open SLA of an app (after a calendar or policy is published)."""
    book = rulebook.load(uow, str(job.payload["app"]))
    ids = sorted(
        set(
            uow.session.scalars(
                select(SlaStatus.record_id)
                .join(Record, Record.id == SlaStatus.record_id)
                .join(App, App.id == Record.app_id)
                .where(
                    App.key == book.app,
                    SlaStatus.state.in_(("running", "paused", "warned")),
                )
            )
        )
    )
    for record_id in ids:
        record = _live_record(uow, record_id)
        policies = book.slas.get(record.form_key, ()) if record is not None else ()
        if record is not None and policies:
            refresh_sla(uow, settings, book, record, policies)


def published(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any], version: int
) -> None:
    """React to a publication: queue a schedule rule's first run, re-plan SLAs after a calendar
    or policy change."""
    if kind == "rule":
        schedule_rule(uow, app_key, key, body, version)
    if kind == "calendar" or (kind == "rule" and body.get("type") == "sla"):
        jobs.enqueue(uow, RECALC_JOB, {"app": app_key})
