from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tasks.selectors import plan_current, task_list, tasks_visible_to


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    plan = plan_current()
    tasks = task_list(user=request.user, plan=plan) if plan else []
    return render(request, "tasks/ledger.html", {"plan": plan, "tasks": tasks})


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # 404, not 403, for a task the user may not see: its existence is not theirs to know.
    task = get_object_or_404(
        tasks_visible_to(request.user).select_related("plan", "measure", "problem"), pk=pk
    )
    return render(request, "tasks/task_detail.html", {
        "task": task,
        "task_units": task.task_units.select_related("unit"),
        "milestones": task.milestones.all(),
        "reports": task.reports.select_related("unit", "author")[:50],
    })
