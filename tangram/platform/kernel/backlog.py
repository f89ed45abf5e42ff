"""What is waiting to be done, read for monitoring: jobs by state and kind, how late the oldest
due job is, audit entries no signed checkpoint anchors yet, and the audit entries waiting for the
sequencer.

These are read when Prometheus scrapes ``/metrics``, from the database every process shares, so
any app server reports the whole installation's queue (a counter kept in one process could not).
Each reading is one query, cheap enough to run every few seconds: the job query only touches
unfinished and dead jobs, through the ``(status, run_at)`` index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tangram.platform.kernel.clock import ensure_utc
from tangram.platform.kernel.models import AuditCheckpoint, AuditEntry, Job, JobStatus

#: The states a job is counted in. ``pending`` jobs wait (due or later), ``due`` ones are pending
#: and due now or hold a lease that ran out (their worker vanished: they are claimed again), a
#: ``running`` job holds a lease, a ``dead`` one was given up. Done jobs are not counted.
JOB_STATES = ("pending", "due", "running", "dead")


@dataclass(frozen=True, slots=True)
class JobBacklog:
    """Jobs by state and kind (``counts[state][kind]``) and the oldest due job's lag."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Seconds since the oldest due job became due (0 when nothing is due): how far behind the
    #: workers are.
    oldest_due_lag_seconds: float = 0.0

    def total(self, state: str) -> int:
        """Jobs in ``state`` of every kind."""
        return sum(self.counts.get(state, {}).values())


def job_backlog(session: Session, now: datetime) -> JobBacklog:
    """Count unfinished and dead jobs by kind and state, in one query."""
    due = or_(
        and_(Job.status == JobStatus.PENDING.value, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING.value, Job.locked_until < now),
    )
    rows = session.execute(
        select(
            Job.kind,
            Job.status,
            func.count(),
            func.sum(case((due, 1), else_=0)),
            func.min(case((due, Job.run_at))),
        )
        .where(
            Job.status.in_((JobStatus.PENDING.value, JobStatus.RUNNING.value, JobStatus.DEAD.value))
        )
        .group_by(Job.kind, Job.status)
    ).all()
    counts: dict[str, dict[str, int]] = {state: {} for state in JOB_STATES}
    oldest: datetime | None = None
    for kind, status, number, due_number, first_due in rows:
        counts[str(status)][str(kind)] = int(number)
        if due_number:
            counts["due"][str(kind)] = counts["due"].get(str(kind), 0) + int(due_number)
        if first_due is not None:
            first = ensure_utc(first_due)
            oldest = first if oldest is None else min(oldest, first)
    lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return JobBacklog(counts=counts, oldest_due_lag_seconds=lag)


def unanchored_audit_entries(session: Session) -> int:
    """Audit entries written after the newest signed checkpoint (all of them before the first),
    queued ones included: what a deletion from the end of the chain could still remove
    unnoticed. It grows for ``TANGRAM_AUDIT_CHECKPOINT_MINUTES`` and drops at each checkpoint;
    when it only grows, no worker signs the chain."""
    newest = select(func.coalesce(func.max(AuditCheckpoint.seq), 0)).scalar_subquery()
    found = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(or_(AuditEntry.seq > newest, AuditEntry.seq.is_(None)))
    )
    return int(found or 0)


def queued_audit_entries(session: Session) -> int:
    """Audit entries waiting for the sequencer (read through the queue's partial index): near
    zero when a worker runs; when it only grows, no sequencer chains."""
    found = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
    )
    return int(found or 0)
