"""A daily digest per person (issue 16): one reminder e-mail per recipient per day listing every
task that needs them, escalations to unit heads and the office likewise; exactly once per
(recipient, day), through a second run, a run killed midway and two runs at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection

from reports import emails, services
from reports.models import Delivery, Reminder, ReminderDigest, ReminderNotice
from tasks.models import Task, TaskStatus, TaskUnit
from tests.reports_helpers import at, html_part

DAY = dt.date(2018, 10, 12)  # a Friday: no weekly-report reminder that day


@pytest.fixture
def coal_tasks(db, plan, office_user, leader, coal_liaison, taiyuan_liaison):
    """Four open tasks the coal bureau answers for (Taiyuan does not), due in 7 and 3 days, 8 and
    15 days overdue; every other task closed."""
    unit = coal_liaison.unit
    unit.head_email, unit.head_name = "Head-Coal@example.test", "煤炭厅厅长"
    unit.save()
    tasks = list(Task.objects.exclude(task_units__unit__in=[unit, taiyuan_liaison.unit]).exclude(deadline=None)
                 .order_by("number")[:4])
    for task in tasks:
        TaskUnit.objects.create(task=task, unit=unit, role=TaskUnit.Role.RESPONSIBLE, position=99)
    Task.objects.exclude(pk__in=[t.pk for t in tasks]).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 1, 1))
    for task, days in zip(tasks, (7, 3, -8, -15), strict=True):
        Task.objects.filter(pk=task.pk).update(deadline=DAY + dt.timedelta(days=days), progress=40,
                                               status=TaskStatus.IN_PROGRESS)
    for task in tasks:
        task.refresh_from_db()
    return tasks


def _run(day: dt.date, hour: int = 8, minute: int = 30, callbacks=None) -> int:
    with time_machine.travel(at(day.year, day.month, day.day, hour, minute), tick=False):
        if callbacks is None:
            return services.reminders_run()
        with callbacks(execute=True):
            return services.reminders_run()


def _mails(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def test_one_digest_per_person_per_day_listing_every_task(coal_tasks, django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    _run(DAY, callbacks=cb)
    _run(DAY, hour=15, minute=7, callbacks=cb)  # the catch-up tick runs the reminders again

    liaison = _mails("coal@example.test")
    assert len(liaison) == 1, [m.subject for m in liaison]
    for part in (liaison[0].body, html_part(liaison[0])):
        for task in coal_tasks:
            assert task.title in part
        assert "距整改时限还有7天" in part and "距整改时限还有3天" in part
        assert "已超过整改时限8天" in part and "已超过整改时限15天" in part
    assert liaison[0].subject == "【整改提醒】2018年10月12日:2项任务临近整改时限,2项任务已超过整改时限"  # a sentence (issue 18)

    # Escalations: the head (both tasks 7+ days overdue) and the office (15 days), one e-mail each.
    head = _mails("head-coal@example.test")
    assert len(head) == 1 and "主要负责人" in head[0].body and head[0].body.count("已超过整改时限") == 2
    office = _mails("office@example.test")
    assert len(office) == 1 and coal_tasks[3].title in office[0].body and coal_tasks[2].title not in office[0].body
    assert _mails("taiyuan@example.test") == [] and _mails("leader@example.test") == []

    assert Counter(ReminderDigest.objects.values_list("recipient", flat=True)) == Counter(
        {"coal@example.test": 1, "head-coal@example.test": 1, "office@example.test": 1})
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert not ReminderNotice.objects.filter(digest__isnull=True).exists()

    # The next day: nothing new for anyone (each reminder is logged once ever), so no e-mail.
    _run(DAY + dt.timedelta(days=1), callbacks=cb)
    assert len(mail.outbox) == 3


def test_a_reminder_found_after_the_days_digest_waits_for_the_next_day(coal_tasks,
                                                                        django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    _run(DAY, callbacks=cb)
    Task.objects.filter(pk=coal_tasks[0].pk).update(deadline=DAY + dt.timedelta(days=1))  # now due tomorrow
    _run(DAY, hour=15, minute=7, callbacks=cb)
    assert len(_mails("coal@example.test")) == 1
    assert ReminderNotice.objects.filter(recipient="coal@example.test", digest__isnull=True).count() == 1
    _run(DAY + dt.timedelta(days=1), callbacks=cb)  # Saturday: not a working day, no digest
    assert len(_mails("coal@example.test")) == 1
    monday = DAY + dt.timedelta(days=3)  # the next working day's digest carries it
    _run(monday, callbacks=cb)
    second = _mails("coal@example.test")[1]
    assert "距整改时限还有1天" in second.body and coal_tasks[0].title in second.body
    days = list(Delivery.objects.filter(recipient="coal@example.test").values_list("digest__day", flat=True))
    assert sorted(days) == [DAY, monday]


def test_a_waiting_reminder_about_a_task_finished_meanwhile_is_dropped(coal_tasks,
                                                                       django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    _run(DAY, callbacks=cb)
    Task.objects.filter(pk=coal_tasks[0].pk).update(deadline=DAY + dt.timedelta(days=1))
    _run(DAY, hour=15, minute=7, callbacks=cb)  # logged; waits for tomorrow's digest
    Task.objects.filter(pk=coal_tasks[0].pk).update(status=TaskStatus.CLOSED, closed_on=DAY)
    _run(DAY + dt.timedelta(days=3), callbacks=cb)  # Monday, the next working day
    later = _mails("coal@example.test")[1:]  # Monday's digest may carry other tasks' new reminders
    assert all(coal_tasks[0].title not in m.body for m in later)  # nothing left to tell of this one
    assert not ReminderNotice.objects.filter(reminder__task=coal_tasks[0], digest__isnull=True).exists()
    assert Reminder.objects.filter(kind="deadline_1").exists()  # still logged: never again


def test_a_run_killed_midway_leaves_nothing_and_the_next_run_sends_once(coal_tasks,
                                                                        django_capture_on_commit_callbacks):
    cb = django_capture_on_commit_callbacks
    render = emails.digest_render
    calls = []

    def dies_on_the_second_digest(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise SystemExit("worker killed")  # what a SIGTERM'd job looks like from inside
        return render(**kwargs)

    with mock.patch.object(services, "digest_render", dies_on_the_second_digest), pytest.raises(SystemExit):
        _run(DAY, callbacks=cb)
    assert not Reminder.objects.exists() and not ReminderDigest.objects.exists() and not Delivery.objects.exists()
    assert mail.outbox == []

    _run(DAY, hour=8, minute=37, callbacks=cb)
    assert Counter(m.to[0] for m in mail.outbox) == Counter(
        {"coal@example.test": 1, "head-coal@example.test": 1, "office@example.test": 1})


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_postgresql_make_one_digest_per_person(postgres, coal_tasks):
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait(timeout=10)
            _run(DAY)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Counter(Delivery.objects.values_list("recipient", flat=True)) == Counter(
        {"coal@example.test": 1, "head-coal@example.test": 1, "office@example.test": 1})
    assert ReminderNotice.objects.filter(recipient="coal@example.test").count() == 4


def test_the_demo_gives_unit_heads_addresses_so_escalation_fires(db, django_capture_on_commit_callbacks):
    from tasks.demo import demo_load
    from tasks.models import Unit

    today = dt.date(2026, 11, 27)
    demo_load(today=today)
    answerable = Unit.objects.filter(task_units__role__in=[TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE]).distinct()
    assert answerable.exists() and not answerable.filter(head_email="").exists()
    _run(today, callbacks=django_capture_on_commit_callbacks)
    heads = set(Unit.objects.values_list("head_email", flat=True))
    to_heads = [m for m in mail.outbox if m.to[0] in heads]
    assert to_heads and all("主要负责人" in m.body for m in to_heads)
    assert len({m.to[0] for m in to_heads}) == len(to_heads)  # one each


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_killed_mid_run_then_two_runs_send_one_digest_per_person(
        postgres, celery_worker_factory, redis_url, tmp_path, plan, office_user, coal_liaison, taiyuan_liaison):
    """The worker is stopped for good (SIGKILL) after it logged the reminders and while it waits to
    create the first digest (the test holds that row's key in an open transaction)."""
    import os
    import signal

    import psycopg
    import redis
    from django.conf import settings
    from django.utils import timezone

    from rectify.celery import app
    from tests.conftest import wait_until
    from tests.reports_helpers import mails_written

    today = timezone.localdate()
    unit = coal_liaison.unit
    unit.head_email = "head-coal@example.test"
    unit.save()
    tasks = list(Task.objects.exclude(task_units__unit__in=[unit, taiyuan_liaison.unit]).exclude(deadline=None)
                 .order_by("number")[:4])
    Task.objects.exclude(pk__in=[t.pk for t in tasks]).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 1, 1))
    for task, days in zip(tasks, (7, 3, -8, -15), strict=True):
        TaskUnit.objects.create(task=task, unit=unit, role=TaskUnit.Role.RESPONSIBLE, position=99)
        Task.objects.filter(pk=task.pk).update(deadline=today + dt.timedelta(days=days), status=TaskStatus.IN_PROGRESS)

    redis.Redis.from_url(redis_url).flushdb()
    maildir = tmp_path / "mail"
    maildir.mkdir()
    db = settings.DATABASES["default"]
    dsn = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    previous, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        with psycopg.connect(dsn) as blocker:
            blocker.execute("INSERT INTO reports_reminderdigest (day, recipient, recipient_name, created_at) "
                            "VALUES (%s, 'coal@example.test', '', now())", (today,))  # not committed
            first = celery_worker_factory({"EMAIL_URL": f"file://{maildir}"})
            app.send_task("reports.jobs.reminders_daily")

            def waiting_on_the_digest() -> bool:
                with psycopg.connect(dsn, autocommit=True) as watch:
                    return watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query ILIKE %s", ("%INSERT INTO \"reports_reminderdigest\"%",)).fetchone()[0] == 1

            assert wait_until(waiting_on_the_digest, timeout=40), first.log_path.read_text()[-3000:]
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            blocker.rollback()
        assert not Reminder.objects.exists() and not ReminderDigest.objects.exists()  # nothing half-written

        second = celery_worker_factory({"EMAIL_URL": f"file://{maildir}"})
        app.send_task("reports.jobs.reminders_daily")  # beat's next tick, or the catch-up
        app.send_task("reports.jobs.reminders_daily")  # and once more
        expected = {"coal@example.test", "head-coal@example.test", "office@example.test"}

        def all_sent() -> bool:
            recipients = set(Delivery.objects.filter(status=Delivery.Status.SENT).values_list("recipient", flat=True))
            return recipients >= expected and not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()

        assert wait_until(all_sent, timeout=40), second.log_path.read_text()[-3000:]
        second.terminate()
        second.wait(timeout=20)
    finally:
        app.conf.task_always_eager = previous
    mails = mails_written(maildir)
    assert Counter(m["To"] for m in mails) == Counter(dict.fromkeys(expected, 1))
    coal = next(m for m in mails if m["To"] == "coal@example.test").get_body(("plain",)).get_content()
    assert all(task.title in coal for task in tasks)


def test_no_digest_on_a_holiday_the_next_working_day_carries_it(coal_tasks, django_capture_on_commit_callbacks):
    """Reminders follow the working calendar: National Day 2018 (1–7 October) sends nothing; what
    was found then goes out in the digest of Monday 8 October, the first working day after."""
    cb = django_capture_on_commit_callbacks
    for day in (dt.date(2018, 10, 2), dt.date(2018, 10, 6)):
        _run(day, callbacks=cb)
    assert mail.outbox == [] and not ReminderDigest.objects.exists()
    assert ReminderNotice.objects.filter(digest__isnull=True).exists()  # logged, waiting

    _run(dt.date(2018, 10, 8), callbacks=cb)
    liaison = _mails("coal@example.test")
    assert len(liaison) == 1 and "2018年10月8日" in liaison[0].subject
    assert ReminderDigest.objects.filter(day=dt.date(2018, 10, 8)).exists()
    assert not ReminderNotice.objects.filter(digest__isnull=True).exists()
