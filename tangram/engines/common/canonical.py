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
import math
import re
import secrets
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

    The standard library's encoder writes it, about ten times faster than the reference writer
    (every audit entry is written twice): for text, integers, booleans and null its bytes are
    RFC 8785's, and a number that is not a safe integer goes in as a placeholder that is then
    replaced by the number as ECMAScript writes it. A placeholder is a string holding a random
    nonce made for the call and a control character, so no string of the value can be taken for
    one. A key beyond the Basic Multilingual Plane (RFC 8785 orders keys by UTF-16 code units,
    Python by code points), a non-finite number or anything the encoder refuses goes to the
    reference writer, which says what is wrong.
    """
    numbers = _Numbers()
    try:
        plain = numbers.plain(value)
        text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return numbers.restore(text).encode("utf-8")
    except (_NotPlain, TypeError, ValueError):  # e.g. a lone surrogate, which cannot be encoded
        pass
    try:
        return rfc8785.dumps(_doubles(value))
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(str(exc)) from exc


class _NotPlain(Exception):
    """A value the fast path does not write (the reference writer does)."""


class _Numbers:
    """The numbers of one value that JSON encoders write differently from ECMAScript, as
    placeholders and back."""

    __slots__ = ("_nonce", "texts")

    def __init__(self) -> None:
        self._nonce = ""  # made with the first placeholder: most values have none
        self.texts: list[str] = []

    @property
    def nonce(self) -> str:
        if not self._nonce:
            self._nonce = secrets.token_hex(16)
        return self._nonce

    def plain(self, value: Any) -> Any:
        """``value`` with every number that is not a safe integer as a placeholder string."""
        # exact types first: a record's values are nearly all text, safe integers, lists and
        # objects, and ``type(...) is`` is the cheapest test (bool is not int here)
        kind = type(value)
        if kind is str or value is None or kind is bool:
            return value
        if kind is int and -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return value
        if kind is dict:
            out = {}
            for key, item in value.items():
                if type(key) is not str and not isinstance(key, str):
                    raise _NotPlain
                if not key.isascii() and max(map(ord, key)) > 0xFFFF:
                    raise _NotPlain
                out[key] = self.plain(item)
            return out
        if kind is list:
            return [self.plain(item) for item in value]
        return self._other(value)

    def _other(self, value: Any) -> Any:
        """What :meth:`plain` does for floats, large integers, subclasses and tuples."""
        if isinstance(value, str | bool):
            return value
        if isinstance(value, int):
            if abs(value) <= _SAFE_INTEGER:
                return value
            try:
                return self._placeholder(float(value))
            except OverflowError:
                return str(value)  # no double holds it: its digits, as text
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _NotPlain
            if value.is_integer() and abs(value) <= _SAFE_INTEGER:
                return int(value)
            return self._placeholder(value)
        if isinstance(value, dict):
            return self.plain(dict(value))
        if isinstance(value, list | tuple):
            return [self.plain(item) for item in value]
        raise _NotPlain

    def _placeholder(self, number: float) -> str:
        self.texts.append(_ecmascript(number))
        return f"\x00{self.nonce}:{len(self.texts) - 1}"

    def restore(self, text: str) -> str:
        """The encoder's ``text`` with each placeholder (a JSON string) replaced by its number."""
        if not self.texts:
            return text
        return _PLACEHOLDER.sub(self._number, text)

    def _number(self, found: re.Match[str]) -> str:
        return self.texts[int(found[2])] if found[1] == self._nonce else found[0]


#: A placeholder as the encoder writes it: ``"\u0000<nonce>:<index>"``.
_PLACEHOLDER = re.compile(r'"\\u0000([0-9a-f]{32}):(\d+)"')


def _ecmascript(number: float) -> str:
    """A finite double as ECMAScript's Number::toString writes it (RFC 8785, 3.2.2.3): the
    shortest digits that read back as the same double (Python's ``repr`` finds the same), in
    plain notation from 1e-6 up to 1e21, else as ``d.ddde±x``."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    both = whole + fraction
    digits = both.lstrip("0")
    # the value is 0.<digits> × 10^point
    point = len(whole) - (len(both) - len(digits)) + int(exponent or 0)
    digits = digits.rstrip("0")
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = point - 1
    tail = f"e{'+' if shown >= 0 else '-'}{abs(shown)}"
    if len(digits) == 1:
        return sign + digits + tail
    return sign + digits[0] + "." + digits[1:] + tail


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
