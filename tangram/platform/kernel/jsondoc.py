"""One strict way to read JSON that comes from outside: request bodies and package files.

Python's ``json`` accepts what the platform cannot keep or should not guess about: ``NaN`` and
``Infinity`` (not JSON, and not storable on PostgreSQL), duplicate keys (the last silently wins),
lone UTF-16 surrogates (``"\\ud800"``, which no database driver can encode), the NUL character
(PostgreSQL cannot store it in text), integers beyond the database's 64 bits, and nesting deep
enough to exhaust the parser's recursion. :func:`strict_loads` refuses each of them with the JSON
pointer of the value, so the caller answers a clear problem instead of failing later.
"""

from __future__ import annotations

import json
from typing import Any

from tangram.engines.common import escape_token

#: Deepest nesting of arrays and objects accepted (definitions and records need far less).
MAX_DEPTH = 64
#: The range of a 64-bit signed integer (ids, counters and numbers the databases store).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class JsonRefused(ValueError):
    """A document that is not acceptable JSON; ``path`` is the JSON pointer of the culprit."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.message = message


def _no_constants(name: str) -> Any:
    raise JsonRefused("", f"{name} is not a JSON number")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonRefused("", f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def strict_loads(content: bytes | str) -> Any:
    """Parse ``content`` (UTF-8) or raise :class:`JsonRefused` naming what is wrong and where."""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused("", f"not UTF-8 text (byte {exc.start})") from None
    else:
        text = content
    try:
        document = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constants)
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused("", f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise JsonRefused("", f"not valid JSON: {exc.msg} ({where})") from None
    except ValueError as exc:  # e.g. an integer literal with more digits than Python converts
        raise JsonRefused("", f"not valid JSON: {exc}") from None
    check_values(document)
    return document


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "holds the NUL character, which text cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate, which is no character"
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return "an integer outside the 64-bit range the databases store"
    return None


def check_values(document: Any) -> None:
    """Refuse texts with NUL or lone surrogates, keys as well as values, integers beyond 64 bits
    and nesting beyond :data:`MAX_DEPTH` (walked without recursion)."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise JsonRefused(path, f"nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and (problem := _text_problem(key)) is not None:
                    shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
                    raise JsonRefused(path, f"the key {shown!r} {problem}")
                stack.append((item, f"{path}/{escape_token(str(key))}", depth + 1))
            continue
        problem = _value_problem(value)
        if problem is not None:
            raise JsonRefused(path, problem)
