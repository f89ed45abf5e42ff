"""Shared vocabulary of the engines: diagnostics, errors, JSON pointers, diffs, canonical JSON."""

from tangram.engines.common.canonical import canonical_json, checksum, jcs
from tangram.engines.common.diagnostics import DefinitionError, Diagnostic
from tangram.engines.common.diff import Change, diff
from tangram.engines.common.numbers import settle
from tangram.engines.common.pointer import escape_token, join_pointer

__all__ = [
    "Change",
    "DefinitionError",
    "Diagnostic",
    "canonical_json",
    "checksum",
    "diff",
    "escape_token",
    "jcs",
    "join_pointer",
    "settle",
]
