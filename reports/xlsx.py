"""Excel workbooks of a snapshot, written by the one xlsx writer (rectify/xlsx.py), which
writes text that would start a formula as a literal string."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rectify.xlsx import XLSX_MIME, workbook_bytes

__all__ = ["XLSX_MIME", "bulletin_xlsx", "dispatch_xlsx", "ledger_rows"]


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
