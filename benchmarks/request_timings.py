"""The after-sales app's everyday requests timed in one process, without a network or a browser:
what the app itself costs per request, and how many statements each runs.

The after-sales package and its demo history on a temporary SQLite file; then, through the Flask
test client, an agent registers tickets (each one dispatched to a quality engineer, who gets a
first-response task), and in rounds the agent reads the newest page of tickets while three
engineers open their inbox, open a first-response task and submit it; then a manager opens the
after-sales cockpit (after the round's writes: the widgets the writes moved are computed again)
and opens it again (from the result cache). Each request type is
warmed once first (its statements compiled); the figures are means, in ms.

    .venv/bin/python benchmarks/request_timings.py [--tickets 150] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from designer_browser import PACKAGE, SYSTEM
from flask import Flask
from sandbox import emptied, platform_on
from sqlalchemy import event

from tangram.platform import demo, packages
from tangram.platform.bootstrap import Platform
from tangram.platform.kernel import migrate
from tangram.platform.kernel.clock import FrozenClock
from tangram.web.app import create_app

# the load benchmark's tickets and people, without locust patching this process for gevent
os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
from locustfile import ENGINEERS, ticket

RECORDS = "/api/v1/apps/aftersales/records/ticket"
COCKPIT = "/api/v1/apps/aftersales/dashboards/cockpit/data"
#: who opens the cockpit (the load benchmark's first manager)
MANAGER = "director"


class Timer:
    """Mean time and statements per request, by name."""

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.totals: dict[str, list[float]] = {}
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def __call__(self, name: str, request: Callable[[], Any]) -> Any:
        before, start = self.statements, time.perf_counter()
        answer = request()
        took = time.perf_counter() - start
        total = self.totals.setdefault(name, [0.0, 0, 0])
        total[0] += took
        total[1] += 1
        total[2] += self.statements - before
        return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=150, help="tickets registered (timed)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of reads and submits")
    args = parser.parse_args()
    random.seed(1)
    with seeded_demo() as platform:
        _run(platform, args.tickets, args.rounds)


@contextmanager
def seeded_demo(records: int = 20, database_url: str | None = None) -> Iterator[Platform]:
    """The after-sales package and its demo (``records`` of its streams, lived through the
    platform on a frozen clock) on a temporary SQLite file, or on the PostgreSQL database
    ``database_url`` (its public schema emptied first); then a platform on it with the real
    clock."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        emptied(url)
        until = datetime.now(UTC).replace(microsecond=0)
        clock = FrozenClock(until)
        with platform_on(url, Path(tmp), clock) as platform:
            migrate.upgrade(platform.engine)
            with platform.unit_of_work() as uow:
                packages.install(uow, SYSTEM, packages.read(PACKAGE))
                uow.commit()
            demo.seed(platform, clock, demo.load_spec(PACKAGE), count=records, until=until)
        with platform_on(url, Path(tmp)) as platform:
            yield platform


def signed_in(app: Flask, name: str) -> tuple[Any, dict[str, str]]:
    """A test client signed in as ``name``, and the headers its writes send (the CSRF token)."""
    client = app.test_client()
    answer = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return client, {"X-CSRF-Token": answer.get_json()["csrf_token"]}


def _run(platform: Any, tickets: int, rounds: int) -> None:
    app = create_app(platform=platform)
    agent, headers = signed_in(app, "agent01")
    engineers = [signed_in(app, name) for name in (ENGINEERS[0], ENGINEERS[3], ENGINEERS[5])]
    manager, _ = signed_in(app, MANAGER)
    timer = Timer(platform.engine)

    def register(n: int) -> None:
        answer = agent.post(RECORDS, json={"data": ticket(n)}, headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)

    register(0)  # warm
    for n in range(1, tickets + 1):
        timer("register ticket", partial(register, n))
    agent.get(f"{RECORDS}?limit=20")  # warm
    manager.get(COCKPIT)
    for _ in range(rounds):
        timer("list tickets", partial(agent.get, f"{RECORDS}?limit=20"))
        for client, engineer in engineers:
            inbox = timer("inbox", partial(client.get, "/api/v1/tasks?box=todo", headers=engineer))
            task = next((t for t in inbox.get_json()["items"] if t["node"] == "respond"), None)
            if task is None:
                continue
            path = f"/api/v1/tasks/{task['id']}"
            view = timer("task view", partial(client.get, path, headers=engineer))
            body = {
                "data": {"response_note": "已电话联系客户确认现象"},
                "lock_version": view.get_json()["record"]["lock_version"],
            }
            submit = partial(client.post, f"{path}/submit", json=body, headers=engineer)
            answer = timer("task submit", submit)
            assert answer.status_code == 200, answer.get_data(as_text=True)
        for name in ("cockpit", "cockpit again"):  # after the round's writes, then unchanged
            answer = timer(name, partial(manager.get, COCKPIT))
            assert answer.status_code == 200, answer.get_data(as_text=True)
    print(f"\nin one process on SQLite, the after-sales demo, {tickets} registrations")
    print(f"{'request':<16} {'n':>4} {'mean ms':>8} {'statements':>11}")
    for name, (seconds, count, statements) in timer.totals.items():
        print(f"{name:<16} {count:>4} {seconds / count * 1000:>8.1f} {statements / count:>11.1f}")


PASSWORD = "tangram-demo"  # noqa: S105 - the demo package's (apps/aftersales/demo/seed.json)

if __name__ == "__main__":
    main()
