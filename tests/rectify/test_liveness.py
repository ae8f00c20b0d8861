"""Liveness (issue 16): worker and beat write a heartbeat; the office is told when it is stale;
/healthz reports database, broker, worker and beat separately; 立即生成 says when nothing will
pick the job up."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from rectify.liveness import Process, background_stale, heartbeat_write
from rectify.models import Heartbeat
from tests.conftest import BASE_DIR, wait_until

pytestmark = pytest.mark.django_db

BANNER = "后台任务未运行"


@pytest.fixture
def real_broker(real_broker):
    """The shared fixture, with the liveness cache cleared around it."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def broker_up():
    with mock.patch("rectify.views.queue_is_up", return_value=True), \
            mock.patch("rectify.context_processors.queue_is_up_cached", return_value=True):
        yield


def _beat(process: str, seconds_ago: int) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(seconds=seconds_ago), tick=False):
        assert heartbeat_write(process=process, hostname="test")


def test_stale_heartbeat_shows_the_banner_and_healthz_names_the_worker(client, real_broker, broker_up,
                                                                       office_user, coal_liaison):
    _beat(Process.BEAT, 5)
    _beat(Process.WORKER, 600)  # the worker died ten minutes ago
    assert background_stale() == ["worker"]

    client.force_login(office_user)
    for path in ("/reports/", "/tasks/queue/", "/tasks/"):
        page = client.get(path).content.decode()
        assert BANNER in page and "后台任务进程(worker)" in page and "定时调度(beat)" not in page, path
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "down": ["worker"], "checks": {
        "database": "ok", "broker": "ok", "worker": "down", "beat": "ok"}}
    # The web server's own health does not depend on the worker.
    assert client.get("/healthz?check=database").status_code == 200
    assert client.get("/healthz?check=nonsense").status_code == 400
    # A liaison is not the one to act on it: no banner for them.
    client.force_login(coal_liaison)
    assert BANNER not in client.get("/tasks/mine/").content.decode()

    _beat(Process.WORKER, 1)
    cache.clear()
    client.force_login(office_user)
    assert BANNER not in client.get("/reports/").content.decode()
    assert client.get("/healthz").status_code == 200


def test_no_heartbeat_at_all_names_both_and_a_dead_database_is_named_too(client, real_broker, broker_up, db):
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["down"] == ["worker", "beat"]
    with mock.patch("rectify.views.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert body["down"] == ["database", "worker", "beat"] and body["message"] == "数据库暂时无法连接"


def test_issue_now_says_when_no_worker_will_pick_it_up(client, real_broker, broker_up, office_user):
    client.force_login(office_user)
    with mock.patch("reports.views.archive.enqueue_or_hold", return_value=None) as queued:
        response = client.post("/reports/issue/dispatch/", follow=True)
    assert queued.called
    page = response.content.decode()
    assert "没有正在运行的后台进程(worker)接手" in page and "已提交生成和发送" not in page

    _beat(Process.WORKER, 1)
    cache.clear()
    with mock.patch("reports.views.archive.enqueue_or_hold", return_value=None):
        page = client.post("/reports/issue/dispatch/", follow=True).content.decode()
    assert "已提交生成和发送" in page and "没有正在运行的后台进程" not in page


def test_a_heartbeat_without_database_is_logged_not_raised(db):
    with mock.patch.object(Heartbeat.objects, "filter", side_effect=OperationalError("gone")):
        assert heartbeat_write(process=Process.WORKER) is False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_write_fresh_heartbeats_and_healthz_is_200(
        client, real_broker, celery_worker_factory, redis_url, tmp_path, plan):
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # our own Redis database: no message from an earlier run
    worker = celery_worker_factory({"RECTIFY_HEARTBEAT_SECONDS": "1"})
    assert wait_until(lambda: Heartbeat.objects.filter(process=Process.WORKER).exists(), timeout=30), \
        worker.log_path.read_text()[-3000:]
    assert client.get("/healthz").json()["down"] == ["beat"]

    beat_log = tmp_path / "beat.log"
    with open(beat_log, "w") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rectify", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            cwd=BASE_DIR, env=celery_worker_factory.env({"RECTIFY_HEARTBEAT_SECONDS": "1"}), stdout=log,
            stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: Heartbeat.objects.filter(process=Process.BEAT).exists(), timeout=30), \
            beat_log.read_text()[-3000:]
        first = Heartbeat.objects.get(process=Process.WORKER).at
        assert wait_until(lambda: Heartbeat.objects.get(process=Process.WORKER).at > first, timeout=20)
        cache.clear()
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        assert response.json()["checks"] == {"database": "ok", "broker": "ok", "worker": "ok", "beat": "ok"}
    finally:
        beat.terminate()
        beat.wait(timeout=20)
