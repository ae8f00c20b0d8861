"""Beat's scheduler, with a heartbeat on its own tick (rectify/liveness.py)."""

from __future__ import annotations

import time
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler; each tick also says beat is alive, at most every
    RECTIFY_HEARTBEAT_SECONDS, and beat never sleeps longer than that between ticks."""

    _last_heartbeat = 0.0

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_heartbeat >= settings.RECTIFY_HEARTBEAT_SECONDS:
            from rectify.liveness import Process, heartbeat_write

            if heartbeat_write(process=Process.BEAT):
                self._last_heartbeat = time.monotonic()
        return min(interval, settings.RECTIFY_HEARTBEAT_SECONDS)
