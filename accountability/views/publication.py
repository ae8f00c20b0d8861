"""The public result: the group drafts the redacted summary, the publicity group approves it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accountability.access import (
    case_open,
    refuse,
    user_may_open_cases,
    user_may_review_publication,
)
from accountability.forms import PublicResultForm, ReviewForm
from accountability.models import CaseAccessLog, PublicResult
from accountability.selectors import results_awaiting_review, results_review_queue
from accountability.services import public_result_approve, public_result_prepare, public_result_reject

from .common import error_text, register_login_required, require_handler


@register_login_required("case:{pk}")
def public_result_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    result = PublicResult.objects.filter(case=case).first()
    initial = {"version": case.version}
    if result is not None:
        initial |= {"summary": result.summary, "released_fields": result.released_fields}
    form = PublicResultForm(request.POST if request.method == "POST" else None, initial=initial)
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                public_result_prepare(case=case, actor=request.user, summary=d["summary"],
                                      released_fields=d["released_fields"], expected_version=d["version"])
            except ValidationError as exc:
                error = error_text(exc)
            else:
                return redirect("accountability:detail", case.pk)
    return render(request, "accountability/public_result_form.html",
                  {"case": case, "form": form, "result": result, "error": error}, status=status)


def _review_gate(request: HttpRequest, requested: str) -> None:
    """The publicity group reviews; the case readers may know results exist (403);
    everyone else is told nothing (404, logged)."""
    if user_may_review_publication(request.user):
        return
    if user_may_open_cases(request.user):
        raise PermissionDenied(_("只有宣传报道组可以审核公开结果。"))
    raise refuse(request, action=CaseAccessLog.Action.VIEW, requested=requested)


def _review_page(request, *, error="", status=200, forms=None):
    items = [
        {"result": r, "preview": preview,
         "form": (forms or {}).get(r.pk) or ReviewForm(initial={"version": r.version})}
        for r, preview in results_review_queue()
    ]
    return render(request, "accountability/review_list.html", {"items": items, "error": error},
                  status=status)


@register_login_required("publication")
def review_list(request: HttpRequest) -> HttpResponse:
    _review_gate(request, "publication")
    return _review_page(request)


def _review_action(request: HttpRequest, pk: int, approve: bool) -> HttpResponse:
    _review_gate(request, f"publication:{pk}")
    result = results_awaiting_review().filter(pk=pk).first()
    if result is None:
        raise refuse(request, action=CaseAccessLog.Action.CHANGE, requested=f"publication:{pk}")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _review_page(request, error=_("审核意见有误。"), status=400, forms={pk: form})
    d = form.cleaned_data
    try:
        if approve:
            public_result_approve(result=result, actor=request.user, note=d["note"],
                                  expected_version=d["version"])
        else:
            public_result_reject(result=result, actor=request.user, note=d["note"],
                                 expected_version=d["version"])
    except ValidationError as exc:
        return _review_page(request, error=error_text(exc), status=400, forms={pk: form})
    return redirect("accountability:review_list")


@require_POST
@register_login_required("publication:{pk}")
def review_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(request, pk, approve=True)


@require_POST
@register_login_required("publication:{pk}")
def review_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(request, pk, approve=False)
