"""Serial-number patterns such as ``SV-{date:%Y%m%d}-{seq:4}``.

The sequence counts within a *scope*: the pattern rendered with everything but the sequence, so
``SV-{date:%Y%m%d}-{seq:4}`` restarts every day. The platform keeps the counters; the engine only
parses, renders and checks patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_TOKEN = re.compile(r"\{(date|seq)(?::([^{}]*))?\}")
_ALLOWED_DATE = re.compile(r"^(?:%[YmdHjyU]|[-_/.])+$")


class SerialPatternError(ValueError):
    """The pattern cannot be used."""


@dataclass(frozen=True, slots=True)
class SerialPattern:
    """A parsed pattern: literal text, ``{date:FORMAT}`` parts and exactly one ``{seq:WIDTH}``."""

    source: str
    width: int

    @classmethod
    def parse(cls, source: str) -> SerialPattern:
        """Check and parse ``source``."""
        seqs = [m for m in _TOKEN.finditer(source) if m.group(1) == "seq"]
        if len(seqs) != 1:
            raise SerialPatternError("use exactly one {seq:N} (N = digits, 1 to 12)")
        width_text = seqs[0].group(2) or "4"
        if not width_text.isdigit() or not 1 <= int(width_text) <= 12:
            raise SerialPatternError("the width of {seq:N} must be a number from 1 to 12")
        for match in _TOKEN.finditer(source):
            if match.group(1) == "date" and not _ALLOWED_DATE.match(match.group(2) or ""):
                raise SerialPatternError(
                    "a {date:FORMAT} uses %Y %m %d %H %j %y %U and the separators - _ / ."
                )
        leftover = _TOKEN.sub("", source)
        if "{" in leftover or "}" in leftover:
            raise SerialPatternError("only {date:FORMAT} and {seq:N} may appear in braces")
        if len(source) > 80:
            raise SerialPatternError("the pattern is longer than 80 characters")
        return cls(source, int(width_text))

    def _render(self, now: datetime, seq: str) -> str:
        def part(match: re.Match[str]) -> str:
            if match.group(1) == "seq":
                return seq
            return now.strftime(match.group(2) or "%Y%m%d")

        return _TOKEN.sub(part, self.source)

    def scope(self, now: datetime) -> str:
        """The counter this instant's numbers are drawn from (the pattern without the sequence)."""
        return self._render(now, "#")

    def format(self, now: datetime, seq: int) -> str:
        """The serial number for sequence ``seq`` at ``now`` (local time of the app)."""
        return self._render(now, str(seq).zfill(self.width))
