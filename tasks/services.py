"""Every write to the ledger goes through here: one service, one transaction, full_clean first.

Each service records what it changed in `TaskChange`, field by field, so the task page and
the "as of a date" dashboards can tell what the ledger said at any moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.admin_history import admin_changes_record
from rectify.calendar import report_cutoff, report_week
from rectify.i18n import date_long
from rectify.models import AdminChange, User
from tasks.evidence import (
    CheckedUpload,
    evidence_check_all,
    evidence_files_discard,
    evidence_files_store,
    evidence_rows_create,
)
from tasks.models import (
    DeadlineClass,
    Milestone,
    Plan,
    ProgressReport,
    Region,
    Task,
    TaskChange,
    TaskStatus,
    TaskUnit,
    Unit,
    UnitAlias,
)


class StaleEditError(ValidationError):
    """Somebody else saved first; the caller shows the new state instead of overwriting it."""


@dataclass(frozen=True)
class TaskUnitSpec:
    unit: Unit
    role: str
    responsible_person: str = ""


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    due_on: dt.date
    done_on: dt.date | None = None


# Fields of a task whose changes the history keeps.
TRACKED_TASK_FIELDS = (
    "title", "target", "actions", "deadline", "deadline_text", "deadline_class",
    "original_deadline", "status", "progress", "leading_official", "closed_on",
    "measure_id", "problem_id",
)


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def change_record(
    *, task: Task, actor: User | None, subject: str, field: str, old: object, new: object,
    note: str = "", at: dt.datetime | None = None,
) -> TaskChange:
    return TaskChange.objects.create(
        task=task, actor=actor, at=at or timezone.now(), subject=subject, field=field,
        old=_display(old), new=_display(new), note=note[:200],
    )


def _record_field_changes(
    *, task: Task, actor: User | None, subject: str, before: Mapping[str, object],
    after: Mapping[str, object], note: str = "", at: dt.datetime | None = None,
) -> list[TaskChange]:
    at = at or timezone.now()
    rows = [
        TaskChange(
            task=task, actor=actor, at=at, subject=subject, field=name,
            old=_display(before.get(name)), new=_display(after.get(name)), note=note[:200],
        )
        for name in after
        if _display(before.get(name)) != _display(after.get(name))
    ]
    return TaskChange.objects.bulk_create(rows)


def task_units_validate(specs: Sequence[TaskUnitSpec]) -> None:
    """Exactly one lead unit, each unit once. Raised before anything is written."""
    leads = [s for s in specs if s.role == TaskUnit.Role.LEAD]
    if not leads:
        raise ValidationError(_("每个任务必须有一个牵头单位。"))
    if len(leads) > 1:
        names = _("、").join(s.unit.name for s in leads)
        raise ValidationError(_("每个任务只能有一个牵头单位,现有:%(names)s。") % {"names": names})
    seen: set[int] = set()
    for spec in specs:
        if spec.role not in TaskUnit.Role.values:
            raise ValidationError(_("单位角色“%(role)s”无效。") % {"role": spec.role})
        if spec.unit.pk in seen:
            raise ValidationError(_("同一单位在一个任务中只能出现一次:%(name)s。") % {"name": spec.unit.name})
        seen.add(spec.unit.pk)


def _milestones_validate(deadline: dt.date | None, specs: Iterable[MilestoneSpec]) -> None:
    for spec in specs:
        if deadline and spec.due_on > deadline:
            raise ValidationError(
                _("节点“%(title)s”的日期%(due_on)s晚于整改时限%(deadline)s。") % {"title": spec.title, "due_on": date_long(spec.due_on), "deadline": date_long(deadline)}
            )


def _units_snapshot(task: Task) -> dict[str, str]:
    return {
        f"unit:{tu.unit.code}": f"{tu.unit.name}|{tu.get_role_display()}|{tu.responsible_person}"
        for tu in task.task_units.select_related("unit")
    }


@transaction.atomic
def task_create(
    *, plan: Plan, number: int, title: str, units: Sequence[TaskUnitSpec],
    actor: User | None = None, measure_id: int | None = None, problem_id: int | None = None,
    target: str = "", actions: str = "", deadline: dt.date | None = None,
    deadline_text: str = "", deadline_class: str = DeadlineClass.BY_DEADLINE,
    leading_official: str = "", milestones: Sequence[MilestoneSpec] = (),
    status: str = TaskStatus.IN_PROGRESS,
) -> Task:
    task_units_validate(units)
    _milestones_validate(deadline, milestones)
    if Task.objects.filter(plan=plan, number=number).exists():
        raise ValidationError(_("整改方案中已有序号为%(number)s的任务。") % {"number": number})
    task = Task(
        plan=plan, number=number, title=title, target=target, actions=actions,
        deadline=deadline, deadline_text=deadline_text, deadline_class=deadline_class,
        leading_official=leading_official, measure_id=measure_id, problem_id=problem_id,
        status=status,
    )
    if task.problem_id is None and task.measure_id is not None:
        task.problem_id = task.measure.problem_id
    task.full_clean()
    task.save()
    TaskUnit.objects.bulk_create(
        TaskUnit(task=task, unit=s.unit, role=s.role, responsible_person=s.responsible_person,
                 position=i)
        for i, s in enumerate(units)
    )
    Milestone.objects.bulk_create(
        Milestone(task=task, title=m.title, due_on=m.due_on, done_on=m.done_on) for m in milestones
    )
    change_record(task=task, actor=actor, subject="task", field="created", old="", new=str(task))
    return task


def _check_version(task: Task, expected_version: int | None) -> Task:
    """Lock the row and refuse a write made from a stale page."""
    current = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError(
            _("该任务已被他人修改(当前版本%(v)s),请查看最新内容后再提交。"),
            params={"v": current.version}, code="stale",
        )
    return current


@transaction.atomic
def task_update(
    *, task: Task, actor: User | None, expected_version: int | None = None, note: str = "",
    **fields: object,
) -> Task:
    """Change a task's own fields. Unknown field names are a programming error."""
    unknown = set(fields) - set(TRACKED_TASK_FIELDS)
    if unknown:
        raise TypeError(f"task_update() got unknown fields: {sorted(unknown)}")
    current = _check_version(task, expected_version)
    before = {name: getattr(current, name) for name in fields}
    for name, value in fields.items():
        setattr(current, name, value)
    if "deadline" in fields:
        _milestones_validate(
            current.deadline,
            [MilestoneSpec(m.title, m.due_on) for m in current.milestones.all()],
        )
    current.full_clean()
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    _record_field_changes(task=current, actor=actor, subject="task", before=before,
                          after={n: getattr(current, n) for n in fields}, note=note)
    return current


@transaction.atomic
def task_set_units(
    *, task: Task, units: Sequence[TaskUnitSpec], actor: User | None,
    expected_version: int | None = None,
) -> Task:
    """Replace a task's units; every addition, removal and role change goes to the history."""
    task_units_validate(units)
    current = _check_version(task, expected_version)
    before = _units_snapshot(current)
    current.task_units.all().delete()
    TaskUnit.objects.bulk_create(
        TaskUnit(task=current, unit=s.unit, role=s.role, responsible_person=s.responsible_person,
                 position=i)
        for i, s in enumerate(units)
    )
    after = _units_snapshot(current)
    keys = sorted(set(before) | set(after))
    _record_field_changes(
        task=current, actor=actor, subject="units", before=before,
        after={k: after.get(k, "") for k in keys},
    )
    Task.objects.filter(pk=current.pk).update(version=F("version") + 1)
    current.refresh_from_db()
    return current


@transaction.atomic
def milestone_save(
    *, task: Task, actor: User | None, title: str, due_on: dt.date,
    done_on: dt.date | None = None, milestone: Milestone | None = None,
) -> Milestone:
    is_new = milestone is None
    milestone = milestone or Milestone(task=task)
    before = {"title": milestone.title, "due_on": milestone.due_on, "done_on": milestone.done_on}
    milestone.title, milestone.due_on, milestone.done_on = title, due_on, done_on
    milestone.full_clean()
    milestone.save()
    _record_field_changes(
        task=task, actor=actor, subject=f"milestone:{milestone.pk}",
        before={} if is_new else before,
        after={"title": title, "due_on": due_on, "done_on": done_on},
    )
    return milestone


@transaction.atomic
def milestone_delete(*, milestone: Milestone, actor: User | None) -> None:
    change_record(task=milestone.task, actor=actor, subject=f"milestone:{milestone.pk}",
                  field="deleted", old=f"{milestone.title} {milestone.due_on}", new="")
    milestone.delete()


# The change-history note of a reopening starts with this; 我的任务 shows the reason after it.
REOPEN_NOTE = "回头看重新打开:"


@transaction.atomic
def task_reopen(*, task: Task, actor: User | None, reason: str) -> Task:
    """回头看: a closed (or sustaining) task found not truly done goes back to work."""
    if not reason.strip():
        raise ValidationError(_("重新打开任务必须说明原因。"))
    current = Task.objects.select_for_update().get(pk=task.pk)
    if not current.is_finished:
        raise ValidationError(_("只有已销号或长期坚持的任务才能通过“回头看”重新打开。"))
    before = {"status": current.status, "closed_on": current.closed_on}
    current.status, current.closed_on = TaskStatus.IN_PROGRESS, None
    current.version = F("version") + 1
    current.save(update_fields=["status", "closed_on", "version", "updated_at"])
    current.refresh_from_db()
    _record_field_changes(task=current, actor=actor, subject="task", before=before,
                          after={"status": current.status, "closed_on": None},
                          note=f"{REOPEN_NOTE}{reason.strip()}")
    return current


# --- Progress reports -------------------------------------------------------


def _rolled_up_progress(task: Task) -> int:
    """The task's percent: the mean of its lead and responsible units' latest reports.

    Supporting units help but do not answer for completion, so they do not weigh in.
    """
    counted = list(
        task.task_units.exclude(role=TaskUnit.Role.SUPPORTING).values_list("unit_id", flat=True)
    )
    if not counted:
        return 0
    latest: dict[int, int] = {}
    for unit_id, percent in (
        ProgressReport.objects.filter(task=task, unit_id__in=counted)
        .order_by("unit_id", "-week")
        .values_list("unit_id", "percent")
    ):
        latest.setdefault(unit_id, percent)
    return round(sum(latest.get(u, 0) for u in counted) / len(counted))


# `expected_version` of a report made from a page that showed no report of the week yet: a
# report filed meanwhile by a colleague is then refused and shown, never silently replaced.
FIRST_REPORT = 0


def task_report_progress(
    *, task: Task, unit: Unit, author: User | None, percent: int, text: str,
    week: dt.date | None = None, expected_version: int | None = None,
    now: dt.datetime | None = None, evidence: Sequence[UploadedFile] = (),
) -> ProgressReport:
    """File (or, within the same week, correct) a unit's report on its part of a task.

    `evidence` files are checked by content first; they are written to storage before the
    database transaction and removed again if the report is refused.
    """
    checked = evidence_check_all(evidence)
    stored = evidence_files_store(task=task, checked=checked) if checked else []
    try:
        return _report_progress_locked(
            task=task, unit=unit, author=author, percent=percent, text=text, week=week,
            expected_version=expected_version, now=now, checked=checked, stored=stored,
        )
    except Exception:
        evidence_files_discard(stored)
        raise


@transaction.atomic
def _report_progress_locked(
    *, task: Task, unit: Unit, author: User | None, percent: int, text: str,
    week: dt.date | None, expected_version: int | None, now: dt.datetime | None,
    checked: Sequence[CheckedUpload], stored: Sequence[str],
) -> ProgressReport:
    now = now or timezone.now()
    week = week or report_week(timezone.localdate(now))
    current = Task.objects.select_for_update().get(pk=task.pk)
    if current.status == TaskStatus.CLOSED:
        raise ValidationError(_("该任务已销号,不能再报送进展。如需继续整改,请由办公室通过“回头看”重新打开。"))
    if not current.task_units.filter(unit=unit).exists():
        raise ValidationError(_("%(name)s不是该任务的责任单位,不能报送。") % {"name": unit.name})
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationError(_("完成率必须是0到100之间的整数。"))
    if not text.strip():
        raise ValidationError(_("请填写进展情况。"))

    report = ProgressReport.objects.filter(task=current, unit=unit, week=week).first()
    if report is None:
        report = ProgressReport(task=current, unit=unit, week=week)
        before: dict[str, object] = {}
    else:
        if expected_version == FIRST_REPORT:
            raise StaleEditError(
                _("本周报告已由%(author)s先行报送,请查看其内容后再决定是否更正。"),
                params={"author": report.author or unit.name}, code="stale",
            )
        if expected_version is not None and report.version != expected_version:
            raise StaleEditError(
                _("本周报告已被他人修改,请查看最新内容后再提交。"), code="stale"
            )
        before = {"percent": report.percent, "text": report.text}
        report.version += 1
    report.author = author
    report.percent = percent
    report.text = text.strip()
    report.reported_at = now
    report.is_late = now > report_cutoff(week)
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise StaleEditError(_("本周报告刚被他人提交,请刷新后再修改。"), code="stale") from None
    files = evidence_rows_create(task=current, unit=unit, actor=author, checked=checked,
                                 stored=stored, report=report)
    _record_field_changes(
        task=current, actor=author, subject=f"report:{report.pk}", before=before,
        after={"percent": report.percent, "text": report.text,
               **({"evidence": "、".join(f.original_name for f in files)} if files else {})},
        note=f"{unit.name} {week.year}年{week.month}月{week.day}日当周{'(逾期报送)' if report.is_late else ''}", at=now,
    )
    rolled = _rolled_up_progress(current)
    if rolled != current.progress:
        change_record(task=current, actor=author, subject="task", field="progress",
                      old=current.progress, new=rolled, at=now)
        Task.objects.filter(pk=current.pk).update(progress=rolled, version=F("version") + 1)
    return report


# --- Units ----------------------------------------------------------------------


@transaction.atomic
def unit_create(*, actor: User | None, name: str, region: Region, kind: str = Unit.Kind.OTHER) -> Unit:
    """Add a unit the plan's table lacks (a city bureau an accountability case names), recorded
    in the units' change history (AdminChange) like an admin edit. Who may add one is the
    caller's decision (accountability.services.case_units_add)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("请填写单位名称。"))
    if (Unit.objects.filter(Q(name=name) | Q(full_name=name)).exists()
            or UnitAlias.objects.filter(alias=name).exists()):
        raise ValidationError(_("单位“%(name)s”已在单位表中。") % {"name": name})
    unit = Unit(code=f"added-{uuid.uuid4().hex[:12]}", name=name, kind=kind, region=region)
    try:
        unit.full_clean()
    except ValidationError as exc:
        raise ValidationError(_("不能添加单位“%(name)s”:%(why)s") % {
            "name": name[:60], "why": _("、").join(exc.messages)}) from None
    unit.save()
    admin_changes_record(actor=actor, obj=unit, action=AdminChange.Action.CREATED, changes=[
        ("name", "", unit.name), ("region", "", str(region)), ("kind", "", str(unit.get_kind_display())),
    ])
    return unit
