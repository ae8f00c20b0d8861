"""The task page: everything about one task, and the forms for what this user may do next."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from rectify.dates import date_official
from tasks.extensions import ExtensionRequest
from tasks.forms import (
    ExtensionDecisionForm,
    SignoffDecisionForm,
    SignoffReturnForm,
    SignoffVerifyForm,
)
from tasks.lights import task_expected_progress, task_light
from tasks.models import SignoffStep, Task
from tasks.objections import objections_for_task
from tasks.permissions import task_unit_role, user_answers_for, user_is_office, user_may_report
from tasks.signoff import notice_ends_on, signoff_next_actions
from tasks.supervision import supervision_for_task, user_may_supervise
from tasks.workspace_selectors import task_changes, task_page_get

CHANGE_FIELDS = {
    "created": _("创建"), "title": _("任务"), "target": _("整改目标"), "actions": _("整改措施"),
    "deadline": _("整改时限(日期)"), "deadline_text": _("整改时限"), "deadline_class": _("整改类型"),
    "original_deadline": _("原定时限"), "status": _("状态"), "progress": _("完成率"), "leading_official": _("领办领导"),
    "closed_on": _("销号日期"), "measure_id": _("重点举措"), "problem_id": _("督察反馈问题"), "percent": _("完成率"),
    "text": _("进展情况"), "evidence": _("佐证材料"), "proposed_deadline": _("延期申请"), "due_on": _("节点日期"),
    "done_on": _("节点完成日期"), "deleted": _("删除"), "supervision": _("督办"),
    "supervision_lifted": _("解除督办"),
}
DATE_FIELDS = {"deadline", "original_deadline", "closed_on", "due_on", "done_on", "proposed_deadline"}
# A field whose meaning depends on what changed ("title" of a milestone is the milestone's name).
SUBJECT_FIELDS = {("milestone", "title"): _("节点名称")}

SUBJECTS = {"task": _("任务"), "units": _("责任单位"), "report": _("进展报告"), "extension": _("延期申请"),
            "milestone": _("工期节点"), "unit": _("责任单位"), "supervision": _("督办事项")}


def _change_labels(change) -> tuple[str, str]:
    """(what changed, which field) in the reader's words, never a code name or a row id: a
    report's unit and week are in the record's note already."""
    kind = change.subject.partition(":")[0]
    if change.field.startswith("unit:"):  # task_set_units: one row per unit, "name|role|person"
        field = _("单位")
    else:
        field = SUBJECT_FIELDS.get((kind, change.field)) or CHANGE_FIELDS.get(change.field, change.field)
    return str(SUBJECTS.get(kind, kind)), str(field)


# Earlier reports on the task page, a page at a time: every unit's every week made it 18,800 px.
EARLIER_REPORTS_PER_PAGE = 20


def _latest_per_unit(task: Task) -> list[dict]:
    latest = {}
    for report in task.reports.all():  # newest week first
        latest.setdefault(report.unit_id, report)
    return [{"tu": tu, "report": latest.get(tu.unit_id)} for tu in task.task_units.all()]


@require_GET
@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        task = task_page_get(user=request.user, pk=pk)
    except Task.DoesNotExist:
        raise Http404 from None
    user = request.user
    today = timezone.localdate()
    task._unit_roles = {tu.unit_id: tu.role for tu in task.task_units.all()}
    steps = list(task.signoff_steps.all())
    extensions = list(task.extension_requests.all())
    pending_extension = next((e for e in extensions if e.status == ExtensionRequest.Status.PENDING), None)
    units = _latest_per_unit(task)
    latest_reports = sorted((u["report"] for u in units if u["report"]), key=lambda r: (-r.week.toordinal(), r.unit.name))
    shown = {r.pk for r in latest_reports}
    earlier = Paginator([r for r in task.reports.all() if r.pk not in shown], EARLIER_REPORTS_PER_PAGE)
    changes = list(task_changes(task, user=user))
    status_labels = dict(Task._meta.get_field("status").choices)
    for change in changes:
        change.subject_label, change.field_label = _change_labels(change)
        if change.field in DATE_FIELDS:  # recorded as ISO text; shown as officials write dates
            change.old, change.new = date_official(change.old), date_official(change.new)
        if change.field == "status":
            change.old, change.new = status_labels.get(change.old, change.old), status_labels.get(change.new, change.new)
    # Objections come only with a notice: a task never verified has none to ask for.
    verified = any(s.action == SignoffStep.Action.OFFICE_VERIFY for s in steps)
    objections = list(objections_for_task(user=user, task=task)) if verified else []
    return render(request, "tasks/task_page.html", {
        "objections": objections,
        "objections_open": sum(1 for o in objections if o.status == o.Status.OPEN),
        "supervision_actions": supervision_for_task(user=request.user, task=task),
        "may_supervise": user_may_supervise(request.user),
        "task": task,
        "light": task_light(task, today),
        "expected": task_expected_progress(task, today),
        "days_left": (task.deadline - today).days if task.deadline and not task.is_finished else None,
        "units": units,
        "latest_reports": latest_reports,
        "earlier_reports": earlier.get_page(request.GET.get("reports")),
        "evidence": task.evidence.all(),
        "steps": steps,
        "notice_ends_on": notice_ends_on(task),
        "extensions": extensions,
        "pending_extension": pending_extension,
        "changes": changes,
        "my_role": task_unit_role(task, user),
        "may_report": user_may_report(task, user) and task.status != "CLOSED",
        "may_request_extension": (user_answers_for(task, user) and not task.is_finished
                                  and task.deadline is not None and pending_extension is None),
        "is_office": user_is_office(user),
        "actions": signoff_next_actions(task, user),
        "decision_form": SignoffDecisionForm(initial={"version": task.version}),
        "verify_form": SignoffVerifyForm(initial={"version": task.version}),
        "return_form": SignoffReturnForm(initial={"version": task.version}),
        "extension_form": ExtensionDecisionForm(),
        "today": today,
    })
