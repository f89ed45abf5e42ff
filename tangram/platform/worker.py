"""The job worker: claims due jobs with a lease and runs each in its own unit of work.

Several workers (threads or processes) may run at once: PostgreSQL hands each its own jobs with
``FOR UPDATE SKIP LOCKED``; SQLite serialises the claims with ``BEGIN IMMEDIATE``. A failing job is
tried again after a back-off and dead-lettered after its last attempt; a job whose worker died is
claimed again when its lease runs out.

A worker told to stop finishes the job it is running and gives back the jobs it claimed but did
not start (their leases cleared, their attempts not counted), so another worker runs them at
once instead of after the lease. Each run is logged on one line (job id, kind, outcome, duration)
at INFO.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from tangram.platform.identity.perms import administrator_ids
from tangram.platform.kernel import checkpoints
from tangram.platform.kernel.clock import ensure_utc
from tangram.platform.kernel.jobs import JobContext, backoff
from tangram.platform.kernel.models import Job, JobStatus
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.outbound import notify

if TYPE_CHECKING:
    from tangram.platform.bootstrap import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one pass of the worker did."""

    done: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0

    def __add__(self, other: RunSummary) -> RunSummary:
        return RunSummary(
            self.done + other.done,
            self.retried + other.retried,
            self.dead + other.dead,
            self.lost + other.lost,
        )

    @property
    def total(self) -> int:
        """Jobs handled in any way."""
        return self.done + self.retried + self.dead + self.lost


class Worker:
    """Claims and runs due jobs. Several workers (threads or processes) may run at once."""

    def __init__(self, platform: Platform, *, name: str | None = None, batch: int = 10) -> None:
        self.platform = platform
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch = batch

    def claim(self) -> list[int]:
        """Lease up to ``batch`` due jobs to this worker and return their ids."""
        lease = timedelta(seconds=self.platform.settings.job_lease_seconds)
        with self.platform.unit_of_work() as uow:
            now = uow.now
            due = or_(
                and_(Job.status == JobStatus.PENDING.value, Job.run_at <= now),
                and_(Job.status == JobStatus.RUNNING.value, Job.locked_until < now),
            )
            ids = list(
                uow.session.scalars(
                    select(Job.id)
                    .where(due)
                    .order_by(Job.run_at, Job.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                uow.session.execute(
                    update(Job)
                    .where(Job.id.in_(ids))
                    .values(
                        status=JobStatus.RUNNING.value,
                        locked_by=self.name,
                        locked_until=now + lease,
                        attempts=Job.attempts + 1,
                        updated_at=now,
                    )
                )
            uow.commit()
        return ids

    def release(self, job_ids: list[int]) -> int:
        """Give back claimed jobs that were not started: pending again, due when they were, the
        claim's attempt not counted. Returns how many were still this worker's to give back."""
        if not job_ids:
            return 0
        with self.platform.unit_of_work() as uow:
            result = uow.session.execute(
                update(Job)
                .where(
                    Job.id.in_(job_ids),
                    Job.locked_by == self.name,
                    Job.status == JobStatus.RUNNING.value,
                )
                .values(
                    status=JobStatus.PENDING.value,
                    locked_by=None,
                    locked_until=None,
                    attempts=Job.attempts - 1,
                    updated_at=uow.now,
                )
            )
            uow.commit()
        released = int(result.rowcount)  # type: ignore[attr-defined]
        log.info("worker %s gave back %d claimed job(s) it did not start", self.name, released)
        return released

    def run_job(self, job_id: int) -> str:
        """Run one claimed job; returns its new status (or ``lost`` if another worker took it).
        Logs one line with the outcome and how long it took."""
        started = time.perf_counter()
        kind, outcome = self._run(job_id)
        if kind is not None:  # something ran (a job that was no longer ours did not)
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            said = _OUTCOMES.get(outcome, outcome)
            log.info(
                "job %s (%s): %s in %.1f ms",
                job_id,
                kind,
                said,
                elapsed,
                extra={
                    "job_id": job_id,
                    "kind": kind,
                    "outcome": said,
                    "duration_ms": elapsed,
                    "worker": self.name,
                },
            )
        return outcome

    def _run(self, job_id: int) -> tuple[str | None, str]:
        """Run one claimed job: its kind (``None`` when it is no longer this worker's) and its
        new status."""
        platform = self.platform
        with platform.unit_of_work(write=False) as uow:
            job = uow.session.get(Job, job_id)
            if job is None or job.locked_by != self.name or job.status != JobStatus.RUNNING.value:
                return None, "lost"
            context = JobContext(job.id, job.kind, dict(job.payload), job.attempts, uow.now)
            max_attempts = job.max_attempts
            created_at: datetime | None = job.created_at
        handler = platform.jobs.get(context.kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for job kind {context.kind!r}"
            max_attempts = context.attempt  # nothing will ever handle it: dead-letter now
            created_at = None
        else:
            try:
                with platform.unit_of_work() as uow:
                    handler(uow, context)
                    finished = uow.session.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.locked_by == self.name)
                        .values(
                            status=JobStatus.DONE.value,
                            finished_at=uow.now,
                            updated_at=uow.now,
                            locked_until=None,
                            last_error=None,
                        )
                    )
                    if finished.rowcount != 1:  # type: ignore[attr-defined]
                        return context.kind, "lost"  # the lease ran out: another worker took it
                    uow.commit()
                    return context.kind, JobStatus.DONE.value
            except Exception as exc:  # noqa: BLE001 - a failing job is recorded, never fatal
                error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s (%s) failed: %s", job_id, context.kind, error)
        return context.kind, self._fail(job_id, context, max_attempts, created_at, error)

    def _fail(
        self,
        job_id: int,
        context: JobContext,
        max_attempts: int,
        created_at: datetime | None,
        error: str,
    ) -> str:
        """Schedule the next try after a back-off, or give the job up once its attempts are spent
        and it is old enough (``TANGRAM_JOB_MIN_AGE_MINUTES``); a job given up is audited and every
        administrator is told."""
        attempt = context.attempt
        with self.platform.unit_of_work() as uow:
            young = created_at is not None and uow.now - ensure_utc(created_at) < timedelta(
                minutes=self.platform.settings.job_min_age_minutes
            )
            if attempt >= max_attempts and not young:
                status, values = JobStatus.DEAD.value, {"finished_at": uow.now}
            else:
                status, values = JobStatus.PENDING.value, {"run_at": uow.now + backoff(attempt)}
            result = uow.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.locked_by == self.name)
                .values(
                    status=status,
                    last_error=error[:4000],
                    locked_by=None,
                    locked_until=None,
                    updated_at=uow.now,
                    **values,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return "lost"
            if status == JobStatus.DEAD.value:
                _report_dead(uow, context, attempt, error)
            on_failure = self.platform.jobs.on_failure(context.kind)
            if on_failure is not None:
                on_failure(uow, context, error, status == JobStatus.DEAD.value)
            uow.commit()
        return status

    def run_due(
        self, *, max_jobs: int | None = None, stop: threading.Event | None = None
    ) -> RunSummary:
        """Claim and run due jobs until none is left (or ``max_jobs`` have run, or ``stop`` is
        set: then the job running is finished and the claimed ones not started are released)."""
        summary = RunSummary()
        while max_jobs is None or summary.total < max_jobs:
            if stop is not None and stop.is_set():
                break
            ids = self.claim()
            if not ids:
                break
            for position, job_id in enumerate(ids):
                if stop is not None and stop.is_set():
                    self.release(ids[position:])
                    return summary
                outcome = self.run_job(job_id)
                summary = summary + _tally(outcome)
        return summary

    def serve(self, stop: threading.Event, *, poll_seconds: float | None = None) -> None:
        """Run due jobs until ``stop`` is set, polling when idle; an audit sequencer thread runs
        beside them until then."""
        poll = poll_seconds or self.platform.settings.worker_poll_seconds
        log.info("worker %s started", self.name)
        try:  # the audit chain's head is signed every few minutes
            with self.platform.unit_of_work() as uow:
                checkpoints.ensure_scheduled(uow)
                uow.commit()
        except Exception:
            log.exception("worker %s: scheduling the audit checkpoints failed", self.name)
        # queued audit entries are chained beside the jobs, within a fraction of a second
        self.platform.audit_sequencer().start(stop)
        while not stop.is_set():
            try:
                summary = self.run_due(stop=stop)
            except Exception:
                log.exception("worker %s: claiming jobs failed", self.name)
                summary = RunSummary()
            if summary.total == 0:
                stop.wait(poll)
        log.info("worker %s stopped", self.name)


def _report_dead(uow: UnitOfWork, context: JobContext, attempts: int, error: str) -> None:
    """Tell every administrator that a job was given up (their notifications link the jobs page),
    and keep it in the audit trail."""
    title = f"后台任务已放弃：{context.kind} #{context.id}"
    body = f"{attempts} 次尝试均失败。最后的错误：{error[:500]}"
    for admin in administrator_ids(uow.session):
        notify.notify(
            uow,
            admin,
            kind="job_dead",
            title=title,
            body=body,
            payload={"job": context.id, "kind": context.kind},
        )
    uow.audit(
        None,
        "worker",
        "job.dead",
        "job",
        context.id,
        {"kind": context.kind, "attempts": attempts, "error": error[:500]},
    )


#: How a run's outcome is logged: a job back in the queue is to be retried.
_OUTCOMES = {JobStatus.PENDING.value: "retry"}


def _tally(outcome: str) -> RunSummary:
    return {
        JobStatus.DONE.value: RunSummary(done=1),
        JobStatus.PENDING.value: RunSummary(retried=1),
        JobStatus.DEAD.value: RunSummary(dead=1),
    }.get(outcome, RunSummary(lost=1))


def start_worker_thread(platform: Platform) -> tuple[threading.Thread, threading.Event]:
    """Start one daemon worker thread (used by ``tangram serve``); set the event to stop it."""
    stop = threading.Event()
    worker = Worker(platform, name=f"embedded:{os.getpid()}")
    thread = threading.Thread(target=worker.serve, args=(stop,), name="tangram-worker", daemon=True)
    thread.start()
    return thread, stop
