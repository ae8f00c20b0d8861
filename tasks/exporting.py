"""The ledger as the spreadsheet officials read (整改台账.xlsx), streamed row by row.

openpyxl's write-only mode writes each row to disk as it is appended, so memory stays flat
for 100,000 rows; the rows come from one chunked query with its prefetches, never one query
per row. Each column reuses a few prototype cells (plain / guarded / per light) because
creating a styled cell per value is most of the cost of writing a big sheet.

Formula injection: any text starting with = + - @ tab or CR is written as an inline string
with Excel's quote prefix, so neither Excel nor a re-save turns it into a formula, and the
text itself is kept unchanged (a re-import reads back exactly what was stored). Numbers
and dates are written as numbers and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from tasks.lights import Light, task_expected_progress, task_light
from tasks.models import DeadlineClass, ProgressReport, Task, TaskStatus, TaskUnit

# Text starting with one of these is a formula (or becomes one) in some spreadsheet program.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_CHUNK_SIZE = 2000
SHEET_TITLE = "整改台账"

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)
_LIGHT_FILLS = {
    Light.RED: "F4B6B6",
    Light.YELLOW: "FFE699",
    Light.GREEN: "C6E0B4",
}
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = '0"%"'  # the stored integer 30 shows as 30% and reads back as 30


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str  # "text", "int", "percent", "date", "light"
    value: Callable[[Task, dt.date], Any]


def _units(task: Task, role: str) -> str:
    return "、".join(tu.unit.name for tu in task.task_units.all() if tu.role == role)


def _lead(task: Task) -> str:
    return _units(task, TaskUnit.Role.LEAD)


def _persons(task: Task) -> str:
    # "单位:责任人" per line, the form the importer reads back unit by unit.
    return "\n".join(
        f"{tu.unit.name}:{tu.responsible_person}" for tu in task.task_units.all() if tu.responsible_person
    )


def _status(task: Task, today: dt.date) -> str:
    return TaskStatus(task.status).label


def _light_label(task: Task, today: dt.date) -> Light:
    return task_light(task, today)


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("序号", 6, "int", lambda t, d: t.number),
    Column("问题", 30, "text", lambda t, d: t.title),
    Column("整改目标", 40, "text", lambda t, d: t.target),
    Column("整改措施", 50, "text", lambda t, d: t.actions),
    Column("牵头单位", 16, "text", lambda t, d: _lead(t)),
    Column("责任单位", 26, "text", lambda t, d: _units(t, TaskUnit.Role.RESPONSIBLE)),
    Column("配合单位", 20, "text", lambda t, d: _units(t, TaskUnit.Role.SUPPORTING)),
    Column("责任人", 26, "text", lambda t, d: _persons(t)),
    Column("领办领导", 16, "text", lambda t, d: t.leading_official),
    Column("整改时限", 16, "text", lambda t, d: t.deadline_text),
    Column("时限日期", 12, "date", lambda t, d: t.deadline),
    Column("整改类型", 10, "text", lambda t, d: DeadlineClass(t.deadline_class).label),
    Column("进展情况", 40, "text", lambda t, d: getattr(t, "latest_report_text", None) or ""),
    Column("状态", 14, "text", _status),
    Column("完成率", 8, "percent", lambda t, d: t.progress),
    Column("序时进度", 8, "percent", lambda t, d: task_expected_progress(t, d)),
    Column("警示灯", 14, "light", _light_label),
)
LEDGER_HEADERS = tuple(c.header for c in LEDGER_COLUMNS)


def ledger_export_queryset(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """What one export row needs, fetched per chunk: units, milestones, the latest report."""
    latest_report = (
        ProgressReport.objects.filter(task=OuterRef("pk")).order_by("-week", "-reported_at", "-pk")
        .values("text")[:1]
    )
    return (
        tasks.select_related(None)
        .annotate(latest_report_text=Subquery(latest_report))
        .prefetch_related(
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("position", "id")),
            "milestones",
        )
        .order_by("plan_id", "number", "pk")
    )


def _clean_text(text: str) -> str:
    # Control characters other than tab/LF/CR are not allowed in the XML of a sheet.
    text = text.replace("\r\n", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", text)


class _CellFactory:
    """Prototype cells per column, re-filled for every row (the row is written at once)."""

    def __init__(self, ws: Any) -> None:
        self.plain: list[WriteOnlyCell] = []
        self.guarded: list[WriteOnlyCell] = []
        self.lights: dict[str, WriteOnlyCell] = {}
        for column in LEDGER_COLUMNS:
            self.plain.append(self._make(ws, column, guarded=False))
            self.guarded.append(self._make(ws, column, guarded=True))
            if column.kind == "light":
                for light in Light:
                    cell = self._make(ws, column, guarded=False)
                    if light in _LIGHT_FILLS:
                        cell.fill = PatternFill("solid", fgColor=_LIGHT_FILLS[light])
                    self.lights[light] = cell

    @staticmethod
    def _make(ws: Any, column: Column, *, guarded: bool) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws)
        cell.border = _BORDER
        if column.kind in {"int", "percent", "light"}:
            cell.alignment = _CENTER
        else:
            cell.alignment = _WRAP
        if column.kind == "date":
            cell.number_format = DATE_FORMAT
        elif column.kind == "percent":
            cell.number_format = PERCENT_FORMAT
        elif column.kind == "int":
            cell.number_format = "0"
        if guarded:
            cell.quotePrefix = True
        return cell

    def row(self, values: Iterable[Any]) -> list[Any]:
        out: list[Any] = []
        for index, (column, value) in enumerate(zip(LEDGER_COLUMNS, values, strict=True)):
            if value is None or value == "":
                out.append(None)
                continue
            if column.kind == "light":
                cell = self.lights[value]
                cell.value = Light(value).label
                out.append(cell)
                continue
            if isinstance(value, str):
                value = _clean_text(value)
                if is_formula_like(value):
                    cell = self.guarded[index]
                    cell.value = value
                    cell.data_type = "s"  # never "f": a literal string, not a formula
                    out.append(cell)
                    continue
            cell = self.plain[index]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
            out.append(cell)
        return out


def ledger_workbook_write(*, tasks: QuerySet[Task], out: IO[bytes] | str, today: dt.date) -> int:
    """Write `tasks` as the officials' ledger to `out` (a path or a binary file). Returns rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    ws.freeze_panes = "A2"  # the header row stays in view
    for index, column in enumerate(LEDGER_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    header = []
    for column in LEDGER_COLUMNS:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.border, cell.alignment = header_font, header_fill, _BORDER, _CENTER
        header.append(cell)
    ws.append(header)

    cells = _CellFactory(ws)
    count = 0
    for task in ledger_export_queryset(tasks).iterator(chunk_size=EXPORT_CHUNK_SIZE):
        ws.append(cells.row(column.value(task, today) for column in LEDGER_COLUMNS))
        count += 1
    wb.save(out)
    return count
