"""Working days (工作日) by the Chinese calendar, for the sign-off public notice period.

`chinese_calendar` knows the State Council's holiday and make-up-day arrangements for the years
it ships with; for a year it does not know yet, Saturday and Sunday are the only days off.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # the package has no data for that year yet
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (start itself not counted)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
