"""Schedules, working days and exactly-once issuing of dispatches and bulletins (time travel)."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from rectify import calendar
from rectify.calendar import first_working_day
from reports import jobs, services
from reports.models import Delivery, Report, ReportKind
from tasks.demo import history_simulate
from tests.reports_helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    return plan


@pytest.fixture
def history(cast):
    history_simulate(cast, today=dt.date(2018, 10, 20))
    return cast


RECIPIENTS = {"office@example.test", "leader@example.test", "coal@example.test", "taiyuan@example.test"}


@pytest.mark.parametrize(("year", "month", "expected"), [
    (2018, 10, dt.date(2018, 10, 8)),   # National Day week: 1-7 October off
    (2018, 2, dt.date(2018, 2, 1)),
    (2019, 1, dt.date(2019, 1, 2)),     # New Year's Day off
    (2018, 12, dt.date(2018, 12, 3)),   # 1-2 December is a weekend
    (2017, 4, dt.date(2017, 4, 1)),     # a Saturday, but a make-up working day (调休)
    (2019, 2, dt.date(2019, 2, 1)),
])
def test_first_working_day_follows_chinese_calendar(year, month, expected):
    assert first_working_day(year, month) == expected


def test_unknown_year_falls_back_to_weekends_with_a_warning(caplog):
    calendar._warned_years.discard(2099)
    with caplog.at_level(logging.WARNING, logger="rectify.calendar"):
        assert first_working_day(2099, 8) == dt.date(2099, 8, 3)  # 1-2 August 2099 is a weekend
    assert any("2099" in r.getMessage() and "chinesecalendar" in r.getMessage() for r in caplog.records)


def _beat(day: dt.date) -> None:
    """What beat fires on `day` at 09:00: the daily dispatch and bulletin checks."""
    with time_machine.travel(at(day.year, day.month, day.day, 9, 0), tick=False):
        jobs.dispatch_weekly()
        jobs.bulletin_monthly()


def test_time_travel_through_weeks_months_and_holidays(history, django_capture_on_commit_callbacks):
    day = dt.date(2018, 9, 24)
    with django_capture_on_commit_callbacks(execute=True):
        while day <= dt.date(2019, 1, 7):
            _beat(day)
            day += dt.timedelta(days=1)

    bulletins = list(Report.objects.filter(kind=ReportKind.BULLETIN).order_by("period"))
    assert [(b.period, b.as_of.astimezone(at(2018, 1, 1).tzinfo).date()) for b in bulletins] == [
        ("2018-10", dt.date(2018, 10, 8)),
        ("2018-11", dt.date(2018, 11, 1)),
        ("2018-12", dt.date(2018, 12, 3)),
        ("2019-01", dt.date(2019, 1, 2)),
    ]
    # Numbered by the period (issue 16): the n-th month of the issue year, whatever ran before.
    assert [b.issue_label for b in bulletins] == ["2018年第10期", "2018年第11期", "2018年第12期", "2019年第1期"]
    assert bulletins[0].title == "2018年第10期月通报(2018年9月整改情况)"
    assert bulletins[1].snapshot["change"]["previous"] == "2018年第10期"

    dispatches = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period"))
    thursdays = [dt.date(2018, 9, 27) + dt.timedelta(weeks=i) for i in range(15)]
    assert [d.period for d in dispatches] == [(t - dt.timedelta(days=3)).isoformat() for t in thursdays]
    # The n-th dispatch day of the year (issue 16); National Day week's goes out on 8 October.
    assert dispatches[1].title == "2018年第40期周调度(10月1日—10月7日)"
    assert dispatches[1].as_of == at(2018, 10, 8, 9, 0)
    assert [d.number for d in dispatches[:-1]] == list(range(39, 39 + len(dispatches) - 1))
    # The week 2018-12-31—2019-01-06 is issued on 2019-01-03: numbered by its issue year.
    assert (dispatches[-1].period, dispatches[-1].issue_label) == ("2018-12-31", "2019年第1期")
    # Each dispatch looks back to the one before it.
    assert dispatches[2].snapshot["since"] == dispatches[1].snapshot["as_of"]

    per_report = {}
    for d in Delivery.objects.all():
        per_report.setdefault(d.report_id, set()).add(d.recipient)
    assert all(recipients == RECIPIENTS for recipients in per_report.values())
    assert len(mail.outbox) == 4 * (len(dispatches) + len(bulletins))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_two_beat_ticks_in_the_same_minute_issue_one_dispatch(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = jobs.dispatch_weekly()
            second = jobs.dispatch_weekly()
    assert first == second
    assert Report.objects.count() == 1
    assert Delivery.objects.count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(RECIPIENTS)


def test_a_racing_run_finds_the_report_the_other_one_inserted(cast, django_capture_on_commit_callbacks):
    """Both runs passed the "exists?" check; the unique constraint decides, not the check."""
    real_compile = services._compile
    raced = []

    def compile_while_another_worker_inserts(**kwargs):
        result = real_compile(**kwargs)
        if not raced:
            raced.append(True)
            services.report_issue(kind=ReportKind.DISPATCH)  # the other worker wins meanwhile
        return result

    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False), \
            mock.patch.object(services, "_compile", side_effect=compile_while_another_worker_inserts), \
            django_capture_on_commit_callbacks(execute=True):
        report, created = services.report_issue(kind=ReportKind.DISPATCH)
    assert not created
    assert Report.objects.get() == report
    assert Delivery.objects.count() == 4
    assert len(mail.outbox) == 4


def test_unique_constraint_on_kind_and_period(cast):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(kind=report.kind, period=report.period, plan=report.plan, year=2018, number=99,
                              title="x", as_of=report.as_of, snapshot={}, subject="x", body_text="x",
                              body_html="x", xlsx=b"", trigger=Report.Trigger.SCHEDULE)


def test_catch_up_sends_what_beat_missed_once(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(at(2018, 10, 10, 20, 7), tick=False):  # Wednesday: nothing due yet
            services.catch_up()
        assert not Report.objects.filter(kind=ReportKind.DISPATCH, period="2018-10-08").exists()
        # Beat was down at 09:00 on Thursday; it is back at 13:07.
        with time_machine.travel(at(2018, 10, 11, 13, 7), tick=False):
            done = services.catch_up()
        with time_machine.travel(at(2018, 10, 11, 13, 22), tick=False):
            again = services.catch_up()
    assert "dispatch 2018-10-08" in done
    assert not any(item.startswith("dispatch") for item in again)
    dispatch = Report.objects.get(kind=ReportKind.DISPATCH, period="2018-10-08")
    assert dispatch.trigger == Report.Trigger.CATCH_UP
    # The October bulletin was due on 8 October and was missed too: caught up once.
    assert Report.objects.filter(kind=ReportKind.BULLETIN, period="2018-10").count() == 1
    assert Delivery.objects.filter(report=dispatch).count() == 4


def test_bulletin_waits_for_the_first_working_day(cast):
    with time_machine.travel(at(2018, 10, 5, 9, 0), tick=False):  # a holiday
        assert jobs.bulletin_monthly() is None
    with time_machine.travel(at(2018, 10, 8, 8, 59), tick=False):
        assert jobs.bulletin_monthly() is None
    with time_machine.travel(at(2018, 10, 8, 9, 0), tick=False):
        assert jobs.bulletin_monthly() is not None
    assert Report.objects.filter(kind=ReportKind.BULLETIN).count() == 1


def test_beat_schedule_in_code_outside_the_maintenance_window():
    schedule = settings.CELERY_BEAT_SCHEDULE
    ours = {name: entry for name, entry in schedule.items() if name.startswith("reports-")}
    assert {e["task"] for e in ours.values()} >= {
        "reports.jobs.dispatch_weekly", "reports.jobs.bulletin_monthly", "reports.jobs.reminders_daily",
        "reports.jobs.catch_up", "reports.jobs.deliveries_sweep", "reports.jobs.publication_draft_weekly"}
    for name, entry in ours.items():
        assert not set(entry["schedule"].hour) & {1, 2, 3}, name
    dispatch = ours["reports-dispatch-weekly"]["schedule"]
    # Daily at 09:00: Thursday's dispatch moves to the next working day on a holiday (issue 16).
    assert dispatch.day_of_week == set(range(7)) and dispatch.hour == {9} and dispatch.minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.EMAIL_TIMEOUT


def test_time_limits_and_backoff_stay_below_the_visibility_timeout():
    # Issue 16: recovery must not wait on long timers; the visibility timeout is a setting (600 s,
    # no longer 3600 s) and everything that must finish before it still does.
    visibility = settings.RECTIFY_BROKER_VISIBILITY_TIMEOUT
    assert visibility <= 600
    assert jobs.DELIVERY_TIME_LIMIT < settings.RECTIFY_CLAIM_STALE_SECONDS < visibility
    assert settings.RECTIFY_CLAIM_STALE_SECONDS <= 300
    assert jobs.COMPILE_TIME_LIMIT < visibility and settings.CELERY_TASK_TIME_LIMIT < visibility
    assert max(jobs.retry_backoff(n) for n in range(jobs.DELIVERY_MAX_RETRIES + 1)) < visibility
    assert jobs.COMPILE_RETRY["retry_backoff_max"] < visibility
    # The sweeper never cuts a retry's backoff short.
    assert max(jobs.retry_backoff(n) for n in range(jobs.DELIVERY_MAX_RETRIES + 1)) < \
        settings.RECTIFY_PENDING_REQUEUE_SECONDS
    assert jobs.delivery_send_job.time_limit == jobs.DELIVERY_TIME_LIMIT
    assert jobs.delivery_send_job.soft_time_limit == jobs.DELIVERY_SOFT_TIME_LIMIT < jobs.DELIVERY_TIME_LIMIT
    # A compile whose database connection dropped is retried, like a delivery.
    for job in (jobs.dispatch_weekly, jobs.bulletin_monthly, jobs.report_issue_job, jobs.catch_up,
                jobs.reminders_daily, jobs.delivery_record_job):
        assert set(job.autoretry_for) >= {OperationalError, InterfaceError}, job.name


def test_a_dispatch_before_the_cutoff_covers_the_previous_week():
    assert calendar.dispatch_week(at(2018, 10, 16, 10, 0)) == dt.date(2018, 10, 8)   # Tuesday
    assert calendar.dispatch_week(at(2018, 10, 17, 17, 59)) == dt.date(2018, 10, 8)  # Wednesday before 18:00
    assert calendar.dispatch_week(at(2018, 10, 17, 18, 0)) == dt.date(2018, 10, 15)
    assert calendar.dispatch_slot(dt.date(2018, 10, 15)) == at(2018, 10, 18, 9, 0)  # Thursday 09:00


def test_dispatch_lists_the_supervision_actions_of_the_week(cast, office_user):
    import time_machine

    from reports.selectors import supervision_actions_between
    from tasks.models import SupervisionKind, Unit
    from tasks.supervision import supervision_issue

    task = cast.tasks.get(number=12)
    with time_machine.travel(at(2018, 10, 8, 10), tick=False):
        supervision_issue(actor=office_user, kind=SupervisionKind.LISTED, title="进度滞后", task=task,
                          requirements="两周内报送整改方案", time_limit=dt.date(2018, 10, 22))
        supervision_issue(actor=office_user, kind=SupervisionKind.SUMMONS, title="约谈主要负责人",
                          unit=Unit.objects.get(name="大同市政府"))
    with time_machine.travel(at(2018, 10, 15, 10), tick=False):  # next week: not in the window
        supervision_issue(actor=office_user, kind=SupervisionKind.NOTICE, title="通报", task=task)
    actions = supervision_actions_between(plan=cast, since=at(2018, 10, 4), until=at(2018, 10, 11))
    assert [(a["kind"], a["number"], a["unit"]) for a in actions] == [
        ("挂牌督办", 12, ""), ("约谈", None, "大同市政府"),
    ]
    assert actions[0]["requirements"] == "两周内报送整改方案"
