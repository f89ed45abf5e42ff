"""Several workers racing over the same due jobs: every job runs exactly once.

Each worker has its own Platform (engine and connection pool), as separate processes would. On
PostgreSQL they claim with FOR UPDATE SKIP LOCKED; on SQLite, BEGIN IMMEDIATE serialises claims.
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import jobs
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import Job, JobStatus, Notification
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.worker import Worker
from tests.conftest import make_user, race

JOBS = 200
WORKERS = 4


def test_racing_workers_run_every_job_exactly_once(
    platform: Platform, settings: Settings, clock: FrozenClock
) -> None:
    user = make_user(platform, "racer")
    with platform.unit_of_work() as uow:
        for n in range(JOBS):
            jobs.enqueue(uow, "count", {"n": n})
        uow.commit()

    runs: Counter[int] = Counter()
    lock = threading.Lock()

    def count(uow: UnitOfWork, job: JobContext) -> None:
        with lock:
            runs[int(job.payload["n"])] += 1
        uow.session.add(
            Notification(
                user_id=user.id,
                kind="race",
                title=str(job.payload["n"]),
                body="",
                payload={},
                created_at=uow.now,
            )
        )

    def work(p: Platform, n: int) -> jobs.RunSummary:
        p.jobs.register("count", count)
        return Worker(p, name=f"w{n}", batch=5).run_due()

    summaries = race(settings, clock, WORKERS, work)
    assert len(runs) == JOBS
    assert set(runs.values()) == {1}
    assert sum(s.done for s in summaries) == JOBS
    assert sum(s.lost for s in summaries) == 0
    with platform.unit_of_work(write=False) as uow:
        statuses = dict(
            uow.session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        )
        written = uow.session.scalar(select(func.count()).select_from(Notification))
        titles = set(uow.session.scalars(select(Notification.title)))
    assert statuses == {JobStatus.DONE.value: JOBS}
    assert written == JOBS
    assert titles == {str(n) for n in range(JOBS)}
