"""Progress reports: each unit its own part, weekly cut-off, roll-up, bad input refused."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tasks.models import ProgressReport, Task, TaskStatus
from tasks.services import StaleEditError, task_report_progress

pytestmark = pytest.mark.django_db
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)


def test_report_after_the_weekly_cutoff_is_accepted_and_marked_late(task12, taiyuan_liaison):
    # Default cut-off: Wednesday 18:00. 2018-03-07 is a Wednesday.
    with time_machine.travel(dt.datetime(2018, 3, 7, 17, 59, tzinfo=CST), tick=False):
        on_time = task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison,
                                       percent=30, text="按时")
    with time_machine.travel(dt.datetime(2018, 3, 7, 18, 1, tzinfo=CST), tick=False):
        corrected = task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison,
                                         percent=35, text="更正", expected_version=on_time.version)
    assert on_time.pk == corrected.pk and on_time.week == dt.date(2018, 3, 5)
    assert not on_time.is_late and corrected.is_late


def test_task_progress_rolls_up_from_lead_and_responsible_units(task12, taiyuan_liaison, env_liaison):
    counted = task12.task_units.exclude(role="SUPPORTING").count()
    task_report_progress(task=task12, unit=env_liaison.unit, author=env_liaison, percent=100, text="牵头完成")
    task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=50, text="一半")
    task12.refresh_from_db()
    assert task12.progress == round(150 / counted)


@pytest.mark.parametrize("percent", [-5, 140])
def test_percent_out_of_range_is_refused(task12, taiyuan_liaison, percent):
    with pytest.raises(ValidationError, match="完成率必须是0到100"):
        task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison,
                             percent=percent, text="x")
    assert not ProgressReport.objects.exists()


def test_second_official_is_told_the_report_changed(task12, taiyuan_liaison):
    first = task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=30, text="甲")
    task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40, text="乙",
                         expected_version=first.version)
    with pytest.raises(StaleEditError, match="已被他人修改"):
        task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=50,
                             text="丙", expected_version=first.version)
    assert ProgressReport.objects.get().text == "乙"


def test_report_on_a_closed_task_is_refused(task12, taiyuan_liaison):
    Task.objects.filter(pk=task12.pk).update(status=TaskStatus.CLOSED)
    with pytest.raises(ValidationError, match="已销号"):
        task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=100, text="x")
