"""What a ticket write costs as the ticket's history grows: the after-sales demo on a temporary
SQLite file, one ticket registered, then written again and again through the Flask test client
(an agent adding to its description, a field the SLA does not read). Prints the mean time and
statements per band of writes; the last band against the first is the figure: a write whose SLA
refresh replays the ticket's whole audit trail grows with it, one that follows the kept trail
does not.

    .venv/bin/python benchmarks/sla_history.py [--writes 400] [--band 50]
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from request_timings import RECORDS, Timer, seeded_demo, signed_in

from tangram.web.app import create_app

os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
from locustfile import ticket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400, help="writes of the one ticket")
    parser.add_argument("--band", type=int, default=50, help="writes per printed band")
    args = parser.parse_args()
    with seeded_demo() as platform:
        _run(platform, args.writes, args.band)


def _run(platform: Any, writes: int, band: int) -> None:
    client, headers = signed_in(create_app(platform=platform), "agent01")
    timer = Timer(platform.engine)
    answer = client.post(RECORDS, json={"data": ticket(1)}, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    record_id, version = answer.get_json()["id"], answer.get_json()["lock_version"]
    for n in range(1, writes + 1):
        body = {
            "data": {"description": f"客户第 {n} 次补充：设备仍有异响"},
            "lock_version": version,
        }

        def write(body: dict[str, Any] = body) -> Any:
            return client.patch(f"{RECORDS}/{record_id}", json=body, headers=headers)

        first = (n - 1) // band * band + 1
        answer = timer(f"{first:>4}–{min(writes, first + band - 1)}", write)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        version = answer.get_json()["lock_version"]
    print(f"\none ticket written {writes} times (the after-sales demo, SQLite, in process)")
    print(f"{'writes':<10} {'mean ms':>8} {'statements':>11}")
    means = []
    for name, (seconds, count, statements) in timer.totals.items():
        means.append(seconds / count * 1000)
        print(f"{name:<10} {means[-1]:>8.2f} {statements / count:>11.1f}")
    print(f"last band / first band: {means[-1] / means[0]:.2f}x")


if __name__ == "__main__":
    main()
