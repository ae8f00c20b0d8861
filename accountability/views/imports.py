"""Import of a transferred case list: upload → preview (nothing written) → confirm (all or none)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accountability.access import refuse, user_may_open_cases
from accountability.forms import ImportForm
from accountability.importing import cases_import, import_parse, workbook_bytes_check
from accountability.models import CaseAccessLog

from .common import error_text, register_login_required, require_handler

SESSION_KEY = "accountability_import"


def _gate(request: HttpRequest) -> None:
    if not user_may_open_cases(request.user):
        raise refuse(request, action=CaseAccessLog.Action.CHANGE, requested="import")
    require_handler(request)


@register_login_required("import")
def import_upload(request: HttpRequest) -> HttpResponse:
    _gate(request)
    posted = request.method == "POST"  # an empty POST is a bound, invalid form
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    context: dict = {"form": form}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                preview = import_parse(workbook_bytes_check(form.cleaned_data["file"]))
            except ValidationError as exc:
                context["errors"] = exc.messages
            else:
                context["preview"] = preview
                if preview.errors:
                    context["errors"] = preview.errors
                    request.session.pop(SESSION_KEY, None)
                else:
                    status = 200
                    request.session[SESSION_KEY] = preview.session_data()
    return render(request, "accountability/import.html", context, status=status)


@require_POST
@register_login_required("import")
def import_confirm(request: HttpRequest) -> HttpResponse:
    _gate(request)
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("sha256") != request.POST.get("sha256"):
        return render(request, "accountability/import.html", {
            "form": ImportForm(), "errors": [_("预览已过期或与所确认的文件不符,请重新上传。")],
        }, status=400)
    try:
        created = cases_import(actor=request.user, rows=pending["rows"])
    except ValidationError as exc:
        return render(request, "accountability/import.html", {
            "form": ImportForm(), "errors": [error_text(exc), _("未导入任何数据。")],
        }, status=400)
    del request.session[SESSION_KEY]
    messages.success(request, _("已导入%(len)s个责任追究问题。") % {"len": len(created)})
    return redirect("accountability:list")
