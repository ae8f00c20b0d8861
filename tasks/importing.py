"""Bringing an official's ledger (xlsx or csv) into Rectify: preview first, then apply atomically.

The file is streamed: rows are read, parsed and compared with the database in chunks of
`IMPORT_CHUNK_SIZE` (one query for the chunk's tasks, one for their units), never one query
per row; new tasks go in with bulk_create, changed ones with bulk_update, and every change
is written to TaskChange, exactly as the services would record it.

A preview and an apply are the same pass: the apply runs it inside one transaction, writes
each chunk as it goes and rolls everything back if any row has an error, or if the result
differs from the preview the user confirmed (`expected_digest`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import unicodedata
import zipfile
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError  # noqa: S405 (the exception type only; parsing is defusedxml's)

from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from rectify.models import User
from rectify.uploads import (
    CONTENT_TYPES_PART,
    SNIFF_BYTES,
    ZipLimits,
    ZipProblem,
    ZipRefused,
    sniff,
    zip_entries,
    zip_unpack,
)
from tasks.deadlines import DeadlineError, format_deadline, parse_deadline
from tasks.models import DeadlineClass, Plan, Region, Task, TaskChange, TaskUnit, Unit, UnitAlias
from tasks.services import _display as change_display

IMPORT_CHUNK_SIZE = 2000
HEADER_SEARCH_ROWS = 20
MAX_REPORTED_ERRORS = 1000


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_upload_bytes() -> int:
    return _limit("RECTIFY_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def max_uncompressed_bytes() -> int:
    return _limit("RECTIFY_IMPORT_MAX_UNCOMPRESSED_BYTES", 400 * 1024 * 1024)


def max_zip_entries() -> int:
    return _limit("RECTIFY_IMPORT_MAX_ZIP_ENTRIES", 500)


class LedgerFileError(ValueError):
    """The file cannot be imported at all; `str(error)` is the message for the official."""


# --- Columns ----------------------------------------------------------------------------------

# field key → the headers officials write for it (compared after _header_key).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "任务序号", "任务编号", "整改任务序号"),
    "title": ("问题", "整改问题", "问题具体情况", "存在问题", "反馈问题", "督察反馈问题", "整改任务",
              "任务", "任务名称", "问题描述"),
    "target": ("整改目标", "目标", "整改要求", "整改目标要求"),
    "actions": ("整改措施", "重点措施", "具体整治措施", "整治措施", "主要措施", "具体措施", "整改举措"),
    "lead": ("牵头单位", "牵头部门", "牵头责任单位"),
    "responsible": ("责任单位", "整改实施主体", "实施主体", "责任主体", "整改责任单位", "责任部门"),
    "supporting": ("配合单位", "配合部门", "协同单位", "协办单位"),
    "person": ("责任人", "具体责任人", "整改责任人"),
    "leading_official": ("领办领导", "包案领导", "责任领导", "督办领导"),
    "deadline": ("整改时限", "完成时限", "计划完成整治时间", "整改期限", "完成时间", "计划完成时间",
                 "整改完成时限", "时限要求", "时限"),
    "deadline_date": ("时限日期",),
    "deadline_class": ("整改类型",),
    "progress": ("完成率", "整治进度", "整改进度", "完成进度", "进度"),
    "done": ("是否完成整治", "是否完成", "是否完成整改", "是否办结", "是否整改到位"),
}
# Columns our own export writes that are computed, not imported.
COMPUTED_HEADERS = ("状态", "警示灯", "序时进度", "进展情况", "整改进展情况", "整改进展", "备注")

FIELD_LABELS = {
    "title": "问题", "target": "整改目标", "actions": "整改措施", "deadline": "整改时限(日期)",
    "deadline_text": "整改时限", "deadline_class": "整改类型", "progress": "完成率",
    "leading_official": "领办领导", "lead": "牵头单位", "responsible": "责任单位",
    "supporting": "配合单位", "person": "责任人",
}
_ALIAS_TO_FIELD = {
    unicodedata.normalize("NFKC", alias): key for key, aliases in HEADER_ALIASES.items() for alias in aliases
}
_ROLE_FIELDS = {"lead": TaskUnit.Role.LEAD, "responsible": TaskUnit.Role.RESPONSIBLE,
                "supporting": TaskUnit.Role.SUPPORTING}
_ROLE_ORDER = {TaskUnit.Role.LEAD: 0, TaskUnit.Role.RESPONSIBLE: 1, TaskUnit.Role.SUPPORTING: 2}
_CLASS_LABELS = {
    # The Chinese words officials write, whatever the interface language (labels are translated).
    "立行立改": DeadlineClass.IMMEDIATE, "限期整改": DeadlineClass.BY_DEADLINE,
    "长期整治": DeadlineClass.LONG_TERM, "长期坚持": DeadlineClass.LONG_TERM,
    **{c.value: c.value for c in DeadlineClass},
}


def _header_key(raw: object) -> str:
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"[*※]", "", text)
    return re.sub(r"\((?:%|必填|选填)\)|%", "", text)


# --- Values -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).rstrip(".、")
    if re.fullmatch(r"\d{1,9}", text):
        return int(text)
    raise ValueError


def _percent(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = float(value)
        if 0 < number < 1:
            # 0.5 in a plain number cell: 0.5% or 50%? Not ours to guess.
            raise ValueError
    else:
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
        number = float(text.removesuffix("%"))
    if number != number or not 0 <= number <= 100:
        raise ValueError
    return round(number)


_YES = {"是", "已完成", "完成", "已整改", "√", "Y", "YES", "TRUE", "1"}
_NO = {"否", "未完成", "未整改", "×", "N", "NO", "FALSE", "0"}


def _yes_no(value: object) -> bool:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(value))).upper()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_deadline(value, plan_year=2000, plan_issued=dt.date(2000, 1, 1))
    if parsed.date is None:
        raise DeadlineError(f"无法识别'{_text(value)}'")
    return parsed.date


# --- Units ------------------------------------------------------------------------------------

_UNIT_SEPARATORS = set("、,;/\n\r\t \u3000，；／")
# "寿阳县(市)委", "县(市)政府", "市委", "太原市政府": a place, a level, then 党委 or 政府.
_QUALIFIED = re.compile(
    r"(?P<place>.*?)(?P<level>县\(市[、,]?区?\)|县市区|县\(区\)|市\(县\)|县市|市|县|区)?"
    r"(?P<suffix>党委|人民政府|政府|委)"
)


def _split_units(text: str) -> list[str]:
    """Split on 、 , ; / line breaks and spaces, but never inside parentheses: 县(市、区)委."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "(（":
            depth += 1
        elif char in ")）":
            depth = max(0, depth - 1)
        if depth == 0 and char in _UNIT_SEPARATORS:
            if current:
                tokens.append("".join(current))
            current = []
            continue
        current.append(char)
    if current:
        tokens.append("".join(current))
    return [t.strip("。.") for t in tokens if t.strip("。.")]


def _unit_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class UnitCell:
    units: list[Unit]
    unknown: list[str]
    errors: list[str]
    ordered: list[Unit | str] = field(default_factory=list)  # units and unknown names, as written


class UnitDirectory:
    """Every unit, alias and region, loaded once (three queries) and matched in memory."""

    def __init__(self) -> None:
        self.by_id: dict[int, Unit] = {}
        self.by_code: dict[str, Unit] = {}
        self.by_name: dict[str, Unit] = {}
        for unit in Unit.objects.all():
            self._add(unit)
        for alias, unit_id in UnitAlias.objects.values_list("alias", "unit_id"):
            self.by_name.setdefault(_unit_key(alias), self.by_id[unit_id])
        self.regions: dict[str, list[Region]] = {}
        self.cities: list[Region] = []
        self.counties: list[Region] = []
        for region in Region.objects.filter(level__in=[Region.Level.CITY, Region.Level.COUNTY]):
            (self.cities if region.level == Region.Level.CITY else self.counties).append(region)
            names = {region.name}
            short = re.sub(r"(?:自治县|县|市|区)$", "", region.name)
            if len(short) >= 2:
                names.add(short)
            for name in names:
                self.regions.setdefault(name, []).append(region)
        self._cache: dict[str, UnitCell] = {}

    def _add(self, unit: Unit) -> None:
        self.by_id[unit.pk] = unit
        self.by_code[unit.code] = unit
        for name in (unit.name, unit.full_name):
            if name:
                # A unit's own name wins over another unit's alias.
                self.by_name[_unit_key(name)] = unit

    def add(self, unit: Unit) -> None:
        self._add(unit)
        self._cache.clear()

    def _region(self, place: str, level: str) -> tuple[Region | None, str | None]:
        candidates = self.regions.get(place, [])
        if level.startswith(("县", "区")) or level == "市(县)":
            candidates = [r for r in candidates if r.level == Region.Level.COUNTY] or candidates
        elif level == "市":
            candidates = [r for r in candidates if r.level == Region.Level.CITY] or candidates
        if not candidates:
            return None, None
        if len(candidates) > 1:
            names = "、".join(sorted({r.name for r in candidates}))
            return None, f"'{place}'不明确(可能是{names})"
        return candidates[0], None

    def _region_unit(self, region: Region, suffix: str) -> Unit | None:
        kind = "party" if suffix in {"委", "党委"} else "gov"
        return self.by_code.get(f"{region.code}-{kind}")

    def resolve(self, raw: object) -> UnitCell:
        text = _unit_key(_text(raw)) if not isinstance(raw, str) else unicodedata.normalize("NFKC", raw)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        result = UnitCell([], [], [])
        pending: list[str] = []  # bare places waiting for their 委/政府: "昔阳、和顺、…寿阳县(市)委"
        group: tuple[list[str], str] | None = None

        def add_region_units(places: list[str], level: str, suffix: str) -> None:
            for place in places:
                region, problem = self._region(place, level)
                unit = self._region_unit(region, suffix) if region else None
                if problem:
                    result.errors.append(problem)
                elif unit is None:
                    result.unknown.append(f"{place}{level}{suffix}")
                    result.ordered.append(f"{place}{level}{suffix}")
                else:
                    result.units.append(unit)
                    result.ordered.append(unit)

        for token in _split_units(text):
            token = token.strip()
            unit = self.by_name.get(_unit_key(token))
            match = _QUALIFIED.fullmatch(token)
            if unit is not None and not pending:
                result.units.append(unit)
                result.ordered.append(unit)
                # "太原市委、市政府": the next bare "市政府" belongs to the same place.
                group = None
                if match and match["place"] and self.regions.get(match["place"]):
                    group = ([match["place"]], match["level"] or "")
                continue
            if match:
                place, level, suffix = match["place"], match["level"] or "", match["suffix"]
                if place in {"各", "各个"}:
                    regions = self.counties if level.startswith(("县", "区")) else self.cities
                    for region in regions:
                        found = self._region_unit(region, suffix)
                        if found:
                            result.units.append(found)
                            result.ordered.append(found)
                    continue
                if place:
                    places = [*pending, place]
                    pending, group = [], (places, level)
                elif group is not None:
                    places, level = group[0], level or group[1]
                elif pending:
                    places, pending = pending, []
                    group = (places, level)
                else:
                    result.unknown.append(token)
                    result.ordered.append(token)
                    continue
                add_region_units(places, level, suffix)
                continue
            if self.regions.get(token):
                pending.append(token)
                continue
            result.unknown.extend(pending)
            result.ordered.extend(pending)
            pending, group = [], None
            result.unknown.append(token)
            result.ordered.append(token)
        for place in pending:
            result.errors.append(f"'{place}'未写明是党委还是政府")
        seen: set[int] = set()
        unique = []
        for unit in result.units:
            key = id(unit) if unit.pk is None else unit.pk
            if key not in seen:
                seen.add(key)
                unique.append(unit)
        result.units = unique
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[text] = result
        return result


# --- Reading files ----------------------------------------------------------------------------

_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGE_TAG = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3}\d+):([A-Z]{1,3}\d+)"')
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


@dataclass
class SheetScan:
    has_formulas: bool = False
    merges: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class LedgerSource:
    """A checked file: its kind, where it is, its digest and what the safety scan found."""

    path: Path
    name: str
    kind: str  # "xlsx" or "csv"
    sha256: str
    size: int
    encoding: str = ""
    sheets: dict[str, SheetScan] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _zip_message(refused: ZipRefused, count_cap: int, cap: int) -> str:
    match refused.problem:
        case ZipProblem.NOT_A_ZIP:
            return "文件损坏:不是有效的xlsx(zip)文件。"
        case ZipProblem.TOO_MANY_ENTRIES:
            return f"xlsx文件包含{refused.count}个内部文件,超过上限{count_cap}个,拒绝打开。"
        case ZipProblem.TOO_BIG_UNPACKED | ZipProblem.RATIO:
            return f"xlsx文件解压后超过{cap // (1024 * 1024)}MB,拒绝打开。"
        case ZipProblem.ENCRYPTED:
            return "xlsx文件内部已加密,无法检查:请在Excel中取消加密后另存为.xlsx再导入。"
        case ZipProblem.UNSAFE_NAME:
            return f"xlsx文件内部含有不安全的路径“{refused.entry}”,拒绝打开。"
        case ZipProblem.XML_DTD:
            return f"xlsx文件含有不安全的XML(“{refused.entry}”中有文档类型声明,可能是XML炸弹),拒绝导入。"
    return f"文件损坏,无法解压:{refused.detail}"


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _scan_zip(path: Path) -> dict[str, SheetScan]:
    """Check an xlsx before openpyxl sees it: entry count, real uncompressed size, structure,
    no DTD in its XML (rectify.uploads); note the sheets' formulas and merged cells on the way."""
    limits = ZipLimits(max_entries=max_zip_entries(), max_unpacked=max_uncompressed_bytes())
    try:
        with path.open("rb") as fh:
            infos = zip_entries(fh, limits)
            names = {info.filename for info in infos}
            if CONTENT_TYPES_PART not in names or "xl/workbook.xml" not in names:
                raise LedgerFileError("不是有效的xlsx文件:缺少[Content_Types].xml或工作簿。请用Excel另存为.xlsx后再导入。")
            sheets = {name: SheetScan() for name in names if _is_sheet(name)}
            current, tail = "", b""
            for info, chunk in zip_unpack(fh, infos, limits, chunk_size=1 << 20):
                scan = sheets.get(info.filename)
                if scan is None:
                    continue
                if info.filename != current:
                    current, tail = info.filename, b""
                window = tail + chunk
                if not scan.has_formulas and _FORMULA_TAG.search(window):
                    scan.has_formulas = True
                scan.merges.update((a.decode(), b.decode()) for a, b in _MERGE_TAG.findall(window))
                tail = chunk[-200:]
    except ZipRefused as refused:
        raise LedgerFileError(_zip_message(refused, limits.max_entries, limits.max_unpacked)) from None
    except OSError:
        raise LedgerFileError("文件损坏:不是有效的xlsx(zip)文件。") from None
    return sheets


def _detect_csv_encoding(path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    if b"\x00" in chunk:
                        raise LedgerFileError("文件不是文本,也不是xlsx:无法导入。")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise LedgerFileError("CSV文件的编码无法识别:请保存为UTF-8或GBK编码。")


def ledger_source_open(path: Path | str, *, name: str | None = None) -> LedgerSource:
    """Accept a file by its content, not its name: an xlsx (zip with [Content_Types].xml) or
    a csv (text in UTF-8 or GB18030). Raises LedgerFileError with a Chinese message."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise LedgerFileError("文件为空。")
    if size > max_upload_bytes():
        raise LedgerFileError(f"文件大小{size / 1048576:.1f}MB,超过上限{max_upload_bytes() // 1048576}MB。")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    source = LedgerSource(path=path, name=name or path.name, kind="", sha256=_sha256(path), size=size)
    sniffed = sniff(head)
    if sniffed == "zip":
        source.kind = "xlsx"
        source.sheets = _scan_zip(path)
    elif sniffed == "ole2":
        raise LedgerFileError("这是旧版.xls文件:请在Excel中另存为.xlsx后再导入。")
    elif head.startswith(b"PK"):
        raise LedgerFileError("不是有效的xlsx文件。")
    else:
        source.kind = "csv"
        source.encoding = _detect_csv_encoding(path)
    return source


def _col_index(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _parse_ref(ref: str) -> tuple[int, int]:
    match = _CELL_REF.fullmatch(ref)
    if not match:
        raise ValueError(ref)
    return int(match[2]), _col_index(match[1])


def _fill_merges(rows: Iterator[list[Any]], merges: set[tuple[str, str]]) -> Iterator[tuple[int, list[Any]]]:
    """Give every cell of a merged range the value of its top-left cell, row by row."""
    ranges = sorted(
        (*_parse_ref(a), *_parse_ref(b)) for a, b in merges
    )  # (min_row, min_col, max_row, max_col)
    pointer = 0
    active: list[tuple[int, int, int, int, Any]] = []
    for line, values in enumerate(rows, start=1):
        while pointer < len(ranges) and ranges[pointer][0] == line:
            r0, c0, r1, c1 = ranges[pointer]
            value = values[c0 - 1] if c0 - 1 < len(values) else None
            active.append((r0, c0, r1, c1, value))
            pointer += 1
        while pointer < len(ranges) and ranges[pointer][0] < line:
            pointer += 1  # a range starting on a row the sheet never wrote
        if active:
            active = [a for a in active if a[2] >= line]
            for _r0, c0, _r1, c1, value in active:
                if len(values) < c1:
                    values = values + [None] * (c1 - len(values))
                for col in range(c0, c1 + 1):
                    values[col - 1] = value
        yield line, values


def _load_workbook(handle: Any, *, data_only: bool) -> Any:
    """openpyxl's read-only workbook, minus its sizing pass.

    openpyxl sizes each read-only sheet from its <dimension> element; a sheet without one
    (anything openpyxl's write-only mode saved, our own exports included) is parsed once in
    full just to find out. The importer reads every row anyway and never trusts that size, so
    its sheets skip the pass.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class UnsizedSheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            pass

    class Reader(ExcelReader):
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                    continue
                ws = UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)

    reader = Reader(handle, read_only=True, data_only=data_only)
    reader.read()
    return reader.wb


def _xlsx_rows(source: LedgerSource) -> tuple[Iterator[tuple[int, list[Any]]], dict[tuple[int, int], str], Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about data validation and styles it drops
        # A file object: openpyxl would refuse a path by its extension; we go by content.
        handle = source.path.open("rb")
        try:
            wb = _load_workbook(handle, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a malformed package
            handle.close()
            raise LedgerFileError(f"xlsx文件无法打开:{exc.__class__.__name__}") from None
    try:
        sheet = _choose_sheet(wb)
    except Exception:
        wb.close()
        handle.close()
        raise
    sheet_path = getattr(sheet, "_worksheet_path", "").lstrip("/")
    scan = source.sheets.get(sheet_path, SheetScan())
    formula_cells: dict[tuple[int, int], str] = {}
    if scan.has_formulas:
        # A second read, only for files that have formulas: where are they, and what are they?
        formulas_wb = _load_workbook(handle, data_only=False)
        formulas_ws = formulas_wb[sheet.title]
        formulas_ws.reset_dimensions()
        for r, row in enumerate(formulas_ws.iter_rows(values_only=True), start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, str) and value.startswith("="):
                    formula_cells[(r, c)] = value
                elif value is not None and value.__class__.__name__ in {"ArrayFormula", "DataTableFormula"}:
                    formula_cells[(r, c)] = "=" + str(getattr(value, "text", "") or "")
        formulas_wb.close()
    sheet.reset_dimensions()

    def values() -> Iterator[list[Any]]:
        for row in sheet.iter_rows():
            out = []
            for cell in row:
                value = cell.value
                if isinstance(value, int | float) and not isinstance(value, bool):
                    fmt = getattr(cell, "number_format", "") or ""
                    if "%" in fmt and '"%"' not in fmt:
                        value = f"{value * 100:g}%"  # a real percentage cell: 0.3 means 30%
                out.append(value)
            yield out

    rows = _fill_merges(values(), scan.merges) if scan.merges else enumerate(values(), start=1)

    def close() -> None:
        wb.close()
        handle.close()

    return rows, formula_cells, close


def _choose_sheet(wb: Any) -> Any:
    """The first sheet whose first rows hold a recognizable ledger header."""
    for ws in wb.worksheets:
        if not hasattr(ws, "iter_rows"):
            continue
        ws.reset_dimensions()
        for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True):
            keys = {_ALIAS_TO_FIELD.get(_header_key(v)) for v in row if v is not None}
            if {"number", "title"} <= keys:
                return ws
    return wb.worksheets[0]


def _csv_rows(source: LedgerSource) -> tuple[Iterator[tuple[int, list[Any]]], dict, Any]:
    fh = source.path.open(encoding=source.encoding, newline="")
    sample = fh.read(8192)
    fh.seek(0)
    first_line = sample.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(fh, delimiter=delimiter)
    return enumerate((list(r) for r in reader), start=1), {}, fh.close


# --- Import -----------------------------------------------------------------------------------


@dataclass(slots=True)
class RowOutcome:
    line: int
    number: int | None
    kind: str  # new, changed, unchanged, error, skipped
    fields: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return {"new": "新增", "changed": "修改", "unchanged": "无变化", "error": "错误",
                "skipped": "跳过"}[self.kind]


class RowLog:
    """Every row's outcome, kept compactly: a 100,000-row preview costs about a megabyte.

    Reads like a list of RowOutcome (len, index, slice, iteration); only rows with changed
    fields or messages keep more than a line number, a task number and a kind.
    """

    KINDS = ("new", "changed", "unchanged", "error", "skipped")

    def __init__(self) -> None:
        self._lines = array("q")
        self._numbers = array("q")  # -1: no number
        self._kinds = bytearray()
        self._details: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def append(self, outcome: RowOutcome) -> None:
        if outcome.fields or outcome.messages:
            self._details[len(self._kinds)] = (outcome.fields, outcome.messages)
        self._lines.append(outcome.line)
        self._numbers.append(-1 if outcome.number is None else outcome.number)
        self._kinds.append(self.KINDS.index(outcome.kind))

    def __len__(self) -> int:
        return len(self._kinds)

    def _get(self, index: int) -> RowOutcome:
        number = self._numbers[index]
        fields, messages = self._details.get(index, ((), ()))
        return RowOutcome(self._lines[index], None if number < 0 else number, self.KINDS[self._kinds[index]],
                          fields, messages)

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            return [self._get(i) for i in range(*key.indices(len(self)))]
        return self._get(range(len(self))[key])

    def __iter__(self) -> Iterator[RowOutcome]:
        return (self._get(i) for i in range(len(self)))

    def line_of(self, number: int) -> int | None:
        try:
            return self._lines[self._numbers.index(number)]
        except ValueError:
            return None


class _SeenNumbers:
    """Task numbers met so far: a bitmap for ordinary numbers, a set beyond."""

    BITMAP_LIMIT = 1 << 24

    def __init__(self) -> None:
        self._bits = bytearray()
        self._large: set[int] = set()

    def add(self, number: int) -> bool:
        """Record `number`; False if it was already there."""
        if number >= self.BITMAP_LIMIT:
            if number in self._large:
                return False
            self._large.add(number)
            return True
        byte, bit = divmod(number, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        if self._bits[byte] & (1 << bit):
            return False
        self._bits[byte] |= 1 << bit
        return True


@dataclass
class LedgerImportResult:
    source_name: str
    sha256: str
    plan_code: str
    dry_run: bool
    rows: RowLog = field(default_factory=RowLog)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field key → header in the file
    ignored_columns: list[str] = field(default_factory=list)
    unknown_units: dict[str, list[int]] = field(default_factory=dict)
    created_units: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    digest: str = ""
    applied: bool = False
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def change_count(self) -> int:
        return self.counts["new"] + self.counts["changed"]

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)
        elif len(self.errors) == MAX_REPORTED_ERRORS:
            self.errors.append("……错误过多,其余未列出。")

    def summary(self) -> str:
        c = self.counts
        return (f"新增{c['new']}行,修改{c['changed']}行,无变化{c['unchanged']}行,"
                f"错误{c['error']}行,跳过{c['skipped']}行")


@dataclass
class _Row:
    line: int
    number: int
    values: dict[str, Any]  # task fields from the file
    units: dict[str, list[Unit]]  # role field → units, for role columns in the file
    persons: list[tuple[Unit | None, str]] | None  # (unit or None for positional, person)
    messages: list[str]


class _Rollback(Exception):
    pass


_UNREADABLE: tuple[type[Exception], ...] = (
    DefusedXmlException, ParseError, zipfile.BadZipFile, KeyError, EOFError,
)


class LedgerImporter:
    def __init__(self, *, source: LedgerSource, plan: Plan, actor: User | None, dry_run: bool,
                 create_units: bool, expected_digest: str | None = None) -> None:
        self.source, self.plan, self.actor = source, plan, actor
        self.dry_run, self.create_units, self.expected_digest = dry_run, create_units, expected_digest
        self.result = LedgerImportResult(source.name, source.sha256, plan.code, dry_run)
        self.directory = UnitDirectory()
        self.planned_units: dict[str, Unit] = {}  # unknown names to create, by name
        self.seen_numbers = _SeenNumbers()
        self._buffer: list[_Row | RowOutcome] = []
        self.digest = hashlib.sha256(source.sha256.encode())
        self.now = timezone.now()
        self.note = f"导入台账:{source.name}"[:200]
        self.columns: dict[int, str] = {}  # column index (0-based) → field key
        self.headers: dict[str, str] = {}  # field key → header text in the file
        self.formula_cells: dict[tuple[int, int], str] = {}
        self.lead_from_responsible = False

    # -- orchestration --

    def run(self) -> LedgerImportResult:
        try:
            return self._run()
        except _UNREADABLE as exc:
            # _scan_zip refused DTDs already; defusedxml (entities) is the second line against
            # XML bombs, and openpyxl raises on broken parts.
            raise LedgerFileError(f"xlsx文件内容损坏或含有不安全的XML,拒绝导入({exc.__class__.__name__})。") from None

    def _run(self) -> LedgerImportResult:
        if self.source.kind == "xlsx":
            rows, self.formula_cells, close = _xlsx_rows(self.source)
        else:
            rows, self.formula_cells, close = _csv_rows(self.source)
        try:
            if self.dry_run:
                self._process(rows)
            else:
                try:
                    with transaction.atomic():
                        self._process(rows)
                        if not self.result.ok:
                            raise _Rollback
                        if self.expected_digest is not None and self.result.digest != self.expected_digest:
                            self.result.add_error("预览之后台账或单位已被修改,本次导入未执行:请重新上传并预览。")
                            raise _Rollback
                        self.result.applied = True
                except _Rollback:
                    self.result.created_units = []
                except IntegrityError:
                    self.result.add_error("导入期间台账被他人修改(序号冲突),本次导入未执行:请重新预览。")
                    self.result.applied = False
        except UnicodeDecodeError:
            raise LedgerFileError("文件编码无法识别。") from None
        finally:
            close()
        return self.result

    def _process(self, rows: Iterator[tuple[int, list[Any]]]) -> None:
        header_line = self._find_header(rows)
        if header_line is None:
            return
        self.tasks_before = Task.objects.filter(plan=self.plan).count()
        self.tasks_matched = 0
        self._buffer = []
        for line, values in rows:
            item = self._parse_row(line, values)
            if item is None:
                continue
            self._buffer.append(item)
            if len(self._buffer) >= IMPORT_CHUNK_SIZE:
                self._process_chunk(self._buffer)
                self._buffer = []
        if self._buffer:
            self._process_chunk(self._buffer)
            self._buffer = []
        self._finish()

    def _find_header(self, rows: Iterator[tuple[int, list[Any]]]) -> int | None:
        for line, values in rows:
            keys = [_ALIAS_TO_FIELD.get(_header_key(v)) if not _is_blank(v) else None for v in values]
            if {"number", "title"} <= set(keys):
                self._set_columns(values, keys)
                return line
            if line >= HEADER_SEARCH_ROWS:
                break
        self.result.add_error(
            "找不到表头:前20行中需要有“序号”和“问题”(或“整改问题”“问题具体情况”)等列。"
        )
        return None

    def _set_columns(self, values: list[Any], keys: list[str | None]) -> None:
        for index, (raw, key) in enumerate(zip(values, keys, strict=True)):
            if _is_blank(raw):
                continue
            header = re.sub(r"\s+", "", str(raw))
            if key is None:
                label = "系统计算的列" if _header_key(raw) in COMPUTED_HEADERS else "未识别的列"
                self.result.ignored_columns.append(f"{header}({label},已忽略)")
            elif key in self.headers:
                self.result.ignored_columns.append(f"{header}(与“{self.headers[key]}”重复,已忽略)")
            else:
                self.columns[index] = key
                self.headers[key] = header
        self.result.columns = dict(self.headers)
        if "lead" not in self.headers and "responsible" in self.headers:
            self.lead_from_responsible = True
            self.result.notices.append("文件没有“牵头单位”列:新任务以责任单位中的第一个为牵头单位。")

    # -- one row --

    def _cell_error(self, line: int, key: str, message: str) -> str:
        return f"第{line}行 {self.headers.get(key, FIELD_LABELS.get(key, key))}: {message}"

    def _parse_row(self, line: int, values: list[Any]) -> _Row | RowOutcome | None:
        cells: dict[str, Any] = {}
        for index, key in self.columns.items():
            value = values[index] if index < len(values) else None
            formula = self.formula_cells.get((line, index + 1))
            if formula is not None:
                if value is None:
                    return RowOutcome(line, None, "error", (), (self._cell_error(
                        line, key, f"公式{formula[:40]}没有保存计算结果,请在Excel中打开并保存后再导入"),))
                self.result.notices.append(self._cell_error(line, key, f"是公式{formula[:40]},已导入其计算结果"))
            cells[key] = value
        if all(_is_blank(v) for v in cells.values()):
            return None  # a blank row
        messages: list[str] = []
        raw_number = cells.get("number")
        try:
            number = _integer(raw_number)
            if number < 1:
                raise ValueError
        except (ValueError, TypeError):
            keys = {_ALIAS_TO_FIELD.get(_header_key(v)) for v in cells.values() if not _is_blank(v)}
            if {"number", "title"} <= keys:
                # The header again: a two-row header filled by its merged cells, or a repeated one.
                return RowOutcome(line, None, "skipped", (), (f"第{line}行: 重复的表头行,已跳过",))
            distinct = {_text(v) for v in values if not _is_blank(v)}
            if len(distinct) == 1 or _is_blank(raw_number) and len(distinct) <= 1:
                # A heading row such as "一、产业结构问题" merged across the sheet.
                return RowOutcome(line, None, "skipped", (), (f"第{line}行: 分组标题行“{next(iter(distinct))[:30]}”,已跳过",))
            reason = "序号为空" if _is_blank(raw_number) else f"无法识别'{_text(raw_number)}'"
            return RowOutcome(line, None, "error", (), (self._cell_error(line, "number", reason),))
        if not self.seen_numbers.add(number):
            first = self.result.rows.line_of(number)
            if first is None:  # the first row with this number is still in the unprocessed chunk
                first = next((i.line for i in self._buffer if i.number == number), None)
            return RowOutcome(line, number, "error", (), (self._cell_error(
                line, "number", f"序号{number}与第{first}行重复"),))

        row = _Row(line, number, {}, {}, None, messages)
        for key in ("title", "target", "actions", "leading_official"):
            if key in cells:
                row.values[key] = _text(cells[key])
        if "title" in row.values and not row.values["title"]:
            messages.append(self._cell_error(line, "title", "不能为空"))
        if "deadline" in self.headers:
            self._parse_deadline(row, cells)
        if "progress" in cells and not _is_blank(cells["progress"]):
            try:
                row.values["progress"] = _percent(cells["progress"])
            except (ValueError, TypeError):
                messages.append(self._cell_error(line, "progress", f"'{_text(cells['progress'])}'不是0到100之间的百分数"))
        if "done" in cells and not _is_blank(cells["done"]):
            try:
                done = _yes_no(cells["done"])
            except ValueError:
                messages.append(self._cell_error(line, "done", f"'{_text(cells['done'])}'应为“是”或“否”"))
            else:
                progress = row.values.get("progress")
                if done and progress not in (None, 100):
                    messages.append(self._cell_error(line, "done", f"为“是”,但完成率为{progress}%"))
                elif not done and progress == 100:
                    messages.append(self._cell_error(line, "done", "为“否”,但完成率为100%"))
                elif done:
                    row.values["progress"] = 100
        for key in _ROLE_FIELDS:
            if key in cells:
                row.units[key] = self._units(line, key, cells[key], messages)
        if "lead" in row.units and len(row.units["lead"]) > 1:
            names = "、".join(u.name for u in row.units["lead"])
            messages.append(self._cell_error(line, "lead", f"只能有一个牵头单位,现有:{names}"))
        if "person" in cells:
            row.persons = self._persons(line, cells["person"], messages)
        if messages:
            return RowOutcome(line, number, "error", (), tuple(messages))
        return row

    def _parse_deadline(self, row: _Row, cells: dict[str, Any]) -> None:
        line, raw = row.line, cells.get("deadline")
        date_cell = cells.get("deadline_date")
        explicit_date: dt.date | None = None
        if not _is_blank(date_cell):
            try:
                explicit_date = _as_date(date_cell)
            except DeadlineError as exc:
                row.messages.append(self._cell_error(line, "deadline_date", str(exc)))
                return
        try:
            parsed = parse_deadline(raw, plan_year=self.plan.issued_on.year, plan_issued=self.plan.issued_on)
            day, klass, text = parsed.date, parsed.deadline_class, parsed.text
        except DeadlineError as exc:
            if explicit_date is None or not _is_blank(raw):
                row.messages.append(self._cell_error(line, "deadline", str(exc)))
                return
            day, klass, text = explicit_date, DeadlineClass.BY_DEADLINE, format_deadline(explicit_date)
        if explicit_date is not None:
            day = explicit_date  # an approved extension: the date column wins, the wording stays
        class_cell = cells.get("deadline_class")
        if not _is_blank(class_cell):
            label = re.sub(r"\s+", "", _text(class_cell))
            if label not in _CLASS_LABELS:
                row.messages.append(self._cell_error(line, "deadline_class", f"无法识别'{label}'"))
                return
            klass = DeadlineClass(_CLASS_LABELS[label])
        if klass == DeadlineClass.BY_DEADLINE and day is None:
            row.messages.append(self._cell_error(line, "deadline", "限期整改的任务必须有日期"))
            return
        row.values.update(deadline=day, deadline_text=text, deadline_class=klass.value)

    def _units(self, line: int, key: str, raw: object, messages: list[str]) -> list[Unit]:
        if _is_blank(raw):
            return []
        cell = self.directory.resolve(raw if isinstance(raw, str) else _text(raw))
        messages.extend(self._cell_error(line, key, problem) for problem in cell.errors)
        units: list[Unit] = []
        seen: set[str] = set()
        # In the cell's own order, so a preview and its apply (where the unit then exists) agree.
        for item in cell.ordered:
            if isinstance(item, Unit):
                if item.code not in seen:
                    seen.add(item.code)
                    units.append(item)
                continue
            self.result.unknown_units.setdefault(item, []).append(line)
            if self.create_units and len(item) <= 60:
                planned = self._planned_unit(item)
                if planned.code not in seen:
                    seen.add(planned.code)
                    units.append(planned)
            else:
                reason = "单位名称过长" if len(item) > 60 else "未知单位"
                messages.append(self._cell_error(line, key, f"{reason}'{item}'"))
        return units

    def _planned_unit(self, name: str) -> Unit:
        unit = self.planned_units.get(name)
        if unit is None:
            region = self.plan.region or Region.objects.filter(level=Region.Level.PROVINCE).first()
            code = "import-" + hashlib.sha256(name.encode()).hexdigest()[:12]
            unit = Unit(code=code, name=name, full_name=name, kind=Unit.Kind.OTHER, region=region)
            self.planned_units[name] = unit
        return unit

    def _persons(self, line: int, raw: object, messages: list[str]) -> list[tuple[Unit | None, str]]:
        """责任人: "单位:责任人" per line, or plain names (one → the lead unit; as many as units → in order)."""
        persons: list[tuple[Unit | None, str]] = []
        for piece in re.split(r"[\n;；]+", _text(raw)):
            piece = piece.strip()
            if not piece:
                continue
            unit_part, sep, person = piece.partition(":") if ":" in piece else piece.partition("：")
            if not sep:
                persons.append((None, piece))
                continue
            cell = self.directory.resolve(unit_part.strip())
            if len(cell.units) != 1 or cell.unknown or cell.errors:
                messages.append(self._cell_error(line, "person", f"无法识别单位'{unit_part.strip()}'"))
                continue
            persons.append((cell.units[0], person.strip()))
        return persons

    # -- chunks --

    def _process_chunk(self, items: list[_Row | RowOutcome]) -> None:
        numbers = [item.number for item in items if isinstance(item, _Row)]
        existing_qs = Task.objects.filter(plan=self.plan, number__in=numbers)
        if not self.dry_run:
            existing_qs = existing_qs.select_for_update()
        existing = {t.number: t for t in existing_qs}
        self.tasks_matched += len(existing)
        unit_rows: dict[int, dict[int, tuple[str, str]]] = {t.pk: {} for t in existing.values()}
        for task_id, unit_id, role, person in TaskUnit.objects.filter(task_id__in=list(unit_rows)).values_list(
            "task_id", "unit_id", "role", "responsible_person"
        ):
            unit_rows[task_id][unit_id] = (role, person)

        new_tasks: list[tuple[Task, list[tuple[Unit, str, str]]]] = []
        changed: list[tuple[Task, dict[str, tuple[Any, Any]], list[tuple[Unit, str, str]] | None, dict]] = []
        for item in items:
            if isinstance(item, RowOutcome):
                self._record(item)
                continue
            task = existing.get(item.number)
            outcome = self._diff(item, task, unit_rows.get(task.pk, {}) if task else {})
            if outcome is None:
                continue
            kind, payload = outcome
            if kind == "new":
                new_tasks.append(payload)
            elif kind == "changed":
                changed.append(payload)
        if not self.dry_run and self.result.ok:
            self._write(new_tasks, changed)

    def _desired_units(self, row: _Row, current: dict[int, tuple[str, str]]) -> tuple[list[tuple[Unit, str, str]], list[str]]:
        problems: list[str] = []
        by_role: dict[str, list[Unit]] = {}
        for key, role in _ROLE_FIELDS.items():
            if key in row.units:
                by_role[role] = row.units[key]
            else:
                by_role[role] = [self.directory.by_id[uid] for uid, (r, _) in current.items() if r == role]
        if self.lead_from_responsible and not current and not by_role[TaskUnit.Role.LEAD] and by_role[TaskUnit.Role.RESPONSIBLE]:
            by_role[TaskUnit.Role.LEAD] = by_role[TaskUnit.Role.RESPONSIBLE][:1]
        desired: list[tuple[Unit, str]] = []
        seen: set[object] = set()
        for role in (TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE, TaskUnit.Role.SUPPORTING):
            for unit in by_role[role]:
                key = unit.pk if unit.pk is not None else ("new", unit.name)
                if key not in seen:  # a lead unit listed again among the responsible ones
                    seen.add(key)
                    desired.append((unit, role))
        if not any(role == TaskUnit.Role.LEAD for _, role in desired):
            problems.append(self._cell_error(row.line, "lead", "缺少牵头单位"))
        persons: dict[object, str] = {}
        if row.persons is None:
            persons = {uid: person for uid, (_, person) in current.items()}
        else:
            plain = [p for u, p in row.persons if u is None]
            paired = [(u, p) for u, p in row.persons if u is not None]
            keys = [u.pk if u.pk is not None else ("new", u.name) for u, _ in desired]
            for unit, person in paired:
                if unit.pk not in keys:
                    problems.append(self._cell_error(row.line, "person", f"{unit.name}不是该任务的单位"))
                else:
                    persons[unit.pk] = person
            if plain:
                if paired:
                    problems.append(self._cell_error(row.line, "person", "请统一写成“单位:责任人”"))
                elif len(plain) == 1:
                    lead = next((k for k, (_, r) in zip(keys, desired, strict=True) if r == TaskUnit.Role.LEAD), None)
                    persons[lead] = plain[0]
                elif len(plain) == len(desired):
                    persons.update(zip(keys, plain, strict=True))
                else:
                    problems.append(self._cell_error(
                        row.line, "person", f"{len(plain)}个责任人对应不上{len(desired)}个单位,请写成“单位:责任人”"))
        result = [
            (unit, role, persons.get(unit.pk if unit.pk is not None else ("new", unit.name), "")[:100])
            for unit, role in desired
        ]
        return result, problems

    def _diff(self, row: _Row, task: Task | None, current_units: dict[int, tuple[str, str]]):
        if row.units or row.persons is not None or task is None:
            desired, problems = self._desired_units(row, current_units)
        else:
            desired, problems = [], []
        if task is None:
            missing = [FIELD_LABELS[k] for k in ("title",) if k not in row.values]
            if "deadline" not in row.values:
                missing.append("整改时限")
            for label in missing:
                problems.append(f"第{row.line}行: 新任务缺少“{label}”")
            candidate = Task(plan=self.plan, number=row.number, **row.values)
            problems.extend(self._validate(row.line, candidate))
            if problems:
                self._record(RowOutcome(row.line, row.number, "error", (), tuple(problems)))
                return None
            self._record(RowOutcome(row.line, row.number, "new", ()), self._row_digest(row.values, desired, None))
            return "new", (candidate, desired)

        field_changes: dict[str, tuple[Any, Any]] = {}
        for name, value in row.values.items():
            old = getattr(task, name)
            if old != value:
                field_changes[name] = (old, value)
        unit_changes: dict[str, tuple[str, str]] = {}
        labels = [FIELD_LABELS[n] for n in field_changes if n in FIELD_LABELS]
        if desired:
            before = {uid: v for uid, v in current_units.items()}
            after = {(u.pk if u.pk is not None else ("new", u.name)): (role, person) for u, role, person in desired}
            if before != after:
                for key in sorted(set(before) | set(after), key=str):
                    unit = self.directory.by_id.get(key) if isinstance(key, int) else self.planned_units[key[1]]
                    old = self._unit_display(unit, before.get(key))
                    new = self._unit_display(unit, after.get(key))
                    if old != new:
                        unit_changes[f"unit:{unit.code}"] = (old, new)
                for key, role in _ROLE_FIELDS.items():
                    if {k for k, v in before.items() if v[0] == role} != {k for k, v in after.items() if v[0] == role}:
                        labels.append(FIELD_LABELS[key])
                if any(before[k][1] != after[k][1] for k in set(before) & set(after)):
                    labels.append(FIELD_LABELS["person"])
        if field_changes:
            candidate = Task(**{f.attname: getattr(task, f.attname) for f in Task._meta.concrete_fields})
            for name, (_, value) in field_changes.items():
                setattr(candidate, name, value)
            problems.extend(self._validate(row.line, candidate))
        if problems:
            self._record(RowOutcome(row.line, row.number, "error", (), tuple(problems)))
            return None
        if not field_changes and not unit_changes:
            self._record(RowOutcome(row.line, row.number, "unchanged"), f"{row.number}:{task.version}")
            return None
        self._record(
            RowOutcome(row.line, row.number, "changed", tuple(dict.fromkeys(labels))),
            f"{task.version}:" + self._row_digest(row.values, desired, field_changes),
        )
        return "changed", (task, field_changes, desired if unit_changes else None, unit_changes)

    @staticmethod
    def _unit_display(unit: Unit, value: tuple[str, str] | None) -> str:
        if value is None:
            return ""
        role, person = value
        return f"{unit.name}|{TaskUnit.Role(role).label}|{person}"

    def _validate(self, line: int, task: Task) -> list[str]:
        try:
            # Field checks only: the plan exists, and the FK checks would cost a query per row.
            task.clean_fields(exclude=["plan", "measure", "problem", "version"])
        except ValidationError as exc:
            return [
                self._cell_error(line, _FIELD_TO_KEY.get(name, name), "; ".join(messages))
                for name, messages in exc.message_dict.items()
            ]
        return []

    def _row_digest(self, values: dict[str, Any], desired: list[tuple[Unit, str, str]], changes) -> str:
        units = [(u.code, r, p) for u, r, p in desired]  # a code is stable before and after creation
        return repr((sorted((k, change_display(v)) for k, v in values.items()), units, sorted(changes or {})))

    def _record(self, outcome: RowOutcome, digest_part: str | None = None) -> None:
        self.result.rows.append(outcome)
        self.result.counts[outcome.kind] += 1
        if outcome.kind == "error":
            for message in outcome.messages:
                self.result.add_error(message)
        elif outcome.kind == "skipped":
            self.result.notices.extend(outcome.messages)
        self.digest.update(f"{outcome.line}|{outcome.number}|{outcome.kind}|{digest_part or ''}\n".encode())

    # -- writing --

    def _ensure_units(self, specs: list[tuple[Unit, str, str]]) -> None:
        for unit, _, _ in specs:
            if unit.pk is None:
                unit.full_clean(validate_unique=False)
                existing = Unit.objects.filter(code=unit.code).first()
                if existing is not None:
                    unit.pk = existing.pk
                else:
                    unit.save()
                    self.result.created_units.append(unit.name)
                self.directory.add(unit)

    def _change(self, task_id: int, subject: str, name: str, old: str, new: str) -> tuple:
        return (task_id, self.actor.pk if self.actor else None, self.now, subject, name, old, new, self.note)

    def _write(self, new_tasks, changed) -> None:
        changes: list[tuple] = []
        task_units: list[tuple] = []
        if new_tasks:
            for _, specs in new_tasks:
                self._ensure_units(specs)
            created = Task.objects.bulk_create([task for task, _ in new_tasks])
            for task, (_, specs) in zip(created, new_tasks, strict=True):
                task_units.extend(
                    (task.pk, unit.pk, role, person, i) for i, (unit, role, person) in enumerate(specs)
                )
                changes.append(self._change(task.pk, "task", "created", "", str(task)))
        if changed:
            update_fields: set[str] = {"version", "updated_at"}
            relinked: list[int] = []
            for task, field_changes, desired, unit_changes in changed:
                for name, (old, new) in field_changes.items():
                    setattr(task, name, new)
                    update_fields.add(name)
                    changes.append(self._change(task.pk, "task", name, change_display(old), change_display(new)))
                for key, (old, new) in unit_changes.items():
                    changes.append(self._change(task.pk, "units", key, old, new))
                task.version += 1
                task.updated_at = self.now
                if desired is not None:
                    self._ensure_units(desired)
                    relinked.append(task.pk)
                    task_units.extend(
                        (task.pk, unit.pk, role, person, i) for i, (unit, role, person) in enumerate(desired)
                    )
            Task.objects.bulk_update([c[0] for c in changed], sorted(update_fields))
            if relinked:
                TaskUnit.objects.filter(task_id__in=relinked).delete()
        _bulk_insert(TaskUnit, ("task", "unit", "role", "responsible_person", "position"), task_units)
        _bulk_insert(TaskChange, ("task", "actor", "at", "subject", "field", "old", "new", "note"), changes)

    def _finish(self) -> None:
        absent = self.tasks_before - self.tasks_matched
        if absent > 0:
            self.result.notices.append(f"台账中另有{absent}项任务不在本文件中:导入不会改动或删除它们。")
        if self.create_units:
            names = sorted(self.planned_units)
            if names:
                self.result.notices.append(f"将新建单位{len(names)}个:" + "、".join(names[:50]))
        elif self.result.unknown_units:
            parts = [
                f"{name}(第{'、'.join(str(n) for n in lines[:5])}{'等' if len(lines) > 5 else ''}行)"
                for name, lines in sorted(self.result.unknown_units.items())
            ]
            self.result.errors.insert(
                0, f"未知单位{len(parts)}个:" + ";".join(parts[:100])
                + "。请先在单位或单位别名中添加,或选择“新建未知单位”。"
            )
        self.result.digest = self.digest.hexdigest()


def _bulk_insert(model: type[Model], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows at once: COPY on PostgreSQL (nothing compiled per value), else bulk_create.

    The table and column names come from the model, never from the file; the values travel
    through the COPY protocol as data.
    """
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    attnames = [meta.get_field(name).attname for name in fields]
    model._default_manager.bulk_create(
        [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=2000
    )


_FIELD_TO_KEY = {"deadline_text": "deadline", "deadline": "deadline", "deadline_class": "deadline"}


def ledger_import(
    *, source: LedgerSource, plan: Plan, actor: User | None = None, dry_run: bool = True,
    create_units: bool = False, expected_digest: str | None = None,
) -> LedgerImportResult:
    """Preview (dry_run) or apply an imported ledger. An apply writes everything or nothing."""
    importer = LedgerImporter(source=source, plan=plan, actor=actor, dry_run=dry_run,
                              create_units=create_units, expected_digest=expected_digest)
    return importer.run()


def ledger_import_bytes(data: bytes, *, name: str, **kwargs: Any) -> LedgerImportResult:
    """For tests and small callers: write the bytes to a temporary file and import it."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".upload") as fh:
        fh.write(data)
        fh.flush()
        return ledger_import(source=ledger_source_open(fh.name, name=name), **kwargs)
