"""What every page's frame needs to know beyond the user."""

from __future__ import annotations

from django.http import HttpRequest

from rectify.liveness import background_stale_cached, process_labels
from rectify.queue import queue_is_up_cached


def queue_status(request: HttpRequest) -> dict[str, object]:
    """The office must see on any page that the queue is down, or that no worker or beat is
    running: what it starts now will wait."""
    from reports.selectors import user_runs_reports  # reports imports rectify; not the other way at load

    user = getattr(request, "user", None)
    if user is None or not user_runs_reports(user):
        return {}
    return {"queue_down": lambda: not queue_is_up_cached(),
            # "后台任务未运行": which of worker and beat has no fresh heartbeat ("" when both do).
            "background_down": lambda: process_labels(background_stale_cached())}


def calendar_status(request: HttpRequest) -> dict[str, object]:
    """The office must enter next year's holiday notice in time: from 1 November on (and all
    year for a year still missing) its pages say which years are missing."""
    from rectify.calendar import missing_years
    from rectify.roles import Role

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (
            user.is_superuser or user.has_role(Role.OFFICE, Role.OFFICE_HEAD)):
        return {}
    return {"calendar_missing_years": lambda: "、".join(str(y) for y in missing_years())}
