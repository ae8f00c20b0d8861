"""Sign-off (销号) steps in the browser. Each view: load → validate → one service → redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tasks.forms import SignoffApplyForm, SignoffDecisionForm, SignoffReturnForm, SignoffVerifyForm
from tasks.permissions import user_answers_for, user_is_lead_liaison, user_is_office
from tasks.signoff import (
    signoff_apply,
    signoff_close,
    signoff_lead_review,
    signoff_office_verify,
    signoff_return,
)
from tasks.views.common import error_text, evidence_limits, visible_task_or_404


@require_http_methods(["GET", "POST"])
@login_required
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    task = visible_task_or_404(request, pk)
    if not user_answers_for(task, request.user):
        raise PermissionDenied(_("只有该任务的牵头单位或责任单位可以申请销号。"))
    form = SignoffApplyForm(request.POST if request.method == "POST" else None, initial={"version": task.version})
    if request.method == "POST" and form.is_valid():
        try:
            signoff_apply(task=task, actor=request.user, comment=form.cleaned_data["comment"],
                          evidence=request.FILES.getlist("evidence"),
                          expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("已申请销号,等待牵头单位审核。"))
            return redirect("tasks:detail", pk=task.pk)
    return render(request, "tasks/signoff_apply.html", {
        "task": task, "form": form, "evidence_count": task.evidence.count(),
        "evidence_limits": evidence_limits(),
    }, status=400 if request.method == "POST" else 200)


def _decide(request: HttpRequest, pk: int, form_class, may, act, done: str) -> HttpResponse:
    task = visible_task_or_404(request, pk)
    # The role is checked before the form: a leader gets 403 whatever they post.
    if not may(task, request.user):
        raise PermissionDenied(_("您无权进行这一步操作。"))
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("tasks:detail", pk=task.pk)
    try:
        act(task, form.cleaned_data)
    except ValidationError as exc:  # out of order, stale page, missing reason
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done)
    if request.POST.get("next") == "queue":
        return redirect("tasks:office_queue")
    return redirect("tasks:detail", pk=task.pk)


@require_POST
@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, SignoffDecisionForm, user_is_lead_liaison, lambda task, data: signoff_lead_review(
        task=task, actor=request.user, comment=data["comment"], expected_version=data["version"],
    ), _("牵头单位审核通过,已报办公室验收。"))


@require_POST
@login_required
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, SignoffVerifyForm, lambda task, user: user_is_office(user),
                   lambda task, data: signoff_office_verify(
        task=task, actor=request.user, comment=data["comment"], expected_version=data["version"],
        onsite_checked_on=data["onsite_checked_on"], onsite_note=data["onsite_note"],
    ), _("验收通过,进入公示期。"))


@require_POST
@login_required
def return_(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, SignoffReturnForm,
                   lambda task, user: user_is_office(user) or user_is_lead_liaison(task, user),
                   lambda task, data: signoff_return(
        task=task, actor=request.user, reason=data["comment"], expected_version=data["version"],
    ), _("已退回,任务恢复为正在推进整改。"))


@require_POST
@login_required
def close(request: HttpRequest, pk: int) -> HttpResponse:
    """The office closes a task whose notice has ended, without waiting for the morning job."""
    task = visible_task_or_404(request, pk)
    if not user_is_office(request.user):
        raise PermissionDenied(_("只有领导小组办公室可以销号。"))
    try:
        signoff_close(task=task, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("公示期满,已销号。"))
    return redirect("tasks:detail", pk=task.pk)
