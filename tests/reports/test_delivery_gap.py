"""Delivery that survives the gap (issue 16): the hand-over point, a database that drops after
the server accepted, time limits, the server's answer on the row, and "只重发失败的".

A local SMTP server of the tests' own (tests/smtp_server.py) misbehaves on purpose; a time
limit is fired the way Celery's prefork pool fires it (a signal raising SoftTimeLimitExceeded).
"""

from __future__ import annotations

import signal
import smtplib
import time
from contextlib import contextmanager
from unittest import mock

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.test.utils import override_settings

from reports import jobs, services
from reports.models import Delivery, ReportKind
from tests.mail_backends import FlakySMTPBackend
from tests.reports_helpers import at
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db

FLAKY = "tests.mail_backends.FlakySMTPBackend"


@pytest.fixture
def dispatch(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)  # on-commit not run: nothing sent yet
    return report


def _smtp(server: SMTPServer):
    return override_settings(EMAIL_BACKEND="rectify.mail.SMTPBackend", EMAIL_HOST="127.0.0.1",
                             EMAIL_PORT=server.port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False,
                             EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="", EMAIL_TIMEOUT=10)


@contextmanager
def soft_time_limit_after(seconds: float):
    """What Celery's pool does at the soft time limit: interrupt the job with SoftTimeLimitExceeded."""
    def fire(*_):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_slow_server_past_the_soft_time_limit_is_sent_once_and_not_resent_as_failed(dispatch, office_user):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    # Holds the whole message 1.5 s before it answers; the time limit fires after 0.5 s.
    with SMTPServer(before_reply=lambda _data: time.sleep(1.5)) as server, _smtp(server):
        with soft_time_limit_after(0.5):
            result = jobs.delivery_send_job.apply(args=[delivery.pk]).get()
    assert result == "sent"
    assert len(server.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
    assert delivery.smtp_reply == "250 2.0.0 Ok: queued" and delivery.handed_over_at is not None
    assert server.parsed()[0]["Message-ID"].startswith(f"<rectify-delivery-{delivery.pk}-0@")

    # The office's "只重发失败的" finds nothing to send.
    with pytest.raises(ValidationError, match="没有需要重发的收件人"):
        services.report_resend(report=dispatch, actor=office_user, reason="补发失败的", only_failed=True)


def test_a_time_limit_before_the_server_has_the_message_is_transient(dispatch):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    FlakySMTPBackend.failures, FlakySMTPBackend.calls, FlakySMTPBackend.error = 1, 0, SoftTimeLimitExceeded()
    with override_settings(EMAIL_BACKEND=FLAKY):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "sent"
    assert FlakySMTPBackend.calls == 2 and len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2


def test_the_servers_refusal_is_recorded_and_shown_in_the_outbox(client, dispatch, office_user):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    with SMTPServer(reply=b"554 5.7.1 Message rejected as spam") as server, _smtp(server):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "failed"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.smtp_reply == "554 5.7.1 Message rejected as spam"
    client.force_login(office_user)
    page = client.get("/reports/outbox/").content.decode()
    assert "554 5.7.1 Message rejected as spam" in page


def test_a_database_drop_after_the_server_accepted_is_recorded_later_never_resent(dispatch):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    record = services.delivery_record
    calls = []

    def flaky_record(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return record(**kwargs)

    with SMTPServer() as server, _smtp(server), mock.patch.object(services, "delivery_record", flaky_record):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "sent"
    # The bookkeeping job (eager here, retried on a worker) recorded it with the server's answer.
    assert len(calls) == 2 and len(server.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.smtp_reply == "250 2.0.0 Ok: queued"
    with time_machine.travel(at(2030, 1, 1), tick=False):
        assert delivery.pk not in services.deliveries_sweep()
    assert len(server.messages) == 1


def test_a_database_drop_before_the_hand_over_sends_nothing_and_resumes_the_claim(dispatch):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    with SMTPServer() as server, _smtp(server):
        with mock.patch("reports.services.delivery_message", side_effect=OperationalError("gone")):
            with pytest.raises(services.TransientMailError) as raised:
                services.delivery_send(delivery_id=delivery.pk)
        assert server.messages == []
        token = raised.value.claim_token
        assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.CLAIMED
        # The retry resumes its own claim (the row could not be released while the database was away).
        assert services.delivery_send(delivery_id=delivery.pk, claim_token=token) == "sent"
        assert services.delivery_send(delivery_id=delivery.pk, claim_token=token) == "skipped"
    assert len(server.messages) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT


def test_a_server_that_holds_the_message_and_never_answers_is_uncertain_not_resent(client, dispatch, office_user):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    with SMTPServer(drop_after_data=True) as server, _smtp(server):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "uncertain"
        with time_machine.travel(at(2030, 1, 1), tick=False):
            assert delivery.pk not in services.deliveries_sweep()
    assert [m["To"] for m in server.parsed()].count("office@example.test") == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.UNCERTAIN and "SMTPServerDisconnected" in delivery.smtp_reply
    # The office is told: in the archive (the sweeper sent the other three to the same server), in the outbox.
    client.force_login(office_user)
    assert "另有4封结果不明" in client.get("/reports/").content.decode()
    assert "office@example.test" in client.get("/reports/outbox/?status=uncertain").content.decode()
    with pytest.raises(ValidationError, match="没有需要重发的收件人"):
        services.report_resend(report=dispatch, actor=office_user, reason="补发失败的", only_failed=True)
    targets = services.report_resend(report=dispatch, actor=office_user, reason="全部重发", only_failed=False)
    assert targets.round == 1  # a full re-send by the office still reaches that recipient


def test_sweeper_decides_a_stale_hand_over_conservatively(dispatch):
    handed, claimed, *_ = dispatch.deliveries.order_by("id")
    Delivery.objects.filter(pk=handed.pk).update(status=Delivery.Status.CLAIMED, claim_token="0" * 32,
                                                 claimed_at=at(2018, 10, 11, 9, 1),
                                                 handed_over_at=at(2018, 10, 11, 9, 1))
    Delivery.objects.filter(pk=claimed.pk).update(status=Delivery.Status.CLAIMED, claim_token="1" * 32,
                                                  claimed_at=at(2018, 10, 11, 9, 1))
    with time_machine.travel(at(2018, 10, 11, 9, 10), tick=False):
        requeued = services.deliveries_sweep()
    assert handed.pk not in requeued and claimed.pk in requeued
    assert Delivery.objects.get(pk=handed.pk).status == Delivery.Status.UNCERTAIN
    assert [m.to for m in mail.outbox].count([handed.recipient]) == 0
    # The original worker comes back with the server's acceptance: recorded, still once.
    assert services.delivery_record(delivery_id=handed.pk, claim_token="0" * 32, reply="250 ok")
    assert Delivery.objects.get(pk=handed.pk).status == Delivery.Status.SENT
    # A late original of the released claim stops before handing anything over.
    assert services.delivery_send(delivery_id=claimed.pk, claim_token="1" * 32) == "skipped"


def test_a_released_claim_is_refused_at_the_hand_over(dispatch):
    delivery = dispatch.deliveries.get(recipient="office@example.test")

    def sweeper_took_it_back(_data=None):
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, claim_token=None)

    with SMTPServer() as server, _smtp(server), \
            mock.patch("rectify.mail.SMTPBackend._final_reply", side_effect=AssertionError("never reached")):
        real = smtplib.SMTP.send

        def send(self, data):
            if isinstance(data, bytes) and b"Subject:" in data:
                sweeper_took_it_back()  # between the body and the final "."
            return real(self, data)

        with mock.patch.object(smtplib.SMTP, "send", send):
            assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert server.messages == [] and server.aborted == 1


def test_a_compile_that_loses_its_database_connection_is_retried(plan, office_user):
    compile_ = services._compile
    calls = []

    def drops_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return compile_(**kwargs)

    with mock.patch.object(services, "_compile", drops_once), time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report_id = jobs.report_issue_job.apply(args=[ReportKind.DISPATCH.value, "2018-10-08", None]).get()
    assert len(calls) == 2
    assert services.Report.objects.get(pk=report_id).period == "2018-10-08"


def test_sweeper_leaves_deliveries_waiting_in_the_queue_alone(dispatch):
    """A national dispatch waits minutes in line; the sweeper must not queue it again every minute."""
    with time_machine.travel(at(2018, 10, 11, 9, 5), tick=False):
        assert services.deliveries_sweep() == []  # 5 minutes pending: still in the queue
    with time_machine.travel(at(2018, 10, 11, 9, 11), tick=False):
        assert len(services.deliveries_sweep()) == 4  # 11 minutes: the broker lost them


def test_an_error_after_the_servers_250_still_counts_as_sent(dispatch):
    delivery = dispatch.deliveries.get(recipient="office@example.test")
    with SMTPServer() as server, _smtp(server), \
            mock.patch.object(smtplib.SMTP, "quit", side_effect=SoftTimeLimitExceeded()):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "sent"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.smtp_reply == "250 2.0.0 Ok: queued"
    assert len(server.messages) == 1
