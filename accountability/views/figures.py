"""Aggregates for leaders and the office: counts only, no case and no name."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.access import refuse, user_may_open_cases, user_may_see_figures
from accountability.models import CaseAccessLog
from accountability.selectors import bulletin_figures

from .common import register_login_required


@register_login_required("figures")
def figures(request: HttpRequest) -> HttpResponse:
    if not user_may_see_figures(request.user):
        raise refuse(request, action=CaseAccessLog.Action.VIEW, requested="figures")
    as_of, error = timezone.localdate(), ""
    raw = request.GET.get("as_of", "")
    if raw:
        try:
            as_of = min(dt.date.fromisoformat(raw), timezone.localdate())
        except ValueError:
            error = _("日期格式应为YYYY-MM-DD,已显示今天的数据。")
    return render(request, "accountability/figures.html", {
        "f": bulletin_figures(as_of=as_of), "error": error,
        "may_open_cases": user_may_open_cases(request.user),
    })
