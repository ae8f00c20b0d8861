"""Extension requests (延期申请): a unit asks, the office approves or rejects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks.extensions import extension_request_create, extension_request_decide
from tasks.forms import ExtensionDecisionForm, ExtensionRequestForm
from tasks.models import ExtensionRequest
from tasks.permissions import user_answers_for, user_is_office
from tasks.selectors import tasks_visible_to
from tasks.views.common import error_text, visible_task_or_404


@require_http_methods(["GET", "POST"])
@login_required
def request_new(request: HttpRequest, pk: int) -> HttpResponse:
    task = visible_task_or_404(request, pk)
    if not user_answers_for(task, request.user):
        raise PermissionDenied(_("只有该任务的牵头单位或责任单位可以申请延期。"))
    form = ExtensionRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            extension_request_create(task=task, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("延期申请已提交,等待办公室审批。"))
            return redirect("tasks:detail", pk=task.pk)
    return render(request, "tasks/extension_form.html", {"task": task, "form": form},
                  status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    ext = get_object_or_404(
        ExtensionRequest.objects.filter(task__in=tasks_visible_to(request.user)).select_related("task"), pk=pk
    )
    if not user_is_office(request.user):
        raise PermissionDenied(_("只有领导小组办公室可以审批延期申请。"))
    form = ExtensionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审批结果。"))
    else:
        try:
            extension_request_decide(request=ext, actor=request.user,
                                     approve=form.cleaned_data["decision"] == "approve",
                                     comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("延期申请已审批。"))
    if request.POST.get("next") == "queue":
        return redirect("tasks:office_queue")
    return redirect("tasks:detail", pk=ext.task_id)
