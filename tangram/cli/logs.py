"""The server's log lines: one event per line, whatever the values in it say.

A message may quote what users sent (a username that failed to sign in, a job's error naming a
record's text). Written raw, a newline in it forges a second log line and an escape sequence
(``\\x1b[2J``) rewrites the operator's terminal. :class:`SafeFormatter` writes every control
character of the message as an escape (``\\n``, ``\\x1b``); tracebacks keep their lines.

``TANGRAM_LOG_FORMAT=json`` writes each event as one JSON object per line instead
(:class:`JsonFormatter`), for log collectors: the time, level, logger and message, and every
field the code attached to the event (``extra=``): a request's id, user, route, status and
duration, a job run's id, kind, outcome and duration. JSON escapes control characters itself,
and a traceback becomes one string field, so an event is still one line.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, TextIO

#: Control characters (C0 and C1, and DEL) that a log line must not carry raw.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: The values of ``TANGRAM_LOG_FORMAT``.
FORMATS = ("text", "json")
#: Loggers whose INFO lines are the point of JSON logs (one line per request and per job run):
#: they log at INFO in that format whatever ``TANGRAM_LOG_LEVEL`` says of the others.
EVENT_LOGGERS = ("tangram.web.access", "tangram.platform.worker")


def escape(text: str) -> str:
    """``text`` with its control characters written as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SafeFormatter(logging.Formatter):
    """A formatter whose messages cannot span lines or carry terminal escapes."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.message = escape(record.getMessage())
        return super().formatMessage(safe)


#: The attributes every log record has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    logging.makeLogRecord({}).__dict__.keys() | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    the fields given with ``extra=``, and ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_") and name not in event:
                event[name] = value
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        # default=str: a field that is not JSON (a path, a date) is written as its text
        return json.dumps(event, ensure_ascii=False, default=str)


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``log_format`` (one of :data:`FORMATS`)."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return SafeFormatter(FORMAT)
    raise ValueError(f"TANGRAM_LOG_FORMAT={log_format!r} is not one of {', '.join(FORMATS)}")


def configure(level: str, log_format: str = "text", *, stream: TextIO | None = None) -> None:
    """Log to standard error (or ``stream``) at ``level`` in ``log_format``; in JSON the request
    and job lines are written at INFO whatever the level."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
    if log_format == "json":
        for name in EVENT_LOGGERS:
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
