"""Durable jobs and the worker that runs them.

A job is a row in ``jobs`` written in the same transaction as the state that causes it, so no timer
or webhook is lost. Workers claim due jobs with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
SQLite serialises writers with ``BEGIN IMMEDIATE``), run the handler in its own transaction that
also marks the job done, retry failures with exponential back-off and dead-letter a job after its
last attempt. A job whose worker died is claimed again when its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update

from tangram.platform.errors import NotFound, ValidationFailed
from tangram.platform.models import Job, JobStatus, Notification
from tangram.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from tangram.platform.core import Platform

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler learns about the job it runs."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    attempt: int
    now: datetime


Handler = Callable[[UnitOfWork, JobContext], None]


@dataclass
class JobRegistry:
    """Handlers by job kind."""

    handlers: dict[str, Handler] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler) -> None:
        """Run ``handler`` for jobs of ``kind`` (a later registration replaces an earlier one)."""
        self.handlers[kind] = handler

    def get(self, kind: str) -> Handler | None:
        """The handler of ``kind``, if any."""
        return self.handlers.get(kind)


def default_registry() -> JobRegistry:
    """The job kinds the platform itself provides."""
    registry = JobRegistry()
    registry.register("notify", _notify)
    return registry


def _notify(uow: UnitOfWork, job: JobContext) -> None:
    """Deliver an in-app notification: payload ``{user_id, kind, title, body?, payload?}``."""
    p = job.payload
    uow.session.add(
        Notification(
            user_id=int(p["user_id"]),
            kind=str(p.get("kind", "message")),
            title=str(p["title"]),
            body=str(p.get("body", "")),
            payload=dict(p.get("payload", {})),
            created_at=uow.now,
        )
    )


def enqueue(
    uow: UnitOfWork,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_at: datetime | None = None,
    max_attempts: int = 5,
) -> Job:
    """Add a job inside the caller's transaction; it becomes visible to workers on commit."""
    if not kind:
        raise ValidationFailed("a job needs a kind", errors=[{"path": "kind", "message": "empty"}])
    if max_attempts < 1:
        raise ValidationFailed(
            "max_attempts must be at least 1",
            errors=[{"path": "max_attempts", "message": "must be at least 1"}],
        )
    job = Job(
        kind=kind,
        payload=dict(payload),
        run_at=run_at or uow.now,
        status=JobStatus.PENDING.value,
        attempts=0,
        max_attempts=max_attempts,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(job)
    uow.session.flush()
    return job


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min … at most 1 h."""
    step: timedelta = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(step, BACKOFF_CAP)


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

    def run_job(self, job_id: int) -> str:
        """Run one claimed job; returns its new status (or ``lost`` if another worker took it)."""
        platform = self.platform
        with platform.unit_of_work(write=False) as uow:
            job = uow.session.get(Job, job_id)
            if job is None or job.locked_by != self.name or job.status != JobStatus.RUNNING.value:
                return "lost"
            context = JobContext(job.id, job.kind, dict(job.payload), job.attempts, uow.now)
            max_attempts = job.max_attempts
        handler = platform.jobs.get(context.kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for job kind {context.kind!r}"
            max_attempts = context.attempt  # nothing will ever handle it: dead-letter now
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
                        return "lost"  # the lease ran out and another worker took the job
                    uow.commit()
                    return JobStatus.DONE.value
            except Exception as exc:  # noqa: BLE001 - a failing job is recorded, never fatal
                error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s (%s) failed: %s", job_id, context.kind, error)
        return self._fail(job_id, context.attempt, max_attempts, error)

    def _fail(self, job_id: int, attempt: int, max_attempts: int, error: str) -> str:
        with self.platform.unit_of_work() as uow:
            if attempt >= max_attempts:
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
            uow.commit()
        return status

    def run_due(self, *, max_jobs: int | None = None) -> RunSummary:
        """Claim and run due jobs until none is left (or ``max_jobs`` have run)."""
        summary = RunSummary()
        while max_jobs is None or summary.total < max_jobs:
            ids = self.claim()
            if not ids:
                break
            for job_id in ids:
                outcome = self.run_job(job_id)
                summary = summary + _tally(outcome)
        return summary

    def serve(self, stop: threading.Event, *, poll_seconds: float | None = None) -> None:
        """Run due jobs until ``stop`` is set, polling when idle."""
        poll = poll_seconds or self.platform.settings.worker_poll_seconds
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                summary = self.run_due()
            except Exception:
                log.exception("worker %s: claiming jobs failed", self.name)
                summary = RunSummary()
            if summary.total == 0:
                stop.wait(poll)
        log.info("worker %s stopped", self.name)


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


def retry_job(uow: UnitOfWork, job_id: int) -> Job:
    """Put a dead (or done) job back in the queue, due now, with its attempts reset."""
    job = uow.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist", code="job.not_found")
    job.status = JobStatus.PENDING.value
    job.attempts = 0
    job.run_at = uow.now
    job.locked_by = None
    job.locked_until = None
    job.finished_at = None
    job.updated_at = uow.now
    return job


def list_jobs(
    uow: UnitOfWork, *, status: str | None = None, after: int = 0, limit: int = 100
) -> list[Job]:
    """Jobs by id (keyset paging), optionally of one status."""
    query = select(Job).where(Job.id > after)
    if status is not None:
        query = query.where(Job.status == status)
    return list(uow.session.scalars(query.order_by(Job.id).limit(limit)))
