from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tasks.selectors import plan_current, task_list


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    plan = plan_current()
    tasks = task_list(user=request.user, plan=plan) if plan else []
    return render(request, "tasks/ledger.html", {"plan": plan, "tasks": tasks})
