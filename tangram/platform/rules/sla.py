"""SLA policies at run time: each record's targets evaluated over its history, stored, kept in its
fields, warned and escalated, and checked again when due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tangram.config import Settings
from tangram.engines.rules import (
    Rulebook,
    SlaPolicy,
    SlaState,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import App, AuditEntry, Record, SlaStatus
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.rules import rulebook
from tangram.platform.rules.effects import apply_effects, reason, set_fields
from tangram.platform.rules.evaluation import evaluation, live_record

SLA_JOB = "sla.check"


RECALC_JOB = "sla.recalculate"


_SLA_BUSY = "sla_busy"


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
    busy = uow.memo.sla_busy
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
            done += set_fields(uow, book, record, wanted, source)
        except TangramError as exc:
            failed.append(f"set_fields: {reason(exc)}")
    variables, context = evaluation(uow, book, record, None)
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


def run_check(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    p = job.payload
    record = live_record(uow, int(p["record"]))
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


def run_recalculate(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
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
        record = live_record(uow, record_id)
        policies = book.slas.get(record.form_key, ()) if record is not None else ()
        if record is not None and policies:
            refresh_sla(uow, settings, book, record, policies)
