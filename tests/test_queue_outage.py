"""Redis down: pages keep working, work waits in the database, the office is told."""

import pytest
from django.urls import reverse

from rectify.celery import app
from rectify.jobs import heartbeat
from rectify.queue import enqueue, queue_is_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_broker():
    """A broker URL nothing listens on, with the real (not eager) publishing path."""
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:9/0", False
    _fresh_pools()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    _fresh_pools()


def _fresh_pools():
    # Celery keeps connection and producer pools for the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None


def test_enqueue_reports_failure_instead_of_raising(dead_broker):
    assert queue_is_up(timeout=0.5) is False
    assert enqueue(heartbeat) is False


def test_office_pages_work_and_say_the_queue_is_down(client, office_user, dead_broker):
    client.force_login(office_user)
    page = client.get(reverse("reports:archive"))
    assert page.status_code == 200 and "消息队列(Redis)当前不可用" in page.content.decode()
    response = client.post(reverse("reports:issue", args=["dispatch"]), follow=True)
    assert response.status_code == 200
    assert "消息队列暂时不可用" in response.content.decode()
    assert client.get(reverse("tasks:ledger")).status_code == 200
