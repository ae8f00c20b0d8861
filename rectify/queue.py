"""Handing work to the Celery worker without letting a broker outage break a page.

When Redis is down, `enqueue` logs and returns False at once instead of raising: the work is
already recorded in the database (a pending delivery, a due dispatch) and the sweeper and the
catch-up tick send it when the broker is back.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task as CeleryTask
from kombu.exceptions import OperationalError

from rectify.celery import app

logger = logging.getLogger(__name__)

# One quick retry, then give up: a page must not hang waiting for a broker that is down.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(job: CeleryTask, *args: Any) -> bool:
    try:
        job.apply_async(args=args, retry=True, retry_policy=_RETRY_POLICY)
    except (OperationalError, ConnectionError, OSError) as exc:
        logger.warning("queue unavailable, %s%r kept for later: %s", job.name, args, exc)
        return False
    return True


def queue_is_up(timeout: float = 1.0) -> bool:
    """Whether the broker answers now (for the office's status line)."""
    if app.conf.task_always_eager:
        return True
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=timeout,
                                         timeout=timeout)
    except (OperationalError, ConnectionError, OSError):
        return False
    return True
