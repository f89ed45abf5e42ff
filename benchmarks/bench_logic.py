"""JsonLogic: our compiled closures against the panzi-json-logic interpreter, in one run.

Prints evaluations per second for realistic rule expressions over generated tickets and the
speed-up of the compiled form over the interpreter (the baseline, measured in the same run).

    .venv/bin/python benchmarks/bench_logic.py [--records 20000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from json_logic import jsonLogic

from tangram.engines.logic import compile_logic

EXPRESSIONS: dict[str, Any] = {
    "dispatch: issue type x product line": {
        "if": [
            {"==": [{"var": "issue_type"}, "software_bug"]},
            "rnd_support",
            {
                "and": [
                    {"==": [{"var": "issue_type"}, "hardware_fault"]},
                    {"in": [{"var": "product_line"}, ["A", "B"]]},
                ]
            },
            "line_a_quality",
            {"==": [{"var": "issue_type"}, "complaint"]},
            "service_managers",
            "front_desk",
        ]
    },
    "vip raises urgency": {
        "and": [
            {"==": [{"var": "customer.tier"}, "vip"]},
            {"!": {"in": [{"var": "urgency"}, ["P1"]]}},
            {"or": [{"==": [{"var": "channel"}, "phone"]}, {">=": [{"var": "reopen_count"}, 1]}]},
        ]
    },
    "sla: response overdue": {
        "and": [
            {"!": {"var": "first_response_at"}},
            {
                ">": [
                    {"-": [{"var": "age_minutes"}, {"var": "paused_minutes"}]},
                    {
                        "if": [
                            {"==": [{"var": "urgency"}, "P1"]},
                            5,
                            {"==": [{"var": "urgency"}, "P2"]},
                            30,
                            240,
                        ]
                    },
                ]
            },
        ]
    },
    "acceptance: every row passed": {"all": [{"var": "rows"}, {"==": [{"var": "result"}, "pass"]}]},
    "plan total cost": {
        "reduce": [{"var": "measures"}, {"+": [{"var": "accumulator"}, {"var": "current.cost"}]}, 0]
    },
}


def tickets(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        out.append(
            {
                "issue_type": rng.choice(
                    ["software_bug", "hardware_fault", "usage", "complaint", "billing"]
                ),
                "product_line": rng.choice("ABCDE"),
                "customer": {"tier": rng.choice(["vip", "key", "normal"])},
                "urgency": rng.choice(["P1", "P2", "P3", "P4"]),
                "channel": rng.choice(["phone", "web", "email"]),
                "reopen_count": rng.randint(0, 2),
                "first_response_at": rng.choice([None, "2026-11-22T01:00:00Z"]),
                "age_minutes": rng.randint(0, 600),
                "paused_minutes": rng.randint(0, 60),
                "rows": [
                    {"result": rng.choice(["pass"] * 9 + ["fail"])}
                    for _ in range(rng.randint(1, 6))
                ],
                "measures": [{"cost": rng.randint(0, 500)} for _ in range(rng.randint(0, 8))],
            }
        )
    return out


def timed(
    fn: Callable[[dict[str, Any]], Any], records: list[dict[str, Any]]
) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = [fn(r) for r in records]
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    records = tickets(args.records)
    print(f"{args.records} tickets per expression; baseline: panzi-json-logic interpreter\n")
    print(f"{'expression':<38} {'interpreter/s':>14} {'compiled/s':>12} {'speed-up':>9}")
    ratios = []
    for name, expression in EXPRESSIONS.items():
        compiled = compile_logic(expression)
        base_time, expected = timed(lambda r, e=expression: jsonLogic(e, r), records)
        ours_time, got = timed(compiled.function, records)
        if got != expected:
            raise SystemExit(f"results differ for {name!r}")
        ratios.append(base_time / ours_time)
        print(
            f"{name:<38} {args.records / base_time:>14,.0f} {args.records / ours_time:>12,.0f} "
            f"{base_time / ours_time:>8.1f}x"
        )
    geometric = 1.0
    for r in ratios:
        geometric *= r
    print(f"\ngeometric mean speed-up: {geometric ** (1 / len(ratios)):.1f}x")


if __name__ == "__main__":
    main()
