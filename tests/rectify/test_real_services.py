"""The same ledger on the real parts: PostgreSQL constraints, a Celery worker through Redis."""

import datetime as dt

import pytest
from celery import Celery
from django.db import IntegrityError, transaction

from tasks.models import DeadlineClass, Task, TaskUnit
from tests.helpers import wait_until

pytestmark = pytest.mark.services


def test_postgres_enforces_the_ledger_constraints(postgres, plan):
    task = plan.tasks.get(number=1)
    other_unit = TaskUnit.objects.exclude(task=task).values_list("unit", flat=True).first()
    for bad in (
        lambda: TaskUnit.objects.create(task=task, unit_id=other_unit, role="LEAD"),
        lambda: Task.objects.create(plan=plan, number=1, title="重号", deadline=dt.date(2018, 1, 1)),
        lambda: Task.objects.create(plan=plan, number=70, title="无日期", deadline_class=DeadlineClass.BY_DEADLINE),
        lambda: Task.objects.filter(pk=task.pk).update(progress=140),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            bad()
    assert Task.objects.get(pk=task.pk).progress == 0


def test_chinese_search_on_postgres(postgres, plan):
    assert Task.objects.filter(title__icontains="禁煤区").exists()


def test_real_worker_runs_a_job_through_redis(celery_worker_process, redis_url):
    app = Celery("probe", broker=redis_url, backend=None)
    app.conf.task_ignore_result = True
    # Send by name, as beat does: the worker must find and run rectify.jobs.heartbeat.
    app.send_task("rectify.jobs.heartbeat")

    def succeeded() -> bool:
        log = celery_worker_process.log_path.read_text()
        return any("rectify.jobs.heartbeat" in line and "succeeded" in line for line in log.splitlines())

    assert wait_until(succeeded, timeout=60), celery_worker_process.log_path.read_text()[-4000:]

