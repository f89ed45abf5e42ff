"""Exports are data, never formulas (CWE-1236), and hold what XML can."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tangram.platform.kernel.spreadsheets import csv_chunks, xlsx

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_that_would_start_a_formula_are_marked_as_text() -> None:
    text = "".join(csv_chunks(["=title", "n"], [[value, -5] for value in HOSTILE]))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["'=title", "n"]
    assert [row[0] for row in rows[1:]] == ["'" + value for value in HOSTILE]
    assert {row[1] for row in rows[1:]} == {"-5"}  # numbers stay numbers
    assert "".join(csv_chunks(["a"], [["plain 文本"]])).endswith("plain 文本\r\n")


def test_xlsx_cells_are_text_and_lose_what_xml_cannot_hold() -> None:
    data = xlsx("list\x00", ["=title"], [[value] for value in HOSTILE] + [["a\x00b\x1fc"], [7]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows()]
    assert [c.data_type for c in cells[:-1]] == ["s"] * (len(HOSTILE) + 2)
    assert cells[1].value == HOSTILE[0]  # kept as written, as text
    assert cells[-2].value == "abc"
    assert cells[-1].value == 7
