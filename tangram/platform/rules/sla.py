"""SLA policies at run time: each record's targets evaluated over its history, stored, kept in its
fields, warned and escalated, and checked again when due; a repeating target cycle by cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import bindparam, select

from tangram.config import Settings
from tangram.engines.rules import (
    Rulebook,
    SlaPolicy,
    SlaState,
    Target,
    TargetStatus,
)
from tangram.platform.kernel import jobs
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import App, AuditEntry, Record, SlaStatus
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records.versions import WRITES
from tangram.platform.rules import rulebook
from tangram.platform.rules.effects import apply_effects, reason, set_fields
from tangram.platform.rules.evaluation import evaluation, live_record

SLA_JOB = "sla.check"


RECALC_JOB = "sla.recalculate"


#: Statements of every SLA refresh (each record write of a form with a policy), built once.
_WRITES_OF = (
    select(AuditEntry)
    .where(
        AuditEntry.object_type == "record",
        AuditEntry.object_id == bindparam("object_id"),
        AuditEntry.action.in_(("record.created", "record.updated")),
    )
    .order_by(AuditEntry.id)
)
_STATUSES_OF = select(SlaStatus).where(
    SlaStatus.record_id == bindparam("record"), SlaStatus.policy == bindparam("policy")
)


def history(uow: UnitOfWork, record: Record) -> list[tuple[datetime, dict[str, Any]]]:
    """The record's snapshots (oldest first), replayed from its audit trail (a record created
    in this unit has none stored yet)."""
    pending = [
        (uow.now, a.action, a.payload)
        for a in uow.pending_audit("record", record.id)
        if a.action in ("record.created", "record.updated")
    ]
    entries: list[tuple[datetime, str, Mapping[str, Any]]] = []
    if not any(action == "record.created" for _, action, _ in pending):
        entries += (
            (e.at, e.action, e.payload)
            for e in uow.session.scalars(_WRITES_OF, {"object_id": str(record.id)})
        )
    entries += pending
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


@contextmanager
def hold(uow: UnitOfWork, record_id: int) -> Iterator[bool]:
    """Hold a record's SLA refresh while its writes raise further events (whose handling then
    leaves the refresh alone); whether this holder is the first, the one to refresh once its
    writes are made (:func:`refresh_sla` holds it again while it writes)."""
    busy = uow.memo.sla_busy
    first = record_id not in busy
    busy.add(record_id)
    try:
        yield first
    finally:
        if first:
            busy.discard(record_id)


def refresh_sla(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    policies: Sequence[SlaPolicy],
) -> None:
    """Evaluate the record's SLA targets now (unless its refresh is held: its holder does it):
    store them, keep due fields in step, run warning and escalation actions on state changes and
    queue the next check."""
    with hold(uow, record.id) as first:
        if first:
            # the audit trail, replayed at most once for all the policies that need it
            replay = cache(partial(history, uow, record))
            trails = [
                _refresh_policy(uow, settings, book, record, policy, replay) for policy in policies
            ]
            for trail in trails:
                if trail is not None:
                    trail.settle(uow, record)


@dataclass
class _Trail:
    """A record's history as one policy reads it (``SlaPolicy.trail``), as its status rows keep
    it: the fields read, the record's lock version it reflects, and the points."""

    policy: SlaPolicy
    through: int
    points: list[tuple[datetime, dict[str, Any]]]
    rows: list[SlaStatus]

    def kept(self) -> dict[str, Any]:
        """As a status row keeps it."""
        return {
            "reads": sorted(self.policy.reads or ()),
            "through": self.through,
            "points": [[at.isoformat(), values] for at, values in self.points],
        }

    def follow(self, now: datetime, data: Mapping[str, Any], through: int) -> None:
        """The record as it is at ``now`` (lock version ``through``) follows the points."""
        self.points = self.policy.follow(self.points, now, data)
        self.through = through

    def keep(
        self, uow: UnitOfWork, writes: Mapping[SlaStatus, dict[str, Any]] | None = None
    ) -> None:
        """Into every status row of the policy (an unchanged trail changes no row), with the
        ``writes`` of its rows: one update per row that changes."""
        kept = self.kept()
        changes = {row: dict(values) for row, values in (writes or {}).items()}
        for row in self.rows:
            if row.trail != kept:
                changes.setdefault(row, {})["trail"] = kept
        for row, values in changes.items():
            uow.update(row, values)

    def settle(self, uow: UnitOfWork, record: Record) -> None:
        """After the refresh's own writes (due fields, effects): if they left the record other
        than as kept, follow it (one more update of the rows)."""
        points = self.policy.follow(self.points, uow.now, record.data)
        if points != self.points or self.through != record.lock_version:
            self.points, self.through = points, record.lock_version
            self.keep(uow)


def _snapshots(
    uow: UnitOfWork,
    record: Record,
    policy: SlaPolicy,
    rows: Sequence[SlaStatus],
    replay: Callable[[], list[tuple[datetime, dict[str, Any]]]],
) -> tuple[list[tuple[datetime, dict[str, Any]]], _Trail | None]:
    """The record's history as ``policy`` reads it, and the trail to keep in its status rows.

    The trail kept by the last refresh serves when it is the policy's (it reads the same fields)
    and no write of the record went by without it: it was kept at the record's lock version as
    this unit found it, or later in this unit. Then the record as it is now follows it (this
    unit's writes are one snapshot, now), and the audit trail is not read. Otherwise (a record
    new to the policy, a policy that reads other fields, a write made while the record had no
    policy, a refresh lost to a concurrent one) the audit trail is replayed once, and what it
    gives is kept. A policy that reads fields it does not name keeps no trail."""
    if policy.reads is None:
        return replay(), None
    reads = sorted(policy.reads)
    level = record.lock_version
    # each record write of this unit raised the lock version by one and queued its audit entry
    start = level - sum(1 for a in uow.pending_audit("record", record.id) if a.action in WRITES)
    kept = next(
        (
            row.trail
            for row in rows
            if row.trail is not None
            and row.trail.get("reads") == reads
            and isinstance(row.trail.get("through"), int)
            and start <= row.trail["through"] <= level
        ),
        None,
    )
    if kept is None:
        trail = _Trail(policy, level, policy.trail(replay()), list(rows))
    else:
        points = [(datetime.fromisoformat(at), values) for at, values in kept["points"]]
        trail = _Trail(policy, kept["through"], points, list(rows))
        if trail.through < level:
            trail.follow(uow.now, record.data, level)
    return trail.points, trail


def _refresh_policy(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    policy: SlaPolicy,
    replay: Callable[[], list[tuple[datetime, dict[str, Any]]]],
) -> _Trail | None:
    rows = {
        row.target: row
        for row in uow.session.scalars(_STATUSES_OF, {"record": record.id, "policy": policy.key})
    }
    snapshots, trail = _snapshots(uow, record, policy, list(rows.values()), replay)
    statuses = policy.evaluate(snapshots, uow.now)
    _, form = compiled.form(uow, book.app, record.form_key)
    targets = {t.key: t for t in policy.targets}
    fields: dict[str, Any] = {}
    warned: list[str] = []
    breached: list[TargetStatus] = []
    writes: dict[SlaStatus, dict[str, Any]] = {}
    for status in statuses:
        row = rows.get(status.key)
        seen = (row.state, row.cycle) if row is not None else None
        if row is None:
            row = SlaStatus(record_id=record.id, policy=policy.key, target=status.key)
            uow.session.add(row)
        planned = row.next_check
        writes[row] = _columns(status, uow.now)
        if trail is not None and row not in trail.rows:
            trail.rows.append(row)
        fields.update(_target_fields(targets[status.key], status))
        if _newly_warned(status, seen):
            warned.append(status.key)
        if _newly_breached(status, seen):
            breached.append(status)
        new_cycle = seen is not None and seen[1] != status.cycle
        if status.next_check is not None and (status.next_check != planned or new_cycle):
            jobs.enqueue(
                uow,
                SLA_JOB,
                {
                    "app": book.app,
                    "record": record.id,
                    "policy": policy.key,
                    "target": status.key,
                    "cycle": status.cycle,
                    "at": status.next_check.isoformat(),
                },
                run_at=status.next_check,
            )
    wanted = {k: v for k, v in fields.items() if k in form.by_key and record.data.get(k) != v}
    if trail is not None:
        # kept as the due fields' write below will leave the record, so that the rows are
        # written once; ``_Trail.settle`` follows whatever else moves it
        if wanted:
            written = {k: v for k, v in {**record.data, **wanted}.items() if v is not None}
            trail.follow(uow.now, written, record.lock_version + 1)
        trail.keep(uow, writes)
    else:
        for row, values in writes.items():
            uow.update(row, values)
    uow.flush()  # new rows
    source = f"sla {policy.key}"
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
    for status in breached if policy.escalation else ():
        # Level n for the record's n-th target breached in its current cycle: a new cycle's
        # breach starts again from the breaches of the record's other targets.
        count = len(
            list(
                uow.session.scalars(
                    select(SlaStatus.id).where(
                        SlaStatus.record_id == record.id, SlaStatus.breached_at.is_not(None)
                    )
                )
            )
        )
        actions = policy.escalation[min(count, len(policy.escalation)) - 1]
        (outcome,) = apply_effects(
            uow, settings, book, record, [(source, actions.effects(source, data, context))]
        )
        which = status.key if status.cycle == 1 else f"{status.key} (cycle {status.cycle})"
        done += [f"breach {count} of {which}: {x}" for x in outcome.done]
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
                "breached": [s.key for s in breached],
                "cycles": {s.key: s.cycle for s in statuses},
                "effects": done,
                "failed": failed,
                "explanations": {s.key: s.explanation for s in statuses},
            },
        )
    return trail


def _columns(status: TargetStatus, now: datetime) -> dict[str, Any]:
    """``status`` as the columns of its row."""
    return {
        "state": status.state.value,
        "due_at": status.due_at,
        "warn_at": status.warn_at,
        "next_check": status.next_check,
        "breached_at": status.breached_at,
        "met_at": status.met_at,
        "detail": status.as_dict(),
        "updated_at": now,
    }


def _target_fields(target: Target, status: TargetStatus) -> dict[str, Any]:
    """The record fields the target names, as ``status`` has them: the current cycle's due
    instant, whether any cycle breached, the business minutes of the met cycles (empty until one
    is met) and the cycle number."""
    fields: dict[str, Any] = {}
    if target.due_field:
        fields[target.due_field] = status.due_at.isoformat() if status.due_at else None
    if target.breached_field:
        fields[target.breached_field] = status.breaches > 0
    if target.used_field:
        met = status.total_used_seconds
        if status.met_at is None:
            met -= status.used_seconds  # the running cycle counts once it is met
        fields[target.used_field] = (
            round(met / 60, 2) if status.met_at is not None or status.cycle > 1 else None
        )
    if target.cycles_field:
        fields[target.cycles_field] = status.cycle
    return fields


def _newly_warned(status: TargetStatus, seen: tuple[str, int] | None) -> bool:
    """Whether ``status`` reached its warning point since the stored state ``seen``."""
    if status.state is not SlaState.WARNED:
        return False
    return seen is None or seen[0] in ("running", "paused") or seen[1] != status.cycle


def _newly_breached(status: TargetStatus, seen: tuple[str, int] | None) -> bool:
    """Whether ``status``'s cycle breached since the stored state ``seen``: not when that cycle
    was seen breached already, nor when a first look finds the target met late."""
    if status.breached_at is None:
        return False
    if seen is None:
        return status.met_at is None
    return seen[0] != "breached" or seen[1] != status.cycle


def run_check(uow: UnitOfWork, settings: Settings, job: JobContext) -> None:
    """Evaluate a record's policy at the instant the job was planned for, unless the target has
    been re-planned since or has moved on to another cycle (its job is queued)."""
    p = job.payload
    record = live_record(uow, int(p["record"]))
    if record is None:
        return
    query = select(SlaStatus).where(
        SlaStatus.record_id == record.id,
        SlaStatus.policy == str(p["policy"]),
        SlaStatus.next_check == datetime.fromisoformat(str(p["at"])),
    )
    if "target" in p:  # jobs queued before they named their target and cycle check any
        query = query.where(SlaStatus.target == str(p["target"]))
    planned = [
        row for row in uow.session.scalars(query) if "cycle" not in p or row.cycle == p["cycle"]
    ]
    if not planned:
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
