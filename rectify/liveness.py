"""Is anyone doing the background work? Worker and beat write a heartbeat row; pages and
/healthz read it.

- Every worker process writes `Heartbeat(worker)` from a thread of its own, every
  RECTIFY_HEARTBEAT_SECONDS, whatever job it is running (rectify/celery.py); the `heartbeat` job
  writes it too, which also proves that beat → broker → worker works end to end.
- Beat writes `Heartbeat(beat)` from its own tick (rectify/beat.py).
- Older than RECTIFY_HEARTBEAT_STALE_SECONDS is "not running": the office's pages show
  "后台任务未运行", /healthz answers 503 naming it, and 立即生成 says nothing will pick it up.

When jobs run in-process (CELERY_TASK_ALWAYS_EAGER) there is nothing to wait for: all fresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from rectify.celery import app
from rectify.models import Heartbeat

logger = logging.getLogger(__name__)

Process = Heartbeat.Process
_CACHE_KEY = "rectify:background-stale"
_CACHE_SECONDS = 5  # office pages ask on every request; a few seconds late is fine


def heartbeat_write(*, process: str, hostname: str = "") -> bool:
    """Record that `process` is alive now. A database that is away is logged, never raised: a
    heartbeat must not take its process down. Returns whether it was written."""
    now = timezone.now()
    hostname = (hostname or socket.gethostname())[:200]
    try:
        if not Heartbeat.objects.filter(process=process).update(at=now, hostname=hostname):
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(process=process, at=now, hostname=hostname)
            except IntegrityError:  # another process wrote the first one meanwhile
                Heartbeat.objects.filter(process=process).update(at=now, hostname=hostname)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("heartbeat of %s not written, database unavailable: %s", process, exc)
        connection.close()  # the next beat starts from a fresh connection
        return False
    return True


def background_stale(*, now: dt.datetime | None = None) -> list[str]:
    """The processes whose last heartbeat is missing or too old, e.g. ["worker"]."""
    if app.conf.task_always_eager:
        return []
    now = now or timezone.now()
    fresh_since = now - dt.timedelta(seconds=settings.RECTIFY_HEARTBEAT_STALE_SECONDS)
    seen = dict(Heartbeat.objects.values_list("process", "at"))
    return [p.value for p in Process if seen.get(p.value) is None or seen[p.value] < fresh_since]


def worker_is_running() -> bool:
    return Process.WORKER.value not in background_stale()


def background_stale_cached() -> list[str]:
    stale = cache.get(_CACHE_KEY)
    if stale is None:
        stale = background_stale()
        cache.set(_CACHE_KEY, stale, _CACHE_SECONDS)
    return stale


def process_labels(processes: list[str]) -> str:
    return gettext("、").join(str(Process(p).label) for p in processes)
