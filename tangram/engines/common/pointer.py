"""JSON pointers (RFC 6901)."""

from __future__ import annotations

from collections.abc import Iterable


def escape_token(token: str | int) -> str:
    """Escape one reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(tokens: Iterable[str | int]) -> str:
    """Build a pointer from tokens; no tokens gives ``""`` (the whole document)."""
    return "".join("/" + escape_token(t) for t in tokens)
