"""Checking what rules and actions name while they compile: fields of the form, decision
tables, forms and flows of the app, expressions, recipients and ``{{field}}`` templates."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.logic import CompiledLogic, EvalContext, VariableSpec, compile_logic
from tangram.engines.rules.decision import DecisionTable

PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_$][\w$]*(?:\.[\w$]+)*)\s*\}\}")


MAX_TEMPLATE = 10_000


@dataclass(frozen=True, slots=True)
class Value:
    """A parameter: a literal, or ``{"expr": <JsonLogic>}`` evaluated on the record."""

    literal: Any = None
    logic: CompiledLogic | None = None

    def __call__(self, data: Mapping[str, Any], context: EvalContext) -> Any:
        return self.literal if self.logic is None else self.logic.function(data, context)


@dataclass(frozen=True, slots=True)
class Template:
    """Text with ``{{field}}`` placeholders (dotted paths; ``$old.x`` and context variables too)."""

    text: str
    paths: tuple[str, ...]

    def render(self, data: Mapping[str, Any], *, escape: bool) -> str:
        """Fill the placeholders from the record (and ``$`` variables in it); ``escape``
        HTML-escapes the values (for HTML mail)."""

        def value(match: re.Match[str]) -> str:
            path = match.group(1)
            head, *rest = path.split(".")
            current: Any = data.get(head)
            for part in rest:
                current = current.get(part) if isinstance(current, Mapping) else None
            shown = "" if current is None else str(current)
            return html.escape(shown) if escape else shown

        return PLACEHOLDER.sub(value, self.text)


class Checker:
    """What one compilation may name, and the problems it found."""

    def __init__(
        self,
        fields: frozenset[str] | None,
        tables: Mapping[str, DecisionTable],
        forms: frozenset[str] | None,
        flows: frozenset[str] | None,
    ) -> None:
        self.fields = fields
        self.spec = VariableSpec(fields=fields) if fields is not None else None
        self.tables = tables
        self.forms = forms
        self.flows = flows
        self.problems: list[Diagnostic] = []

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Diagnostic(path, code, message))

    def logic(self, expression: Any, path: str) -> CompiledLogic | None:
        try:
            return compile_logic(expression, variables=self.spec, strict=True)
        except DefinitionError as exc:
            self.problems.extend(
                Diagnostic(f"{path}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    def value(self, raw: Any, path: str) -> Value:
        if isinstance(raw, Mapping) and set(raw) == {"expr"}:
            return Value(logic=self.logic(raw["expr"], f"{path}/expr"))
        return Value(literal=raw)

    def field(self, key: Any, path: str) -> str:
        if not isinstance(key, str) or (self.fields is not None and key not in self.fields):
            self.problem(path, "rule.field", f"{key!r} is not a field of the form")
        return str(key)

    def template(self, raw: Any, path: str, *, required: bool = True) -> Template | None:
        if raw is None and not required:
            return None
        if not isinstance(raw, str) or (required and not raw.strip()):
            self.problem(path, "rule.template", "must be text")
            return None
        if len(raw) > MAX_TEMPLATE:
            self.problem(path, "rule.template", f"at most {MAX_TEMPLATE} characters")
        paths = tuple(m.group(1) for m in PLACEHOLDER.finditer(raw))
        for p in paths:
            head = p.split(".")[0]
            known = head.startswith("$") and self.spec is not None and head in self.spec.context
            if self.fields is not None and head not in self.fields and not known:
                self.problem(path, "rule.placeholder", f"{{{{{p}}}}} names no field of the form")
        return Template(raw, paths)

    def recipients(self, raw: Any, path: str) -> dict[str, Any]:
        """``{"user": id}``, ``{"group": key}``, ``{"role": key}``, ``{"field": key}`` (also
        ``reference.field``: a field of the record a reference points at),
        ``{"manager_of": "group" | field}``, ``{"email_field": key}`` (the address an e-mail
        field holds, for e-mail notices to people without an account), or a list of those."""
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for i, item in enumerate(items):
            where = f"{path}/{i}" if isinstance(raw, list) else path
            if not isinstance(item, Mapping) or len(item) != 1:
                self.problem(
                    where,
                    "rule.recipient",
                    "one of {user: id}, {group: key}, {role: key}, {field: key}, {manager_of: key},"
                    " {email_field: key}",
                )
                continue
            ((kind, value),) = item.items()
            if kind == "field" and isinstance(value, str) and "." in value:
                # a user or group field of the record a reference field points at
                self.field(value.split(".", 1)[0], f"{where}/{kind}")
            elif kind in ("field", "manager_of", "email_field"):
                self.field(value, f"{where}/{kind}")
            elif kind == "user":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    self.problem(f"{where}/user", "rule.recipient", "a user id")
            elif kind in ("group", "role"):
                if not isinstance(value, str) or not value:
                    self.problem(f"{where}/{kind}", "rule.recipient", f"a {kind} key")
            else:
                self.problem(where, "rule.recipient", f"unknown recipient kind {kind!r}")
            out.append({kind: value})
        return {"recipients": out}
