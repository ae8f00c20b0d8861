"""Reading the State Council's yearly notice (国务院办公厅关于XXXX年部分节假日安排的通知) as the
office pastes it: each holiday's days off (放假) and make-up working days (上班).

    一、元旦：1月1日放假，共1天。
    二、春节：2月6日至13日放假调休，共8天。2月14日（星期日）、2月20日（星期六）上班。

Rows copied from a spreadsheet or a CSV file are read too, one day a line (date, kind, name;
comma or tab): "2027-02-05,放假,春节", "2027-02-14	上班	春节".

A sentence that says 放假 or 上班 but names no date we can read is an error naming its line;
nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*([^：:，,。]{1,12})[：:]")
_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日")
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_ROW = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*[,，\t]\s*(放假|调休上班|上班|holiday|workday)\s*"
                  r"(?:[,，\t]\s*([^,，\t]*?))?\s*[,，\t]*\s*$")
_ROW_KINDS = {"放假": "holiday", "holiday": "holiday", "上班": "workday", "调休上班": "workday", "workday": "workday"}


@dataclass(frozen=True)
class NoticeDay:
    date: dt.date
    kind: str  # "holiday" or "workday" (rectify.models.CalendarDay.Kind)
    name: str
    line: int


def _dates(text: str, *, year: int, line: int, excerpt: str) -> list[tuple[dt.date, bool]]:
    """Every date in a clause as (date, starts a range): "2月6日至13日" → 6th (range), 13th."""
    found: list[tuple[dt.date, bool]] = []
    month: int | None = None
    current_year = year
    for match in _DATE.finditer(text):
        if match.group(1):
            current_year = int(match.group(1))
        if match.group(2):
            month = int(match.group(2))
        if month is None:
            raise ValidationError(_("第%(line)d行「%(text)s」:日期缺少月份。") % {"line": line, "text": excerpt})
        try:
            day = dt.date(current_year, month, int(match.group(3)))
        except ValueError:
            raise ValidationError(
                _("第%(line)d行「%(text)s」:%(month)d月%(day)s日不是有效日期。")
                % {"line": line, "text": excerpt, "month": month, "day": match.group(3)}) from None
        if found and found[-1][1] and day < found[-1][0]:
            day = day.replace(year=day.year + 1)  # "12月31日至1月2日"
        rest = text[match.end():].lstrip()
        found.append((day, rest.startswith(("至", "-", "—", "~", "～"))))
    return found


def _days_of(dates: list[tuple[dt.date, bool]]) -> list[dt.date]:
    days: list[dt.date] = []
    range_start: dt.date | None = None
    for day, starts_range in dates:
        if range_start is not None:
            days.extend(range_start + dt.timedelta(days=i) for i in range((day - range_start).days + 1))
            range_start = None
        elif starts_range:
            range_start = day
        else:
            days.append(day)
    if range_start is not None:
        days.append(range_start)
    return days


def _row_add(row: re.Match[str], *, line: int, by_date: dict[dt.date, NoticeDay], errors: list[str]) -> None:
    excerpt = row.group(0).strip()[:40]
    try:
        day = dt.date(int(row.group(1)), int(row.group(2)), int(row.group(3)))
    except ValueError:
        errors.append(_("第%(line)d行「%(text)s」:不是有效日期。") % {"line": line, "text": excerpt})
        return
    kind = _ROW_KINDS[row.group(4)]
    if kind == "workday" and day.weekday() < 5:
        errors.append(_("第%(line)d行「%(text)s」:%(day)s是周一至周五,本来就上班,不是调休上班日。")
                      % {"line": line, "text": excerpt, "day": f"{day.month}月{day.day}日"})
    elif day in by_date:
        errors.append(_("第%(line)d行「%(text)s」:%(day)s在第%(other)d行已列出。")
                      % {"line": line, "text": excerpt, "day": f"{day.month}月{day.day}日",
                         "other": by_date[day].line})
    else:
        by_date[day] = NoticeDay(date=day, kind=kind, name=(row.group(5) or "").strip(), line=line)


def notice_parse(text: str, *, year: int) -> list[NoticeDay]:
    """The days a notice names, in date order. Raises ValidationError (all problems, each naming
    its line) when any part cannot be read."""
    errors: list[str] = []
    by_date: dict[dt.date, NoticeDay] = {}
    name = ""
    lines = text.translate(_DIGITS).splitlines()
    for number, raw in enumerate(lines, start=1):
        row = _ROW.match(raw)
        if row:
            _row_add(row, line=number, by_date=by_date, errors=errors)
            continue
        for clause in re.split(r"(?<=[。；;])", raw):
            heading = _HEADING.match(clause)
            if heading:
                name = heading.group(1).strip()
                clause = clause[heading.end():]
            plain = _PAREN.sub("", clause)
            says_off, says_on = "放假" in plain, "上班" in plain
            if not (says_off or says_on):
                continue
            excerpt = clause.strip()[:40]
            if says_off and says_on:
                errors.append(_("第%(line)d行「%(text)s」:同一句里既有放假又有上班,请分成两句。")
                              % {"line": number, "text": excerpt})
                continue
            try:
                days = _days_of(_dates(plain, year=year, line=number, excerpt=excerpt))
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            if not days and not name:
                continue  # the preamble ("现将…放假调休日期的具体安排通知如下")
            if not days:
                errors.append(_("第%(line)d行「%(text)s」:没有找到日期。") % {"line": number, "text": excerpt})
                continue
            kind = "holiday" if says_off else "workday"
            for day in days:
                if kind == "workday" and day.weekday() < 5:
                    errors.append(_("第%(line)d行「%(text)s」:%(day)s是周一至周五,本来就上班,不是调休上班日。")
                                  % {"line": number, "text": excerpt, "day": f"{day.month}月{day.day}日"})
                    continue
                earlier = by_date.get(day)
                if earlier is not None and earlier.kind != kind:
                    errors.append(_("第%(line)d行「%(text)s」:%(day)s在第%(other)d行已列为另一类型。")
                                  % {"line": number, "text": excerpt, "day": f"{day.month}月{day.day}日",
                                     "other": earlier.line})
                    continue
                by_date[day] = NoticeDay(date=day, kind=kind, name=name, line=number)
    if errors:
        raise ValidationError(errors)
    if not by_date:
        raise ValidationError(_("没有读到任何放假或上班的日期,请粘贴通知正文(如“一、元旦:1月1日放假,共1天。”)。"))
    outside = [d for d in by_date if abs(d.year - year) > 1 or (d.year != year and abs((d - dt.date(year, 1, 1)).days) > 40
                                                              and abs((d - dt.date(year, 12, 31)).days) > 40)]
    if outside:
        raise ValidationError(_("通知中的日期%(day)s不属于%(year)s年,请检查年份。")
                              % {"day": outside[0].isoformat(), "year": year})
    return sorted(by_date.values(), key=lambda d: d.date)


def notice_year(text: str) -> int | None:
    """The year the notice is about, from its title ("关于2027年部分节假日安排的通知")."""
    match = re.search(r"(\d{4})\s*年\s*(?:部分)?节假日", text.translate(_DIGITS))
    return int(match.group(1)) if match else None
