"""Import of a transferred case list (移交的责任追究问题清单) from xlsx: preview, then confirm.

The file is judged by its content (a zip holding a workbook, unpacked and counted by
rectify/uploads.py: capped entries, sizes and ratio, no DTD in its XML), then read with openpyxl
in read-only mode (defusedxml is installed, so openpyxl parses the XML through it). Every row is checked before anything is written; errors read
"第N行 列名: 原因" with N the row number in Excel. Confirming writes all rows or none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from accountability.models import Case, CaseSource
from accountability.resolve import RegionResolver, UnitResolver, region_label, tasks_resolve
from accountability.services import case_create
from accountability.uploads import zip_check
from rectify.models import User
from tasks.models import Region, Task, Unit
from tasks.selectors import plan_current

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 1000
HEADER_SEARCH_ROWS = 10

# field → (column label shown in errors, accepted headers)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reference": ("编号", ("编号", "问题编号", "清单编号")),
    "title": ("问题概要", ("问题概要", "标题", "问题名称")),
    "problem_text": ("问题", ("问题", "移交问题", "问题描述", "具体问题", "移交的问题", "问题内容")),
    "units": ("涉及单位", ("涉及单位", "责任单位", "被问责单位", "相关单位")),
    "region": ("地区", ("地区", "行政区", "所在地区", "所在地")),
    "transferred_on": ("交办日期", ("交办日期", "移交日期", "交办时间")),
    "handling_authority": ("办理机关", ("办理机关", "处理机关", "承办机关", "承办单位")),
    "task_numbers": ("关联任务", ("关联任务", "关联任务序号", "任务序号", "关联整改任务")),
}
REQUIRED = ("reference", "problem_text", "transferred_on")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


@dataclass
class ImportRow:
    row: int
    reference: str
    title: str
    problem_text: str
    transferred_on: str  # ISO date: the row travels through the session as JSON
    handling_authority: str
    region_id: int | None
    unit_ids: list[int]
    task_ids: list[int]
    # shown in the preview only
    region_name: str = ""
    unit_names: list[str] = field(default_factory=list)
    task_numbers: list[int] = field(default_factory=list)


@dataclass
class ImportPreview:
    sha256: str
    rows: list[ImportRow]
    errors: list[str]

    def session_data(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "rows": [asdict(r) for r in self.rows]}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"[ \t\u3000]+", " ", str(value)).strip()


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise ValidationError("不是有效的日期")
        return from_excel(value).date()
    text = re.sub(r"\s+", "", str(value or ""))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise ValidationError(f"“{text}”不是有效的日期(应如2017-09-01或2017年9月1日)")


def _past_date(value: Any) -> dt.date:
    day = parse_date(value)
    if day > timezone.localdate():
        raise ValidationError(f"{day:%Y-%m-%d}晚于今天")
    return day


def workbook_bytes_check(upload: UploadedFile) -> bytes:
    if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
        raise ValidationError(f"文件超过{IMPORT_MAX_BYTES // (1024 * 1024)}MB的上限。")
    data = upload.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationError(f"文件超过{IMPORT_MAX_BYTES // (1024 * 1024)}MB的上限。")
    if not data.startswith(b"PK\x03\x04"):
        raise ValidationError("文件不是xlsx格式的Excel工作簿(旧版.xls请另存为.xlsx)。")
    names = set(zip_check(data, what=gettext("工作簿")))
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ValidationError("文件不是xlsx格式的Excel工作簿。")
    return data


def _header_map(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows):
        labels = [re.sub(r"\s+", "", _cell_text(v)) for v in row]
        found: dict[str, int] = {}
        for name, (_, accepted) in COLUMNS.items():
            for col, label in enumerate(labels):
                if label in accepted and name not in found:
                    found[name] = col
                    break
        if "reference" in found and "problem_text" in found:
            return index, found
    raise ValidationError("没有找到表头:须有“编号”“问题”“交办日期”列。")


def import_parse(data: bytes) -> ImportPreview:
    """Read and check every row; nothing is written."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file  # noqa: BLE001
        raise ValidationError(f"无法读取工作簿:{type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[Any, ...]] = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(tuple(row))
            if len(rows) > IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ValidationError(f"清单超过{IMPORT_MAX_ROWS}行,请分批导入。")
    finally:
        workbook.close()
    header_index, columns = _header_map(rows[:HEADER_SEARCH_ROWS])
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in columns]
    if missing:
        raise ValidationError(f"缺少必需的列:{'、'.join(missing)}。")

    units, regions, plan = UnitResolver(), RegionResolver(), plan_current()
    existing = set(Case.objects.values_list("reference", flat=True))
    seen: dict[str, int] = {}
    parsed: list[ImportRow] = []
    errors: list[str] = []
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        def value(name: str, row=row) -> Any:
            col = columns.get(name)
            return row[col] if col is not None and col < len(row) else None

        if not any(_cell_text(v) for v in row):
            continue
        row_errors: list[str] = []

        def check(name: str, fn, row_errors=row_errors, offset=offset):
            try:
                return fn()
            except ValidationError as exc:
                row_errors.append(f"第{offset}行 {COLUMNS[name][0]}: {exc.messages[0]}")
                return None

        reference = _cell_text(value("reference"))
        if not reference:
            row_errors.append(f"第{offset}行 编号: 不能为空")
        elif reference in existing:
            row_errors.append(f"第{offset}行 编号: “{reference}”已登记,不能重复导入")
        elif reference in seen:
            row_errors.append(f"第{offset}行 编号: 与第{seen[reference]}行重复")
        elif len(reference) > 60:
            row_errors.append(f"第{offset}行 编号: 超过60个字")
        else:
            seen[reference] = offset
        problem_text = str(value("problem_text") or "").strip()
        if not problem_text:
            row_errors.append(f"第{offset}行 问题: 不能为空")
        title = _cell_text(value("title"))
        if len(title) > 200:
            row_errors.append(f"第{offset}行 问题概要: 超过200个字")
        raw_day = value("transferred_on")
        transferred_on = None
        if raw_day is None or _cell_text(raw_day) == "":
            row_errors.append(f"第{offset}行 交办日期: 不能为空")
        else:
            transferred_on = check("transferred_on", lambda raw_day=raw_day: _past_date(raw_day))
        region: Region | None = check("region", lambda: regions.resolve(_cell_text(value("region"))))
        unit_list: list[Unit] = check("units", lambda: units.resolve(str(value("units") or ""))) or []
        task_list: list[Task] = check(
            "task_numbers", lambda: tasks_resolve(_cell_text(value("task_numbers")), plan=plan)
        ) or []
        authority = _cell_text(value("handling_authority"))
        if len(authority) > 120:
            row_errors.append(f"第{offset}行 办理机关: 超过120个字")
        if row_errors:
            errors.extend(row_errors)
            continue
        parsed.append(ImportRow(
            row=offset, reference=reference, title=title, problem_text=problem_text,
            transferred_on=transferred_on.isoformat(), handling_authority=authority,
            region_id=region.pk if region else None, unit_ids=[u.pk for u in unit_list],
            task_ids=[t.pk for t in task_list], region_name=region_label(region),
            unit_names=[u.name for u in unit_list], task_numbers=[t.number for t in task_list],
        ))
    if not parsed and not errors:
        errors.append("清单中没有数据行。")
    return ImportPreview(sha256=sha256, rows=parsed, errors=errors)


@transaction.atomic
def cases_import(*, actor: User | None, rows: list[dict[str, Any]]) -> list[Case]:
    """Register every previewed row, or none: the first refusal rolls the whole list back."""
    regions = Region.objects.in_bulk({r["region_id"] for r in rows if r["region_id"]})
    units = Unit.objects.in_bulk({u for r in rows for u in r["unit_ids"]})
    tasks = Task.objects.in_bulk({t for r in rows for t in r["task_ids"]})
    created = []
    for r in rows:
        try:
            created.append(case_create(
                actor=actor, reference=r["reference"], source=CaseSource.TRANSFERRED,
                title=r["title"], problem_text=r["problem_text"],
                transferred_on=dt.date.fromisoformat(r["transferred_on"]),
                region=regions.get(r["region_id"]) if r["region_id"] else None,
                units=[units[u] for u in r["unit_ids"]], tasks=[tasks[t] for t in r["task_ids"]],
                handling_authority=r["handling_authority"], note="导入移交问题清单",
            ))
        except ValidationError as exc:
            raise ValidationError(f"第{r['row']}行 编号: {exc.messages[0]}") from None
        except KeyError:
            raise ValidationError(f"第{r['row']}行: 关联的单位、行政区或任务已被删除,请重新上传") from None
    return created
