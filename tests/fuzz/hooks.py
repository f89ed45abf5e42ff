"""Schemathesis hooks of the fuzz run (loaded through ``SCHEMATHESIS_HOOKS``).

* Path parameters get the installation's stored values as their examples, so that the examples
  and coverage phases, which take a parameter's examples as its valid value and do not draw from
  the dictionaries, reach past "not found" into the installed app as the fuzzing phase does.
* ``ndjson_lines``: an answer streamed as ``application/x-ndjson`` is checked line by line
  against the line schema the document declares (schemathesis has no reader for the media type
  and would skip it).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import schemathesis

from tests.openapi import NDJSON, ndjson_problems

#: Environment variable naming a JSON file: the stored values of path parameters, a list of
#: ``{"name", "values", "path"}`` (``path``: a pattern of the paths they hold on, or null).
EXAMPLES_ENV = "TANGRAM_FUZZ_EXAMPLES"
#: Stored values given to one parameter as examples (each adds cases to the examples phase).
PER_PARAMETER = 3


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    source = os.environ.get(EXAMPLES_ENV)
    if not source:
        return
    add_examples(raw_schema, json.loads(Path(source).read_text(encoding="utf-8")))


def add_examples(document: dict[str, Any], bindings: list[dict[str, Any]]) -> None:
    """Give each path parameter a binding names its first stored values as examples: a
    binding with a ``path`` pattern the operation's path matches before one without."""
    for path, item in document.get("paths", {}).items():
        operations = [op for op in item.values() if isinstance(op, dict)]
        declared = [
            *item.get("parameters", []),
            *(p for op in operations for p in op.get("parameters", [])),
        ]
        for parameter in declared:
            if not isinstance(parameter, dict) or parameter.get("in") != "path":
                continue
            values = _values(bindings, str(parameter.get("name")), path)
            if values:
                parameter.pop("example", None)
                parameter["examples"] = {
                    f"stored_{i}": {"value": value}
                    for i, value in enumerate(values[:PER_PARAMETER])
                }


def _values(bindings: list[dict[str, Any]], name: str, path: str) -> list[Any]:
    named = [b for b in bindings if b["name"] == name]
    for binding in named:
        if binding["path"] is not None and re.search(binding["path"], path):
            return list(binding["values"])
    return next((list(b["values"]) for b in named if b["path"] is None), [])


@schemathesis.check
def ndjson_lines(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every line of an ``application/x-ndjson`` answer is a JSON object the document's line
    schema allows (strict JSON: no NaN or Infinity)."""
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    if media != NDJSON:
        return None
    declared = (
        case.operation.definition.raw.get("responses", {})
        .get(str(response.status_code), {})
        .get("content", {})
        .get(NDJSON)
    )
    if declared is None:
        raise AssertionError(f"{NDJSON} is not declared for status {response.status_code}")
    text = response.content.decode("utf-8")
    if not text.endswith("\n"):
        raise AssertionError("the stream does not end with a newline: it was cut short")
    components = case.operation.schema.raw_schema.get("components", {})
    problems = ndjson_problems(text, declared.get("schema", {}), components)
    if problems:
        raise AssertionError(problems[0])
    return True
