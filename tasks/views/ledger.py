from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tasks.dashboards import ledger_page, ledger_rows, ledger_states, plan_for
from tasks.views.dashboard import DashboardScope, render_dashboard


@require_GET
@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """台账: every task with every column, filtered, searched, sorted and paged, as of a day."""
    plan = plan_for(request.GET)
    if plan is None:
        return render(request, "tasks/no_plan.html")
    result = ledger_states(user=request.user, plan=plan, params=request.GET)
    scope = DashboardScope(plan=plan, as_of=result.snapshot.as_of, as_of_error=result.as_of_error,
                           snapshot=result.snapshot, states=result.states, scope_token=result.scope_token)

    def context() -> dict[str, object]:
        page, clamped = ledger_page(result=result, page_number=request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return {
            "plan": plan, "form": result.form, "page": page, "clamped": clamped,
            "rows": ledger_rows(page=page), "total": len(result.states), "query": query.urlencode(),
            "detail_url": reverse("tasks:detail", args=[0]).removesuffix("0/"),
            "unit_url": reverse("tasks:unit", args=[0]).removesuffix("0/"),
        }

    return render_dashboard(request, scope, body_template="tasks/ledger_body.html", title=_("整改台账"),
                            context=context, page_template="tasks/ledger.html")

