"""Signed checkpoints of the audit chain, written by a job every few minutes.

The job (``audit.checkpoint``) signs the chain's head with the installation's secret key (kept
outside the database) and queues its next run ``TANGRAM_AUDIT_CHECKPOINT_MINUTES`` later; a
worker that starts makes sure one is queued. Entries written since the newest checkpoint are
anchored at the next one, as a transparency log's entries are by its next signed tree head.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tangram.config import Settings
from tangram.platform.kernel import audit, jobs
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import Job, JobStatus
from tangram.platform.kernel.uow import UnitOfWork

KIND = "audit.checkpoint"


def audit_key(settings: Settings) -> str:
    """The key checkpoints are signed with: the installation's secret key."""
    return settings.with_secret().secret_key


def ensure_scheduled(uow: UnitOfWork) -> None:
    """Queue the checkpoint job unless one is already waiting or running."""
    waiting = uow.session.scalar(
        select(Job.id).where(
            Job.kind == KIND,
            Job.status.in_((JobStatus.PENDING.value, JobStatus.RUNNING.value)),
        )
    )
    if waiting is None:
        jobs.enqueue(uow, KIND, {})


def run(uow: UnitOfWork, _job: JobContext) -> None:
    """Chain what is queued, sign the head, and queue the next checkpoint."""
    while len(audit.chain_queued(uow.session, wait=True)) == audit.BATCH:
        pass
    audit.checkpoint(uow.session, key=audit_key(uow.settings), at=uow.now)
    every = timedelta(minutes=uow.settings.audit_checkpoint_minutes)
    jobs.enqueue(uow, KIND, {}, run_at=uow.now + every)


def install(hooks: Hooks, _settings: Settings) -> None:
    """Register the checkpoint job."""
    hooks.jobs.register(KIND, run)
