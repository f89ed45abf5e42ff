"""Diagnostics: one problem found in a definition, addressed by a JSON pointer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """A problem at ``path`` (a JSON pointer into the definition) with a dotted ``code``."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Plain-data form used by the API and the CLI."""
        return {"path": self.path, "code": self.code, "message": self.message}


class DefinitionError(ValueError):
    """A definition failed to compile; ``diagnostics`` lists every problem found, not only the first."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics))
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{first.path or '/'}: {first.message}" if first else "invalid definition"
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))
