"""A fresh install's first catch-up (make run's first start) issues a dispatch and a bulletin at
once, whatever the day it is started on (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from reports import services
from reports.models import Report, ReportKind

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("started", [
    dt.datetime(2026, 11, 30, 10), dt.datetime(2026, 12, 2, 10), dt.datetime(2026, 12, 20, 10),
    dt.datetime(2026, 12, 21, 10), dt.datetime(2026, 12, 23, 10), dt.datetime(2027, 1, 4, 10),
    dt.datetime(2026, 12, 1, 7), dt.datetime(2027, 1, 1, 10),  # before the month's first working day
])
def test_the_first_start_issues_a_dispatch_and_a_bulletin(started, settings, tmp_path):
    from tasks.demo import demo_load

    settings.MEDIA_ROOT = str(tmp_path / "media")
    now = timezone.make_aware(started)
    with time_machine.travel(now, tick=False):
        demo_load()
        services.catch_up(now=now)
    kinds = sorted(Report.objects.values_list("kind", flat=True))
    assert kinds == [ReportKind.BULLETIN, ReportKind.DISPATCH], started


@pytest.mark.parametrize("started", [dt.datetime(2026, 12, 1, 10), dt.datetime(2026, 12, 14, 10)])
def test_the_first_start_escalates_to_a_unit_head_and_the_office(started, settings, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    """Issue 16: the demo gives unit heads addresses so escalation really fires in `make run`: one
    task is left long past its deadline, so the first day's digests reach a head and the office."""
    from reports.models import Delivery, Reminder
    from tasks.demo import demo_load

    settings.MEDIA_ROOT = str(tmp_path / "media")
    now = timezone.make_aware(started)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        demo_load()
        services.reminders_run(now=now)
    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert {"overdue_liaison", "overdue_head", "overdue_office"} <= kinds, kinds
    recipients = set(Delivery.objects.exclude(digest=None).values_list("recipient", flat=True))
    assert any(r.startswith("head-") for r in recipients) and "office@demo.rectify.local" in recipients
