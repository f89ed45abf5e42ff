"""Rule engine speed: compiled expressions against the reference interpreter, and a 50-rule set.

(a) a 3-clause dispatch condition and (b) a 20-node expression with ``some``/``if``/arithmetic,
each over varied records, for our compiled callables and for the panzi-json-logic interpreter
evaluating the same expression in the same run; then (c) one record against 50 rules (conditions,
a decision table, effects, without traces) through ``RuleSet.run``; and (d) the whole pipeline on
SQLite: records created through the service with 10 published rules and a decision table (events
handled, effects applied and audited, traces kept) against the same service with no rules.

    .venv/bin/python benchmarks/rules.py [--records 100000] [--events 500]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from json_logic import jsonLogic
from sandbox import temporary_platform

from tangram.engines.logic import compile_logic
from tangram.engines.rules import RuleEvent, compile_decision_table, compile_rules
from tangram.platform import metadata
from tangram.platform import records as record_service
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, users
from tangram.platform.identity.perms import Actor

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


def _text(value: str) -> dict[str, str]:
    return {"zh-CN": value}


def _field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": _text(key), **extra}


def _select(key: str, *values: str) -> dict[str, Any]:
    return _field(key, "select", options=[{"value": v} for v in values])


PIPELINE_FORM = {
    "key": "ticket",
    "label": _text("ticket"),
    "fields": [
        _field("title", "text"),
        _select("issue_type", "hardware_fault", "software_bug", "usage", "complaint"),
        _select("product_line", "A", "B", "C"),
        _select("tier", "normal", "vip"),
        _select("urgency", "P1", "P2", "P3", "P4"),
        _select("status", "new", "assigned", "resolved"),
        _field("group", "group"),
        _field("assignee", "user"),
        _field("cost", "number"),
        _field("flag", "checkbox"),
    ],
}


def _pipeline_rules() -> list[dict[str, Any]]:
    def rule(key: str, condition: Any, *actions: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": key,
            "label": _text(key),
            "form": "ticket",
            "trigger": {"type": "record_created"},
            "condition": condition,
            "actions": list(actions),
        }

    table = {
        "key": "matrix",
        "type": "decision_table",
        "label": _text("matrix"),
        "form": "ticket",
        "hit_policy": "FIRST",
        "inputs": [{"key": "issue_type"}, {"key": "product_line"}],
        "outputs": [{"key": "group"}],
        "rules": [
            {"when": ["hardware_fault", "A"], "then": ["line_a"]},
            {"when": ["hardware_fault", "-"], "then": ["line_b"]},
            {"when": ["-", "-"], "then": ["desk"]},
        ],
    }
    assign = {"type": "assign", "table": "matrix", "output": "group"}
    return [
        table,
        rule("dispatch_group", True, assign | {"field": "group"}),
        rule("dispatch_agent", True, assign | {"field": "assignee", "strategy": "round_robin"}),
        rule(
            "vip",
            {"==": [{"var": "tier"}, "vip"]},
            {"type": "set_fields", "values": {"urgency": "P1"}},
        ),
        rule("status", True, {"type": "set_fields", "values": {"status": "assigned"}}),
        *(
            rule(
                f"watch_{i}",
                {
                    "and": [
                        {"==": [{"var": "issue_type"}, "complaint"]},
                        {">": [{"var": "cost"}, 900 + i]},
                    ]
                },
                {"type": "comment", "text": f"watch {i}: {{{{title}}}}"},
            )
            for i in range(5)
        ),
        rule(
            "flag", {">": [{"var": "cost"}, 500]}, {"type": "set_fields", "values": {"flag": True}}
        ),
    ]


def pipeline(events: int) -> None:
    """(d) records created per second through the service, with and without the rules."""
    rng = random.Random(5)
    docs = [
        {
            "title": f"ticket {i}",
            "issue_type": rng.choice(["hardware_fault", "software_bug", "usage", "complaint"]),
            "product_line": rng.choice(["A", "B", "C"]),
            "tier": rng.choice(["normal", "normal", "vip"]),
            "urgency": rng.choice(["P2", "P3", "P4"]),
            "cost": rng.randint(0, 1000),
        }
        for i in range(events)
    ]
    results = {}
    for label, with_rules in (("no rules", False), ("10 rules + table", True)):
        with temporary_platform() as platform:
            system = Actor.system("bench")
            with platform.unit_of_work() as uow:
                metadata.create_app(uow, system, key="bench", name=_text("bench"))
                for g, people in (("line_a", 3), ("line_b", 3), ("desk", 2)):
                    group = groups.create_group(uow, system, key=g, name=g)
                    for n in range(people):
                        user = users.create_user(uow, system, username=f"{g}.{n}")
                        groups.add_member(uow, system, group_id=group.id, user_id=user.id)
                bodies = [("form", PIPELINE_FORM)]
                if with_rules:
                    bodies += [("rule", body) for body in _pipeline_rules()]
                for kind, body in bodies:
                    metadata.create_definition(uow, system, "bench", kind, body)
                    metadata.publish(uow, system, "bench", kind, body["key"])
                uow.commit()

            def create(
                doc: dict[str, Any], platform: Platform = platform, system: Actor = system
            ) -> None:
                with platform.unit_of_work() as uow:
                    record_service.create_record(uow, system, "bench", "ticket", doc)
                    uow.commit()

            create(dict(docs[0]))  # warm the caches
            start = time.perf_counter()
            for doc in docs:
                create(dict(doc))
            results[label] = len(docs) / (time.perf_counter() - start)
    base, full = results["no rules"], results["10 rules + table"]
    print(
        f"\n(d) pipeline on SQLite, {events} records created, one transaction each:\n"
        f"{'no rules/s':>12} {'with rules/s':>13} {'rules cost':>11}\n"
        f"{base:>12,.0f} {full:>13,.0f} {base / full:>10.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=500)
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
    pipeline(args.events)


if __name__ == "__main__":
    main()
