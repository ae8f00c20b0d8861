"""Reminders and escalation: deadline in 7/3/1 days, missing reports, overdue → liaison → head → office.

Since issue 16 each person gets one digest e-mail a day listing every reminder for them (was:
one e-mail per reminder); the cases below check the same chain through the digests."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from reports import services
from reports.models import Delivery, Reminder, ReminderNotice
from tasks.models import Task, TaskStatus
from tasks.services import task_report_progress
from tests.reports_helpers import at, html_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def coal_task(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    """One open coal task due on 2018-10-20; every other task closed, so only this one speaks."""
    unit = coal_liaison.unit
    unit.head_email, unit.head_name = "head-coal@example.test", "煤炭厅厅长"
    unit.save()
    task = Task.objects.filter(task_units__unit=unit, task_units__role="LEAD").order_by("number").first()
    Task.objects.exclude(pk=task.pk).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 1, 1))
    Task.objects.filter(pk=task.pk).update(deadline=dt.date(2018, 10, 20), progress=40)
    task.refresh_from_db()
    return task


def _run(day: dt.date, hour: int = 8, minute: int = 30, callbacks=None) -> int:
    with time_machine.travel(at(day.year, day.month, day.day, hour, minute), tick=False):
        with callbacks(execute=True):
            return services.reminders_run()


def _kinds_to(address: str) -> list[str]:
    """Deadline and overdue reminders e-mailed to `address` in its digests, in order (weekly
    report reminders aside); and never more than one e-mail a day to it."""
    days = [d.digest.day for d in Delivery.objects.filter(recipient=address).select_related("digest")]
    assert len(days) == len(set(days)), f"more than one e-mail a day to {address}: {days}"
    return [n.reminder.kind for n in ReminderNotice.objects.filter(recipient=address, digest__isnull=False)
            .select_related("reminder").exclude(reminder__kind="report_missing").order_by("digest__day", "id")]


def test_deadline_reminders_and_escalation_each_once(coal_task, django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    for day in range(1, 31):  # every day of October, twice a day (a catch-up tick too)
        _run(dt.date(2018, 10, day), callbacks=cb)
        _run(dt.date(2018, 10, day), hour=15, minute=7, callbacks=cb)
    _run(dt.date(2018, 11, 4), callbacks=cb)  # Sunday: logged, e-mailed on Monday's digest
    _run(dt.date(2018, 11, 5), callbacks=cb)

    # Deadline 20 October: 7, 3 and 1 days before; overdue from the 21st.
    assert _kinds_to("coal@example.test") == ["deadline_7", "deadline_3", "deadline_1", "overdue_liaison"]
    assert _kinds_to("head-coal@example.test") == ["overdue_head"]   # 7 days overdue: 27 October
    assert _kinds_to("office@example.test") == ["overdue_office"]  # 14 days overdue: 3 November
    assert _kinds_to("taiyuan@example.test") == []
    sent_on = {r.kind: r.created_at.astimezone(at(2018, 1, 1).tzinfo).date()
               for r in Reminder.objects.exclude(kind="report_missing")}
    assert sent_on == {"deadline_7": dt.date(2018, 10, 13), "deadline_3": dt.date(2018, 10, 17),
                       "deadline_1": dt.date(2018, 10, 19), "overdue_liaison": dt.date(2018, 10, 21),
                       "overdue_head": dt.date(2018, 10, 27), "overdue_office": dt.date(2018, 11, 4)}
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}

    head_mail = next(m for m in mail.outbox if m.to == ["head-coal@example.test"])
    for part in (head_mail.body, html_part(head_mail)):
        assert coal_task.title in part and "已超过整改时限7天" in part and "主要负责人" in part
    first = next(m for m in mail.outbox if m.to == ["coal@example.test"] and "7天" in m.subject)
    assert "距整改时限还有7天" in first.body and "距整改时限还有7天" in html_part(first)


def test_reminder_subjects_read_as_sentences(coal_task, django_capture_on_commit_callbacks):
    """Issue 18: subjects read like codes ("【整改提醒】逾期·提醒联络员"). A digest of one reminder
    says that reminder's sentence; the runs are on Mondays, working days, so each day's digest goes
    out that day."""
    for day in (dt.date(2018, 10, 15), dt.date(2018, 10, 22), dt.date(2018, 10, 29), dt.date(2018, 11, 5)):
        _run(day, callbacks=django_capture_on_commit_callbacks)
    subjects = {}
    for delivery in Delivery.objects.exclude(digest=None).select_related("digest"):
        notices = list(delivery.digest.notices.select_related("reminder"))
        if len(notices) == 1:
            subjects[notices[0].reminder.kind] = delivery.subject
    n, title = coal_task.number, coal_task.title
    assert subjects["deadline_7"] == f"【整改提醒】整改任务{n}“{title}”距整改时限还有5天"
    assert subjects["overdue_liaison"] == f"【整改提醒】整改任务{n}“{title}”已超过整改时限2天,请抓紧整改"
    assert subjects["overdue_head"] == f"【整改提醒】整改任务{n}“{title}”逾期9天仍未完成,请单位主要负责人督促整改"
    assert subjects["overdue_office"].endswith("天仍未完成,报请办公室督办")
    assert all("·" not in d.subject for d in Delivery.objects.all())


def test_a_finished_or_extended_task_stops_the_chain(coal_task, django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    _run(dt.date(2018, 10, 22), callbacks=cb)  # Monday; overdue since the 21st
    assert _kinds_to("coal@example.test") == ["overdue_liaison"]
    # An approved extension gives a new deadline: its reminders start afresh.
    Task.objects.filter(pk=coal_task.pk).update(deadline=dt.date(2018, 12, 31), original_deadline=dt.date(2018, 10, 20))
    _run(dt.date(2018, 10, 28), callbacks=cb)
    assert "overdue_head" not in _kinds_to("head-coal@example.test")
    _run(dt.date(2018, 12, 28), callbacks=cb)
    assert _kinds_to("coal@example.test")[-1] == "deadline_3"


def test_missing_report_reminder_on_the_cutoff_day_before_the_cutoff(coal_task, coal_liaison,
                                                                      django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    Task.objects.filter(pk=coal_task.pk).update(deadline=dt.date(2018, 12, 31))
    _run(dt.date(2018, 10, 9), callbacks=cb)  # Tuesday: not yet
    assert not Reminder.objects.filter(kind="report_missing").exists()
    _run(dt.date(2018, 10, 10), callbacks=cb)  # Wednesday 08:30, cut-off 18:00
    _run(dt.date(2018, 10, 10), hour=12, callbacks=cb)
    reminders = Reminder.objects.filter(kind="report_missing")
    assert reminders.count() == Reminder.objects.filter(kind="report_missing").values("unit").distinct().count()
    coal = reminders.get(unit=coal_liaison.unit)
    assert coal.key == "week:2018-10-08" and coal.context["tasks"][0]["number"] == coal_task.number
    message = next(m for m in mail.outbox if m.to == ["coal@example.test"])
    assert coal_task.title in message.body and coal_task.title in html_part(message)
    assert "2018-10-10 18:00" in message.body

    # A unit that has reported by then is not reminded the next week.
    task_report_progress(task=coal_task, unit=coal_liaison.unit, author=coal_liaison, percent=50, text="进展",
                         week=dt.date(2018, 10, 15), now=at(2018, 10, 16, 10))
    _run(dt.date(2018, 10, 17), callbacks=cb)
    assert not Reminder.objects.filter(kind="report_missing", unit=coal_liaison.unit,
                                       key="week:2018-10-15").exists()


def test_the_sent_log_refuses_a_second_row(coal_task, coal_liaison):
    Reminder.objects.create(kind="deadline_7", unit=coal_liaison.unit, task=coal_task, key="k", context={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(kind="deadline_7", unit=coal_liaison.unit, task=coal_task, key="k", context={})


def test_reminders_in_english_say_1_day_not_1_days():
    from django.utils import translation

    from reports.emails import reminder_render

    context = {"number": 12, "title": "T", "deadline": "2018-10-20", "deadline_text": "2018年10月20日前",
               "progress": 40, "days_left": 1, "days_overdue": 1}
    with translation.override("en"):
        for kind in ("deadline_1", "overdue_liaison"):
            subject, text, html = reminder_render(kind=kind, context=context)
            for part in (subject, text, html):
                assert "1 days" not in part and "1 day" in part, (kind, part[:200])
