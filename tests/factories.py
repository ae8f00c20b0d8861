"""Factories for bulk data (factory_boy): many more tasks, parts, reports and milestones than the
plan holds, e.g. to show that a page's query count does not grow with the rows.

They write rows directly, the way a test sets up a state; behaviour under test still goes
through the services. Every factory needs the plan loaded (the `plan` fixture).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import factory
from factory.django import DjangoModelFactory

from tasks.models import Milestone, Plan, ProgressReport, Task, TaskChange, TaskStatus, TaskUnit, Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    plan = factory.LazyFunction(lambda: Plan.objects.get(code="shanxi-2017"))
    number = factory.Sequence(lambda n: 1000 + n)
    title = factory.LazyAttribute(lambda task: f"新增任务{task.number}")
    deadline = dt.date(2018, 12, 31)


class TaskUnitFactory(DjangoModelFactory):
    class Meta:
        model = TaskUnit

    task = factory.SubFactory(TaskFactory)
    unit = factory.LazyFunction(lambda: Unit.objects.get(name="省环保厅"))
    role = TaskUnit.Role.LEAD
    position = 0


class ProgressReportFactory(DjangoModelFactory):
    class Meta:
        model = ProgressReport

    task = factory.SubFactory(TaskFactory)
    unit = factory.LazyAttribute(lambda report: report.task.task_units.order_by("position").first().unit)
    week = dt.date(2018, 10, 1)
    percent = 10
    text = "进展"
    reported_at = factory.LazyAttribute(
        lambda report: dt.datetime.combine(report.week + dt.timedelta(days=1), dt.time(10), tzinfo=SHANGHAI)
    )


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    task = factory.SubFactory(TaskFactory)
    title = "节点"
    due_on = dt.date(2018, 9, 30)


class TaskChangeFactory(DjangoModelFactory):
    class Meta:
        model = TaskChange

    task = factory.SubFactory(TaskFactory)
    at = dt.datetime(2018, 1, 3, 9, 0, tzinfo=SHANGHAI)
    subject = "task"
    field = "status"
    old = TaskStatus.IN_PROGRESS
    new = TaskStatus.IN_PROGRESS
