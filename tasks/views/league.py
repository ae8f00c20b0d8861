"""排名 (league tables) by unit and by region, and the unit page they drill into."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rectify.roles import Role
from tasks import charts
from tasks.dashboards import LeagueRow, league_regions, league_sort, league_units
from tasks.lights import Light
from tasks.models import Unit
from tasks.selectors import user_sees_whole_ledger
from tasks.supervision import supervision_for_unit, user_may_supervise
from tasks.views.dashboard import dashboard_scope, no_plan, render_dashboard

LEAGUE_PAGE_SIZE = 50
COLUMNS = [
    ("tasks", gettext_lazy("任务")), ("closed", gettext_lazy("已完成")), ("overdue", gettext_lazy("逾期")), ("lagging", gettext_lazy("未达序时进度")),
    ("supervised", gettext_lazy("督办中")), ("compliance", gettext_lazy("按时报送率")), ("days", gettext_lazy("平均逾期天数")),
]


_BAD_NEWS = {"overdue", "lagging", "supervised", "days"}


def league_chart(rows: list[LeagueRow], sort: str, *, top: int, title: str,
                 href: Callable[[LeagueRow], str] = lambda r: "") -> tuple[SafeString | str, str]:
    """The bars show the figure the table is sorted by, for its first `top` rows, under a
    visible title naming that figure ("name" sorts show the default, 逾期); `title` is a
    translated pattern with %(figure)s and %(n)s."""
    key = sort.lstrip("-")
    key = key if key in dict(COLUMNS) else "overdue"
    label = str(dict(COLUMNS)[key])

    def value(row: LeagueRow) -> float:
        figure = {"compliance": row.compliance, "days": row.avg_days_overdue}.get(key, getattr(row, key, 0))
        return figure or 0

    shown = rows[:top]
    if not shown:
        return "", ""
    title = title % {"figure": label, "n": len(shown)}
    color = charts.LIGHT_COLORS[Light.RED] if key in _BAD_NEWS else "#0b5f8a"
    return charts.bar_chart([charts.Item(r.name, value(r), href(r), color) for r in shown], title=title), title


def _own_unit_only(request: HttpRequest) -> int | None:
    """A liaison's league shows their own unit only."""
    if user_sees_whole_ledger(request.user):
        return None
    return request.user.unit_id or -1


@require_GET
@login_required
def units(request: HttpRequest) -> HttpResponse:
    scope = dashboard_scope(request)
    if scope is None:
        return no_plan(request)
    only = _own_unit_only(request)

    def context() -> dict[str, object]:
        rows = league_units(states=scope.states, snapshot=scope.snapshot, only_unit_id=only)
        rows, sort = league_sort(rows, request.GET.get("sort"))
        chart, chart_title = league_chart(rows, sort, top=15, title=_("%(figure)s:表格前%(n)s个单位(与表格排序一致)"),
                                          href=lambda r: reverse("tasks:unit", args=[int(r.key)]))
        return {
            "page": Paginator(rows, LEAGUE_PAGE_SIZE).get_page(request.GET.get("page")), "sort": sort,
            "columns": COLUMNS, "chart": chart, "chart_title": chart_title, "ledger_url": reverse("tasks:ledger"),
            "unit_url": reverse("tasks:unit", args=[0]).removesuffix("0/"),
            "announced_only": only is not None,  # a unit's own row: no 暗查暗访 badge
        }

    # A liaison's single row is theirs: the memo key carries their unit.
    if only:
        scope.scope_token = f"{getattr(scope.states, 'token', '')}:unit:{only}"
        scope.states = list(scope.states)
    return render_dashboard(request, scope, body_template="tasks/league_units_body.html",
                            title=_("单位排名"), context=context)


@require_GET
@login_required
def regions(request: HttpRequest) -> HttpResponse:
    scope = dashboard_scope(request)
    if scope is None:
        return no_plan(request)

    def context() -> dict[str, object]:
        code = request.GET.get("region") or None
        error = ""
        try:
            league = league_regions(states=scope.states, snapshot=scope.snapshot, region_code=code)
        except LookupError:
            error = _("没有这个行政区划代码,显示的是全部地区。")
            league = league_regions(states=scope.states, snapshot=scope.snapshot, region_code=None)
        rows, sort = league_sort(league.rows, request.GET.get("sort"))
        chart, chart_title = league_chart(rows, sort, top=20, title=_("%(figure)s:表格前%(n)s个地区(与表格排序一致)"))
        return {
            "ledger_url": reverse("tasks:ledger"), "league": league, "rows": rows, "sort": sort,
            "columns": COLUMNS, "region_error": error, "chart": chart, "chart_title": chart_title,
        }

    return render_dashboard(request, scope, body_template="tasks/league_regions_body.html",
                            title=_("地区排名"), context=context)


@require_GET
@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's page: its figures, its tasks as of the day, and the supervision actions."""
    unit = get_object_or_404(Unit.objects.select_related("region"), pk=pk)
    if not user_sees_whole_ledger(request.user) and not (
            request.user.has_role(Role.LIAISON) and request.user.unit_id == unit.pk):
        raise Http404  # another unit's page is not a liaison's to know
    scope = dashboard_scope(request)
    if scope is None:
        return no_plan(request)
    mine = [(s, role) for s in scope.states for unit_id, role in s.units if unit_id == unit.pk]
    rows = league_units(states=scope.states, snapshot=scope.snapshot, only_unit_id=unit.pk)
    return render(request, "tasks/unit_detail.html", {
        "scope": scope, "unit": unit, "row": rows[0] if rows else None, "tasks": mine,
        "ledger_url": reverse("tasks:ledger"),
        "supervision_actions": supervision_for_unit(user=request.user, unit=unit),
        "may_supervise": user_may_supervise(request.user),
    })
