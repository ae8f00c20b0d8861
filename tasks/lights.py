"""Warning lights (红黄绿灯预警) and expected progress (序时进度): defined here, once.

- RED: overdue — the deadline has passed and the task is not finished.
- YELLOW: due within `YELLOW_WINDOW_DAYS` days, or lagging (behind expected progress).
- GREEN: on schedule.
- CLOSED (已销号) and SUSTAINING (长期坚持) are shown apart: no light applies to them.

Expected progress: a task's checkpoints are its milestones' due dates and its deadline. By a
given day it should have reached 100% × (checkpoints due by then) / (all checkpoints). It is
lagging when its reported progress is below that, or when a milestone is past due and not done.
Tasks in sign-off (applied, reviewed, in public notice) count as on schedule for the light:
the unit has done its part and waits for the office.

All functions take the task's milestones from `task.milestones.all()`, so a list page that
prefetches them computes every light without one more query.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from tasks.models import Task, TaskStatus

YELLOW_WINDOW_DAYS = 7
SIGNOFF_STATUSES = frozenset(
    {TaskStatus.SIGNOFF_APPLIED, TaskStatus.LEAD_REVIEWED, TaskStatus.PUBLIC_NOTICE}
)


class Light(models.TextChoices):
    RED = "red", _("红灯·逾期")
    YELLOW = "yellow", _("黄灯·临期或滞后")
    GREEN = "green", _("绿灯·正常")
    CLOSED = "closed", _("已销号")
    SUSTAINING = "sustaining", _("长期坚持")


def _checkpoints(task: Task) -> list[dt.date]:
    dates = sorted(m.due_on for m in task.milestones.all())
    if task.deadline and (not dates or dates[-1] < task.deadline):
        dates.append(task.deadline)
    return dates


def task_expected_progress(task: Task, today: dt.date) -> int:
    """序时进度: the percent a task should have reached by `today`."""
    checkpoints = _checkpoints(task)
    if not checkpoints:
        return 0
    due = sum(1 for day in checkpoints if day <= today)
    return round(100 * due / len(checkpoints))


def task_is_overdue(task: Task, today: dt.date) -> bool:
    return not task.is_finished and task.deadline is not None and task.deadline < today


def task_days_overdue(task: Task, today: dt.date) -> int:
    return (today - task.deadline).days if task_is_overdue(task, today) and task.deadline else 0


def task_is_lagging(task: Task, today: dt.date, progress: int | None = None) -> bool:
    """未达序时进度. `progress` overrides the stored one (for "as of a date" views)."""
    if task.is_finished or task.status in SIGNOFF_STATUSES:
        return False
    current = task.progress if progress is None else progress
    if current < task_expected_progress(task, today):
        return True
    return any(m.due_on < today and (m.done_on is None or m.done_on > today) for m in task.milestones.all())


def task_light(task: Task, today: dt.date, progress: int | None = None) -> Light:
    if task.status == TaskStatus.CLOSED:
        return Light.CLOSED
    if task.status == TaskStatus.SUSTAINING:
        return Light.SUSTAINING
    if task_is_overdue(task, today):
        return Light.RED
    if task.status in SIGNOFF_STATUSES:
        return Light.GREEN
    due_soon = task.deadline is not None and (task.deadline - today).days <= YELLOW_WINDOW_DAYS
    if due_soon or task_is_lagging(task, today, progress):
        return Light.YELLOW
    return Light.GREEN
