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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import OuterRef, QuerySet, Subquery
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from rectify.i18n import in_official_language
from rectify.xlsx import clean_text, is_formula_like
from tasks.lights import Light, task_expected_progress, task_light
from tasks.models import DeadlineClass, ProgressReport, Task, TaskStatus, TaskUnit, Unit

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


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str  # "text", "int", "percent", "date", "light"


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("序号", 6, "int"),
    Column("问题", 30, "text"),
    Column("整改目标", 40, "text"),
    Column("整改措施", 50, "text"),
    Column("牵头单位", 16, "text"),
    Column("责任单位", 26, "text"),
    Column("配合单位", 20, "text"),
    Column("责任人", 26, "text"),
    Column("领办领导", 16, "text"),
    Column("整改时限", 16, "text"),
    Column("时限日期", 12, "date"),
    Column("整改类型", 10, "text"),
    Column("进展情况", 40, "text"),
    Column("状态", 14, "text"),
    Column("完成率", 8, "percent"),
    Column("序时进度", 8, "percent"),
    Column("警示灯", 14, "light"),
)
LEDGER_HEADERS = tuple(c.header for c in LEDGER_COLUMNS)
# Labels are lazy; ledger_workbook_write turns them into Chinese text (in_official_language).
_CLASS_LABELS = {c.value: c.label for c in DeadlineClass}
_STATUS_LABELS = {c.value: c.label for c in TaskStatus}


# (unit name, role, responsible person) of one task, in position order.
UnitRows = list[tuple[str, str, str]]


def ledger_row(task: Task, units: UnitRows, today: dt.date) -> list[Any]:
    """One task as the values of LEDGER_COLUMNS, in order."""
    by_role: dict[str, list[str]] = {TaskUnit.Role.LEAD: [], TaskUnit.Role.RESPONSIBLE: [],
                                     TaskUnit.Role.SUPPORTING: []}
    for name, role, _person in units:
        by_role[role].append(name)
    # "单位:责任人" per line, the form the importer reads back unit by unit.
    persons = "\n".join(f"{name}:{person}" for name, _role, person in units if person)
    return [
        task.number, task.title, task.target, task.actions,
        "、".join(by_role[TaskUnit.Role.LEAD]), "、".join(by_role[TaskUnit.Role.RESPONSIBLE]),
        "、".join(by_role[TaskUnit.Role.SUPPORTING]), persons, task.leading_official,
        task.deadline_text, task.deadline, str(_CLASS_LABELS.get(task.deadline_class, task.deadline_class)),
        getattr(task, "latest_report_text", None) or "", str(_STATUS_LABELS.get(task.status, task.status)),
        task.progress, task_expected_progress(task, today), task_light(task, today),
    ]


def ledger_export_queryset(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The tasks with what a row needs besides its units: milestones, the latest report."""
    latest_report = (
        ProgressReport.objects.filter(task=OuterRef("pk")).order_by("-week", "-reported_at", "-pk")
        .values("text")[:1]
    )
    return (
        tasks.select_related(None)
        .annotate(latest_report_text=Subquery(latest_report))
        .prefetch_related("milestones")
        .order_by("plan_id", "number", "pk")
    )


def _rows_in_chunks(tasks: QuerySet[Task], today: dt.date) -> Iterator[list[Any]]:
    """Rows chunk by chunk: per chunk one query for the tasks (with their latest report), one
    for milestones, one for units as plain tuples; unit names come from one dict."""
    names = dict(Unit.objects.values_list("pk", "name"))
    chunk: list[Task] = []

    def flush() -> Iterator[list[Any]]:
        units: dict[int, UnitRows] = defaultdict(list)
        for task_id, unit_id, role, person in (
            TaskUnit.objects.filter(task_id__in=[t.pk for t in chunk])
            .order_by("task_id", "position", "id")
            .values_list("task_id", "unit_id", "role", "responsible_person")
        ):
            units[task_id].append((names[unit_id], role, person))
        for task in chunk:
            yield ledger_row(task, units.get(task.pk, []), today)

    for task in ledger_export_queryset(tasks).iterator(chunk_size=EXPORT_CHUNK_SIZE):
        chunk.append(task)
        if len(chunk) >= EXPORT_CHUNK_SIZE:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


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

    def row(self, values: Iterable[Any], row_idx: int) -> list[Any]:
        # Values are typed by column, so the cells are filled directly: openpyxl's own type
        # guessing costs a third of the write and would turn text starting with "=" into a formula.
        out: list[Any] = []
        for index, (column, value) in enumerate(zip(LEDGER_COLUMNS, values, strict=True)):
            if value is None or value == "":
                continue  # an empty cell is simply not written
            if column.kind == "light":
                cell = self.lights[value]
                cell._value, cell.data_type = str(Light(value).label), "s"
            elif isinstance(value, str):
                value = clean_text(value)
                cell = self.guarded[index] if is_formula_like(value) else self.plain[index]
                cell._value, cell.data_type = value, "s"  # never "f": a literal string
            elif isinstance(value, bool | int | float):
                cell = self.plain[index]
                cell._value, cell.data_type = value, "n"
            elif isinstance(value, dt.date):
                cell = self.plain[index]
                cell._value, cell.data_type = value, "d"
            else:
                raise TypeError(f"cannot export {type(value).__name__} in column {column.header}")
            cell.row, cell.column = row_idx, index + 1
            out.append(cell)
        return out


@in_official_language
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
    # Our cells arrive typed, placed and styled: skip openpyxl's per-value conversion, which
    # tries (and fails, by exception) to bind each cell object as a value first.
    ws._values_to_row = lambda row, row_idx: row
    count = 0
    for count, row in enumerate(_rows_in_chunks(tasks, today), start=1):
        ws.append(cells.row(row, count + 1))
    wb.save(out)
    return count
