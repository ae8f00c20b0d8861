"""The calendar and catch-up on the real stack (PostgreSQL, Redis, a real worker): a year of beat
ticks through 2027 with the holiday table entered through the admin, five periods issued at
once by racing workers, and a real worker catching up after an outage."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from conftest import wait_until
from django.db import connection

from rectify import calendar
from rectify.celery import app
from rectify.models import CalendarDay
from reports import jobs, services
from reports.models import Reminder, Report, ReportKind
from tests.calendar_helpers import notice_enter
from tests.reports_helpers import SHANGHAI, at

pytestmark = pytest.mark.services


def _local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def test_a_year_of_beat_ticks_through_2027_with_the_table_entered_in_the_admin(
        postgres, plan, client, office_user, leader, coal_liaison):
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        client.force_login(office_user)
        _preview, confirmed = notice_enter(client)
        assert confirmed.status_code == 302
    holidays = set(CalendarDay.objects.filter(kind=CalendarDay.Kind.HOLIDAY).values_list("date", flat=True))
    assert len(holidays) == 31

    day = dt.date(2027, 1, 1)
    while day <= dt.date(2027, 12, 31):
        # What beat fires each day: reminders 08:30, dispatch and bulletin checks 09:00.
        with time_machine.travel(at(day.year, day.month, day.day, 8, 30), tick=False):
            jobs.reminders_daily()
        with time_machine.travel(at(day.year, day.month, day.day, 9, 0), tick=False):
            jobs.dispatch_weekly()
            jobs.bulletin_monthly()
        day += dt.timedelta(days=1)

    dispatches = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period"))
    issued_on = {d.period: _local(d.as_of) for d in dispatches}
    assert not set(issued_on.values()) & holidays
    assert all(calendar.is_working_day(d) for d in issued_on.values())
    # A holiday Thursday moves the dispatch: Spring Festival, the 中秋 and National Day weeks.
    assert issued_on["2027-02-08"] == dt.date(2027, 2, 15)
    assert issued_on["2027-09-13"] == dt.date(2027, 9, 20)
    assert issued_on["2027-10-04"] == dt.date(2027, 10, 9)   # the make-up Saturday
    assert issued_on["2027-06-07"] == dt.date(2027, 6, 11)   # cut-off moved to Thursday 10 June
    # Every week once, numbered 1… in period order by the year of the dispatch day.
    weeks = [calendar.report_week(dt.date(2027, 1, 4)) + dt.timedelta(weeks=i) for i in range(52)]
    assert [d.period for d in dispatches] == [w.isoformat() for w in weeks]
    assert [d.issue_label for d in dispatches] == [f"2027年第{n}期" for n in range(1, 53)]
    # No cut-off on a holiday.
    for week in weeks:
        if calendar.week_expects_reports(week):
            assert _local(calendar.report_cutoff(week)) not in holidays, week
    # No report-missing reminder on a holiday (they go out on the cut-off day).
    sent = {_local(r.created_at) for r in Reminder.objects.filter(kind=Reminder.Kind.REPORT_MISSING)}
    assert sent and not sent & holidays and all(calendar.is_working_day(d) for d in sent)

    bulletins = {b.period: _local(b.as_of) for b in Report.objects.filter(kind=ReportKind.BULLETIN)}
    assert bulletins == {
        "2027-01": dt.date(2027, 1, 4), "2027-02": dt.date(2027, 2, 1), "2027-03": dt.date(2027, 3, 1),
        "2027-04": dt.date(2027, 4, 1), "2027-05": dt.date(2027, 5, 6), "2027-06": dt.date(2027, 6, 1),
        "2027-07": dt.date(2027, 7, 1), "2027-08": dt.date(2027, 8, 2), "2027-09": dt.date(2027, 9, 1),
        "2027-10": dt.date(2027, 10, 8), "2027-11": dt.date(2027, 11, 1), "2027-12": dt.date(2027, 12, 1),
    }


@pytest.mark.django_db(transaction=True)
def test_five_periods_issued_at_once_get_five_numbers_in_period_order(postgres, plan, office_user, leader):
    weeks = ["2018-09-10", "2018-09-17", "2018-09-24", "2018-10-01", "2018-10-08"]
    start = threading.Barrier(len(weeks) * 2)

    def issue(period: str) -> None:
        try:
            start.wait(timeout=30)
            services.report_issue(kind=ReportKind.DISPATCH, period=period, now=at(2018, 10, 19, 10))
        finally:
            connection.close()

    # Two workers race for each of the five periods, all ten at once.
    with ThreadPoolExecutor(max_workers=len(weeks) * 2) as pool:
        for future in [pool.submit(issue, w) for w in weeks * 2]:
            future.result(timeout=60)
    issued = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period").values_list("period", "number"))
    assert issued == list(zip(weeks, range(37, 42), strict=True))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_catches_up_every_missed_week_once_in_order(
        real_broker, celery_worker_factory, redis_url, tmp_path, plan, office_user, leader):
    import redis
    from django.utils import timezone

    redis.Redis.from_url(redis_url).flushdb()
    now = timezone.now()  # the worker runs in real time: the outage is the last five weeks
    last = calendar.report_week(timezone.localdate(now)) - dt.timedelta(weeks=5)
    services.report_issue(kind=ReportKind.DISPATCH, period=last.isoformat(), now=now)
    expected = [w.isoformat() for w in calendar.dispatch_weeks_due(now, since_week=last + dt.timedelta(weeks=1))]
    assert len(expected) >= 3

    maildir = tmp_path / "mail"
    maildir.mkdir()
    celery_worker_factory({"EMAIL_URL": f"file://{maildir}"})
    app.send_task("reports.jobs.catch_up")
    app.send_task("reports.jobs.catch_up")  # beat back, and a second tick before the first is done

    def dispatched() -> list[str]:
        return list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("id").values_list("period", flat=True))

    assert wait_until(lambda: len(dispatched()) >= 1 + len(expected), timeout=90), \
        (tmp_path / "worker-0.log").read_text()[-3000:]
    assert dispatched() == [last.isoformat(), *expected]  # each once, oldest first
    reports = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period"))
    assert all(r.trigger == Report.Trigger.CATCH_UP for r in reports[1:])
    numbers = [(r.year, r.number) for r in reports]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
