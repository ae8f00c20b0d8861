"""Background jobs of the tasks app. Thin: they call a service and say what they did."""

from __future__ import annotations

from celery import shared_task

from tasks.signoff import signoff_close_due


@shared_task(name="tasks.jobs.signoff_close_due_job", time_limit=300, soft_time_limit=270)
def signoff_close_due_job() -> list[int]:
    """Close the tasks whose public notice period is over (every morning, see settings)."""
    return signoff_close_due()
