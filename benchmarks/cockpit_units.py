"""The after-sales cockpit after a write, its widgets in the request's unit of work against each
in a unit of its own, in the same run.

The after-sales package and its demo (``--tickets`` records of its streams) on a temporary SQLite
file or on a PostgreSQL database (``--database-url``; its public schema is emptied first); then,
through the Flask test client, in alternating rounds, an agent registers a ticket and a manager
opens the cockpit (the widgets the write moved are computed again): once as the platform does by
default (a widget runs in a unit of its own only when it took 50 ms or more the last time, and
two or more such are waiting), once with every widget that needs its query in a unit of its own
(``apart_ms=0``, how dashboards ran before). Prints the mean time and statements of each.

    .venv/bin/python benchmarks/cockpit_units.py [--tickets 20] [--rounds 6]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from request_timings import COCKPIT, MANAGER, RECORDS, seeded_demo, signed_in
from sqlalchemy import event

from tangram.platform.bootstrap import Platform
from tangram.platform.reports import dashboards
from tangram.web.app import create_app

os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
from locustfile import ticket

MODES = {"by last time (default)": dashboards.APART_MS, "every query apart": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20, help="demo records seeded")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of 10 cockpits per mode")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    args = parser.parse_args()
    began = time.perf_counter()
    with seeded_demo(args.tickets, args.database_url) as platform:
        print(f"seeded {args.tickets} demo records in {time.perf_counter() - began:.0f} s")
        _run(platform, args.rounds, platform.engine.dialect.name)


def _run(platform: Platform, rounds: int, database: str) -> None:
    app = create_app(platform=platform)
    agent, headers = signed_in(app, "agent01")
    manager, _ = signed_in(app, MANAGER)
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(platform.engine, "before_cursor_execute", count)
    real = dashboards.run_dashboard
    totals: dict[str, list[float]] = {}
    n = 0
    for _ in range(rounds):
        for mode, apart_ms in MODES.items():

            def run(*a: Any, apart_ms: float = apart_ms, **k: Any) -> Any:
                return real(*a, **{**k, "apart_ms": apart_ms})

            dashboards.run_dashboard = run  # the API's call reads the module's attribute
            manager.get(COCKPIT)  # this mode's first look: widget times as this mode leaves them
            for _ in range(10):
                n += 1
                answer = agent.post(RECORDS, json={"data": ticket(n)}, headers=headers)
                assert answer.status_code == 201, answer.get_data(as_text=True)
                before, began = statements[0], time.perf_counter()
                answer = manager.get(COCKPIT)
                took = time.perf_counter() - began
                assert answer.status_code == 200, answer.get_data(as_text=True)
                total = totals.setdefault(mode, [0.0, 0, 0])
                total[0] += took
                total[1] += 1
                total[2] += statements[0] - before
    dashboards.run_dashboard = real
    print(f"\nthe cockpit after a registration, in one process on {database}")
    print(f"{'widgets that need their query':<30} {'mean ms':>8} {'statements':>11}")
    for mode, (seconds, count_, stmts) in totals.items():
        print(f"{mode:<30} {seconds / count_ * 1000:>8.1f} {stmts / count_:>11.1f}")


if __name__ == "__main__":
    main()
