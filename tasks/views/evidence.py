"""Evidence downloads: only for users who may see the task, always as an attachment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from tasks.evidence import download_name
from tasks.models import Evidence
from tasks.selectors import tasks_visible_to


@require_GET
@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(Evidence.objects.filter(task__in=tasks_visible_to(request.user)), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=download_name(evidence),
                            content_type=evidence.content_type)
    # Never rendered by the browser: no sniffing, no scripts, no framing, no shared caches.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
