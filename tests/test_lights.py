import datetime as dt

import pytest

from tasks.lights import Light, task_expected_progress, task_is_lagging, task_light
from tasks.models import DeadlineClass, Milestone, Task, TaskStatus


def make_task(deadline, progress=0, status=TaskStatus.IN_PROGRESS, milestones=()):
    task = Task(number=1, title="t", deadline=deadline, progress=progress, status=status,
                deadline_class=DeadlineClass.BY_DEADLINE if deadline else DeadlineClass.LONG_TERM)
    # Unsaved task: give it a prefetched milestone list, as list pages do.
    task._prefetched_objects_cache = {"milestones": Milestone.objects.none()}
    task._prefetched_objects_cache["milestones"]._result_cache = [
        Milestone(title=f"m{i}", due_on=due, done_on=done) for i, (due, done) in enumerate(milestones)
    ]
    task._prefetched_objects_cache["milestones"]._prefetch_done = True
    return task


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
    assert task_light(task, TODAY) == light


def test_expected_progress_follows_milestones():
    task = make_task(dt.date(2018, 12, 31), 40, milestones=[(dt.date(2018, 2, 1), dt.date(2018, 2, 1)),
                                                            (dt.date(2018, 6, 30), None)])
    assert task_expected_progress(task, TODAY) == 33
    assert not task_is_lagging(task, TODAY)
    assert task_is_lagging(task, TODAY, progress=20)
    assert task_expected_progress(task, dt.date(2019, 1, 1)) == 100
