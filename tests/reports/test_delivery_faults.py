"""Delivery faults on the real stack (issue 16), each with a real Celery worker and a local SMTP
server of the tests' own (tests/smtp_server.py):

- a tarpitting server that holds the whole message past the job's soft time limit before it
  answers: delivered once, marked sent, and "只重发失败的" finds nothing to send;
- PostgreSQL restarted between the server's acceptance and the bookkeeping (a private
  PostgreSQL and Redis, as in tests/test_faults.py): one message, recorded as sent.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from reports import services
from reports.models import Delivery, ReportKind
from tests.conftest import wait_until
from tests.rectify.test_faults import PG_BIN, app_env, as_postgres, private_postgres, private_redis  # noqa: F401 (fixtures)
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.services


@pytest.mark.django_db(transaction=True)
def test_a_tarpitting_server_past_the_soft_time_limit_delivers_once_and_is_marked_sent(
        real_broker, celery_worker_factory, redis_url, plan, office_user, monkeypatch):
    import redis

    from reports import jobs

    # Time limits travel in the message, from the sender's settings: this process sends.
    monkeypatch.setattr(jobs.delivery_send_job, "soft_time_limit", 2)
    monkeypatch.setattr(jobs.delivery_send_job, "time_limit", 15)
    monkeypatch.setattr(jobs.delivery_send_job, "_exec_options", None)  # Celery caches them per task

    redis.Redis.from_url(redis_url).flushdb()  # our own Redis database: no message from an earlier run
    # Holds the whole message 4 s before answering; the soft time limit is 2 s (prefork enforces it).
    with SMTPServer(before_reply=lambda _data: time.sleep(4)) as server:
        worker = celery_worker_factory({
            "EMAIL_URL": f"smtp://127.0.0.1:{server.port}",
            "RECTIFY_DELIVERY_SOFT_TIME_LIMIT": "2", "RECTIFY_DELIVERY_TIME_LIMIT": "15",
            "RECTIFY_SMTP_DATA_TIMEOUT": "10",
        }, pool=("--pool", "prefork", "--concurrency", "1"))
        report, _ = services.report_issue(kind=ReportKind.DISPATCH, period="2018-10-08")
        delivery = report.deliveries.get()  # the office is the only recipient here

        def settled() -> bool:
            delivery.refresh_from_db()
            return delivery.status not in {Delivery.Status.PENDING, Delivery.Status.CLAIMED}

        assert wait_until(settled, timeout=40), worker.log_path.read_text()[-3000:]
        log = worker.log_path.read_text()
    assert "Soft time limit (2s) exceeded" in log, log[-6000:]  # the soft limit did fire mid-answer
    assert delivery.status == Delivery.Status.SENT, (delivery.status, delivery.last_error, log[-3000:])
    assert delivery.attempts == 1 and delivery.smtp_reply == "250 2.0.0 Ok: queued"
    assert len(server.messages) == 1
    with pytest.raises(ValidationError, match="没有需要重发的收件人"):
        services.report_resend(report=report, actor=office_user, reason="补发失败的", only_failed=True)


_CREATE_AND_QUEUE = """
import datetime as dt
from reports.models import Delivery, ReminderDigest
from reports.services import deliveries_enqueue
digest = ReminderDigest.objects.create(day=dt.date(2018, 10, 12), recipient="office@example.test")
delivery = Delivery.objects.create(digest=digest, subject="整改提醒", recipient="office@example.test",
                                   audience=Delivery.Audience.REMINDER)
deliveries_enqueue([delivery.pk])
print(delivery.pk)
"""


def test_postgres_restarted_between_smtp_accept_and_bookkeeping_sends_one_message(
        private_postgres, private_redis, tmp_path):  # noqa: F811 (fixtures imported above)
    url, data = private_postgres
    port = url.rsplit(":", 1)[1].split("/")[0]
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    restarted = threading.Event()

    def restart_later() -> None:
        time.sleep(2)
        as_postgres(*pg_ctl, "-o", options, "-w", "start", "-l", str(data / "log"))
        restarted.set()

    def postgres_goes_away(_data: bytes) -> None:
        # The server holds the message; before it answers 250, the database goes down.
        as_postgres(*pg_ctl, "-m", "fast", "-w", "stop")
        threading.Thread(target=restart_later, daemon=True).start()

    with SMTPServer(before_reply=postgres_goes_away) as server:
        env = app_env(url, tmp_path, REDIS_URL=private_redis["url"], EMAIL_URL=f"smtp://127.0.0.1:{server.port}",
                      RECTIFY_CLAIM_STALE_SECONDS="3")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True,
                       timeout=300)
        log_path = tmp_path / "worker.log"
        with open(log_path, "w") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "rectify", "worker", "--pool", "solo", "--loglevel", "INFO",
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            made = subprocess.run([sys.executable, "manage.py", "shell", "-c", _CREATE_AND_QUEUE],
                                  cwd=settings.BASE_DIR, env=env, check=True, timeout=120, capture_output=True,
                                  text=True)
            delivery_id = int(made.stdout.strip().splitlines()[-1])

            def row() -> tuple | None:
                if not restarted.is_set():
                    return None
                try:
                    with psycopg.connect(url, connect_timeout=2) as db:
                        return db.execute("SELECT status, attempts, smtp_reply FROM reports_delivery WHERE id = %s",
                                          (delivery_id,)).fetchone()
                except psycopg.OperationalError:
                    return None

            assert wait_until(lambda: (row() or ("",))[0] == "sent", timeout=60), \
                f"{row()} {log_path.read_text()[-4000:]}"
            # The sweeper, long after its stale limit, finds nothing to send again.
            subprocess.run([sys.executable, "manage.py", "shell", "-c",
                            "from reports.services import deliveries_sweep; print(deliveries_sweep())"],
                           cwd=settings.BASE_DIR, env=env, check=True, timeout=120, capture_output=True)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    status, attempts, reply = row()
    assert (status, attempts, reply) == ("sent", 1, "250 2.0.0 Ok: queued")
    assert len(server.messages) == 1 and server.parsed()[0]["To"] == "office@example.test"
    assert "accepted (250 2.0.0 Ok: queued) but not yet recorded" in log_path.read_text()
