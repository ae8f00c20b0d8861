"""Outbox (发件记录): what was sent to whom and when, and what failed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reports.models import Delivery
from reports.selectors import outbox as outbox_query
from reports.views.access import require_reader


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    require_reader(request.user)
    status = request.GET.get("status") or None
    if status not in {None, *Delivery.Status.values}:
        status = None
    page = Paginator(outbox_query(user=request.user, status=status), 100).get_page(request.GET.get("page"))
    return render(request, "reports/outbox.html", {
        "page": page, "status": status, "statuses": Delivery.Status.choices,
    })
