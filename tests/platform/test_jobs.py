"""Durable jobs: same-transaction enqueue, due times, retries with back-off, dead letters, leases."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tangram.cli.logs import JsonFormatter
from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import audit, jobs
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.jobs import JobContext
from tangram.platform.kernel.models import Job, JobStatus, Notification, Role
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.worker import Worker
from tests.conftest import make_user


def _job(platform: Platform, job_id: int) -> Job:
    with platform.unit_of_work(write=False) as uow:
        job = uow.session.get(Job, job_id)
        assert job is not None
        return job


def _enqueue(
    platform: Platform, kind: str, payload: dict[str, object] | None = None, **kw: object
) -> int:
    with platform.unit_of_work() as uow:
        job = jobs.enqueue(uow, kind, payload or {}, **kw)  # type: ignore[arg-type]
        uow.commit()
    return job.id


def _add_role(uow: UnitOfWork, job: JobContext) -> None:
    """A handler with a visible side effect: one role per run."""
    uow.session.add(
        Role(
            key=f"r{job.id}_{job.attempt}",
            name="from a job",
            created_at=uow.now,
            updated_at=uow.now,
        )
    )


def _roles(platform: Platform) -> list[str]:
    with platform.unit_of_work(write=False) as uow:
        return sorted(uow.session.scalars(select(Role.key).where(Role.key != "admin")))


def test_job_does_not_exist_when_its_unit_of_work_is_not_committed(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        jobs.enqueue(uow, "notify", {"user_id": 1, "title": "x"})
    with platform.unit_of_work(write=False) as uow:
        assert jobs.list_jobs(uow) == []


def test_job_runs_only_when_due(platform: Platform, clock: FrozenClock) -> None:
    platform.jobs.register("role", _add_role)
    later = _enqueue(platform, "role", run_at=clock.now() + timedelta(hours=1))
    now = _enqueue(platform, "role")
    summary = Worker(platform).run_due()
    assert (summary.done, summary.total) == (1, 1)
    assert _job(platform, now).status == JobStatus.DONE
    assert _job(platform, later).status == JobStatus.PENDING
    clock.advance(timedelta(hours=1))
    assert Worker(platform).run_due().done == 1
    assert _roles(platform) == [f"r{later}_1", f"r{now}_1"]


def test_handler_writes_and_done_status_commit_together(
    platform: Platform, clock: FrozenClock
) -> None:
    platform.jobs.register("role", _add_role)
    job_id = _enqueue(platform, "role")
    Worker(platform).run_due()
    job = _job(platform, job_id)
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.DONE, 1, clock.now())
    assert job.locked_until is None
    assert _roles(platform) == [f"r{job_id}_1"]


def test_failing_job_rolls_back_and_retries_with_backoff_then_dead_letters(
    platform: Platform, clock: FrozenClock
) -> None:
    def flaky(uow: UnitOfWork, job: JobContext) -> None:
        _add_role(uow, job)
        uow.flush()
        raise RuntimeError(f"remote said no on attempt {job.attempt}")

    platform.jobs.register("flaky", flaky)
    admin = make_user(platform, "root", roles=("admin",))
    job_id = _enqueue(platform, "flaky", max_attempts=3)
    start = clock.now()
    assert Worker(platform).run_due().retried == 1
    job = _job(platform, job_id)
    assert (job.status, job.attempts, job.run_at) == (
        JobStatus.PENDING,
        1,
        start + timedelta(seconds=30),
    )
    assert job.last_error == "RuntimeError: remote said no on attempt 1"
    assert _roles(platform) == []  # the handler's write was rolled back
    assert Worker(platform).run_due().total == 0  # not due yet
    clock.advance(timedelta(seconds=30))
    assert Worker(platform).run_due().retried == 1
    assert _job(platform, job_id).run_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    # its attempts are spent, but it is only 90 s old: a short outage is ridden out
    assert Worker(platform).run_due().retried == 1
    assert _job(platform, job_id).status == JobStatus.PENDING
    clock.advance(timedelta(minutes=platform.settings.job_min_age_minutes))
    assert Worker(platform).run_due().dead == 1
    job = _job(platform, job_id)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 4)
    assert "attempt 4" in (job.last_error or "")
    with platform.unit_of_work(write=False) as uow:  # every administrator hears of it
        told = uow.session.scalars(select(Notification).where(Notification.kind == "job_dead"))
        assert [(n.user_id, n.payload["job"]) for n in told] == [(admin.id, job_id)]
        (entry,) = audit.list_entries(uow.session, object_type="job")
        assert (entry.action, entry.payload["attempts"]) == ("job.dead", 4)


def test_backoff_doubles_and_is_capped() -> None:
    assert [jobs.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert jobs.backoff(20) == timedelta(hours=1)


def test_unknown_kind_is_dead_lettered_at_once(platform: Platform) -> None:
    job_id = _enqueue(platform, "no.such.kind", max_attempts=5)
    assert Worker(platform).run_due().dead == 1
    job = _job(platform, job_id)
    assert job.status == JobStatus.DEAD
    assert job.last_error == "no handler for job kind 'no.such.kind'"


def test_expired_lease_is_claimed_again_when_a_worker_died(
    platform: Platform, clock: FrozenClock
) -> None:
    platform.jobs.register("role", _add_role)
    job_id = _enqueue(platform, "role")
    crashed = Worker(platform, name="crashed")
    assert crashed.claim() == [job_id]  # ...and never runs it
    assert Worker(platform, name="other").run_due().total == 0  # the lease still holds
    clock.advance(timedelta(seconds=platform.settings.job_lease_seconds + 1))
    assert Worker(platform, name="other").run_due().done == 1
    assert _job(platform, job_id).attempts == 2
    # The crashed worker wakes up: its lease is gone, its result is discarded.
    assert crashed.run_job(job_id) == "lost"
    assert _roles(platform) == [f"r{job_id}_2"]
    # ...and the job, done once, is never taken again
    clock.advance(timedelta(seconds=platform.settings.job_lease_seconds + 1))
    assert Worker(platform, name="third").run_due().total == 0
    assert _roles(platform) == [f"r{job_id}_2"]


def test_a_stopped_worker_finishes_its_job_and_gives_back_the_ones_it_did_not_start(
    platform: Platform,
) -> None:
    stop = threading.Event()

    def last_one(uow: UnitOfWork, job: JobContext) -> None:
        _add_role(uow, job)
        stop.set()  # SIGTERM arrives while this job runs

    platform.jobs.register("role", last_one)
    first, *others = [_enqueue(platform, "role") for _ in range(3)]
    stopping = Worker(platform, name="stopping")
    assert stopping.run_due(stop=stop).done == 1
    assert _job(platform, first).status == JobStatus.DONE
    for job_id in others:  # due as before, no lease, no attempt spent
        job = _job(platform, job_id)
        assert (job.status, job.locked_by, job.locked_until) == (JobStatus.PENDING, None, None)
        assert job.attempts == 0
    # another worker takes them at once, not after the lease
    assert Worker(platform, name="other").run_due().done == 2
    assert _roles(platform) == sorted(f"r{job_id}_1" for job_id in (first, *others))


def test_a_released_job_that_another_worker_took_over_is_left_alone(platform: Platform) -> None:
    job_id = _enqueue(platform, "role")
    crashed = Worker(platform, name="crashed")
    assert crashed.claim() == [job_id]
    with platform.unit_of_work() as uow:
        uow.session.get(Job, job_id).locked_by = "thief"  # type: ignore[union-attr]
        uow.commit()
    assert crashed.release([job_id]) == 0
    assert _job(platform, job_id).status == JobStatus.RUNNING


def test_each_job_run_is_logged_with_its_id_kind_outcome_and_duration(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    platform.jobs.register("role", _add_role)
    done = _enqueue(platform, "role")
    unknown = _enqueue(platform, "no.such.kind")
    with caplog.at_level(logging.INFO, logger="tangram.platform.worker"):
        Worker(platform, name="w1").run_due()
    runs = [
        json.loads(JsonFormatter().format(record))
        for record in caplog.records
        if hasattr(record, "job_id")
    ]
    assert [(r["job_id"], r["kind"], r["outcome"], r["worker"]) for r in runs] == [
        (done, "role", "done", "w1"),
        (unknown, "no.such.kind", "dead", "w1"),
    ]
    assert all(isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0 for r in runs)


def test_worker_that_lost_its_lease_mid_run_discards_its_writes(
    platform: Platform, clock: FrozenClock
) -> None:
    slow = Worker(platform, name="slow")

    def stolen(uow: UnitOfWork, job: JobContext) -> None:
        _add_role(uow, job)
        # Meanwhile the lease expires and another worker takes the job over.
        clock.advance(timedelta(seconds=platform.settings.job_lease_seconds + 1))
        with platform.unit_of_work() as other:
            other.session.get(Job, job.id).locked_by = "thief"  # type: ignore[union-attr]
            other.commit()

    platform.jobs.register("stolen", stolen)
    job_id = _enqueue(platform, "stolen")
    assert slow.claim() == [job_id]
    assert slow.run_job(job_id) == "lost"
    assert _roles(platform) == []


def test_retry_puts_a_dead_job_back_in_the_queue(platform: Platform) -> None:
    job_id = _enqueue(platform, "later.kind")
    Worker(platform).run_due()
    assert _job(platform, job_id).status == JobStatus.DEAD
    platform.jobs.register("later.kind", _add_role)
    with platform.unit_of_work() as uow:
        jobs.retry_job(uow, job_id)
        uow.commit()
    assert Worker(platform).run_due().done == 1
    assert _job(platform, job_id).status == JobStatus.DONE


def test_notify_job_delivers_an_in_app_notification(platform: Platform) -> None:
    user = make_user(platform, "nina")
    _enqueue(
        platform, "notify", {"user_id": user.id, "title": "工单已分派", "payload": {"record": 7}}
    )
    assert Worker(platform).run_due().done == 1
    with platform.unit_of_work(write=False) as uow:
        note = uow.session.scalars(select(Notification)).one()
    assert (note.user_id, note.title, note.payload, note.read_at) == (
        user.id,
        "工单已分派",
        {"record": 7},
        None,
    )


def test_enqueue_refuses_bad_arguments(platform: Platform) -> None:
    from tangram.platform.kernel.errors import ValidationFailed

    with platform.unit_of_work() as uow:
        with pytest.raises(ValidationFailed):
            jobs.enqueue(uow, "", {})
        with pytest.raises(ValidationFailed):
            jobs.enqueue(uow, "x", {}, max_attempts=0)


def test_jobs_are_tried_as_often_as_the_installation_says(
    settings: Settings, clock: FrozenClock
) -> None:
    def failing(_uow: UnitOfWork, job: JobContext) -> None:
        raise RuntimeError(f"no on attempt {job.attempt}")

    platform = Platform.from_settings(
        replace(settings, job_max_attempts=2, job_min_age_minutes=0), clock=clock
    )
    try:
        platform.jobs.register("failing", failing)
        job_id = _enqueue(platform, "failing")
        assert _job(platform, job_id).max_attempts == 2
        assert Worker(platform).run_due().retried == 1
        clock.advance(timedelta(seconds=30))
        assert Worker(platform).run_due().dead == 1
        assert _job(platform, job_id).attempts == 2
        assert _job(platform, _enqueue(platform, "failing", max_attempts=4)).max_attempts == 4
    finally:
        platform.dispose()
