"""Celery jobs of the reports app: thin, they take ids or nothing and call a service.

Time limits and retry backoff stay below Redis's visibility timeout
(RECTIFY_BROKER_VISIBILITY_TIMEOUT, 600 s), so a slow job is never handed to a second worker
while the first still runs it. Compiles retry on a dropped database connection; deliveries
retry on named transient errors and resume their claim after a dropped connection. acks_late and
reject_on_worker_lost come from the settings: a job whose worker dies is delivered again, and
the services make a second run harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from reports import services
from reports.models import Report, ReportKind

logger = logging.getLogger(__name__)

COMPILE_TIME_LIMIT = 300  # a national-scale dispatch compiles in seconds
# EMAIL_TIMEOUT (20 s) bounds each SMTP step; RECTIFY_CLAIM_STALE_SECONDS exceeds the hard limit.
DELIVERY_TIME_LIMIT = settings.RECTIFY_DELIVERY_TIME_LIMIT
DELIVERY_SOFT_TIME_LIMIT = settings.RECTIFY_DELIVERY_SOFT_TIME_LIMIT
DELIVERY_MAX_RETRIES = 5
RETRY_BACKOFF_CAP = 240
DATABASE_ERRORS = (OperationalError, InterfaceError)
# A compile or bookkeeping whose database connection dropped (a restart, a fail-over).
COMPILE_RETRY = {"autoretry_for": DATABASE_ERRORS, "retry_backoff": 5, "retry_backoff_max": 120,
                 "retry_jitter": False, "max_retries": 8}


def retry_backoff(retries: int) -> int:
    """30 s, 60 s, 120 s, 240 s, 240 s: the longest wait stays below the visibility timeout."""
    return min(30 * 2**retries, RETRY_BACKOFF_CAP)


@shared_task(name="reports.jobs.dispatch_weekly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30, **COMPILE_RETRY)
def dispatch_weekly() -> list[int]:
    """Daily: the service knows whether today is a dispatch day (Thursday, or the next working day)."""
    reports = services.dispatch_due()
    for report in reports:
        logger.info("dispatch %s due today: %s", report.period, report.title)
    return [report.pk for report in reports]


@shared_task(name="reports.jobs.bulletin_monthly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30, **COMPILE_RETRY)
def bulletin_monthly() -> int | None:
    report = services.bulletin_due()
    return report.pk if report else None


@shared_task(name="reports.jobs.report_issue", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30, **COMPILE_RETRY)
def report_issue_job(kind: str, period: str | None = None, actor_id: int | None = None) -> int:
    """The office's "issue now", or an explicit period (used by operators and tests)."""
    from rectify.models import User

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    trigger = Report.Trigger.OFFICE if actor else Report.Trigger.SCHEDULE
    report, _created = services.report_issue(kind=ReportKind(kind), period=period, trigger=trigger, actor=actor)
    return report.pk


@shared_task(bind=True, name="reports.jobs.delivery_send", time_limit=DELIVERY_TIME_LIMIT,
             soft_time_limit=DELIVERY_SOFT_TIME_LIMIT, max_retries=DELIVERY_MAX_RETRIES)
def delivery_send_job(self, delivery_id: int, claim_token: str | None = None) -> str:
    last_attempt = self.request.retries >= self.max_retries
    try:
        return services.delivery_send(delivery_id=delivery_id, last_attempt=last_attempt, claim_token=claim_token)
    except services.TransientMailError as exc:
        # Only named transient errors get here (SMTP 4xx, connection, timeouts, a time limit, a
        # dropped database before the hand-over); others are "failed".
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries),
                         args=[delivery_id], kwargs={"claim_token": exc.claim_token}) from exc
    except DATABASE_ERRORS as exc:
        # The claim itself could not be made or read: nothing was sent; try again.
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(name="reports.jobs.delivery_record", time_limit=60, soft_time_limit=45,
             **{**COMPILE_RETRY, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 30})
def delivery_record_job(delivery_id: int, claim_token: str, reply: str) -> bool:
    """The server accepted; the database was away. Record it once it is back (never re-send)."""
    return services.delivery_record(delivery_id=delivery_id, claim_token=claim_token, reply=reply)


@shared_task(name="reports.jobs.deliveries_sweep", time_limit=120, soft_time_limit=100)
def deliveries_sweep() -> int:
    return len(services.deliveries_sweep())


@shared_task(name="reports.jobs.reminders_daily", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30, **COMPILE_RETRY)
def reminders_daily() -> int:
    return services.reminders_run()


@shared_task(name="reports.jobs.publication_draft_weekly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def publication_draft_weekly() -> int:
    publication, _created = services.publication_draft()
    return publication.pk


@shared_task(name="reports.jobs.catch_up", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30, **COMPILE_RETRY)
def catch_up() -> list[str]:
    done = services.catch_up(now=timezone.now())
    if done:
        logger.warning("catch-up issued what beat missed: %s", ", ".join(done))
    return done
