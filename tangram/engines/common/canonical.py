"""Canonical JSON: one byte string per value, so checksums and hash chains are reproducible.

Two forms:

* :func:`canonical_json` — sorted keys, no insignificant whitespace, Python's number text. Used by
  definition checksums (bodies the platform wrote and reads back as written) and by the audit
  entries hashed before canonical form 2.
* :func:`jcs` — the JSON Canonicalization Scheme (RFC 8785): numbers written as ECMAScript
  writes doubles, so ``1``, ``1.0`` and ``1e0`` are one value, as are ``1e16`` and
  ``10000000000000000``. A value read back from a database that rewrote its number text
  (PostgreSQL's JSONB keeps ``1e16`` as ``10000000000000000``) hashes as it did when written.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

#: I-JSON's exactly representable integers (RFC 7493): beyond them a JSON number is a double.
_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """Serialise with sorted keys, no insignificant whitespace, UTF-8 text kept as is.

    Non-finite floats are refused: they have no JSON form and would make checksums ambiguous.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def checksum(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value``, as lowercase hex."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def jcs(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value.

    Integers beyond ±(2^53 − 1) are numbers as every JSON reader of I-JSON sees them: the nearest
    double (``10**300`` and ``1e300`` are one value); an integer too large even for a double is
    written as the string of its digits. Non-finite floats and non-string keys are refused (``ValueError``).

    Most values (text, safe integers, booleans, null, keys of the Basic Multilingual Plane) are
    written by the standard library's encoder, whose output is RFC 8785's for them — ten times
    faster than the reference writer, which every audit entry passes through twice. A value with
    a fraction, a large number or a key beyond the plane (RFC 8785 orders keys by UTF-16 code
    units) goes to the reference writer.
    """
    try:
        plain = _plain(value)
    except _NotPlain:
        pass
    else:
        try:
            return json.dumps(
                plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except (TypeError, ValueError):  # e.g. a lone surrogate: the reference writer says why
            pass
    try:
        return rfc8785.dumps(_doubles(value))
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(str(exc)) from exc


class _NotPlain(Exception):
    """A value the standard encoder would not write as RFC 8785 does."""


def _plain(value: Any) -> Any:
    """``value`` with its integral doubles as integers (``1.0`` is written ``1``), or
    :class:`_NotPlain`."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if abs(value) > _SAFE_INTEGER:
            raise _NotPlain
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= _SAFE_INTEGER:
            return int(value)
        raise _NotPlain
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or (not key.isascii() and max(map(ord, key)) > 0xFFFF):
                raise _NotPlain
            out[key] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise _NotPlain


def _doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _doubles(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
        try:
            return float(value)
        except OverflowError:
            return str(value)  # no double holds it: its digits, as text
    return value
