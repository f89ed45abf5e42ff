"""``tangram worker`` as a process: SIGTERM lets the job running finish, gives back the jobs it
claimed but did not start and exits 0; a killed worker's job runs again, once, after its lease.

The jobs are webhook deliveries to a receiver inside the test, which holds each delivery until
the test lets it answer: the test decides when a job is running, without timing guesses.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import jobs
from tangram.platform.kernel.models import Job, JobStatus
from tangram.platform.outbound import webhooks
from tests.platform.processes import TANGRAM, environment, wait_for

STOPPING = "tangram worker: stopping once the job running is done"


class Receiver:
    """A webhook receiver whose answers wait until the test sets :attr:`answer`."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.arrived = threading.Event()
        self.answer = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(self.headers["Idempotency-Key"])
                receiver.arrived.set()
                receiver.answer.wait(timeout=120)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:  # the worker that asked was killed meanwhile
                    return

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.answer.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def real_time(settings: Settings) -> Iterator[Platform]:
    """The platform on the real clock, as the worker processes see it."""
    platform = Platform.from_settings(settings)
    yield platform
    platform.dispose()


def _deliveries(platform: Platform, url: str, count: int) -> list[int]:
    with platform.unit_of_work() as uow:
        ids = [
            jobs.enqueue(
                uow,
                webhooks.KIND,
                {"app": "shop", "url": url, "key": f"delivery-{n}", "body": {"n": n}},
            ).id
            for n in range(count)
        ]
        uow.commit()
    return ids


def _job(platform: Platform, job_id: int) -> Job:
    with platform.unit_of_work(write=False) as uow:
        job = uow.session.get(Job, job_id)
        assert job is not None
        return job


def _start_worker(
    database_url: str, tmp_path: Path, name: str, **settings: str
) -> tuple[subprocess.Popen[bytes], Path]:
    errors = tmp_path / f"{name}.err"
    env = environment(
        database_url,
        tmp_path,
        TANGRAM_WEBHOOK_ALLOW="127.0.0.1",
        TANGRAM_WEBHOOK_TIMEOUT_SECONDS="120",
        TANGRAM_WORKER_POLL_SECONDS="0.1",
        **settings,
    )
    with errors.open("wb") as err:
        process = subprocess.Popen(
            [TANGRAM, "worker"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    return process, errors


def _stopped(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_sigterm_finishes_the_running_job_gives_back_the_others_and_exits_0(
    database_url: str, tmp_path: Path, real_time: Platform, receiver: Receiver
) -> None:
    first, *others = _deliveries(real_time, receiver.url, 3)
    process, errors = _start_worker(database_url, tmp_path, "worker")
    try:
        assert receiver.arrived.wait(timeout=60), errors.read_text()
        assert _job(real_time, others[0]).locked_by is not None  # claimed with the first
        process.send_signal(signal.SIGTERM)
        wait_for("the worker to say it stops", lambda: STOPPING in errors.read_text())
        receiver.answer.set()
    finally:
        if process.poll() is None and not receiver.answer.is_set():
            process.kill()
        code = _stopped(process)
    assert code == 0, errors.read_text()
    assert receiver.deliveries == ["delivery-0"]
    assert _job(real_time, first).status == JobStatus.DONE
    for job_id in others:
        job = _job(real_time, job_id)
        assert (job.status, job.locked_by, job.locked_until) == (JobStatus.PENDING, None, None)
        assert job.attempts == 0
    runs = [
        line
        for line in map(json.loads, _json_lines(errors))
        if line["logger"] == "tangram.platform.worker" and "job_id" in line
    ]
    assert [(run["job_id"], run["kind"], run["outcome"]) for run in runs] == [
        (first, "webhook", "done")
    ]
    assert runs[0]["duration_ms"] > 0


def test_a_killed_workers_job_runs_again_once_after_its_lease(
    database_url: str, tmp_path: Path, real_time: Platform, receiver: Receiver
) -> None:
    [job_id] = _deliveries(real_time, receiver.url, 1)
    lease = {"TANGRAM_JOB_LEASE_SECONDS": "1"}
    killed, _ = _start_worker(database_url, tmp_path, "killed", **lease)
    try:
        assert receiver.arrived.wait(timeout=60)
    finally:
        killed.kill()
        killed.wait()
    assert _job(real_time, job_id).status == JobStatus.RUNNING
    receiver.answer.set()  # from now on deliveries are answered at once
    survivor, errors = _start_worker(database_url, tmp_path, "survivor", **lease)
    try:
        wait_for("the job to run again", lambda: _job(real_time, job_id).status == JobStatus.DONE)
    finally:
        survivor.send_signal(signal.SIGTERM)
        code = _stopped(survivor)
    assert code == 0, errors.read_text()
    job = _job(real_time, job_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    # the killed worker's delivery never got its answer; the second was answered, and nothing
    # ran a third time (the receiver drops repeats by their common key)
    assert receiver.deliveries == ["delivery-0", "delivery-0"]


def _json_lines(errors: Path) -> list[str]:
    return [line for line in errors.read_text().splitlines() if line.startswith("{")]
