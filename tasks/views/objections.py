"""公示异议 answered by the office: load → validate → one service → redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks.forms import ObjectionAnswerForm
from tasks.models import Objection
from tasks.objections import objection_answer
from tasks.permissions import user_is_office
from tasks.selectors import tasks_visible_to
from tasks.views.common import error_text


@require_POST
@login_required
def objection_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(Objection.objects.filter(task__in=tasks_visible_to(request.user)), pk=pk)
    if not user_is_office(request.user):
        raise PermissionDenied(_("只有领导小组办公室可以答复公示异议。"))
    form = ObjectionAnswerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        uphold = form.cleaned_data["decision"] == "uphold"
        try:
            objection_answer(objection=objection, actor=request.user, answer=form.cleaned_data["answer"],
                             uphold=uphold)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("异议成立,已答复并退回整改。") if uphold else _("已答复异议。"))
    if request.POST.get("next") == "queue":
        return redirect("tasks:office_queue")
    return redirect("tasks:detail", pk=objection.task_id)
