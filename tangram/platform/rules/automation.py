"""Rules at run time: record and task events in, effects applied in the same transaction, traces
kept.

:func:`install` subscribes to ``record.created``, ``record.updated``, ``record.deleted``, the
task events and a customer's reply through a record's status link (``record.customer_replied``), and registers the job kinds of rules (relative timers, cron schedules, SLA checks,
webhooks, mail) and the publication check of the rule book. For each event the app's
:mod:`~tangram.platform.rules.rulebook` gives the form's rule set and SLA policies;
:mod:`~tangram.platform.rules.evaluation` runs the rules and
:mod:`~tangram.platform.rules.effects` applies what they decide. Every rule that acted leaves a
``rule.fired`` entry on the record's timeline with the values its condition read ("because
issue_type = hardware_fault, product_line = A"). Publications queue a schedule rule's first run
and re-plan SLAs after a calendar or policy change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tangram.config import Settings
from tangram.engines.rules import (
    RuleEvent,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.models import Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import PUBLISHED
from tangram.platform.outbound import mail, webhooks
from tangram.platform.rules import rulebook, sla, whatif
from tangram.platform.rules.evaluation import run_rules
from tangram.platform.rules.sla import RECALC_JOB, SLA_JOB, run_check, run_recalculate
from tangram.platform.rules.timers import (
    SCHEDULE_JOB,
    TIMER_JOB,
    run_schedule,
    run_timer,
    schedule_rule,
    schedule_timers,
)

log = logging.getLogger(__name__)


RECORD_EVENTS = ("record.created", "record.updated", "record.deleted")


TASK_EVENTS = ("task.created", "task.completed")

#: Events of a record that only run its rules (no timers, no SLA refresh): a customer's reply.
REPLY_EVENTS = ("record.customer_replied",)


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
    for name in (*TASK_EVENTS, *REPLY_EVENTS):
        events.subscribe(name, on_event)
    registry.register(TIMER_JOB, lambda uow, job: run_timer(uow, settings, job))
    registry.register(SCHEDULE_JOB, lambda uow, job: run_schedule(uow, settings, job))
    registry.register(SLA_JOB, lambda uow, job: run_check(uow, settings, job))
    registry.register(RECALC_JOB, lambda uow, job: run_recalculate(uow, settings, job))
    registry.register(webhooks.KIND, webhooks.deliverer(settings))
    registry.register(mail.KIND, mail.sender(settings))
    events.subscribe(PUBLISHED, on_published)
    hooks.checks.register(rulebook.CHECKED_KINDS, rulebook.check)
    hooks.checks.advise("rule", whatif.advise)


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

    def rules(rule_event: RuleEvent, before: Mapping[str, Any] | None = None) -> None:
        if rule_set is not None:
            run_rules(
                uow,
                settings,
                book,
                record,
                rule_set,
                rule_event,
                old=before,
                actor_id=event.actor_id,
            )

    if event.name in TASK_EVENTS:
        rules(RuleEvent(event.name, task=event.payload.get("task") or {}))
        return
    if event.name in REPLY_EVENTS:
        if record.deleted_at is None:
            rules(RuleEvent(event.name))
        return
    # The SLA is refreshed once, by the outermost event of the record: the writes its rules make
    # raise further events, whose handling leaves the refresh to this one (it sees their writes).
    with sla.hold(uow, record.id) as first:
        rules(RuleEvent(event.name, changed), old)
        if rule_set is not None:
            schedule_timers(uow, book, record, event.name, changed)
    if policies and first and record.deleted_at is None:
        sla.refresh_sla(uow, settings, book, record, policies)


def published(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any], version: int
) -> None:
    """React to a publication: queue a schedule rule's first run, re-plan SLAs after a calendar
    or policy change."""
    if kind == "rule":
        schedule_rule(uow, app_key, key, body, version)
    if kind == "calendar" or (kind == "rule" and body.get("type") == "sla"):
        jobs.enqueue(uow, RECALC_JOB, {"app": app_key})
