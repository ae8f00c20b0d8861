"""我的任务: the liaison's list of their unit's tasks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from rectify.calendar import report_cutoff, report_week
from tasks.forms import MyTasksFilterForm
from tasks.workspace_selectors import my_tasks, my_tasks_filter


@require_GET
@login_required
def my_task_list(request: HttpRequest) -> HttpResponse:
    form = MyTasksFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    all_rows = my_tasks(user=request.user)
    rows = my_tasks_filter(all_rows, **{k: v for k, v in filters.items() if v})
    today = timezone.localdate()
    return render(request, "tasks/mytasks.html", {
        "form": form, "rows": rows, "total": len(all_rows),
        "unreported": sum(1 for r in all_rows if r.not_reported),
        "with_pending": sum(1 for r in all_rows if r.pending),
        "week": report_week(today), "cutoff": report_cutoff(report_week(today)),
    })
