"""Redis down: pages keep working, work waits in the database, the office is told.

These use a broker address where nothing listens; tests/test_faults.py stops and restarts a
real private Redis under gunicorn and a worker.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from rectify.celery import app
from rectify.jobs import heartbeat, held_jobs_release_job
from rectify.models import HeldJob
from rectify.queue import enqueue, held_jobs_release, queue_is_up
from reports.models import Report, ReportKind

pytestmark = pytest.mark.django_db

BANNER = "消息队列(Redis)当前不可用"


@pytest.fixture
def dead_broker():
    """A broker URL nothing listens on, with the real (not eager) publishing path."""
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:9/0", False
    _fresh_pools()
    cache.clear()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    _fresh_pools()
    cache.clear()


def _fresh_pools():
    # Celery keeps connection and producer pools for the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None


def test_enqueue_reports_failure_instead_of_raising(dead_broker):
    assert queue_is_up(timeout=0.5) is False
    assert enqueue(heartbeat) is False


def test_every_office_page_says_the_queue_is_down_and_others_see_nothing(
        client, office_user, coal_liaison, dead_broker):
    client.force_login(office_user)
    for name in ("reports:archive", "tasks:office_queue", "tasks:ledger"):
        page = client.get(reverse(name))
        assert page.status_code == 200 and BANNER in page.content.decode(), name
    client.force_login(coal_liaison)
    page = client.get(reverse("tasks:mytasks"))
    assert page.status_code == 200 and BANNER not in page.content.decode()


def test_issue_now_while_the_queue_is_down_is_held_once_and_shown(client, office_user, dead_broker):
    client.force_login(office_user)
    for _ in range(2):
        response = client.post(reverse("reports:issue", args=["dispatch"]), follow=True)
        assert response.status_code == 200
        assert "已登记本次生成请求,队列恢复后自动生成并发送" in response.content.decode()
    held = HeldJob.objects.get()
    assert held.released_at is None and held.requested_by == office_user
    assert held.task_name == "reports.jobs.report_issue" and held.args[0] == "dispatch"
    assert not Report.objects.exists()
    page = client.get(reverse("reports:archive")).content.decode()
    assert 'id="held-jobs"' in page and held.description in page

    # Still down: the release keeps it waiting.
    assert held_jobs_release() == []
    assert HeldJob.objects.get().released_at is None


def test_held_issue_runs_once_when_the_queue_is_back(client, office_user, leader, coal_liaison, dead_broker,
                                                     django_capture_on_commit_callbacks):
    client.force_login(office_user)
    client.post(reverse("reports:issue", args=["dispatch"]))
    held = HeldJob.objects.get()

    # The broker is back (eager: the released job runs here, as a worker would run it).
    app.conf.task_always_eager = True
    with django_capture_on_commit_callbacks(execute=True):
        assert held_jobs_release_job.delay().get() == 1
    held.refresh_from_db()
    assert held.released_at is not None
    report = Report.objects.get(kind=ReportKind.DISPATCH, period=held.args[1])
    assert report.trigger == Report.Trigger.OFFICE and report.triggered_by == office_user
    # Released once: a second tick finds nothing, and the report is not issued twice.
    assert held_jobs_release() == []
    assert Report.objects.filter(kind=ReportKind.DISPATCH).count() == 1
    assert not client.get(reverse("reports:archive")).context["held_jobs"]
