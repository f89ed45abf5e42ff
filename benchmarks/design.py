"""The designer's live check on a large form, beside baselines measured in the same run.

A 150-field form (ten sections, every common field type, options, patterns, conditions, a
sub-table of ten columns with a formula, top-level formulas) is judged the way
``POST /api/v1/apps/{app}/forms/check`` judges it on every pause in typing: the meta-schema, then
the form compiler against the app's published forms, then the registered checks, in a read-only
unit of work. Baselines: the meta-schema validation alone, and the form compiler alone.

    .venv/bin/python benchmarks/design.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from sandbox import temporary_platform

from tangram.engines.forms import compile_form
from tangram.engines.meta import validate_definition
from tangram.platform import metadata
from tangram.platform.identity.perms import Actor

SYSTEM = Actor.system("bench")
TYPES = ["text", "textarea", "number", "integer", "money", "date", "datetime", "select", "radio"]


def label(text: str) -> dict[str, str]:
    return {"zh-CN": text, "en": text}


def large_form(fields: int = 150) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for n in range(fields - 3):
        kind = TYPES[n % len(TYPES)]
        field: dict[str, Any] = {"key": f"f{n}", "type": kind, "label": label(f"字段{n}")}
        if kind in ("select", "radio"):
            field["options"] = [{"value": f"o{i}", "label": label(f"选项{i}")} for i in range(6)]
        if kind == "text":
            field["pattern"] = "^[A-Z0-9-]{1,30}$"
        if n % 10 == 9:
            field["visible_when"] = {"==": [{"var": "f7"}, "o1"]}
        body.append(field)
    body.append(
        {
            "key": "lines",
            "type": "sub_table",
            "label": label("明细"),
            "fields": [
                *({"key": f"c{i}", "type": "number", "label": label(f"列{i}")} for i in range(9)),
                {
                    "key": "amount",
                    "type": "formula",
                    "label": label("小计"),
                    "formula": {"*": [{"var": "c0"}, {"var": "c1"}]},
                },
            ],
        }
    )
    body.append(
        {
            "key": "total",
            "type": "formula",
            "label": label("合计"),
            "formula": {
                "reduce": [
                    {"var": "lines"},
                    {"+": [{"var": "accumulator"}, {"var": "current.amount"}]},
                    0,
                ]
            },
        }
    )
    body.append(
        {
            "key": "sum",
            "type": "formula",
            "label": label("总和"),
            "formula": {"+": [{"var": ["total", 0]}, {"var": ["f2", 0]}]},
        }
    )
    keys = [f["key"] for f in body]
    sections = [
        {"title": label(f"分区{s}"), "columns": 2, "fields": keys[s * 15 : (s + 1) * 15]}
        for s in range(10)
    ]
    return {
        "key": "large",
        "label": label("大表单"),
        "fields": body,
        "layout": {"sections": sections},
    }


def per_call(run: Callable[[], object], rounds: int) -> float:
    """Milliseconds per call, the best of three batches."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            run()
        best = min(best, (time.perf_counter() - start) * 1000 / rounds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    body = large_form()
    assert validate_definition("form", body) == []
    compile_form(body, forms={"large": [f["key"] for f in body["fields"]]})
    with temporary_platform() as platform:
        with platform.unit_of_work() as uow:
            metadata.create_app(uow, SYSTEM, key="bench", name=label("基准"))
            uow.commit()

        def judged() -> None:
            with platform.unit_of_work(write=False) as uow:
                verdict = metadata.judge(uow, "bench", "form", "large", body)
                assert verdict.problems == [], verdict.problems

        meta = per_call(lambda: validate_definition("form", body), args.rounds)
        compiled = per_call(
            lambda: compile_form(body, forms={"large": [f["key"] for f in body["fields"]]}),
            args.rounds,
        )
        whole = per_call(judged, args.rounds)
    print(f"a {len(body['fields'])}-field form, {args.rounds} rounds, best of three batches\n")
    print(f"{'step':<44} {'ms/check':>9} {'vs meta-schema':>15}")
    for name, ms in (
        ("meta-schema validation (baseline)", meta),
        ("form compiler", compiled),
        ("whole verdict (the check endpoint's work)", whole),
    ):
        print(f"{name:<44} {ms:>9.2f} {ms / meta:>14.1f}x")


if __name__ == "__main__":
    main()
