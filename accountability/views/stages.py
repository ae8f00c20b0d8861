"""Moving a case along its stages: forward one step, or back with a reason."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accountability.access import case_open
from accountability.forms import StageAdvanceForm, StageReturnForm
from accountability.models import CaseAccessLog, Stage
from accountability.services import DocumentUpload, case_advance, case_return

from .common import case_page, error_text, register_login_required, require_handler


@require_POST
@register_login_required("case:{pk}")
def stage_advance(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    form = StageAdvanceForm(request.POST, request.FILES)
    if not form.is_valid():
        return case_page(request, case, advance_form=form, status=400,
                         error=_("请检查阶段办理表单中的错误。"))
    d = form.cleaned_data
    uploads = [DocumentUpload(d["document_title"], d["document"])] if d["document"] else []
    try:
        case_advance(case=case, actor=request.user, to_stage=d["to_stage"], on=d["on"], note=d["note"],
                     documents=uploads, expected_version=d["version"])
    except ValidationError as exc:
        case.refresh_from_db()
        return case_page(request, case, advance_form=form, status=400, error=error_text(exc))
    return redirect("accountability:detail", case.pk)


@require_POST
@register_login_required("case:{pk}")
def stage_return(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    form = StageReturnForm(request.POST, case=case)
    if not form.is_valid():
        reason = _("退回必须选择之前的阶段并说明原因。")
        if "to_stage" in form.errors and request.POST.get("to_stage") in Stage.values:
            reason = _("只能退回到“%(stage)s”之前的阶段。") % {"stage": case.get_stage_display()}
        return case_page(request, case, return_form=form, status=400, error=reason)
    d = form.cleaned_data
    try:
        case_return(case=case, actor=request.user, to_stage=d["to_stage"], on=d["on"],
                    reason=d["reason"], expected_version=d["version"])
    except ValidationError as exc:
        case.refresh_from_db()
        return case_page(request, case, return_form=form, status=400, error=error_text(exc))
    return redirect("accountability:detail", case.pk)
