"""The access log of the register: every opening and every refusal. The group's alone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accountability.access import refuse, user_may_handle_cases
from accountability.models import CaseAccessLog
from accountability.selectors import access_log

from .common import register_login_required

LOG_LIMIT = 300


@register_login_required("access-log")
def log_list(request: HttpRequest) -> HttpResponse:
    if not user_may_handle_cases(request.user):
        raise refuse(request, action=CaseAccessLog.Action.VIEW, requested="access-log")
    denied_only = request.GET.get("denied") == "1"
    entries = list(access_log(denied_only=denied_only)[:LOG_LIMIT])
    return render(request, "accountability/access_log.html",
                  {"entries": entries, "denied_only": denied_only, "limit": LOG_LIMIT})
