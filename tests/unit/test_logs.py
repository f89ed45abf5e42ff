"""Log lines cannot be forged by the values they quote."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from tangram.cli.logs import JsonFormatter, SafeFormatter, escape, formatter


def test_a_quoted_value_cannot_start_a_new_line_or_drive_the_terminal() -> None:
    forged = "ann\n2026-12-03 09:00:00 INFO tangram: admin signed in\x1b[2J"
    record = logging.LogRecord(
        "tangram", logging.WARNING, __file__, 1, "failed: %s", (forged,), None
    )
    line = SafeFormatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in line
    assert "\x1b" not in line
    assert line == "WARNING failed: ann\\n2026-12-03 09:00:00 INFO tangram: admin signed in\\x1b[2J"
    assert escape("工单\t一") == "工单\\t一"  # text is kept, controls escaped


def test_a_traceback_keeps_its_lines() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "tangram", logging.ERROR, __file__, 1, "job failed", (), sys.exc_info()
        )
    text = SafeFormatter("%(message)s").format(record)
    assert text.startswith("job failed\nTraceback")


def test_a_json_line_holds_the_fields_given_and_stays_one_line() -> None:
    forged = 'ann"}\n{"level": "INFO", "message": "admin signed in'
    record = logging.LogRecord(
        "tangram.web.access", logging.INFO, __file__, 1, "failed: %s", (forged,), None
    )
    record.__dict__.update({"request_id": "abc", "user_id": 7, "route": "/api/v1/me"})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["message"] == f"failed: {forged}"  # the value kept, escaped by JSON
    assert (event["level"], event["logger"]) == ("INFO", "tangram.web.access")
    assert (event["request_id"], event["user_id"], event["route"]) == ("abc", 7, "/api/v1/me")
    assert event["time"].endswith("+00:00")
    assert not {"args", "msg", "levelno", "pathname"} & set(event)


def test_a_json_traceback_is_one_field_of_one_line() -> None:
    try:
        raise ValueError("boom\nline two")
    except ValueError:
        record = logging.LogRecord(
            "tangram", logging.ERROR, __file__, 1, "job failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["exception"].startswith("Traceback")


def test_an_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="TANGRAM_LOG_FORMAT='xml' is not one of text, json"):
        formatter("xml")
