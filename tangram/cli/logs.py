"""The server's log lines: one event per line, whatever the values in it say.

A message may quote what users sent (a username that failed to sign in, a job's error naming a
record's text). Written raw, a newline in it forges a second log line and an escape sequence
(``\\x1b[2J``) rewrites the operator's terminal. :class:`SafeFormatter` writes every control
character of the message as an escape (``\\n``, ``\\x1b``); tracebacks keep their lines.
"""

from __future__ import annotations

import logging
import re

#: Control characters (C0 and C1, and DEL) that a log line must not carry raw.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape(text: str) -> str:
    """``text`` with its control characters written as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SafeFormatter(logging.Formatter):
    """A formatter whose messages cannot span lines or carry terminal escapes."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.message = escape(record.getMessage())
        return super().formatMessage(safe)


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    """Log to standard error at ``level`` with :class:`SafeFormatter`."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
