"""Reads for the officials' workspace: my unit's tasks, the office queue, the task page.

Every queryset starts from `tasks_visible_to(user)`. List pages are built in a fixed number of
queries (annotations and prefetches, no per-row lookups) — the tests pin the counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.calendar import report_cutoff, report_week
from rectify.models import User
from tasks.lights import Light, task_light
from tasks.models import (
    SUPERVISION_KINDS_UNANNOUNCED,
    Evidence,
    ExtensionRequest,
    Objection,
    ProgressReport,
    SignoffStep,
    SupervisionAction,
    SupervisionKind,
    Task,
    TaskChange,
    TaskStatus,
    TaskUnit,
)
from tasks.permissions import ANSWERING_ROLES
from tasks.selectors import tasks_visible_to, user_sees_whole_ledger
from tasks.services import REOPEN_NOTE
from tasks.supervision import supervision_visible_to

LIGHT_SEVERITY = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.SUSTAINING: 3, Light.CLOSED: 4}


@dataclass
class MyTaskRow:
    task: Task
    role: str
    role_label: str
    light: Light
    days_left: int | None
    last_week: dt.date | None
    last_percent: int | None
    last_at: dt.datetime | None
    last_late: bool
    not_reported: bool
    cutoff_passed: bool
    pending: list[str] = field(default_factory=list)
    supervision: list[str] = field(default_factory=list)  # kinds of the active actions it may see
    reopened_because: str = ""  # 回头看: why a closed task was reopened, while it is open again


MY_TASK_SORTS = {
    "number": lambda r: (r.task.plan_id, r.task.number),
    "deadline": lambda r: (r.task.deadline is None, r.task.deadline or dt.date.max, r.task.number),
    "light": lambda r: (LIGHT_SEVERITY[r.light], r.days_left if r.days_left is not None else 10**6),
    "last_report": lambda r: (r.last_at is not None, r.last_at or timezone.now(), r.task.number),
}


def my_tasks(*, user: User, today: dt.date | None = None, now: dt.datetime | None = None) -> list[MyTaskRow]:
    """我的任务: every task where the user's unit is lead, responsible or supporting."""
    if not user.unit_id:
        return []
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    week = report_week(today)
    mine = ProgressReport.objects.filter(task=OuterRef("pk"), unit_id=user.unit_id).order_by("-week")
    last_step = SignoffStep.objects.filter(task=OuterRef("pk")).order_by("-at", "-id")
    tasks = (
        tasks_visible_to(user)
        .filter(task_units__unit_id=user.unit_id)
        .annotate(
            my_role=Subquery(TaskUnit.objects.filter(task=OuterRef("pk"), unit_id=user.unit_id).values("role")[:1]),
            last_week=Subquery(mine.values("week")[:1]),
            last_percent=Subquery(mine.values("percent")[:1]),
            last_at=Subquery(mine.values("reported_at")[:1]),
            last_late=Subquery(mine.values("is_late")[:1]),
            last_step_action=Subquery(last_step.values("action")[:1]),
            extension_pending=Exists(ExtensionRequest.objects.filter(
                task=OuterRef("pk"), status=ExtensionRequest.Status.PENDING)),
            reopen_note=Subquery(TaskChange.objects.filter(
                task=OuterRef("pk"), subject="task", field="status", note__startswith=REOPEN_NOTE,
            ).order_by("-at", "-id").values("note")[:1]),
        )
        .select_related("plan")
        .prefetch_related("milestones")
        .order_by("plan_id", "number")
    )
    cutoff_passed = now > report_cutoff(week)
    # 挂牌督办, 通报, 回头看…: one query for every row (an unannounced visit is never among them).
    supervision: dict[int, list[str]] = {}
    for task_id, kind in (supervision_visible_to(user).filter(task__task_units__unit_id=user.unit_id)
                          .filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=today), issued_on__lte=today)
                          .order_by("issued_on", "id").values_list("task_id", "kind")):
        labels = supervision.setdefault(task_id, [])
        if (label := str(SupervisionKind(kind).label)) not in labels:
            labels.append(label)
    rows = []
    for task in tasks:
        # A closed task no longer reports; a SUSTAINING (long-term) one keeps reporting.
        not_reported = task.status != TaskStatus.CLOSED and task.last_week != week
        pending: list[str] = []
        if not_reported:
            pending.append(_("本周进展逾期未报") if cutoff_passed else _("本周进展待报送"))
        if task.status == TaskStatus.SIGNOFF_APPLIED and task.my_role == TaskUnit.Role.LEAD:
            pending.append(_("审核销号申请"))
        if task.status == TaskStatus.IN_PROGRESS and task.last_step_action == SignoffStep.Action.RETURN:
            pending.append(_("销号申请被退回,请整改后重新申请"))
        elif (task.status == TaskStatus.IN_PROGRESS and task.progress >= 100
              and task.my_role in ANSWERING_ROLES):
            pending.append(_("可申请销号"))
        if task.extension_pending:
            pending.append(_("延期申请待办公室审批"))
        rows.append(MyTaskRow(
            task=task, role=task.my_role, role_label=TaskUnit.Role(task.my_role).label,
            light=task_light(task, today),
            days_left=(task.deadline - today).days if task.deadline and not task.is_finished else None,
            last_week=task.last_week, last_percent=task.last_percent, last_at=task.last_at,
            last_late=bool(task.last_late), not_reported=not_reported, cutoff_passed=cutoff_passed,
            pending=pending, supervision=supervision.get(task.pk, []),
            reopened_because=(task.reopen_note or "").removeprefix(REOPEN_NOTE) if not task.is_finished else "",
        ))
    return rows


def my_tasks_filter(rows: list[MyTaskRow], *, light: str = "", role: str = "", status: str = "",
                    unreported: bool = False, q: str = "", sort: str = "number") -> list[MyTaskRow]:
    if light:
        rows = [r for r in rows if r.light == light]
    if role:
        rows = [r for r in rows if r.role == role]
    if status:
        rows = [r for r in rows if r.task.status == status]
    if unreported:
        rows = [r for r in rows if r.not_reported]
    if q:
        needle = q.strip().lower()
        rows = [r for r in rows if needle in r.task.title.lower() or needle == str(r.task.number)]
    return sorted(rows, key=MY_TASK_SORTS.get(sort, MY_TASK_SORTS["number"]))


@dataclass
class OfficeQueue:
    to_verify: list[Task]
    awaiting_lead: list[Task]
    in_notice: list[Task]
    extensions: list[ExtensionRequest]

    @property
    def total(self) -> int:
        return len(self.to_verify) + len(self.extensions) + sum(1 for t in self.in_notice if t.notice_due)


def office_queue(*, user: User, today: dt.date | None = None) -> OfficeQueue:
    """The office's work: applications to verify, notices running, extension requests."""
    today = today or timezone.localdate()
    visible = tasks_visible_to(user)
    latest_apply = SignoffStep.objects.filter(task=OuterRef("pk")).order_by("-at", "-id")
    latest_verify = latest_apply.filter(action=SignoffStep.Action.OFFICE_VERIFY)
    lead_units = Prefetch("task_units", queryset=TaskUnit.objects.filter(role=TaskUnit.Role.LEAD)
                          .select_related("unit"), to_attr="lead_units")
    in_signoff = (
        visible.filter(status__in=[TaskStatus.SIGNOFF_APPLIED, TaskStatus.LEAD_REVIEWED, TaskStatus.PUBLIC_NOTICE])
        .annotate(step_at=Subquery(latest_apply.values("at")[:1]),
                  step_comment=Subquery(latest_apply.values("comment")[:1]),
                  notice_ends=Subquery(latest_verify.values("notice_ends_on")[:1]),
                  open_objections=Count("objections", filter=Q(objections__status=Objection.Status.OPEN)))
        .prefetch_related(lead_units)
        .order_by("step_at", "number")
    )
    to_verify, awaiting, notice = [], [], []
    for task in in_signoff:
        task.notice_due = bool(task.notice_ends and task.notice_ends < today)
        {TaskStatus.LEAD_REVIEWED: to_verify, TaskStatus.SIGNOFF_APPLIED: awaiting,
         TaskStatus.PUBLIC_NOTICE: notice}[task.status].append(task)
    extensions = list(
        ExtensionRequest.objects.filter(task__in=visible, status=ExtensionRequest.Status.PENDING)
        .select_related("task", "unit", "requested_by").order_by("requested_at")
    )
    return OfficeQueue(to_verify=to_verify, awaiting_lead=awaiting, in_notice=notice, extensions=extensions)


def task_page_get(*, user: User, pk: int) -> Task:
    """The task with everything its page shows; raises Task.DoesNotExist if not visible."""
    return (
        tasks_visible_to(user)
        .select_related("plan", "measure", "problem")
        .prefetch_related(
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")),
            "milestones",
            Prefetch("reports", queryset=ProgressReport.objects.select_related("unit", "author")
                     .prefetch_related("evidence").order_by("-week", "unit__name")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("unit", "uploaded_by")),
            Prefetch("signoff_steps", queryset=SignoffStep.objects.select_related("actor", "unit")
                     .prefetch_related("evidence").order_by("at", "id")),
            Prefetch("extension_requests", queryset=ExtensionRequest.objects.select_related(
                "unit", "requested_by", "decided_by")),
        )
        .get(pk=pk)
    )


def task_changes(task: Task, *, user: User) -> QuerySet:
    """The task's change history; a unit's own view leaves out the records of unannounced visits
    (暗查暗访) against the task."""
    changes = task.changes.select_related("actor").order_by("-at", "-id")
    if not user_sees_whole_ledger(user):
        hidden = SupervisionAction.objects.filter(task=task, kind__in=SUPERVISION_KINDS_UNANNOUNCED)
        changes = changes.exclude(subject__in=[f"supervision:{pk}" for pk in hidden.values_list("pk", flat=True)])
    return changes
