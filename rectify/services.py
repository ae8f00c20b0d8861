"""Writes of the base layer: the working calendar the office keeps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rectify.calendar import calendar_cache_clear
from rectify.holiday_notice import NoticeDay, notice_parse
from rectify.models import CalendarDay, CalendarYear, User


def calendar_year_enter(*, year: int, notice: str, actor: User | None) -> list[NoticeDay]:
    """Enter a year's State Council notice: the year's table is replaced by exactly the days the
    notice names, and the year counts as complete. All or nothing."""
    if not 2000 <= year <= 2100:
        raise ValidationError(_("年份应在2000至2100之间。"))
    days = notice_parse(notice, year=year)
    with transaction.atomic():
        dates = [d.date for d in days]
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.filter(date__in=dates).delete()
        rows = [CalendarDay(date=d.date, kind=d.kind, name=d.name[:30]) for d in days]
        for row in rows:
            row.full_clean(validate_unique=False)
        CalendarDay.objects.bulk_create(rows)
        record, _created = CalendarYear.objects.get_or_create(year=year)
        record.notice = notice.strip()
        record.entered_by = actor
        record.full_clean()
        record.save()
        transaction.on_commit(calendar_cache_clear)
    calendar_cache_clear()
    return days
