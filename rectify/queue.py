"""Handing work to the Celery worker without letting a broker outage break a page.

When Redis is down, `enqueue` logs and returns False at once instead of raising. Work that is
already recorded in the database (a pending delivery, a due dispatch) is sent by the sweeper
and the catch-up tick when the broker is back; work that is recorded nowhere else (the office's
"issue now") goes through `enqueue_or_hold`, which keeps it as a `HeldJob` row that
`held_jobs_release` hands to the queue once the broker answers again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task as CeleryTask
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from rectify.celery import app
from rectify.models import HeldJob, User

logger = logging.getLogger(__name__)

# One quick retry, then give up: a page must not hang waiting for a broker that is down.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
_BROKER_ERRORS = (OperationalError, ConnectionError, OSError)
# Office pages ask whether the queue is up; a broker that is down can cost a connect timeout,
# so each process remembers the answer: briefly when up (an outage shows within seconds), a
# little longer when down.
QUEUE_UP_SECONDS, QUEUE_DOWN_SECONDS = 5, 15
_QUEUE_STATUS_KEY = "rectify:queue-up"


def enqueue(job: CeleryTask, *args: Any) -> bool:
    try:
        job.apply_async(args=args, retry=True, retry_policy=_RETRY_POLICY)
    except _BROKER_ERRORS as exc:
        logger.warning("queue unavailable, %s%r kept for later: %s", job.name, args, exc)
        cache.set(_QUEUE_STATUS_KEY, False, QUEUE_DOWN_SECONDS)
        return False
    return True


def enqueue_or_hold(job: CeleryTask, *args: Any, key: str, description: str,
                    requested_by: User | None = None) -> HeldJob | None:
    """Queue now; if the broker is down, keep the work in the database and return its row.

    While a job with the same key waits, asking again returns the waiting row: the office
    pressing "issue now" twice during an outage gets one dispatch, not two.
    """
    if enqueue(job, *args):
        return None
    try:
        with transaction.atomic():
            held, _created = HeldJob.objects.get_or_create(
                key=key, released_at=None,
                defaults={"task_name": job.name, "args": list(args), "description": description,
                          "requested_by": requested_by},
            )
    except IntegrityError:  # a concurrent request held the same work first
        held = HeldJob.objects.get(key=key, released_at=None)
    return held


def held_jobs_waiting() -> list[HeldJob]:
    return list(HeldJob.objects.filter(released_at=None).select_related("requested_by"))


def held_jobs_release() -> list[int]:
    """Hand every waiting job to the queue; stop at the first refusal (the broker is down again).

    A row is marked released only after the broker took its job, so a crash in between can
    queue a job twice but never lose one: held jobs must be idempotent (the office's "issue
    now" is, by the unique (kind, period) of reports).
    """
    released = []
    for held in HeldJob.objects.filter(released_at=None).order_by("pk"):
        job = app.tasks.get(held.task_name)
        if job is None:
            logger.error("held job %s names an unknown task %s; it stays waiting", held.pk, held.task_name)
            continue
        if not enqueue(job, *held.args):
            break
        HeldJob.objects.filter(pk=held.pk, released_at=None).update(released_at=timezone.now())
        released.append(held.pk)
    if released:
        logger.warning("released %d job(s) held while the queue was down", len(released))
    return released


def queue_is_up(timeout: float = 1.0) -> bool:
    """Whether the broker answers now (for the office's status line)."""
    if app.conf.task_always_eager:
        return True
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=timeout,
                                         timeout=timeout)
    except _BROKER_ERRORS:
        return False
    return True


def queue_is_up_cached() -> bool:
    """`queue_is_up`, remembered a few seconds: cheap enough for every office page."""
    up = cache.get(_QUEUE_STATUS_KEY)
    if up is None:
        up = queue_is_up()
        cache.set(_QUEUE_STATUS_KEY, up, QUEUE_UP_SECONDS if up else QUEUE_DOWN_SECONDS)
    return up
