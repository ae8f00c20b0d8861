"""督办: the list of supervision actions, issuing one, lifting one. Office and supervisors only
write; leaders and liaisons read (403 on any write)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tasks.dashboards import plan_for
from tasks.forms import TEXT_MAX
from tasks.models import SupervisionKind, Task, Unit
from tasks.supervision import supervision_issue, supervision_lift, supervision_visible_to, user_may_supervise
from tasks.views.common import id_or_none


class SupervisionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("督办方式"), choices=SupervisionKind.choices)
    task_number = forms.IntegerField(label=gettext_lazy("任务序号"), required=False, min_value=1)
    unit = forms.ModelChoiceField(label=gettext_lazy("被督办单位"), required=False,
                                  queryset=Unit.objects.order_by("kind", "code"),
                                  widget=forms.Select(attrs={"data-search": gettext_lazy("输入名称筛选单位")}))
    title = forms.CharField(label=gettext_lazy("事由"), max_length=200)
    requirements = forms.CharField(label=gettext_lazy("督办要求(挂牌督办必填)"), required=False,
                                   max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    time_limit = forms.DateField(label=gettext_lazy("办结时限(挂牌督办必填)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    issued_on = forms.DateField(label=gettext_lazy("督办日期(默认今天)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    reopen_task = forms.BooleanField(label=gettext_lazy("回头看发现问题,重新打开已销号的任务"), required=False)
    reopen_reason = forms.CharField(label=gettext_lazy("重新打开的原因"), required=False, max_length=180)


class SupervisionLiftForm(forms.Form):
    # A form, not request.POST as it came: a NUL character would reach the database.
    outcome = forms.CharField(
        label=gettext_lazy("办理结果"), max_length=TEXT_MAX,
        error_messages={"required": gettext_lazy("解除督办须填写办理结果。"),
                        "max_length": gettext_lazy("办理结果不能超过%(limit_value)d字。"),
                        "null_characters_not_allowed": gettext_lazy("办理结果中含有无法保存的控制字符。")},
    )


@require_http_methods(["GET"])
@login_required
def supervision_list(request: HttpRequest) -> HttpResponse:
    actions = supervision_visible_to(request.user)
    kind = request.GET.get("kind", "")
    if kind in SupervisionKind.values:
        actions = actions.filter(kind=kind)
    if request.GET.get("active") == "1":
        actions = actions.filter(lifted_on__isnull=True)
    page = Paginator(actions.order_by("-issued_on", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "tasks/supervision_list.html", {
        "page": page, "supervision_actions": page.object_list, "kinds": SupervisionKind.choices,
        "kind": kind, "may_supervise": user_may_supervise(request.user), "scope": None,
    })


@require_http_methods(["GET", "POST"])
@login_required
def supervision_new(request: HttpRequest) -> HttpResponse:
    if not user_may_supervise(request.user):
        raise PermissionDenied(_("只有领导小组办公室和整改督导组可以督办。"))
    plan = plan_for(request.GET)
    if request.method == "POST":
        form = SupervisionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            task = None
            if data["task_number"]:
                task = Task.objects.filter(plan=plan, number=data["task_number"]).first()
                if task is None:
                    form.add_error("task_number", _("整改方案中没有这个序号的任务。"))
            if not form.errors:
                try:
                    action = supervision_issue(
                        actor=request.user, kind=data["kind"], title=data["title"], task=task,
                        unit=data["unit"], requirements=data["requirements"], time_limit=data["time_limit"],
                        issued_on=data["issued_on"], reopen_task=data["reopen_task"],
                        reopen_reason=data["reopen_reason"],
                    )
                except ValidationError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    messages.success(request, _("已登记督办:%(a)s") % {"a": action})
                    if action.unit_id and not action.task_id:
                        return redirect("tasks:unit", action.unit_id)
                    return redirect("tasks:supervision_list")
    else:
        initial = {}
        task_id = id_or_none(request.GET.get("task"))
        if task_id is not None:
            task = Task.objects.filter(pk=task_id).only("number").first()
            if task is not None:
                initial["task_number"] = task.number
        unit_id = id_or_none(request.GET.get("unit"))
        if unit_id is not None:
            initial["unit"] = unit_id
        form = SupervisionForm(initial=initial)
    return render(request, "tasks/supervision_form.html", {"form": form, "plan": plan, "scope": None},
                  status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def supervision_lift_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not user_may_supervise(request.user):
        raise PermissionDenied(_("只有领导小组办公室和整改督导组可以解除督办。"))
    action = get_object_or_404(supervision_visible_to(request.user), pk=pk)
    form = SupervisionLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("tasks:supervision_list")
    try:
        supervision_lift(action=action, actor=request.user, outcome=form.cleaned_data["outcome"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已解除督办:%(a)s") % {"a": action})
    return redirect("tasks:supervision_list")
