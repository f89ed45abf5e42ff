"""What changed between two versions of a form, for people: fields added, removed and changed by
key with their labels on both sides and each changed property's old and new value (sub-table
columns too, under their table), the form's own properties, and its layout. The designers' diff
and publish dialog show it instead of raw JSON pointers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()


def _props(
    old: Mapping[str, Any], new: Mapping[str, Any], *, skip: Sequence[str] = ()
) -> list[dict[str, Any]]:
    out = []
    for name in sorted({*old, *new} - set(skip)):
        before, after = old.get(name, _MISSING), new.get(name, _MISSING)
        if before != after:
            out.append(
                {
                    "property": name,
                    "old": None if before is _MISSING else before,
                    "new": None if after is _MISSING else after,
                }
            )
    return out


def _fields(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], parent: str | None
) -> list[dict[str, Any]]:
    before = {str(f.get("key")): f for f in old if isinstance(f, Mapping)}
    after = {str(f.get("key")): f for f in new if isinstance(f, Mapping)}
    out: list[dict[str, Any]] = []
    order = [*after, *(k for k in before if k not in after)]
    for key in order:
        was, now = before.get(key), after.get(key)
        entry: dict[str, Any] = {
            "key": key,
            "parent": parent,
            "label": now.get("label") if now else None,
            "old_label": was.get("label") if was else None,
            "changes": [],
        }
        if was is None:
            out.append({"op": "added", **entry})
        elif now is None:
            out.append({"op": "removed", **entry})
        else:
            changes = _props(was, now, skip=("fields",))
            if changes:
                out.append({"op": "changed", **entry, "changes": changes})
            if was.get("type") == "sub_table" or now.get("type") == "sub_table":
                out += _fields(was.get("fields") or [], now.get("fields") or [], key)
    return out


def _layout(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    before = list((old or {}).get("sections") or [])
    after = list((new or {}).get("sections") or [])
    out: list[dict[str, Any]] = []
    for index in range(max(len(before), len(after))):
        name = f"sections/{index + 1}"
        was = before[index] if index < len(before) else None
        now = after[index] if index < len(after) else None
        if was is None or now is None:
            out.append({"property": name, "old": was, "new": now})
            continue
        out += [
            {**change, "property": f"{name}/{change['property']}"} for change in _props(was, now)
        ]
    rest = _props(
        {k: v for k, v in (old or {}).items() if k != "sections"},
        {k: v for k, v in (new or {}).items() if k != "sections"},
    )
    return out + [{**c, "property": f"layout/{c['property']}"} for c in rest]


def form_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``{"fields": [...], "form": [...], "layout": [...]}`` from ``old`` to ``new`` (two form
    bodies, which need not be valid: a draft may be incomplete)."""
    options = _props(old.get("options") or {}, new.get("options") or {})
    return {
        "fields": _fields(old.get("fields") or [], new.get("fields") or [], None),
        "form": _props(old, new, skip=("fields", "layout", "options"))
        + [{**c, "property": f"options/{c['property']}"} for c in options],
        "layout": _layout(old.get("layout"), new.get("layout")),
    }
