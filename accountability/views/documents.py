"""Documents of a case: upload (checked by content), download as an attachment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accountability.access import access_record, case_open, cases_visible_to
from accountability.forms import DocumentForm
from accountability.models import Case, CaseAccessLog, CaseDocument
from accountability.services import DocumentUpload, document_add

from .common import case_page, error_text, register_login_required, require_handler


@require_POST
@register_login_required("case:{pk}")
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return case_page(request, case, document_form=form, status=400, error=_("请选择要上传的文件。"))
    d = form.cleaned_data
    try:
        document_add(case=case, actor=request.user, uploads=[DocumentUpload(d["title"], d["file"])],
                     expected_version=d["version"])
    except ValidationError as exc:
        case.refresh_from_db()
        return case_page(request, case, document_form=form, status=400, error=error_text(exc))
    return redirect("accountability:detail", case.pk)


@require_GET
@register_login_required("document:{pk}")
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    doc = CaseDocument.objects.filter(case__in=cases_visible_to(request.user), pk=pk).select_related(
        "case"
    ).first()
    if doc is None:
        hit = CaseDocument.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        access_record(request, action=CaseAccessLog.Action.DOWNLOAD, granted=False,
                      case=Case.objects.filter(pk=hit).first() if hit else None, requested=f"document:{pk}")
        raise Http404(_("没有找到该页面。"))
    access_record(request, action=CaseAccessLog.Action.DOWNLOAD, granted=True, case=doc.case,
                  requested=f"document:{pk}")
    try:
        handle = doc.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件已不存在。")) from None
    # Always an attachment, with the type we detected on upload: never rendered inline.
    response = FileResponse(handle, as_attachment=True, filename=doc.original_name or doc.file.name,
                            content_type=doc.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
