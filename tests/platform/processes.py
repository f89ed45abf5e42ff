"""Helpers for tests that run ``tangram`` as real processes: their environment, a free port,
HTTP without proxies, polling with a deadline, and the children of a process."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

#: The console script of this virtualenv.
TANGRAM = str(Path(sys.executable).parent / "tangram")
#: Scrapes of the served processes send it.
METRICS_TOKEN = "scrape-token-for-the-process-tests"
#: What these tests may not inherit: another installation's settings, a metrics folder, proxies.
_INHERITED_NOT = ("TANGRAM_", "PROMETHEUS_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

T = TypeVar("T")


def environment(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``tangram`` process on ``database_url``, logging in JSON."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_INHERITED_NOT)}
    env.update(
        TANGRAM_DATABASE_URL=database_url,
        TANGRAM_INSTANCE_PATH=str(instance),
        TANGRAM_SECRET_KEY="process-tests-secret-key-" + "0" * 24,
        TANGRAM_METRICS_TOKEN=METRICS_TOKEN,
        TANGRAM_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, **headers: str) -> tuple[int, bytes]:
    """GET ``url`` directly (never through a proxy); the status and body, errors included."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local test URL
    try:
        with _OPENER.open(request, timeout=30) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read()


def wait_for(what: str, found: Callable[[], T | None], *, timeout: float = 60.0) -> T:
    """Ask ``found`` until it gives something (not ``None``/``False``), or fail after ``timeout``
    seconds saying what did not happen."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        result = found()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.05)  # the poll's interval, not a synchronisation


def children(pid: int) -> set[int]:
    """The living child processes of ``pid`` (read from ``/proc``)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a living process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
