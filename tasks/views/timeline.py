"""挂图作战 (the battle map): tasks and their milestones on a time axis against today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tasks import charts
from tasks.dashboards import LedgerResult, ledger_states, plan_for
from tasks.models import Plan
from tasks.views.dashboard import DashboardScope, render_dashboard

TIMELINE_ROWS = 40


@require_GET
@login_required
def timeline(request: HttpRequest) -> HttpResponse:
    plan = plan_for(request.GET)
    if plan is None:
        return render(request, "tasks/no_plan.html")
    result = ledger_states(user=request.user, plan=plan, params=request.GET)
    scope = DashboardScope(plan=plan, as_of=result.snapshot.as_of, as_of_error=result.as_of_error,
                           snapshot=result.snapshot, states=result.states, scope_token=result.scope_token)
    return render_dashboard(request, scope, body_template="tasks/timeline_body.html", title=_("挂图作战"),
                            context=lambda: _timeline_context(request, plan, result, scope))


def _timeline_context(request: HttpRequest, plan: Plan, result: LedgerResult, scope: DashboardScope) -> dict[str, Any]:
    # The ledger's filters and order; a page past the end shows the last one.
    page = Paginator(result.states, TIMELINE_ROWS).get_page(request.GET.get("page"))
    today = timezone.localdate()
    # The axis starts when rectification started (the feedback), or at the earliest date shown.
    starts = [plan.history_starts_on, *(m.due_on for s in page.object_list for m in s.milestones)]
    start = min(starts)
    ends = [d for s in result.states for d in (s.deadline, s.original_deadline) if d]
    end = max([today + dt.timedelta(days=60), *ends])
    rows = [
        charts.TimelineRow(
            label=f"{_('【督】') if s.supervised else ''}{s.number}. {s.title}",
            href=reverse("tasks:detail", args=[s.id]),
            start=start, end=s.deadline, original_end=s.original_deadline,
            color=charts.LIGHT_COLORS[s.light],
            milestones=[(m.title, m.due_on, m.done_on is not None and m.done_on <= scope.as_of)
                        for m in s.milestones],
            note=f"{s.get_status_display()} · {s.progress}% · {s.deadline_text}",
        )
        for s in page.object_list
    ]
    chart = charts.timeline(rows, start=start, end=end, today=today, as_of=scope.as_of,
                            title=_("挂图作战")) if rows else ""
    query = request.GET.copy()
    query.pop("page", None)
    return {"plan": plan, "form": result.form, "page": page, "chart": chart,
            "total": len(result.states), "query": query.urlencode()}
