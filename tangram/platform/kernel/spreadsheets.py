"""Tables as downloads: CSV a chunk at a time (UTF-8 with a byte-order mark, so spreadsheets keep
Chinese text) and XLSX written row by row (openpyxl's write-only mode).

A cell is data, never a formula (CWE-1236): a text starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is prefixed with an apostrophe in CSV, the way spreadsheets themselves mark
text, and is written as a text cell in XLSX. Characters XML cannot hold (NUL and the other control
characters) are left out of XLSX cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

CHUNK_ROWS = 1000
#: What a spreadsheet would read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters an XLSX (XML) cell cannot hold.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_cell(value: Any) -> Any:
    """A CSV value that a spreadsheet reads as what it is, not as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The table as CSV text, a thousand rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([csv_cell(c) for c in columns])
    for i, row in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in row])
        if i % CHUNK_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def xlsx(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The table as an Excel workbook with one sheet."""
    from openpyxl import Workbook  # only exports need it
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(XML_ILLEGAL.sub("", title)[:31] or "sheet")

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        written = WriteOnlyCell(sheet, value=XML_ILLEGAL.sub("", value))
        written.data_type = "s"  # text, even when it starts like a formula
        return written

    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
