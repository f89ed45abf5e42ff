"""Rule engine speed: compiled expressions against the reference interpreter, and a 50-rule set.

(a) a 3-clause dispatch condition and (b) a 20-node expression with ``some``/``if``/arithmetic,
each over varied records, for our compiled callables and for the panzi-json-logic interpreter
evaluating the same expression in the same run; then (c) one record against 50 rules (conditions,
a decision table, effects, without traces) through ``RuleSet.run``.

    .venv/bin/python benchmarks/rules.py [--records 100000]

The whole pipeline through the platform (events, effects applied on SQLite) comes with the
platform wiring of the rule engine.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from json_logic import jsonLogic

from tangram.engines.logic import compile_logic
from tangram.engines.rules import RuleEvent, compile_decision_table, compile_rules

DISPATCH = {
    "and": [
        {"==": [{"var": "issue_type"}, "hardware_fault"]},
        {"in": [{"var": "product_line"}, ["A", "B"]]},
        {"!=": [{"var": "urgency"}, "P4"]},
    ]
}
TWENTY_NODES = {
    "if": [
        {"some": [{"var": "measures"}, {">": [{"var": "cost"}, 400]}]},
        {"+": [{"*": [{"var": "reopen_count"}, 10]}, 50]},
        {"<": [{"-": [{"var": "age_minutes"}, {"var": "paused_minutes"}]}, 240]},
        {"/": [{"var": "age_minutes"}, 60]},
        0,
    ]
}


def count_nodes(expression: Any) -> int:
    if isinstance(expression, dict):
        return 1 + sum(count_nodes(v) for v in expression.values())
    if isinstance(expression, list):
        return sum(count_nodes(v) for v in expression)
    return 1


def records(count: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "issue_type": rng.choice(["software_bug", "hardware_fault", "usage", "complaint"]),
            "product_line": rng.choice("ABCDE"),
            "urgency": rng.choice(["P1", "P2", "P3", "P4"]),
            "reopen_count": rng.randint(0, 3),
            "age_minutes": rng.randint(0, 900),
            "paused_minutes": rng.randint(0, 90),
            "customer_tier": rng.choice(["vip", "key", "normal"]),
            "measures": [{"cost": rng.randint(0, 500)} for _ in range(rng.randint(0, 6))],
        }
        for _ in range(count)
    ]


def rate(
    fn: Callable[[dict[str, Any]], Any], items: list[dict[str, Any]]
) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    out = [fn(r) for r in items]
    return len(items) / (time.perf_counter() - start), out


def fifty_rules() -> Any:
    table = compile_decision_table(
        {
            "key": "dispatch",
            "hit_policy": "FIRST",
            "inputs": [{"key": "issue_type"}, {"key": "product_line"}],
            "outputs": [{"key": "group"}],
            "rules": [
                {"when": [issue, line], "then": [f"{issue}_{line}"]}
                for issue in ("software_bug", "hardware_fault", "usage", "complaint")
                for line in "ABCDE"
            ],
        }
    )
    definitions: list[dict[str, Any]] = [
        {
            "key": "dispatch",
            "label": {"en": "dispatch"},
            "trigger": {"type": "record_created"},
            "priority": 100,
            "actions": [{"type": "assign", "table": "dispatch", "output": "group"}],
        }
    ]
    for n in range(49):
        definitions.append(
            {
                "key": f"rule_{n:02d}",
                "label": {"en": f"rule {n}"},
                "trigger": {"type": "record_created"},
                "priority": n,
                "condition": {
                    "and": [
                        {"==": [{"var": "customer_tier"}, ["vip", "key", "normal"][n % 3]]},
                        {">": [{"var": "age_minutes"}, n * 15]},
                    ]
                },
                "actions": [{"type": "set_fields", "values": {"urgency": f"P{n % 4 + 1}"}}],
            }
        )
    return compile_rules(definitions, tables={"dispatch": table})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    items = records(args.records)
    print(f"{args.records} varied records; baseline: panzi-json-logic interpreter, same run\n")
    print(f"{'expression':<34} {'interpreter/s':>14} {'compiled/s':>12} {'speed-up':>9}")
    for name, expression in (
        ("(a) dispatch, 3 clauses", DISPATCH),
        (f"(b) {count_nodes(TWENTY_NODES)} nodes, some/if/arithmetic", TWENTY_NODES),
    ):
        compiled = compile_logic(expression)
        base, expected = rate(lambda r, e=expression: jsonLogic(e, r), items)
        ours, got = rate(compiled.function, items)
        if got != expected:
            raise SystemExit(f"results differ for {name}")
        print(f"{name:<34} {base:>14,.0f} {ours:>12,.0f} {ours / base:>8.1f}x")
    ruleset = fifty_rules()
    event = RuleEvent("record.created")
    sample = items[: min(len(items), 20_000)]
    start = time.perf_counter()
    effects = 0
    for record in sample:
        effects += len(ruleset.run(event, record, trace=False).effects)
    per_record = (time.perf_counter() - start) / len(sample)
    print(
        f"\n(c) one record against 50 rules (a decision table among them), no traces: "
        f"{per_record * 1e6:.1f} µs per record ({effects / len(sample):.1f} effects each)"
    )


if __name__ == "__main__":
    main()
