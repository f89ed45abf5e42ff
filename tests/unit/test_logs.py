"""Log lines cannot be forged by the values they quote."""

from __future__ import annotations

import logging

from tangram.cli.logs import SafeFormatter, escape


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
        import sys

        record = logging.LogRecord(
            "tangram", logging.ERROR, __file__, 1, "job failed", (), sys.exc_info()
        )
    text = SafeFormatter("%(message)s").format(record)
    assert text.startswith("job failed\nTraceback")
