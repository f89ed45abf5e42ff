"""Durable jobs: the queue, the registry of job kinds and their back-off.

A job is a row in ``jobs`` written in the same transaction as the state that causes it, so no timer
or webhook is lost. :mod:`tangram.platform.worker` claims and runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tangram.platform.kernel.errors import NotFound, ValidationFailed
from tangram.platform.kernel.models import Job, JobStatus, Notification
from tangram.platform.kernel.uow import UnitOfWork

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
#: Told of a failed try, in the worker's unit of work that records it: the job, the error, and
#: whether the job was given up (dead-lettered) or will be tried again.
FailureHandler = Callable[[UnitOfWork, JobContext, str, bool], None]


@dataclass
class JobRegistry:
    """Handlers by job kind."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    failure_handlers: dict[str, FailureHandler] = field(default_factory=dict)

    def register(
        self, kind: str, handler: Handler, *, on_failure: FailureHandler | None = None
    ) -> None:
        """Run ``handler`` for jobs of ``kind`` (a later registration replaces an earlier one);
        ``on_failure`` records each failed try where the kind keeps its own state (the handler's
        own writes are rolled back with the failure)."""
        self.handlers[kind] = handler
        if on_failure is not None:
            self.failure_handlers[kind] = on_failure
        else:
            self.failure_handlers.pop(kind, None)

    def on_failure(self, kind: str) -> FailureHandler | None:
        """What records a failed try of ``kind``, if anything."""
        return self.failure_handlers.get(kind)

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
    max_attempts: int | None = None,
) -> Job:
    """Add a job inside the caller's transaction; it becomes visible to workers on commit.

    ``max_attempts`` defaults to the installation's ``TANGRAM_JOB_MAX_ATTEMPTS``."""
    if max_attempts is None:
        max_attempts = uow.settings.job_max_attempts
    if not kind:
        raise ValidationFailed("a job needs a kind", errors=[{"path": "kind", "message": "empty"}])
    if max_attempts < 1:
        raise ValidationFailed(
            "max_attempts must be at least 1",
            errors=[{"path": "max_attempts", "message": "must be at least 1"}],
        )
    return uow.insert(
        Job,
        {
            "kind": kind,
            "payload": dict(payload),
            "run_at": run_at or uow.now,
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "max_attempts": max_attempts,
            "last_error": None,
            "locked_by": None,
            "locked_until": None,
            "created_at": uow.now,
            "updated_at": uow.now,
            "finished_at": None,
        },
    )


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min … at most 1 h."""
    step: timedelta = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(step, BACKOFF_CAP)


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
