"""Check API responses against the OpenAPI document the app publishes.

Every JSON response an API test receives is validated against the schema documented for its path,
method and status (or the operation's ``default`` response), so the document cannot drift from
what the API really sends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator, ValidationError
from werkzeug.exceptions import HTTPException

NDJSON = "application/x-ndjson"
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


class OpenApiChecker:
    """Validates responses of one app against its own ``/api/openapi.json``."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @cached_property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.app.test_client().get("/api/openapi.json").get_json()
        return spec

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check(
        self, method: str, path: str, status: int, body: Any, content_type: str | None = None
    ) -> None:
        """Raise AssertionError when the response is undocumented: its status, its content type
        (when given) or its body."""
        if not path.startswith("/api/v1"):
            return
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(path.split("?", 1)[0], method, return_rule=True)
        except HTTPException:
            return  # 404 / 405 for unknown routes: no operation to check against
        if rule.endpoint == "spa":
            return  # the front end's catch-all route, not an API operation
        template = _CONVERTER.sub(r"{\1}", rule.rule)
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        assert operation is not None, f"{method} {template} is missing from the OpenAPI document"
        responses = operation["responses"]
        entry = responses.get(str(status)) or responses.get("default")
        assert entry is not None, f"{method} {template} answered {status}, which is not documented"
        entry = self._resolve(entry)
        content = entry.get("content")
        if not content:
            assert body is None, f"{method} {template} {status} documents no body but sent one"
            return
        if content_type is not None:
            media = content_type.split(";", 1)[0].strip()
            assert media in content, (
                f"{method} {template} {status} answered {media}, but the document says "
                + " or ".join(sorted(content))
            )
        schema = (
            content.get(content_type.split(";", 1)[0].strip()) if content_type else None
        ) or next(iter(content.values()))
        schema = schema["schema"]
        components = self.spec["components"]
        if content_type and NDJSON in content_type:  # a stream of JSON lines, each a value
            problems = ndjson_problems(body, schema, components)
            assert not problems, (
                f"{method} {template} {status} does not match its documented schema: "
                + "; ".join(problems[:5])
            )
            return
        errors = list(Draft202012Validator({**schema, "components": components}).iter_errors(body))
        assert not errors, (
            f"{method} {template} {status} does not match its documented schema: "
            + _described(errors)
        )


def ndjson_problems(
    text: str, schema: Mapping[str, Any], components: Mapping[str, Any]
) -> list[str]:
    """What is wrong with a stream of JSON lines each of which must be a value of ``schema``
    (strict JSON: no NaN or Infinity), a message per bad line; ``[]`` when nothing is."""
    validator = Draft202012Validator({**schema, "components": components})
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            value = json.loads(line, parse_constant=_not_json)
        except ValueError as exc:
            problems.append(f"line {number} is not JSON: {exc}")
            continue
        errors = list(validator.iter_errors(value))
        if errors:
            problems.append(f"line {number}: {_described(errors)}")
    return problems


def _described(errors: list[ValidationError]) -> str:
    """The first five schema errors, by where they are."""
    ordered = sorted(errors, key=lambda e: list(e.absolute_path))
    return "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in ordered[:5])


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
