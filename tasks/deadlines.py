"""Reading 整改时限 as officials write it.

`parse_deadline` is a pure function: it returns a date and a deadline class, or raises
`DeadlineError` with a message in Chinese. It never guesses: wording it does not know is
an error, so an import can name the row and column instead of storing a wrong date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from tasks.models import DeadlineClass

# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_IMMEDIATE_MONTHS = 6  # 三、整改目标: 立行立改 "确保在半年内完成整改"

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12}


class DeadlineError(ValueError):
    """The wording cannot be read; `str(error)` is the message for the official."""


@dataclass(frozen=True)
class ParsedDeadline:
    date: dt.date | None
    deadline_class: DeadlineClass
    text: str


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """Shift by whole months; a month's last day stays the last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return dt.date(year, month, last)
    return dt.date(year, month, min(day.day, last))


def format_deadline(day: dt.date) -> str:
    """The wording an official would write for `day`: 2018年6月底前, 2017年底前, 2025年12月20日前."""
    if day.month == 12 and day.day == 31:
        return f"{day.year}年底前"
    if day == month_end(day.year, day.month):
        return f"{day.year}年{day.month}月底前"
    return f"{day.year}年{day.month}月{day.day}日前"


def _normalize(text: str) -> str:
    # NFKC folds full-width digits and punctuation; officials' cells carry stray spaces.
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", text).replace("“", "").replace("”", "").replace('"', "")


def _checked_date(year: int, month: int, day: int, original: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DeadlineError(f"无法识别'{original}':日期不存在") from None


def _from_serial(serial: float, original: str) -> dt.date:
    if serial != serial or not 1 <= serial <= _EXCEL_MAX_SERIAL:  # NaN or out of Excel's range
        raise DeadlineError(f"无法识别'{original}':不是有效的Excel日期")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


_YEAR = r"(?P<year>\d{4})年"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"), "ymd"),
    (re.compile(_YEAR + r"(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]"), "ymd"),
    (re.compile(_YEAR + r"(?P<month>\d{1,2})月(?:份)?(?:底|末)?"), "ym"),
    (re.compile(_YEAR + r"(?:年)?(?:底|末|内|年底)"), "y_end"),
    (re.compile(_YEAR + r"上半年"), "y_h1"),
    (re.compile(_YEAR + r"(?:下半年)"), "y_end"),
    (re.compile(_YEAR + r"(?:第)?(?P<quarter>[一二三四1-4])季度"), "y_q"),
    (re.compile(r"(?<!\d)(?P<month>\d{1,2}|十[一二]?|[一二三四五六七八九])月(?P<day>\d{1,2})[日号]"), "md"),
    (re.compile(r"(?<![\d年])(?P<month>1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月(?:份)?(?:底|末)"), "m"),
    (re.compile(r"(?<![\d年])(?P<month>1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月(?:份)?前"), "m"),
    (re.compile(r"(?<!\d)(?:年内|今年底|今年年底|本年度内|当年底|年底前)"), "plan_year"),
    (re.compile(r"十三五(?:期间|末|时期)?"), "13th_fyp"),
]


def _month_number(raw: str) -> int:
    return int(raw) if raw.isdigit() else _CN_DIGITS[raw]


def _dates_in(text: str, *, plan_year: int, plan_issued: dt.date, original: str) -> list[dt.date]:
    found: list[tuple[int, dt.date]] = []
    taken: list[range] = []
    for pattern, kind in _PATTERNS:
        for match in pattern.finditer(text):
            span = range(match.start(), match.end())
            if any(set(span) & set(other) for other in taken):
                continue
            groups = match.groupdict()
            if kind == "ymd":
                day = _checked_date(int(groups["year"]), int(groups["month"]), int(groups["day"]), original)
            elif kind == "ym":
                month = int(groups["month"])
                if not 1 <= month <= 12:
                    raise DeadlineError(f"无法识别'{original}':月份不存在")
                day = month_end(int(groups["year"]), month)
            elif kind == "y_end":
                day = dt.date(int(groups["year"]), 12, 31)
            elif kind == "y_h1":
                day = dt.date(int(groups["year"]), 6, 30)
            elif kind == "y_q":
                quarter = _month_number(groups["quarter"])
                day = month_end(int(groups["year"]), quarter * 3)
            elif kind in {"md", "m"}:
                month = _month_number(groups["month"])
                if not 1 <= month <= 12:
                    raise DeadlineError(f"无法识别'{original}':月份不存在")
                year = plan_year
                day = (
                    _checked_date(year, month, int(groups["day"]), original)
                    if kind == "md"
                    else month_end(year, month)
                )
                # "6月底前" in a plan issued in December means next June.
                if day < plan_issued:
                    day = add_months(day, 12)
            elif kind == "plan_year":
                day = dt.date(plan_year, 12, 31)
            else:  # 十三五: the five-year plan ends with 2020
                day = dt.date(2020, 12, 31)
            found.append((match.start(), day))
            taken.append(span)
    return [day for _, day in sorted(found)]


def parse_deadline(
    value: object, *, plan_year: int, plan_issued: dt.date
) -> ParsedDeadline:
    """Read one 整改时限 cell: a string as officials write it, a date, or an Excel serial."""
    if isinstance(value, dt.datetime):
        day = value.date()
        return ParsedDeadline(day, DeadlineClass.BY_DEADLINE, format_deadline(day))
    if isinstance(value, dt.date):
        return ParsedDeadline(value, DeadlineClass.BY_DEADLINE, format_deadline(value))
    if isinstance(value, bool):
        raise DeadlineError(f"无法识别'{value}'")
    if isinstance(value, int | float):
        day = _from_serial(float(value), str(value))
        return ParsedDeadline(day, DeadlineClass.BY_DEADLINE, format_deadline(day))
    if value is None:
        raise DeadlineError("整改时限为空")
    original = str(value).strip()
    text = _normalize(original)
    if not text:
        raise DeadlineError("整改时限为空")
    if len(text) > 100:
        raise DeadlineError(f"无法识别'{original[:30]}…':内容过长")
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        day = _from_serial(float(text), original)
        return ParsedDeadline(day, DeadlineClass.BY_DEADLINE, original)

    dates = _dates_in(text, plan_year=plan_year, plan_issued=plan_issued, original=original)
    latest = max(dates) if dates else None
    if "长期" in text:
        return ParsedDeadline(latest, DeadlineClass.LONG_TERM, original)
    if "立行立改" in text or "立即整改" in text:
        day = latest or add_months(plan_issued, _IMMEDIATE_MONTHS)
        return ParsedDeadline(day, DeadlineClass.IMMEDIATE, original)
    if latest is None:
        raise DeadlineError(f"无法识别'{original}'")
    return ParsedDeadline(latest, DeadlineClass.BY_DEADLINE, original)
