"""What an evaluation runs with: its state (:class:`Run`: context, iteration budget, trace) and
the ``var`` lookup. The closure compiler, the code generator and the platform operations all
build on this module, and it imports none of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tangram.engines.logic.context import EvalContext, Limits, LogicLimitExceeded
from tangram.engines.logic.semantics import string

#: What a lookup answers for a path that is not there (``None`` is a value).
MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One evaluated operator: where it sits, which it is and what it produced."""

    path: str
    op: str
    value: Any


class Run:
    """Per-evaluation state: the context, the iteration budget and an optional trace."""

    __slots__ = ("context", "iterations", "limits", "steps")

    def __init__(self, context: EvalContext, limits: Limits, steps: list[TraceStep] | None) -> None:
        self.context = context
        self.limits = limits
        self.iterations = 0
        self.steps = steps

    def spend(self, count: int, path: str) -> None:
        """Count ``count`` iterations against the budget."""
        self.iterations += count
        if self.iterations > self.limits.max_iterations:
            raise LogicLimitExceeded(
                path, f"more than {self.limits.max_iterations} iterations in one evaluation"
            )


def lookup(data: Any, parts: Sequence[str]) -> Any:
    """The value at ``parts`` inside ``data`` (``MISSING`` when there is none)."""
    current = data
    for part in parts:
        if current is None:
            return MISSING
        if isinstance(current, dict):
            current = current.get(part, MISSING)
        elif isinstance(current, list | str):
            if part.isdigit() and (part == "0" or not part.startswith("0")):
                index = int(part)
                current = current[index] if index < len(current) else MISSING
            elif part == "length":
                current = len(current)
            else:
                return MISSING
        else:
            return MISSING
        if current is MISSING:
            return MISSING
    return current


def var(data: Any, path: Any, default: Any = None) -> Any:
    """The reference ``var`` on already-evaluated arguments."""
    if path is None or path == "" or (isinstance(path, list) and not path):
        return data
    if isinstance(path, list):
        path = path[0]
        if path is None or path == "":
            return data
    value = lookup(data, string(path).split("."))
    return default if value is MISSING else value
