"""Celery jobs of the reports app: thin, they take ids or nothing and call a service.

Time limits and retry backoff stay far below Redis's visibility timeout (3600 s), so a slow
job is never handed to a second worker while the first still runs it. acks_late and
reject_on_worker_lost come from the settings: a job whose worker dies is delivered again, and
the services make a second run harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from reports import services
from reports.models import Report, ReportKind

logger = logging.getLogger(__name__)

COMPILE_TIME_LIMIT = 300  # a national-scale dispatch compiles in seconds
DELIVERY_TIME_LIMIT = 120  # EMAIL_TIMEOUT (20 s) bounds each SMTP step; RECTIFY_CLAIM_STALE_SECONDS exceeds this
DELIVERY_MAX_RETRIES = 5
RETRY_BACKOFF_CAP = 600


def retry_backoff(retries: int) -> int:
    """30 s, 60 s, 120 s, 240 s, 480 s: the longest wait stays below the visibility timeout."""
    return min(30 * 2**retries, RETRY_BACKOFF_CAP)


@shared_task(name="reports.jobs.dispatch_weekly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def dispatch_weekly() -> list[int]:
    """Daily: the service knows whether today is a dispatch day (Thursday, or the next working day)."""
    reports = services.dispatch_due()
    for report in reports:
        logger.info("dispatch %s due today: %s", report.period, report.title)
    return [report.pk for report in reports]


@shared_task(name="reports.jobs.bulletin_monthly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def bulletin_monthly() -> int | None:
    report = services.bulletin_due()
    return report.pk if report else None


@shared_task(name="reports.jobs.report_issue", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def report_issue_job(kind: str, period: str | None = None, actor_id: int | None = None) -> int:
    """The office's "issue now", or an explicit period (used by operators and tests)."""
    from rectify.models import User

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    trigger = Report.Trigger.OFFICE if actor else Report.Trigger.SCHEDULE
    report, _created = services.report_issue(kind=ReportKind(kind), period=period, trigger=trigger, actor=actor)
    return report.pk


@shared_task(bind=True, name="reports.jobs.delivery_send", time_limit=DELIVERY_TIME_LIMIT,
             soft_time_limit=DELIVERY_TIME_LIMIT - 20, max_retries=DELIVERY_MAX_RETRIES)
def delivery_send_job(self, delivery_id: int) -> str:
    last_attempt = self.request.retries >= self.max_retries
    try:
        return services.delivery_send(delivery_id=delivery_id, last_attempt=last_attempt)
    except services.TransientMailError as exc:
        # Only named transient errors get here (SMTP 4xx, connection, timeout); others are "failed".
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries)) from exc


@shared_task(name="reports.jobs.deliveries_sweep", time_limit=120, soft_time_limit=100)
def deliveries_sweep() -> int:
    return len(services.deliveries_sweep())


@shared_task(name="reports.jobs.reminders_daily", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def reminders_daily() -> int:
    return services.reminders_run()


@shared_task(name="reports.jobs.publication_draft_weekly", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def publication_draft_weekly() -> int:
    publication, _created = services.publication_draft()
    return publication.pk


@shared_task(name="reports.jobs.catch_up", time_limit=COMPILE_TIME_LIMIT,
             soft_time_limit=COMPILE_TIME_LIMIT - 30)
def catch_up() -> list[str]:
    done = services.catch_up(now=timezone.now())
    if done:
        logger.warning("catch-up issued what beat missed: %s", ", ".join(done))
    return done
