import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from tasks.models import ProgressReport, Task, TaskStatus, TaskUnit, Unit
from tasks.services import StaleEditError, report_cutoff, task_report_progress

pytestmark = pytest.mark.django_db
SH = zoneinfo.ZoneInfo("Asia/Shanghai")
WEEK = dt.date(2018, 3, 5)  # a Monday


def lead_of(task):
    return task.task_units.get(role=TaskUnit.Role.LEAD).unit


def test_cutoff_is_wednesday_18_shanghai():
    assert report_cutoff(WEEK) == dt.datetime(2018, 3, 7, 18, 0, tzinfo=SH)


def test_report_on_time_late_and_rolled_up(plan, coal_liaison):
    task = plan.tasks.filter(task_units__unit=coal_liaison.unit, task_units__role="LEAD").first()
    unit = coal_liaison.unit
    on_time = task_report_progress(task=task, unit=unit, author=coal_liaison, percent=40, text="推进中",
                                   now=dt.datetime(2018, 3, 7, 17, 59, tzinfo=SH))
    assert not on_time.is_late and on_time.week == WEEK
    late = task_report_progress(task=task, unit=unit, author=coal_liaison, percent=50, text="补报",
                                now=dt.datetime(2018, 3, 7, 18, 1, tzinfo=SH), expected_version=1)
    assert late.pk == on_time.pk and late.is_late and late.version == 2
    counted = task.task_units.exclude(role="SUPPORTING").count()
    assert Task.objects.get(pk=task.pk).progress == round(50 / counted)
    assert task.changes.filter(subject=f"report:{late.pk}", field="percent", old="40", new="50").exists()


@pytest.mark.parametrize("percent", [-5, 140, "50"])
def test_bad_percent_refused(plan, coal_liaison, percent):
    task = plan.tasks.filter(task_units__unit=coal_liaison.unit).first()
    with pytest.raises(ValidationError, match="0到100"):
        task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=percent, text="x")
    assert not ProgressReport.objects.exists()


def test_report_refused_on_closed_task_and_for_other_units(plan, coal_liaison):
    task = plan.tasks.filter(task_units__unit=coal_liaison.unit).first()
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLOSED)
    with pytest.raises(ValidationError, match="已销号"):
        task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=10, text="x")
    other = plan.tasks.exclude(task_units__unit=coal_liaison.unit).first()
    with pytest.raises(ValidationError, match="不是该任务的责任单位"):
        task_report_progress(task=other, unit=coal_liaison.unit, author=coal_liaison, percent=10, text="x")
    assert not ProgressReport.objects.exists()


def test_second_editor_with_stale_version_is_told(plan, coal_liaison):
    task = plan.tasks.filter(task_units__unit=coal_liaison.unit).first()
    now = dt.datetime(2018, 3, 6, 9, tzinfo=SH)
    task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=10, text="a", now=now)
    task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=20, text="b",
                         now=now, expected_version=1)
    with pytest.raises(StaleEditError):
        task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=30, text="c",
                             now=now, expected_version=1)
    assert ProgressReport.objects.get().percent == 20
    assert Unit.objects.filter(pk=coal_liaison.unit_id).exists()
