"""What every view of the register shares: the login gate that logs, the case page render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.access import access_record, user_may_handle_cases
from accountability.forms import DocumentForm, StageAdvanceForm, StageReturnForm
from accountability.models import Case, CaseAccessLog, Stage
from accountability.selectors import case_detail_related, stage_overdue_since


def register_login_required(requested: str = "") -> Callable:
    """login_required that also logs the anonymous attempt, with the object it named.

    The redirect is the same whether or not the object exists: no hint either way.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                what = requested.format(**kwargs) if requested else request.path
                action = (CaseAccessLog.Action.CHANGE if request.method == "POST"
                          else CaseAccessLog.Action.VIEW)
                access_record(request, action=action, granted=False, requested=what)
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def require_handler(request: HttpRequest) -> None:
    """The office head may open a case but not handle it: 403, since they can see it."""
    if not user_may_handle_cases(request.user):
        raise PermissionDenied(_("只有责任追究组成员可以办理责任追究问题。"))


def error_text(exc: ValidationError) -> str:
    return ";".join(exc.messages)


def case_page(
    request: HttpRequest, case: Case, *, status: int = 200, error: str = "",
    advance_form: StageAdvanceForm | None = None, return_form: StageReturnForm | None = None,
    document_form: DocumentForm | None = None,
) -> HttpResponse:
    nxt = case.next_stage
    may_handle = user_may_handle_cases(request.user)
    context = {
        "case": case,
        "may_handle": may_handle,
        "error": error,
        "next_stage": nxt,
        "stages": [
            {"value": s.value, "label": s.label, "done": i < case.stage_index, "current": s == case.stage}
            for i, s in enumerate(Stage)
        ],
        "is_overdue": case.stage != Stage.PUBLIC
        and case.stage_entered_on < stage_overdue_since(timezone.localdate()),
        **case_detail_related(case),
    }
    if may_handle:
        version = {"version": case.version}
        context["advance_form"] = advance_form or (
            StageAdvanceForm(initial={**version, "to_stage": nxt.value}) if nxt else None
        )
        context["return_form"] = return_form or (
            StageReturnForm(case=case, initial=version) if case.earlier_stages else None
        )
        context["document_form"] = document_form or DocumentForm(initial=version)
    return render(request, "accountability/case_detail.html", context, status=status)
