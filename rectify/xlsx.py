"""The one xlsx writer of the product: every workbook Rectify writes goes through here.

Formula injection: a text starting with = + - @ tab or CR would be read by Excel (or
LibreOffice) as a formula or a DDE call. Such text is written as an inline string with
Excel's quote prefix, so neither opening nor re-saving the file turns it into a formula, and
the text itself is kept unchanged (a re-import reads back exactly what was stored). Numbers and
dates stay numbers and dates; nothing is ever written with the formula data type.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Text starting with one of these is a formula (or becomes one) in some spreadsheet program.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CELL_MAX_CHARS = 32767

# (sheet title, header row, data rows)
Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def clean_text(text: str) -> str:
    # Control characters other than tab/LF/CR are not allowed in the XML of a sheet; a cell
    # holds at most 32,767 characters.
    text = text.replace("\r\n", "\n")
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:CELL_MAX_CHARS]


def safe_cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A value for `ws.append`: text as a literal string (quote-prefixed when formula-like)."""
    if isinstance(value, str):
        text = clean_text(value)
        cell = WriteOnlyCell(ws)
        cell._value, cell.data_type = text, "s"  # never "f": a literal string
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.make_naive(value)  # Excel has no time zones: local (Asia/Shanghai) time
    if value is None or isinstance(value, bool | int | float | dt.date):
        return value
    return safe_cell(ws, str(value))


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of plain sheets (bold header, then rows), every text cell neutralised."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        header_cells = []
        for h in headers:
            cell = safe_cell(ws, h)
            cell.font = bold
            header_cells.append(cell)
        ws.append(header_cells)
        for row in rows:
            ws.append([safe_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
