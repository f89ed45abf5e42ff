"""Validate a definition body against the JSON meta-schema of its kind.

The schemas are JSON files beside this module (``<kind>.schema.json``) sharing
``common.schema.json``; they are loaded lazily, once, and never at import time. A schema may name
the diagnostic its failing keywords give with the annotations ``x-code`` and ``x-message`` (the
engine's own codes, such as ``flow.mode``); otherwise a problem is ``meta.<keyword>`` with
jsonschema's message.
"""

from __future__ import annotations

import difflib
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
    problems = {
        d for error in _validator(kind).iter_errors(body) for d in _diagnostics(error, kind)
    }
    return sorted(problems)


def _diagnostics(error: ValidationError, kind: str) -> list[Diagnostic]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # the alternative that came closest says more than "none of them matched"
        closest = best_match(error.context)
        if isinstance(closest.schema, dict) and "x-code" in closest.schema:
            return _diagnostics(closest, kind)
    found = _plain_diagnostics(error, kind)
    schema = error.schema if isinstance(error.schema, dict) else {}
    code, message = schema.get("x-code"), schema.get("x-message")
    if code is None:
        return found
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        # an unknown property is named as such, with what it was likely meant to be
        return [Diagnostic(d.path, str(code), d.message) for d in found]
    return [Diagnostic(d.path, str(code), str(message or d.message)) for d in found]


def _plain_diagnostics(error: ValidationError, kind: str) -> list[Diagnostic]:
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
    elif validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        return _unknown_properties(error, tokens, validator, kind)
    return [Diagnostic(join_pointer(tokens), f"meta.{validator}", message)]


def _unknown_properties(
    error: ValidationError, tokens: list[str | int], validator: str, kind: str
) -> list[Diagnostic]:
    """One problem per property the schema does not know, at the property, naming the closest
    known one when there is a close one (``timout``: did you mean ``timeout``?)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    if validator == "additionalProperties":
        known = set(schema.get("properties", {}))
    else:  # what the schema and the branches this instance takes evaluate
        known = _evaluated(schema, instance, meta_schema(kind))
    out = []
    for name in sorted(k for k in instance if k not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(known))}"
        out.append(
            Diagnostic(
                join_pointer([*tokens, name]),
                f"meta.{validator}",
                f"unknown property {name!r}; {hint}",
            )
        )
    return out


def _evaluated(schema: Any, instance: Any, root: dict[str, Any]) -> set[str]:
    """The property names ``schema`` evaluates for ``instance``: its own, those of its
    ``allOf`` members and of the ``if`` branch the instance takes (local ``$ref`` followed)."""
    schema = _local(schema, root)
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties", {}))
    for member in schema.get("allOf", []):
        names |= _evaluated(member, instance, root)
    if "if" in schema:
        condition = {**_local(schema["if"], root), "$defs": root.get("$defs", {})}
        holds = Draft202012Validator(condition, registry=_registry()).is_valid(instance)
        branch = schema.get("then" if holds else "else")
        if branch is not None:
            names |= _evaluated(branch, instance, root)
    return names


def _local(schema: Any, root: dict[str, Any]) -> Any:
    """``schema`` with a local ``$ref`` (``#/$defs/x``) replaced by what it names."""
    while isinstance(schema, dict) and str(schema.get("$ref", "")).startswith("#/"):
        target: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema
