"""``tangram serve --processes 2``: two gunicorn worker processes on one port, each with its own
app and pool, metrics added up over both, JSON log lines, and a clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from tangram.cli import main, serving
from tangram.config import Settings
from tangram.platform.records import search
from tests.platform.processes import (
    METRICS_TOKEN,
    TANGRAM,
    alive,
    children,
    environment,
    free_port,
    http_get,
    wait_for,
)

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
READY = "/api/v1/health/ready"


def _metrics(base: str) -> list[tuple[str, dict[str, str], float]]:
    status, body = http_get(f"{base}/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert status == 200, body
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    ]


def _pids_with_idle_connections(base: str) -> set[int]:
    """The processes whose pool keeps a connection, i.e. that answered a request that used the
    database (sampled at each request's end, labelled by process)."""
    return {
        int(labels["pid"])
        for name, labels, value in _metrics(base)
        if name == "tangram_db_pool_connections" and labels["state"] == "idle" and value >= 1
    }


def _exactly(count: int, found: set[int]) -> set[int] | None:
    return found if len(found) == count else None


@LINUX
def test_two_processes_serve_concurrent_requests_and_stop_cleanly_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    errors = tmp_path / "serve.err"
    with (tmp_path / "serve.out").open("wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(
            [TANGRAM, "serve", "--processes", "2", "--threads", "4", "--port", str(port)],
            cwd=tmp_path,
            env=environment(database_url, tmp_path, TANGRAM_LOG_LEVEL="INFO"),
            stdout=out,
            stderr=err,
        )
    ready_answers = 0  # every 200 from the readiness check, which the metrics must count

    def ready() -> bool:
        nonlocal ready_answers
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {errors.read_text()}")
        try:
            status, _ = http_get(base + READY)
        except OSError:  # not listening yet
            return False
        ready_answers += status == 200
        return status == 200

    def burst() -> set[int] | None:
        nonlocal ready_answers
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [status for status, _ in pool.map(http_get, [base + READY] * 16)]
        assert statuses == [200] * 16
        ready_answers += 16
        served = _pids_with_idle_connections(base)
        return served if served == workers else None

    try:
        wait_for("the server's readiness", ready)
        workers = wait_for("two worker processes", lambda: _exactly(2, children(process.pid)))
        wait_for("requests answered by both processes", burst)
        found = _metrics(base)
        answered = [
            value
            for name, labels, value in found
            if name == "tangram_http_requests_total"
            and labels == {"route": READY, "method": "GET", "status": "200"}
        ]
        assert answered == [ready_answers]  # counted by two processes, added up by one
        reported = {
            int(labels["pid"]) for name, labels, _ in found if name == "tangram_db_pool_connections"
        }
        assert reported == workers
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0, errors.read_text()
    assert not any(alive(pid) for pid in workers)
    lines: list[dict[str, Any]] = [json.loads(line) for line in errors.read_text().splitlines()]
    requests = [line for line in lines if line["logger"] == "tangram.web.access"]
    ready_lines = [line for line in requests if line["route"] == READY and line["status"] == 200]
    assert len(ready_lines) == ready_answers
    assert all(
        {"request_id", "user_id", "method", "route", "status", "duration_ms"} <= set(line)
        for line in requests
    )
    assert len({line["request_id"] for line in requests}) == len(requests)
    assert any(line["message"] == "Handling signal: term" for line in lines)
    # each worker compiled the installed apps' definitions before its first request
    ahead = [line["message"] for line in lines if line["logger"] == "tangram.cli.ahead"]
    assert len(ahead) == 2
    assert all("definitions compiled ahead" in message for message in ahead)
    assert "embedded job worker" in (tmp_path / "serve.out").read_text()


def test_serve_refuses_an_embedded_worker_with_several_processes(
    database_url: str, tmp_path: Path
) -> None:
    env = {"TANGRAM_DATABASE_URL": database_url, "TANGRAM_INSTANCE_PATH": str(tmp_path)}
    result = CliRunner().invoke(main, ["serve", "--processes", "2", "--worker"], env=env)
    assert result.exit_code == 2
    assert "--worker runs jobs inside a single process" in result.output
    assert "'tangram worker'" in result.output


def test_serve_refuses_zero_processes(database_url: str, tmp_path: Path) -> None:
    env = {"TANGRAM_DATABASE_URL": database_url, "TANGRAM_INSTANCE_PATH": str(tmp_path)}
    result = CliRunner().invoke(main, ["serve", "--processes", "0"], env=env)
    assert result.exit_code == 2
    assert "--processes" in result.output


def test_the_master_loads_the_search_words_before_it_forks_the_workers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jieba's dictionary is loaded in gunicorn's master: every worker has it from the fork, and
    no worker's first registration or search waits for it."""
    loaded: list[str] = []
    monkeypatch.setattr(search, "segmenter", search.Once(lambda: loaded.append("jieba")))
    seen: list[bool] = []
    monkeypatch.setattr(serving.GunicornServer, "run", lambda _self: seen.append(bool(loaded)))
    serving.serve_processes(settings, host="127.0.0.1", port=0, processes=2, threads=1)
    assert seen == [True]
