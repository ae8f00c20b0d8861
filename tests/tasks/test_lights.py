import datetime as dt

import pytest

from tasks.lights import Light, task_expected_progress, task_is_lagging, task_light
from tasks.models import DeadlineClass, Milestone, Plan, Task, TaskStatus

pytestmark = pytest.mark.django_db


def make_task(deadline, progress=0, status=TaskStatus.IN_PROGRESS, milestones=()):
    def build():
        plan, _ = Plan.objects.get_or_create(code="p", defaults={"title": "p", "issued_on": dt.date(2017, 12, 19)})
        task = Task.objects.create(
            plan=plan, number=Task.objects.count() + 1, title="t", deadline=deadline, progress=progress,
            status=status, deadline_class=DeadlineClass.BY_DEADLINE if deadline else DeadlineClass.LONG_TERM)
        for i, (due, done) in enumerate(milestones):
            Milestone.objects.create(task=task, title=f"m{i}", due_on=due, done_on=done)
        return Task.objects.prefetch_related("milestones").get(pk=task.pk)
    return build


TODAY = dt.date(2018, 3, 1)


@pytest.mark.parametrize(
    ("task", "light"),
    [
        (make_task(dt.date(2018, 2, 28), 90), Light.RED),
        (make_task(dt.date(2018, 3, 5), 95), Light.YELLOW),  # due within 7 days
        (make_task(dt.date(2018, 12, 31), 10, milestones=[(dt.date(2018, 2, 1), None)]), Light.YELLOW),
        (make_task(dt.date(2018, 12, 31), 60, milestones=[(dt.date(2018, 2, 1), dt.date(2018, 1, 30))]), Light.GREEN),
        (make_task(dt.date(2018, 2, 28), 100, status=TaskStatus.CLOSED), Light.CLOSED),
        (make_task(None, 50, status=TaskStatus.SUSTAINING), Light.SUSTAINING),
        (make_task(dt.date(2018, 3, 3), 100, status=TaskStatus.PUBLIC_NOTICE), Light.GREEN),
        (make_task(None, 0), Light.GREEN),
    ],
)
def test_lights(task, light):
    assert task_light(task(), TODAY) == light


def test_expected_progress_follows_milestones():
    task = make_task(dt.date(2018, 12, 31), 40, milestones=[(dt.date(2018, 2, 1), dt.date(2018, 2, 1)),
                                                            (dt.date(2018, 6, 30), None)])()
    assert task_expected_progress(task, TODAY) == 33
    assert not task_is_lagging(task, TODAY)
    assert task_is_lagging(task, TODAY, progress=20)
    assert task_expected_progress(task, dt.date(2019, 1, 1)) == 100
