"""Structural diff of two JSON documents, as JSON-pointer paths added, removed or changed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tangram.engines.common.pointer import escape_token

_MISSING: Any = object()


class ChangeKind(StrEnum):
    """What happened at a path."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: ``old`` is absent for additions, ``new`` for removals."""

    kind: ChangeKind
    path: str
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form; only the values that exist for this kind are included."""
        out: dict[str, Any] = {"op": self.kind.value, "path": self.path}
        if self.kind is not ChangeKind.ADDED:
            out["old"] = self.old
        if self.kind is not ChangeKind.REMOVED:
            out["new"] = self.new
        return out


def diff(old: Any, new: Any) -> list[Change]:
    """Differences from ``old`` to ``new``, deepest paths reported, in document order.

    Objects are compared key by key and arrays index by index (an element appended to an array is
    one addition; a shorter array reports its removed tail). Values of different JSON types at the
    same path are one change. ``1`` and ``1.0`` are equal, ``True`` and ``1`` are not.
    """
    changes: list[Change] = []
    _walk(old, new, "", changes)
    return changes


def _walk(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            child = f"{path}/{escape_token(key)}"
            _step(old.get(key, _MISSING), new.get(key, _MISSING), child, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            a = old[index] if index < len(old) else _MISSING
            b = new[index] if index < len(new) else _MISSING
            _step(a, b, f"{path}/{index}", out)
        return
    if not _same(old, new):
        out.append(Change(ChangeKind.CHANGED, path, old, new))


def _step(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if old is _MISSING:
        out.append(Change(ChangeKind.ADDED, path, new=new))
    elif new is _MISSING:
        out.append(Change(ChangeKind.REMOVED, path, old=old))
    else:
        _walk(old, new, path, out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
