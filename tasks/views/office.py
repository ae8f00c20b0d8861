"""The office's queue (待办): sign-offs to verify, notices running, extension requests."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tasks.forms import ExtensionDecisionForm, SignoffVerifyForm
from tasks.objections import objections_open
from tasks.permissions import user_is_office
from tasks.selectors import user_sees_whole_ledger
from tasks.workspace_selectors import office_queue as office_queue_read


@require_GET
@login_required
def office_queue(request: HttpRequest) -> HttpResponse:
    # Leaders and supervisors may look; only the office gets the buttons.
    if not user_sees_whole_ledger(request.user):
        raise PermissionDenied(_("只有领导小组办公室和领导可以查看办公室待办。"))
    return render(request, "tasks/office_queue.html", {
        "queue": office_queue_read(user=request.user),
        "objections": objections_open(user=request.user),
        "is_office": user_is_office(request.user),
        "verify_form": SignoffVerifyForm(),
        "extension_form": ExtensionDecisionForm(),
        "today": timezone.localdate(),
    })
