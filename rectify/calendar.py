"""The working calendar: the one place that knows working days, reporting weeks and when each
periodic piece of work falls due. Rules in docs/calendar.md.

Where a day's status comes from, first match wins:

1. the office's table (`CalendarDay`, kept in the admin from each year's State Council notice);
2. for a year the office marked complete (`CalendarYear`), any other day: Monday–Friday work;
3. `chinesecalendar`, for the years it ships data for;
4. the fallback rule for a year nobody entered: Saturday and Sunday off, plus the fixed-date
   statutory holidays (元旦 1 January, 劳动节 1–2 May, 国庆节 1–3 October). The lunar holidays
   (春节, 清明, 端午, 中秋) cannot be known without the notice: the office's pages say so.

This module imports no app; the table is read through `apps.get_model`, once per process and
again after `CALENDAR_CACHE_SECONDS` (another process may have entered a year meanwhile).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

import chinese_calendar
from django.apps import apps
from django.conf import settings
from django.db.models import CharField, DateField, IntegerField, Value
from django.utils import timezone

logger = logging.getLogger(__name__)

CALENDAR_CACHE_SECONDS = 60
FALLBACK_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
CATCH_UP_WEEKS = 8
CATCH_UP_MONTHS = 3

ONE_DAY = dt.timedelta(days=1)
ONE_WEEK = dt.timedelta(days=7)


# --- The office's table, cached ------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    days: dict[dt.date, bool]  # date -> is a working day
    complete_years: frozenset[int]
    loaded_at: float


_lock = threading.Lock()
_table: _Table | None = None
_warned_years: set[int] = set()


def calendar_cache_clear() -> None:
    """Forget the table: the next question reads it again (after the office enters a year)."""
    global _table
    with _lock:
        _table = None


def _load() -> _Table:
    global _table
    table = _table
    if table is not None and time.monotonic() - table.loaded_at < CALENDAR_CACHE_SECONDS:
        return table
    day_model = apps.get_model("rectify", "CalendarDay")
    year_model = apps.get_model("rectify", "CalendarYear")
    # One query for both tables: pages ask about working days on every request.
    rows = day_model.objects.order_by().annotate(year_no=Value(0, output_field=IntegerField())).values_list(
        "date", "kind", "year_no").union(
        year_model.objects.order_by().annotate(day=Value(None, output_field=DateField()),
                                    kind=Value("", output_field=CharField())).values_list("day", "kind", "year"),
        all=True)
    days: dict[dt.date, bool] = {}
    years: set[int] = set()
    for day, kind, year in rows:
        if day is None:
            years.add(year)
        else:
            days[day] = kind == day_model.Kind.WORKDAY
    table = _Table(days=days, complete_years=frozenset(years), loaded_at=time.monotonic())
    with _lock:
        _table = table
    return table


def package_knows_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_is_known(year: int) -> bool:
    """Whether the year's holidays are known (entered by the office or shipped by the package)."""
    return year in _load().complete_years or package_knows_year(year)


def year_source(year: int) -> str:
    """"table", "package" or "fallback": where the year's holidays come from."""
    if year in _load().complete_years:
        return "table"
    return "package" if package_knows_year(year) else "fallback"


def missing_years(today: dt.date | None = None) -> list[int]:
    """Years the office must enter now: this year if unknown, and from 1 November next year."""
    today = today or timezone.localdate()
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [y for y in years if not year_is_known(y)]


# --- Working days -----------------------------------------------------------------------------------


def is_working_day(day: dt.date) -> bool:
    table = _load()
    if day in table.days:
        return table.days[day]
    if day.year in table.complete_years:
        return day.weekday() < 5
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "no holiday arrangement for %s (neither entered by the office nor in chinesecalendar): "
                "counting weekends and the fixed-date holidays as days off", day.year,
            )
        return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_HOLIDAYS


def next_working_day(day: dt.date) -> dt.date:
    """`day` itself if it is a working day, else the first working day after it."""
    for _ in range(60):  # the longest break in any arrangement is 8–9 days
        if is_working_day(day):
            return day
        day += ONE_DAY
    raise ValueError(f"no working day within 60 days of {day}")


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (start itself not counted)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day, counted = start, 0
    while counted < days:
        day += ONE_DAY
        if is_working_day(day):
            counted += 1
    return day


def first_working_day(year: int, month: int) -> dt.date:
    return next_working_day(dt.date(year, month, 1))


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


# --- Reporting weeks and the cut-off -------------------------------------------------------------


def report_week(day: dt.date) -> dt.date:
    """The Monday of the reporting week that `day` falls in."""
    return day - dt.timedelta(days=day.weekday())


def _cutoff_day(week: dt.date) -> dt.date | None:
    """The configured cut-off day, moved to the next working day inside the week; None when no
    working day is left in the week from the configured day on."""
    weekday, _hour = settings.RECTIFY_REPORT_CUTOFF
    day = week + dt.timedelta(days=weekday)
    while day < week + ONE_WEEK:
        if is_working_day(day):
            return day
        day += ONE_DAY
    return None


def week_expects_reports(week: dt.date) -> bool:
    """A week whose cut-off finds no working day left in it (国庆 week) expects no reports:
    nobody is listed as not having reported, nobody is reminded."""
    return _cutoff_day(week) is not None


def report_cutoff(week: dt.date) -> dt.datetime:
    """When a week's reports are due: default Wednesday 18:00 (Asia/Shanghai), on a holiday the
    next working day of the same week at that hour; in a week that expects no reports, the end
    of the week (nothing filed in it is late)."""
    _weekday, hour = settings.RECTIFY_REPORT_CUTOFF
    day = _cutoff_day(week)
    return _at(day, hour) if day is not None else _at(week + ONE_WEEK, 0)


def reporting_start(issued_on: dt.date) -> dt.date:
    """周调度 begins the week after the plan is issued: reports are due from that week on."""
    return report_week(issued_on) + ONE_WEEK


def last_due_week(as_of: dt.date) -> dt.date:
    """The latest reporting week whose cut-off had passed by the end of `as_of`."""
    week = report_week(as_of)
    if timezone.localdate(report_cutoff(week)) > as_of:
        week -= ONE_WEEK
    return week


# --- Weekly dispatch --------------------------------------------------------------------------------


def dispatch_week(now: dt.datetime) -> dt.date:
    """The reporting week a dispatch compiled at `now` covers: the latest one whose cut-off has
    passed."""
    week = report_week(timezone.localdate(now))
    return week if report_cutoff(week) <= now else week - ONE_WEEK


def dispatch_period(week: dt.date) -> str:
    return week.isoformat()


def dispatch_slot(week: dt.date) -> dt.datetime:
    """When the week's dispatch is due: the configured day and hour (default Thursday 09:00),
    not before the day after the cut-off, moved to the next working day."""
    earliest = week + dt.timedelta(days=settings.RECTIFY_DISPATCH_WEEKDAY)
    cutoff = _cutoff_day(week)
    if cutoff is not None:
        earliest = max(earliest, cutoff + ONE_DAY)
    return _at(next_working_day(earliest), settings.RECTIFY_DISPATCH_HOUR)


def dispatch_weeks_due(now: dt.datetime, *, since_week: dt.date) -> list[dt.date]:
    """Weeks from `since_week` on whose dispatch slot has come by `now`, in order."""
    weeks = []
    week = since_week
    while dispatch_slot(week) <= now:
        weeks.append(week)
        week += ONE_WEEK
    return weeks


def dispatch_issue(week: dt.date, *, start_week: dt.date) -> tuple[int, int]:
    """(year, number) of a week's dispatch: numbered by the year of its dispatch day, the n-th
    dispatch day of that year (counted from `start_week`, the plan's first reporting week).
    The week 2018-12-31—2019-01-06, due 2019-01-03, is 2019年第1期."""
    year = dispatch_slot(week).year
    number, earlier = 1, week - ONE_WEEK
    while earlier >= start_week and dispatch_slot(earlier).year == year:
        number += 1
        earlier -= ONE_WEEK
    return year, number


# --- Monthly bulletin --------------------------------------------------------------------------------


def bulletin_period(day: dt.date) -> str:
    """A bulletin is named by the month it is issued in ("2018-10"); it reviews the month before."""
    return f"{day.year:04d}-{day.month:02d}"


def bulletin_period_parse(period: str) -> tuple[int, int]:
    year, month = period.split("-")
    return int(year), int(month)


def _month_shift(period: str, months: int) -> str:
    year, month = bulletin_period_parse(period)
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def bulletin_next_period(period: str) -> str:
    return _month_shift(period, 1)


def bulletin_reviewed_month(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the month a bulletin reviews (the month before its issue)."""
    year, month = bulletin_period_parse(period)
    last = dt.date(year, month, 1) - ONE_DAY
    return last.replace(day=1), last


def bulletin_slot(period: str) -> dt.datetime:
    """When a month's bulletin is due: its first working day at RECTIFY_BULLETIN_HOUR."""
    year, month = bulletin_period_parse(period)
    return _at(first_working_day(year, month), settings.RECTIFY_BULLETIN_HOUR)


def bulletin_first_period(issued_on: dt.date) -> str:
    """The first bulletin of a plan is issued the month after the plan (it reviews that month)."""
    return bulletin_next_period(bulletin_period(issued_on))


def bulletin_issue(period: str, *, first_period: str) -> tuple[int, int]:
    """(year, number): the n-th month of the issue year, counted from the plan's first bulletin."""
    year, month = bulletin_period_parse(period)
    first_year, first_month = bulletin_period_parse(first_period)
    start = first_month if first_year == year else 1
    return year, max(month - start + 1, 1)


def bulletin_periods_due(now: dt.datetime, *, since_period: str) -> list[str]:
    """Months from `since_period` on whose bulletin day has come by `now`, in order."""
    periods = []
    period = since_period
    while bulletin_slot(period) <= now:
        periods.append(period)
        period = bulletin_next_period(period)
    return periods


def catch_up_floor_week(now: dt.datetime) -> dt.date:
    """Catch-up reaches back at most CATCH_UP_WEEKS dispatches."""
    return report_week(timezone.localdate(now)) - CATCH_UP_WEEKS * ONE_WEEK


def catch_up_floor_period(now: dt.datetime) -> str:
    """…and at most CATCH_UP_MONTHS bulletins."""
    return _month_shift(bulletin_period(timezone.localdate(now)), -(CATCH_UP_MONTHS - 1))


# --- Public disclosure and sign-off notices ------------------------------------------------------------


def publication_day(week: dt.date) -> dt.date:
    """The weekly publication goes out on the week's Friday (by default)."""
    return week + dt.timedelta(days=settings.RECTIFY_PUBLICATION_WEEKDAY)


def publication_draft_at(week: dt.date) -> dt.datetime:
    """When the week's publication is drafted for review (default Thursday 15:00)."""
    return _at(week + dt.timedelta(days=settings.RECTIFY_DISPATCH_WEEKDAY), settings.RECTIFY_PUBLICATION_DRAFT_HOUR)


def notice_period_end(start: dt.date) -> dt.date:
    """The last day of a sign-off public notice (公示) that starts after `start`: so many
    working days (RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS)."""
    return add_working_days(start, settings.RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS)
