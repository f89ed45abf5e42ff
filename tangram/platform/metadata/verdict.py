"""The engine's verdict on a definition body: every problem that would refuse its publication,
each at the JSON pointer of the element it concerns, and the warnings about what is valid but
likely to go wrong at run time.

One function gives it for saving a draft (drafts may hold problems: the count is kept with the
draft), for the designers' live check (nothing is saved) and for publishing (which refuses any
problem), so the three can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import compile_form
from tangram.engines.meta import validate_definition
from tangram.platform.kernel.errors import TangramError, ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.archive import refuse_archived_references
from tangram.platform.metadata.store import form_catalog

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """``problems`` refuse publication; ``warnings`` never do."""

    problems: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def publishable(self) -> bool:
        return not self.problems


def _problems(exc: TangramError) -> list[dict[str, Any]]:
    """The errors of a refusal as problems; what else an error says (the ``definition`` and
    ``pointer`` of a problem found in another definition) is kept."""
    found = [
        {
            **e,
            "path": str(e.get("path", "")),
            "code": str(e.get("code") or exc.code),
            "message": str(e.get("message", "")),
        }
        for e in exc.errors
    ]
    return found or [{"path": "", "code": exc.code, "message": exc.detail}]


def _own_paths(problems: list[dict[str, Any]], kind: str, key: str) -> list[dict[str, Any]]:
    """Problems an area found in the judged definition itself pinned inside its body (its
    ``pointer``), as the designers pin them; those in other definitions keep the app-wide path
    and name their ``definition``."""
    return [
        {**p, "path": p["pointer"]}
        if p.get("definition") == f"{kind}/{key}" and isinstance(p.get("pointer"), str)
        else p
        for p in problems
    ]


def require_key(body: Any, key: str | None = None) -> str:
    """The key of a draft body: a JSON object whose ``key`` is a valid key (``key`` when given:
    the key of a definition cannot change). A draft may be incomplete, but never keyless."""
    if not isinstance(body, Mapping):
        raise ValidationFailed.from_diagnostics(
            "A definition body must be a JSON object.",
            [Diagnostic("", "definition.not_object", "must be a JSON object")],
            code="definition.invalid",
        )
    found = body.get("key")
    if not isinstance(found, str) or not KEY.match(found):
        raise ValidationFailed.from_diagnostics(
            "A definition needs a key: a lowercase letter, then lowercase letters, digits or _.",
            [Diagnostic("/key", "definition.key", "must be a key like 'service_ticket'")],
            code="definition.invalid",
        )
    if key is not None and found != key:
        raise ValidationFailed.from_diagnostics(
            f"The key of a definition cannot change: it is {key!r}.",
            [Diagnostic("/key", "definition.key_mismatch", f"must be {key!r}")],
            code="definition.invalid",
        )
    return found


def judge(
    uow: UnitOfWork,
    app_key: str,
    kind: str,
    key: str,
    body: Mapping[str, Any],
    *,
    advise: bool = False,
) -> Verdict:
    """Every problem of ``body`` as publishing would find it (the meta-schema first; when that
    holds, the definitions it names, the form compiler and the checks the areas registered),
    and with ``advise`` the warnings of a body whose shape holds (the meta-schema, the form
    compiler), also when the areas' checks refused it. Nothing is written."""
    diagnostics = [d.as_dict() for d in validate_definition(kind, body)]
    if body.get("key") != key:
        diagnostics.append(
            Diagnostic(
                "/key", "definition.key_mismatch", f"must be {key!r}: a key cannot change"
            ).as_dict()
        )
    if diagnostics:
        return Verdict(diagnostics)
    try:
        refuse_archived_references(uow, app_key, kind, key, body)
        if kind == "form":
            catalog = form_catalog(uow, app_key)
            catalog[key] = [f.get("key") for f in body.get("fields", [])]
            try:
                compile_form(body, forms=catalog)
            except DefinitionError as exc:
                return Verdict([d.as_dict() for d in exc.diagnostics])
        uow.checks.run(uow, app_key, kind, key, body)
    except TangramError as exc:
        # the advisers still speak of a body the areas refused (a decision table whose test
        # fails still has gaps worth showing); they tolerate bodies that do not compile
        warnings = uow.checks.warnings(uow, app_key, kind, key, body) if advise else []
        return Verdict(_own_paths(_problems(exc), kind, key), warnings)
    except DefinitionError as exc:
        return Verdict([d.as_dict() for d in exc.diagnostics])
    warnings = uow.checks.warnings(uow, app_key, kind, key, body) if advise else []
    return Verdict([], warnings)


def refuse_problems(verdict: Verdict, kind: str, what: str = "published") -> None:
    """Raise 422 with the verdict's problems, if it has any."""
    if verdict.problems:
        raise ValidationFailed(
            f"The {kind} cannot be {what}: {len(verdict.problems)} problem(s).",
            code="definition.invalid",
            errors=verdict.problems,
        )
