"""Exactly once against Redis with a real worker process, killed (SIGKILL) during a bulletin."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from rectify.celery import app
from reports.models import Delivery, Report, ReportKind
from tests.helpers import wait_until
from tests.reports_helpers import mails_written

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECIPIENTS = {"office@example.test", "leader@example.test", "coal@example.test", "taiyuan@example.test"}


def _statuses() -> Counter:
    return Counter(Delivery.objects.values_list("status", flat=True))


def test_worker_killed_during_a_bulletin_sends_one_bulletin_once_per_recipient(
        real_broker, celery_worker_factory, redis_url, tmp_path, plan, office_user, leader, coal_liaison,
        taiyuan_liaison):
    import redis


    redis.Redis.from_url(redis_url).flushdb()  # our own Redis database: no message from an earlier run
    maildir = tmp_path / "mail"
    maildir.mkdir()
    env = {
        "EMAIL_URL": f"file://{maildir}",
        # Each e-mail takes 1.5 s before it is written, like a slow SMTP transaction.
        "RECTIFY_TEST_EMAIL_BACKEND": "tests.mail_backends.SlowFileBackend",
        "RECTIFY_TEST_MAIL_DELAY": "1.5",
        "RECTIFY_CLAIM_STALE_SECONDS": "3",
    }
    first = celery_worker_factory(env)
    # Beat fires twice in the same minute.
    app.send_task("reports.jobs.report_issue", args=[ReportKind.BULLETIN.value, "2018-11", None])
    app.send_task("reports.jobs.report_issue", args=[ReportKind.BULLETIN.value, "2018-11", None])

    # Kill the worker in the middle: one e-mail out, the next one being sent.
    assert wait_until(lambda: _statuses()[Delivery.Status.SENT] >= 1 and _statuses()[Delivery.Status.CLAIMED] == 1,
                      timeout=90), f"worker never got going: {_statuses()} {(tmp_path / 'worker-0.log').read_text()}"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    stuck = Delivery.objects.get(status=Delivery.Status.CLAIMED)
    assert stuck.recipient not in {m["To"] for m in mails_written(maildir)}

    # Restarted; beat fires once more; the sweeper finds the delivery whose worker died.
    celery_worker_factory(env)
    app.send_task("reports.jobs.report_issue", args=[ReportKind.BULLETIN.value, "2018-11", None])
    time.sleep(3.5)  # let the dead worker's claim become stale (RECTIFY_CLAIM_STALE_SECONDS=3)
    app.send_task("reports.jobs.deliveries_sweep")
    assert wait_until(lambda: _statuses() == Counter({Delivery.Status.SENT: 4}), timeout=90), \
        f"{_statuses()} {(tmp_path / 'worker-1.log').read_text()[-3000:]}"

    report = Report.objects.get(kind=ReportKind.BULLETIN)
    assert report.period == "2018-11" and report.issue_label == "2018年第11期"  # the n-th month of its year (issue 16)
    deliveries = list(report.deliveries.all())
    assert sorted(d.recipient for d in deliveries) == sorted(RECIPIENTS)
    stuck.refresh_from_db()
    assert stuck.status == Delivery.Status.SENT and stuck.attempts == 2

    mails = mails_written(maildir)
    assert Counter(m["To"] for m in mails) == Counter(dict.fromkeys(RECIPIENTS, 1))
    message = next(m for m in mails if m["To"] == "coal@example.test")
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "text/plain" in parts and "text/html" in parts
    assert "2018年第11期" in parts["text/plain"].get_content()
    assert "二、单位排名" in parts["text/html"].get_content()
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in parts
