"""The public disclosure page (信息公开): no login, only the latest approved publication."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accountability.selectors import public_results
from reports.selectors import publication_public_latest


@require_GET
def public_page(request: HttpRequest) -> HttpResponse:
    publication = publication_public_latest(today=timezone.localdate())
    results = public_results()
    return render(request, "reports/public.html", {
        "publication": publication, "p": publication.snapshot if publication else None,
        "accountability_results": results,
    })
