"""Archive (归档) of dispatches and bulletins: browse, download, preview, issue, re-send."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rectify.liveness import worker_is_running
from rectify.queue import enqueue_or_hold, held_jobs_waiting
from reports import services
from reports.emails import report_body_template, report_context
from reports.forms import ResendForm
from reports.jobs import report_issue_job
from reports.models import Report, ReportKind
from reports.selectors import report_archive, reports_visible_to, user_runs_reports
from reports.views.access import require_reader, require_runner
from reports.xlsx import XLSX_MIME


def _kind(kind: str) -> ReportKind:
    try:
        return ReportKind(kind)
    except ValueError:
        raise Http404("unknown kind") from None


@login_required
@require_GET
def archive(request: HttpRequest) -> HttpResponse:
    require_reader(request.user)
    kind = request.GET.get("kind") or None
    if kind not in {None, *ReportKind.values}:
        kind = None
    page = Paginator(report_archive(user=request.user, kind=kind), 50).get_page(request.GET.get("page"))
    return render(request, "reports/archive.html", {
        "page": page, "kind": kind, "kinds": ReportKind.choices, "can_run": user_runs_reports(request.user),
        "held_jobs": held_jobs_waiting() if user_runs_reports(request.user) else [],
    })


def _report(request: HttpRequest, pk: int) -> Report:
    require_reader(request.user)
    return get_object_or_404(reports_visible_to(request.user).select_related("triggered_by"), pk=pk)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    return render(request, "reports/report_detail.html", {
        "report": report,
        "deliveries": report.deliveries.select_related("unit").order_by("round", "audience", "recipient"),
        "resends": report.resends.select_related("actor"),
        "body_template": report_body_template(report.kind),
        **report_context(title=report.title, snapshot=report.snapshot),
        "can_run": user_runs_reports(request.user),
        "form": ResendForm(),
    })


@login_required
@require_GET
def report_original(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML exactly as sent to the office and leaders; printable."""
    report = _report(request, pk)
    return HttpResponse(report.body_html, content_type="text/html; charset=utf-8")


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
@require_GET
def report_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    return _attachment(bytes(report.xlsx), f"{report.title}.xlsx", XLSX_MIME)


@login_required
@require_GET
def report_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    content = json.dumps(report.snapshot, ensure_ascii=False, indent=1).encode()
    return _attachment(content, f"{report.title}.json", "application/json; charset=utf-8")


@login_required
@require_GET
def report_preview(request: HttpRequest, kind: str) -> HttpResponse:
    """Compile now and show it; nothing is saved and nothing is sent."""
    require_runner(request.user)
    try:
        preview = services.report_preview(kind=_kind(kind))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:archive")
    return render(request, "reports/preview.html", {
        "preview": preview, "body_template": report_body_template(preview["kind"]),
        **report_context(title=preview["title"], snapshot=preview["snapshot"]),
    })


@login_required
@require_POST
def report_issue(request: HttpRequest, kind: str) -> HttpResponse:
    """Issue this period's dispatch or bulletin now (queued for the worker); once per period."""
    require_runner(request.user)
    kind = _kind(kind)
    period = services.report_period_for(kind=kind, now=timezone.now())
    existing = Report.objects.filter(kind=kind, period=period).first()
    if existing is not None:
        messages.info(request, _("本期已生成并发送:%(title)s。如需再次发送,请使用“重发”。") % {"title": existing.title})
        return redirect("reports:detail", existing.pk)
    held = enqueue_or_hold(report_issue_job, kind.value, period, request.user.pk,
                           key=f"report_issue:{kind.value}:{period}", requested_by=request.user,
                           description=_("立即生成并发送%(kind)s(%(period)s)") % {"kind": kind.label, "period": period})
    if held is not None:
        messages.warning(request, _("消息队列暂时不可用:已登记本次生成请求,队列恢复后自动生成并发送,无需重复提交。"))
        return redirect("reports:archive")
    if not worker_is_running():
        # Queued, but nobody will pick it up: say so instead of "submitted".
        messages.warning(request, _("后台任务未运行:已登记本次生成请求,但目前没有正在运行的后台进程(worker)接手,"
                                    "启动后才会生成并发送。请联系系统管理员检查后台进程。"))
        return redirect("reports:archive")
    messages.success(request, _("已提交生成和发送,稍后刷新本页即可在归档中看到。"))
    return redirect("reports:archive")


@login_required
@require_POST
def report_resend(request: HttpRequest, pk: int) -> HttpResponse:
    require_runner(request.user)
    report = _report(request, pk)
    form = ResendForm(request.POST)
    if form.is_valid():
        try:
            resend = services.report_resend(report=report, actor=request.user, reason=form.cleaned_data["reason"],
                                            only_failed=form.cleaned_data["only_failed"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已登记第%(n)s次重发,邮件正在发送。") % {"n": resend.round})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("reports:detail", report.pk)
