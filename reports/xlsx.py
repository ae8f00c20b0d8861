"""Excel workbooks of a snapshot, written in streaming (write-only) mode.

A cell that starts with = + - @ or a tab/CR would be read by Excel as a formula (or DDE): such
text from the ledger is written as a literal string with Excel's quote prefix, never evaluated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def _cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        header_cells = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            header_cells.append(cell)
        ws.append(header_cells)
        for row in rows:
            ws.append([_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


LEDGER_HEADERS = ("序号", "整改任务", "牵头单位", "责任单位", "配合单位", "整改时限", "时限日期",
                  "整改类型", "状态", "完成率(%)", "序时进度(%)", "预警", "逾期天数", "销号日期")


def ledger_rows(tasks: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    for t in tasks:
        yield [t["number"], t["title"], t["lead"], "、".join(t["responsible"]), "、".join(t["supporting"]),
               t["deadline_text"], t["deadline"] or "", t["deadline_class"], t["status_display"],
               t["progress"], t["expected"], t["light_display"], t["overdue_days"] or "",
               t["closed_on"] or ""]


def dispatch_xlsx(snapshot: dict[str, Any]) -> bytes:
    return workbook_bytes([
        ("整改台账", LEDGER_HEADERS, ledger_rows(snapshot["tasks"])),
        ("本周进展变化", ("序号", "整改任务", "单位", "上次完成率", "本周完成率", "进展情况"),
         ([m["number"], m["title"], m["unit"], m["from"] if m["from"] is not None else "", m["to"], m["text"]]
          for m in snapshot["moved"])),
        ("未按时报送", ("单位", "未报送任务序号", "逾期报送任务序号"),
         ([u["unit"], "、".join(map(str, u.get("missing", []))), "、".join(map(str, u.get("late", [])))]
          for u in snapshot["units_missing"] + snapshot.get("units_late", []))),
    ])


def bulletin_xlsx(snapshot: dict[str, Any]) -> bytes:
    rank_headers = ("名次", "{}", "任务数", "已完成", "逾期", "未达序时进度", "应报", "已报", "逾期报送",
                    "报送率", "得分", "名次变化")

    def ranking(entries: list[dict[str, Any]], name_key: str) -> Iterable[list[Any]]:
        for e in entries:
            yield [e["rank"], e[name_key], e["tasks"], e["finished"], e["overdue"], e["lagging"],
                   e["expected"], e["filed"], e["late"], e["report_rate"], e["score"],
                   e.get("rank_change") if e.get("rank_change") is not None else ""]

    return workbook_bytes([
        ("单位排名", [h.format("单位") for h in rank_headers], ranking(snapshot["unit_ranking"], "unit")),
        ("城市排名", [h.format("城市") for h in rank_headers], ranking(snapshot["city_ranking"], "city")),
        ("逾期任务", ("序号", "整改任务", "牵头单位", "整改时限", "逾期天数", "完成率(%)"),
         ([t["number"], t["title"], t["lead"], t["deadline_text"], t["overdue_days"], t["progress"]]
          for t in snapshot["overdue"])),
        ("整改台账", LEDGER_HEADERS, ledger_rows(snapshot["tasks"])),
    ])
