"""Progress reports (进展情况): a unit files its own part of a task, with evidence files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rectify.calendar import report_cutoff, report_week
from tasks.forms import ProgressReportForm
from tasks.models import ProgressReport, TaskStatus
from tasks.permissions import user_may_report
from tasks.services import FIRST_REPORT, StaleEditError, task_report_progress
from tasks.views.common import error_text, evidence_limits, visible_task_or_404


@require_http_methods(["GET", "POST"])
@login_required
def report_file(request: HttpRequest, pk: int) -> HttpResponse:
    task = visible_task_or_404(request, pk)
    if not user_may_report(task, request.user):
        raise PermissionDenied(_("只有该任务的责任单位联络员可以报送本单位的进展。"))
    unit = request.user.unit
    week = report_week(timezone.localdate())
    current = ProgressReport.objects.filter(task=task, unit=unit, week=week).first()
    initial = {"percent": current.percent, "text": current.text, "version": current.version} if current else {}
    form = ProgressReportForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if task.status == TaskStatus.CLOSED:
            form.add_error(None, _("该任务已销号,不能再报送进展。"))
        elif form.is_valid():
            try:
                report = task_report_progress(
                    task=task, unit=unit, author=request.user, percent=form.cleaned_data["percent"],
                    text=form.cleaned_data["text"],
                    # A blank version: the page showed no report of this week.
                    expected_version=form.cleaned_data["version"] or FIRST_REPORT,
                    evidence=request.FILES.getlist("evidence"),
                )
            except StaleEditError as exc:
                # Keep what they typed, show what is there now, and let them resubmit on top of it.
                current = ProgressReport.objects.filter(task=task, unit=unit, week=week).first()
                data = request.POST.copy()
                data["version"] = current.version if current else ""
                form = ProgressReportForm(data)
                form.is_valid()
                form.add_error(None, error_text(exc))
            except ValidationError as exc:
                form.add_error(None, error_text(exc))
            else:
                if report.is_late:
                    messages.warning(request, _("进展已报送(已过本周截止时间,记为逾期报送)。"))
                else:
                    messages.success(request, _("进展已报送。"))
                return redirect("tasks:detail", pk=task.pk)
    history = task.reports.filter(unit=unit).prefetch_related("evidence").order_by("-week")[:12]
    return render(request, "tasks/report_form.html", {
        "task": task, "form": form, "unit": unit, "week": week, "cutoff": report_cutoff(week),
        "current": current, "history": history, "late_now": timezone.now() > report_cutoff(week),
        "evidence_limits": evidence_limits(),
    }, status=400 if request.method == "POST" else 200)
