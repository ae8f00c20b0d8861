"""When dispatches, bulletins and publications fall due: weeks, months and working days.

Working days follow China's statutory holidays and make-up working days (调休) through the
`chinesecalendar` package. For a year it does not know yet, weekends are the only days off
and a warning says so: a bulletin a day early beats no bulletin.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar
from django.conf import settings
from django.utils import timezone

from tasks.services import report_cutoff, report_week

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinesecalendar has no holiday data for %s: counting only weekends as days off. "
                "Upgrade the chinesecalendar package.", day.year,
            )
        return day.weekday() < 5


def first_working_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


# --- Weekly dispatch ----------------------------------------------------------------------


def dispatch_week(now: dt.datetime) -> dt.date:
    """The reporting week a dispatch compiled at `now` covers: the latest one whose cut-off
    (default Wednesday 18:00) has passed."""
    week = report_week(timezone.localdate(now))
    return week if report_cutoff(week) <= now else week - dt.timedelta(days=7)


def dispatch_period(week: dt.date) -> str:
    return week.isoformat()


def dispatch_slot(now: dt.datetime) -> dt.datetime:
    """This week's scheduled dispatch time (default Thursday 09:00)."""
    monday = report_week(timezone.localdate(now))
    return _at(monday + dt.timedelta(days=settings.RECTIFY_DISPATCH_WEEKDAY), settings.RECTIFY_DISPATCH_HOUR)


# --- Monthly bulletin ----------------------------------------------------------------------


def bulletin_period(day: dt.date) -> str:
    """A bulletin is named by the month it is issued in ("2018-10"); it reviews the month before."""
    return f"{day.year:04d}-{day.month:02d}"


def bulletin_period_parse(period: str) -> tuple[int, int]:
    year, month = period.split("-")
    return int(year), int(month)


def bulletin_reviewed_month(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the month a bulletin reviews (the month before its issue)."""
    year, month = bulletin_period_parse(period)
    issue_first = dt.date(year, month, 1)
    last = issue_first - dt.timedelta(days=1)
    return last.replace(day=1), last


def bulletin_slot(day: dt.date) -> dt.datetime:
    """This month's scheduled bulletin time: its first working day at RECTIFY_BULLETIN_HOUR."""
    return _at(first_working_day(day.year, day.month), settings.RECTIFY_BULLETIN_HOUR)


# --- Public disclosure -----------------------------------------------------------------------


def publication_day(week: dt.date) -> dt.date:
    """The weekly publication goes out on the week's Friday (by default)."""
    return week + dt.timedelta(days=settings.RECTIFY_PUBLICATION_WEEKDAY)
