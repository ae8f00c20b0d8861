"""总览 (overview): where the plan's tasks stand, as of today or a past day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tasks import charts
from tasks.dashboards import (
    AsOfError,
    Snapshot,
    TaskState,
    as_of_parse,
    dashboard_overview,
    plan_for,
    snapshot_get,
    snapshot_memo,
    visible_states,
)
from tasks.lights import Light
from tasks.models import Plan


@dataclass
class DashboardScope:
    plan: Plan
    as_of: dt.date
    as_of_error: str
    snapshot: Snapshot
    states: list[TaskState]
    scope_token: str = ""  # names the visible tasks when `states` is a filtered list

    @property
    def is_today(self) -> bool:
        return self.as_of == timezone.localdate()

    def ledger_url(self, **filters: object) -> str:
        """A link to the ledger rows behind a figure, on the same day."""
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        if not self.is_today:
            params["as_of"] = self.as_of.isoformat()
        return reverse("tasks:ledger") + ("?" + urlencode(params) if params else "")

    @property
    def as_of_query(self) -> str:
        return "" if self.is_today else f"as_of={self.as_of.isoformat()}"


def dashboard_scope(request: HttpRequest) -> DashboardScope | None:
    """The plan, the day and the tasks the user may see; a bad day is explained, not fatal."""
    plan = plan_for(request.GET)
    if plan is None:
        return None
    error = ""
    try:
        as_of = as_of_parse(request.GET.get("as_of"), plan=plan)
    except AsOfError as exc:
        as_of, error = timezone.localdate(), str(exc)
    snapshot = snapshot_get(plan=plan, as_of=as_of)
    return DashboardScope(plan=plan, as_of=as_of, as_of_error=error, snapshot=snapshot,
                          states=visible_states(user=request.user, plan=plan, snapshot=snapshot))


def render_dashboard(
    request: HttpRequest, scope: DashboardScope, *, body_template: str, title: str,
    context: Callable[[], dict[str, Any]], page_template: str = "tasks/dashboard_page.html",
) -> HttpResponse:
    """Render the page around a body that is computed and rendered once per snapshot, scope
    (the tasks the user may see) and query string, then served from the snapshot's memo.
    Bodies hold no CSRF token and nothing about the user beyond that scope."""
    token = getattr(scope.states, "token", "") or scope.scope_token

    def build() -> str:
        return render_to_string(body_template, {"scope": scope, **context()}, request=request)

    if token:
        key = ("html", body_template, token,
               tuple(sorted((k, tuple(v)) for k, v in request.GET.lists())))
        body = snapshot_memo(scope.snapshot, key, build)
    else:
        body = build()
    return render(request, page_template, {"body": body, "page_title": title})


def no_plan(request: HttpRequest) -> HttpResponse:
    return render(request, "tasks/no_plan.html", status=200)


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    scope = dashboard_scope(request)
    if scope is None:
        return no_plan(request)
    return render_dashboard(request, scope, body_template="tasks/overview_body.html", title=_("调度总览"),
                            context=lambda: _overview_context(scope))


def _overview_context(scope: DashboardScope) -> dict[str, Any]:
    o = dashboard_overview(states=scope.states, snapshot=scope.snapshot)
    url = scope.ledger_url
    light_chart = charts.donut(
        [charts.Item(label, n, url(light=value), charts.LIGHT_COLORS[value]) for value, label, n in o.by_light],
        title=_("预警灯"), center=str(o.total),
    )
    status_chart = charts.donut(
        [charts.Item(label, n, url(status=value)) for value, label, n in o.by_status],
        title=_("按状态"),
    )
    class_chart = charts.bar_chart(
        [charts.Item(label, n, url(deadline_class=value)) for value, label, n in o.by_class],
        title=_("按整改类型"), width=460, label_width=110,
    )
    problem_chart = charts.bar_chart(
        [charts.Item(label, n, url(problem=pk)) for pk, label, n in o.by_problem], title=_("按督察反馈问题"),
    )
    measure_chart = charts.bar_chart(
        [charts.Item(label, n, url(measure=pk)) for pk, label, n in o.by_measure], title=_("按重点举措"),
    )
    trend = o.trend
    trend_chart = charts.line_chart(
        [week_end - dt.timedelta(days=6) for week_end, *_rest in trend],
        [
            charts.Series(_("已完成"), [c if c >= 0 else None for _w, c, _o, _p in trend], "#2e8b57"),
            charts.Series(_("未完成"), [op if op >= 0 else None for _w, _c, op, _p in trend], "#c0392b"),
            charts.Series(_("按方案应完成"), [p for _w, _c, _o, p in trend], "#0b5f8a", dashed=True),
        ],
        title=_("逐周趋势:已完成与未完成"), marker=scope.as_of, width=1100, height=280,
        marker_label=_("今天") if scope.is_today else _("截至"),
    )
    figures = [
        (_("整改任务"), o.total, url()),
        (_("已完成"), o.finished, url(flag="finished")),
        (_("逾期"), o.overdue, url(flag="overdue")),
        (_("7天内到期"), o.due_7, url(due="7")),
        (_("30天内到期"), o.due_30, url(due="30")),
        (_("未达序时进度"), o.lagging, url(flag="lagging")),
        (_("督办中"), o.supervised, url(supervised="1")),
    ]
    return {
        "o": o, "figures": figures, "light_chart": light_chart,
        "status_chart": status_chart, "class_chart": class_chart, "problem_chart": problem_chart,
        "measure_chart": measure_chart, "trend_chart": trend_chart,
        "on_time_url": url(due="past"), "red": Light.RED,
    }
