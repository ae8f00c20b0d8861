import logging

from celery import shared_task
from django.utils import timezone

from rectify.backup import backup_scheduled
from rectify.queue import held_jobs_release

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="rectify.jobs.heartbeat", time_limit=30, soft_time_limit=20)
def heartbeat(self) -> str:
    """Proves beat → broker → worker works: records the worker's heartbeat; returns the local time."""
    from rectify.liveness import Process, heartbeat_write

    now = timezone.localtime().isoformat()
    heartbeat_write(process=Process.WORKER, hostname=self.request.hostname or "")
    logger.info("heartbeat %s", now)
    return now


@shared_task(name="rectify.jobs.held_jobs_release", time_limit=60, soft_time_limit=45)
def held_jobs_release_job() -> int:
    """Hands to the queue the work kept while it was down (see rectify/queue.py)."""
    return len(held_jobs_release())


@shared_task(name="rectify.jobs.backup_nightly", time_limit=3600, soft_time_limit=3300)
def backup_nightly_job() -> str:
    """The nightly encrypted backup and its retention (see rectify/backup.py). No retry: a
    missing key or a failing pg_dump is a configuration fault that a retry would not fix."""
    target = backup_scheduled()
    logger.info("backup written to %s", target)
    return str(target)
