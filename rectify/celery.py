import logging
import os
import threading

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")

app = Celery("rectify")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Background work lives in each app's jobs.py: "task" means a rectification task here.
app.autodiscover_tasks(related_name="jobs")

logger = logging.getLogger(__name__)
_heartbeat_stop = threading.Event()


@worker_ready.connect
def _worker_heartbeat_start(sender, **kwargs) -> None:  # noqa: ANN001 (Celery's signal signature)
    """A thread of the worker's own says it is alive, even while a long job runs (rectify/liveness.py)."""
    from django.conf import settings
    from django.db import connection

    from rectify.liveness import Process, heartbeat_write

    hostname = getattr(sender, "hostname", "") or ""

    def beat() -> None:
        while True:
            heartbeat_write(process=Process.WORKER, hostname=hostname)
            # Closed between beats: a pool process forked meanwhile must not inherit it open.
            connection.close()
            if _heartbeat_stop.wait(settings.RECTIFY_HEARTBEAT_SECONDS):
                return

    _heartbeat_stop.clear()
    threading.Thread(target=beat, name="rectify-heartbeat", daemon=True).start()
    logger.info("worker heartbeat every %s s", settings.RECTIFY_HEARTBEAT_SECONDS)


@worker_shutdown.connect
def _worker_heartbeat_stop(**kwargs) -> None:  # noqa: ANN003
    _heartbeat_stop.set()
