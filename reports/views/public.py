"""The public disclosure pages (信息公开): no login. The latest approved publication, the tasks
in their sign-off notice (销号公示) as they are today, and the form to object to one."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accountability.selectors import public_results
from rectify.security import client_ip
from reports.forms import ObjectionForm
from reports.selectors import publication_public_latest
from tasks.objections import ObjectionRateLimited, notice_public, notices_public, objection_lodge
from tasks.selectors import plan_current

logger = logging.getLogger(__name__)


@require_GET
def public_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    publication = publication_public_latest(today=today)
    results = public_results()
    return render(request, "reports/public.html", {
        "plan": plan_current(), "today": today,
        "publication": publication, "p": publication.snapshot if publication else None,
        "notices": notices_public(),
        "accountability_results": results,
    })


@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest, pk: int) -> HttpResponse:
    """公示异议: anyone may object to a task in its notice; CSRF applies as everywhere."""
    notice = notice_public(task_id=pk)
    if notice is None:
        raise Http404(_("该任务不在销号公示期内。"))
    form = ObjectionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if form.cleaned_data["website"]:
                    # The honeypot was filled in: a robot, told what a person would be told.
                    logger.info("objection honeypot filled for task %s", pk)
                else:
                    objection_lodge(task_id=pk, contact=form.cleaned_data["contact"],
                                    text=form.cleaned_data["text"], address=client_ip(request))
            except ObjectionRateLimited as exc:
                form.add_error(None, " ".join(exc.messages))
                status = 429
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("您的异议已收到。办公室将逐条答复,答复前该任务不予销号。"))
                return redirect("public:objection", pk=pk)
    return render(request, "reports/public_objection.html", {"notice": notice, "form": form}, status=status)
