"""Validate a definition body against the JSON meta-schema of its kind.

The schemas are JSON files beside this module (``<kind>.schema.json``) sharing
``common.schema.json``; they are loaded lazily, once, and never at import time. A schema may name
the diagnostic its failing keywords give with the annotations ``x-code`` and ``x-message`` (the
engine's own codes, such as ``flow.mode``); otherwise a problem is ``meta.<keyword>`` with
jsonschema's message.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from tangram.engines.common import Diagnostic, join_pointer


class Kind(StrEnum):
    """The kinds of metadata the store keeps."""

    FORM = "form"
    RULE = "rule"
    FLOW = "flow"
    REPORT = "report"
    DASHBOARD = "dashboard"
    CALENDAR = "calendar"
    KPI = "kpi"


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
#: Documents of app packages that are not definitions: the manifest, roles and groups.
PACKAGE_DOCUMENTS: tuple[str, ...] = ("package", "role", "group")
_BASE = "https://tangram.invalid/meta/"


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _registry() -> Registry[Any]:
    names = [
        "common.schema.json",
        *(f"{kind}.schema.json" for kind in (*KINDS, *PACKAGE_DOCUMENTS)),
    ]
    return Registry().with_resources(
        (_BASE + name, Resource.from_contents(_load(name))) for name in names
    )


@cache
def meta_schema(kind: str) -> dict[str, Any]:
    """The meta-schema of ``kind`` (one of :data:`KINDS` or :data:`PACKAGE_DOCUMENTS`)."""
    if kind not in KINDS and kind not in PACKAGE_DOCUMENTS:
        raise KeyError(f"unknown definition kind {kind!r}; expected one of {', '.join(KINDS)}")
    return _load(f"{kind}.schema.json")


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(
        meta_schema(kind),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate_definition(kind: str, body: Any) -> list[Diagnostic]:
    """Every problem of ``body`` against the meta-schema of ``kind``, sorted by path."""
    problems = {d for error in _validator(kind).iter_errors(body) for d in _diagnostics(error)}
    return sorted(problems)


def _diagnostics(error: ValidationError) -> list[Diagnostic]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # the alternative that came closest says more than "none of them matched"
        closest = best_match(error.context)
        if isinstance(closest.schema, dict) and "x-code" in closest.schema:
            return _diagnostics(closest)
    found = _plain_diagnostics(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    code, message = schema.get("x-code"), schema.get("x-message")
    if code is None:
        return found
    return [Diagnostic(d.path, str(code), str(message or d.message)) for d in found]


def _plain_diagnostics(error: ValidationError) -> list[Diagnostic]:
    tokens: list[str | int] = list(error.absolute_path)
    message = error.message
    validator = str(error.validator)
    if validator == "required" and isinstance(error.validator_value, list):
        # Point at each missing member itself: "/fields/0/label", not "/fields/0".
        missing = [
            k
            for k in error.validator_value
            if isinstance(error.instance, dict) and k not in error.instance
        ]
        if missing:
            return [
                Diagnostic(join_pointer([*tokens, k]), "meta.required", "is required")
                for k in missing
            ]
    elif validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            tokens.append(extra[0])
            message = f"unknown property {extra[0]!r}; allowed: {', '.join(sorted(allowed))}"
    return [Diagnostic(join_pointer(tokens), f"meta.{validator}", message)]
