import logging

from celery import shared_task
from django.utils import timezone

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
