"""The workspace on the real services: PostgreSQL row locks and a real Celery worker on Redis."""

import datetime as dt
import threading

import pytest
from celery import Celery
from django.core.exceptions import ValidationError
from django.db import connection

from tasks.models import SignoffStep, Task, TaskStatus
from tasks.services import StaleEditError
from tasks.signoff import signoff_apply, signoff_lead_review, signoff_office_verify
from tests.helpers import wait_until
from tests.workspace_files import png

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("evidence_storage")]


def _to_notice(task, cast, today):
    taiyuan, env, office = cast
    signoff_apply(task=task, actor=taiyuan, evidence=[png()])
    signoff_lead_review(task=task, actor=env)
    signoff_office_verify(task=task, actor=office, today=today)


def test_real_worker_closes_tasks_whose_notice_ended(
    celery_worker_process, redis_url, plan, taiyuan_liaison, env_liaison, office_user
):
    task = Task.objects.get(plan=plan, number=12)
    _to_notice(task, (taiyuan_liaison, env_liaison, office_user), dt.date(2018, 3, 5))
    app = Celery("probe", broker=redis_url, backend=None)
    app.conf.task_ignore_result = True
    # Sent by name through Redis, as beat sends it; the worker runs it with today's date.
    app.send_task("tasks.jobs.signoff_close_due_job")

    def closed() -> bool:
        return Task.objects.filter(pk=task.pk, status=TaskStatus.CLOSED).exists()

    assert wait_until(closed, timeout=60), "the worker did not close the task"
    assert SignoffStep.objects.filter(task=task, action=SignoffStep.Action.CLOSE).count() == 1


def test_two_officials_reviewing_at_once_one_wins_one_is_told(
    postgres, transactional_db, plan, taiyuan_liaison, env_liaison
):
    """Two requests for the same step at the same moment: the row lock serialises them."""
    task = Task.objects.get(plan=plan, number=12)
    signoff_apply(task=task, actor=taiyuan_liaison, evidence=[png()])
    version = Task.objects.get(pk=task.pk).version
    results: list[object] = []
    barrier = threading.Barrier(2)

    def review(comment: str) -> None:
        try:
            barrier.wait()
            results.append(signoff_lead_review(task=task, actor=env_liaison, comment=comment,
                                               expected_version=version))
        except (StaleEditError, ValidationError) as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(c,)) for c in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(isinstance(r, SignoffStep) for r in results) == 1
    assert sum(isinstance(r, StaleEditError) for r in results) == 1
    assert SignoffStep.objects.filter(task=task, action=SignoffStep.Action.LEAD_REVIEW).count() == 1
    assert Task.objects.get(pk=task.pk).status == TaskStatus.LEAD_REVIEWED
