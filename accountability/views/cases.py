"""The case list (with filters and export), the case page, and registering a case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accountability.access import (
    access_record,
    case_open,
    refuse,
    user_may_handle_cases,
    user_may_open_cases,
)
from accountability.forms import CaseEditForm, CaseFilterForm, CaseForm
from accountability.models import CaseAccessLog, CaseSource
from accountability.resolve import region_label
from accountability.selectors import CaseFilters, case_list
from accountability.services import case_create, case_raise_from_task, case_update
from rectify.xlsx import XLSX_MIME, workbook_bytes
from tasks.selectors import unit_names

from .common import case_page, error_text, register_login_required, require_handler

LIST_LIMIT = 500
CASE_EXPORT_HEADERS = ("编号", "来源", "问题概要", "行政区", "涉及单位", "办理机关", "交办日期", "办理阶段",
                       "进入本阶段日期", "被问责人及处理结果")


def _filters(request: HttpRequest) -> tuple[CaseFilterForm, CaseFilters]:
    form = CaseFilterForm(request.GET or None)
    if form.is_valid():
        d = form.cleaned_data
        return form, CaseFilters(stage=d["stage"], source=d["source"], city=d["city"], q=d["q"],
                                 overdue=d["overdue"])
    return form, CaseFilters()


@register_login_required("cases")
def case_index(request: HttpRequest) -> HttpResponse:
    if not user_may_open_cases(request.user):
        raise refuse(request, action=CaseAccessLog.Action.VIEW, requested="cases")
    form, filters = _filters(request)
    cases = list(case_list(user=request.user, filters=filters)[:LIST_LIMIT])
    return render(request, "accountability/case_list.html", {
        "form": form, "cases": cases, "limit": LIST_LIMIT, "filtered": any(vars(filters).values()),
        "may_handle": user_may_handle_cases(request.user),
    })


@register_login_required("cases.xlsx")
def case_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as xlsx, names of persons included: for the readers only, logged."""
    if not user_may_open_cases(request.user):
        raise refuse(request, action=CaseAccessLog.Action.EXPORT, requested="cases.xlsx")
    _, filters = _filters(request)
    cases = case_list(user=request.user, filters=filters).prefetch_related("persons")
    rows = [
        [c.reference, c.get_source_display(), c.title, str(c.region or ""),
         "、".join(u.name for u in c.units.all()), c.handling_authority, c.transferred_on,
         c.get_stage_display(), c.stage_entered_on,
         ";".join(
             f"{p.name}({p.position},{p.get_rank_display() or '职级未定'},{p.get_outcome_display() or '未决定'})"
             for p in c.persons.all()
         )]
        for c in cases
    ]
    access_record(request, action=CaseAccessLog.Action.EXPORT, granted=True,
                  requested=f"cases.xlsx ({len(rows)})")
    data = workbook_bytes([("责任追究问题", CASE_EXPORT_HEADERS, rows)])
    response = HttpResponse(data, content_type=XLSX_MIME)
    response["Content-Disposition"] = 'attachment; filename="accountability-cases.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@register_login_required("case:{pk}")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk)
    return case_page(request, case)


@register_login_required("case:new")
def case_new(request: HttpRequest) -> HttpResponse:
    if not user_may_open_cases(request.user):
        raise refuse(request, action=CaseAccessLog.Action.CHANGE, requested="case:new")
    require_handler(request)
    form = CaseForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                if d["source"] == CaseSource.TRANSFERRED:
                    case = case_create(
                        actor=request.user, reference=d["reference"], source=d["source"],
                        title=d["title"], problem_text=d["problem_text"],
                        transferred_on=d["transferred_on"], region=d["region"], units=d["units"],
                        tasks=d["task_numbers"], handling_authority=d["handling_authority"],
                        new_units=d["new_units"],
                    )
                else:
                    case = case_raise_from_task(
                        actor=request.user, task=d["task_numbers"][0], source=d["source"],
                        reference=d["reference"], title=d["title"], problem_text=d["problem_text"],
                        handling_authority=d["handling_authority"], on=d["transferred_on"],
                    )
            except ValidationError as exc:
                error = error_text(exc)
            else:
                return redirect("accountability:detail", case.pk)
    return render(request, "accountability/case_form.html",
                  {"form": form, "error": error, "unit_names": unit_names()}, status=status)


@register_login_required("case:{pk}")
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_open(request, pk, action=CaseAccessLog.Action.CHANGE)
    require_handler(request)
    initial = {
        "version": case.version, "title": case.title, "problem_text": case.problem_text,
        "region": region_label(case.region), "handling_authority": case.handling_authority,
        "units": "、".join(u.name for u in case.units.all()),
        "task_numbers": "、".join(str(t.number) for t in case.tasks.all()),
    }
    form = CaseEditForm(request.POST if request.method == "POST" else None, initial=initial)
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                case_update(case=case, actor=request.user, title=d["title"], problem_text=d["problem_text"],
                            region=d["region"], units=d["units"], tasks=d["task_numbers"],
                            handling_authority=d["handling_authority"], expected_version=d["version"],
                            new_units=d["new_units"])
            except ValidationError as exc:
                error = error_text(exc)
            else:
                return redirect("accountability:detail", case.pk)
    return render(request, "accountability/case_form.html",
                  {"form": form, "error": error, "case": case, "unit_names": unit_names()}, status=status)
