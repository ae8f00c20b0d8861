import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="rectify.jobs.heartbeat", time_limit=30, soft_time_limit=20)
def heartbeat() -> str:
    """Proves the worker and the beat scheduler are alive; returns the local time."""
    now = timezone.localtime().isoformat()
    logger.info("heartbeat %s", now)
    return now
