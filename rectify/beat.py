"""Beat's scheduler, with a heartbeat on its own tick (rectify/liveness.py), and a catch-up as
soon as it starts."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What fell due while beat was down (or before a fresh install's first start) goes out at once,
# not at the catch-up's next quarter-hour slot: dispatches, bulletins, the day's reminders.
STARTUP_JOBS = ("reports.jobs.catch_up",)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler; each tick also says beat is alive, at most every
    RECTIFY_HEARTBEAT_SECONDS, and beat never sleeps longer than that between ticks. Its first
    tick queues STARTUP_JOBS."""

    _last_heartbeat = 0.0
    _started = False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._started:
            self._started = True
            startup_jobs_send(self.app)
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_heartbeat >= settings.RECTIFY_HEARTBEAT_SECONDS:
            from rectify.liveness import Process, heartbeat_write

            if heartbeat_write(process=Process.BEAT):
                self._last_heartbeat = time.monotonic()
        return min(interval, settings.RECTIFY_HEARTBEAT_SECONDS)


def startup_jobs_send(app: Any) -> list[str]:
    """Queue the start-up jobs; with the broker down they wait for their scheduled slot."""
    sent = []
    for name in STARTUP_JOBS:
        try:
            app.send_task(name)
        except OperationalError:
            logger.warning("beat could not queue %s at start (broker down); it runs at its next slot", name)
            continue
        sent.append(name)
    return sent
