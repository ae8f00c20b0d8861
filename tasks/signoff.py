"""The sign-off (销号) state machine.

    IN_PROGRESS ──apply (a lead/responsible unit, with evidence)──▶ SIGNOFF_APPLIED
    SIGNOFF_APPLIED ──lead review (the lead unit)──▶ LEAD_REVIEWED
    LEAD_REVIEWED ──office verify (may record an on-site check)──▶ PUBLIC_NOTICE
    PUBLIC_NOTICE ──notice period over, every objection answered (job or office)──▶ CLOSED,
                    or SUSTAINING for LONG_TERM
    any sign-off state ──return with a reason (or an upheld objection)──▶ IN_PROGRESS

The public may object (公示异议) during the notice: tasks/objections.py.

Every transition writes a `SignoffStep` (who, when, comment) and a `TaskChange` on the status.
A wrong role raises PermissionDenied; a step out of order raises ValidationError; a page
made from an older version of the task raises StaleEditError. Reopening a finished task is the
look-back check's business: `tasks.services.task_reopen`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.calendar import notice_period_end
from rectify.i18n import date_long
from rectify.models import User
from tasks.evidence import (
    CheckedUpload,
    evidence_check_all,
    evidence_files_discard,
    evidence_files_store,
    evidence_rows_create,
)
from tasks.models import DeadlineClass, Objection, SignoffStep, Task, TaskStatus
from tasks.permissions import task_unit_role, user_answers_for, user_is_lead_liaison, user_is_office
from tasks.services import StaleEditError, _record_field_changes

logger = logging.getLogger(__name__)

Action = SignoffStep.Action
RETURNABLE = (TaskStatus.SIGNOFF_APPLIED, TaskStatus.LEAD_REVIEWED, TaskStatus.PUBLIC_NOTICE)


def _lock(task: Task, expected_version: int | None) -> Task:
    current = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError(
            _("该任务已被他人处理(当前状态:%(s)s),请查看最新内容。") % {"s": current.get_status_display()},
            code="stale",
        )
    return current


def _require_status(task: Task, allowed: Sequence[str], action: str) -> None:
    if task.status not in allowed:
        raise ValidationError(
            _("任务当前状态为“%(s)s”,不能进行“%(a)s”。") % {"s": task.get_status_display(), "a": action},
            code="out_of_order",
        )


def _move(
    *, task: Task, actor: User | None, action: str, to_status: str, comment: str,
    today: dt.date | None = None, **step_fields: object,
) -> SignoffStep:
    """Write the step and the new status; `task` is locked by the caller."""
    now = timezone.now()
    step = SignoffStep(
        task=task, action=action, from_status=task.status, to_status=to_status, actor=actor,
        unit=actor.unit if actor is not None and actor.unit_id else None, at=now,
        comment=comment.strip(), **step_fields,
    )
    step.full_clean()
    step.save()
    tracked = ["status"]
    before = {"status": task.status, "closed_on": task.closed_on, "progress": task.progress}
    task.status = to_status
    if to_status == TaskStatus.CLOSED:
        task.closed_on = today or timezone.localdate()
        task.progress = 100
        tracked += ["closed_on", "progress"]
    task.version = F("version") + 1
    task.save(update_fields=[*tracked, "version", "updated_at"])
    task.refresh_from_db()
    label = SignoffStep.Action(action).label
    _record_field_changes(
        task=task, actor=actor, subject="task", before=before,
        after={name: getattr(task, name) for name in tracked},
        note=f"{label}:{step.comment}" if step.comment else label, at=now,
    )
    return step


def signoff_apply(
    *, task: Task, actor: User, comment: str = "", evidence: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
) -> SignoffStep:
    """申请销号: a lead or responsible unit applies, with evidence (new files or already filed)."""
    if not user_answers_for(task, actor):
        raise PermissionDenied(_("只有该任务的牵头单位或责任单位可以申请销号。"))
    checked = evidence_check_all(evidence)
    stored = evidence_files_store(task=task, checked=checked) if checked else []
    try:
        return _apply_locked(task=task, actor=actor, comment=comment, checked=checked, stored=stored,
                             expected_version=expected_version)
    except Exception:
        evidence_files_discard(stored)
        raise


@transaction.atomic
def _apply_locked(
    *, task: Task, actor: User, comment: str, checked: Sequence[CheckedUpload], stored: Sequence[str],
    expected_version: int | None,
) -> SignoffStep:
    current = _lock(task, expected_version)
    _require_status(current, [TaskStatus.IN_PROGRESS], Action.APPLY.label)
    if not checked and not current.evidence.exists():
        raise ValidationError(_("申请销号须附佐证材料:请上传至少一个文件。"), code="no_evidence")
    step = _move(task=current, actor=actor, action=Action.APPLY, to_status=TaskStatus.SIGNOFF_APPLIED,
                 comment=comment)
    evidence_rows_create(task=current, unit=actor.unit, actor=actor, checked=checked, stored=stored,
                         signoff_step=step)
    return step


@transaction.atomic
def signoff_lead_review(
    *, task: Task, actor: User, comment: str = "", expected_version: int | None = None,
) -> SignoffStep:
    """审核: the lead unit vouches for the application."""
    if not user_is_lead_liaison(task, actor):
        raise PermissionDenied(_("只有该任务的牵头单位可以审核销号申请。"))
    current = _lock(task, expected_version)
    _require_status(current, [TaskStatus.SIGNOFF_APPLIED], Action.LEAD_REVIEW.label)
    return _move(task=current, actor=actor, action=Action.LEAD_REVIEW,
                 to_status=TaskStatus.LEAD_REVIEWED, comment=comment)


@transaction.atomic
def signoff_office_verify(
    *, task: Task, actor: User, comment: str = "", onsite_checked_on: dt.date | None = None,
    onsite_note: str = "", expected_version: int | None = None, today: dt.date | None = None,
) -> SignoffStep:
    """验收: the office verifies (optionally on site); the public notice starts."""
    if not user_is_office(actor):
        raise PermissionDenied(_("只有领导小组办公室可以验收。"))
    today = today or timezone.localdate()
    if onsite_checked_on is not None and onsite_checked_on > today:
        raise ValidationError(_("现场核查日期不能晚于今天。"))
    if onsite_checked_on is not None and not onsite_note.strip():
        raise ValidationError(_("记录现场核查时请填写核查情况。"))
    current = _lock(task, expected_version)
    _require_status(current, [TaskStatus.LEAD_REVIEWED], Action.OFFICE_VERIFY.label)
    ends = notice_period_end(today)
    return _move(task=current, actor=actor, action=Action.OFFICE_VERIFY,
                 to_status=TaskStatus.PUBLIC_NOTICE, comment=comment,
                 onsite_checked_on=onsite_checked_on, onsite_note=onsite_note.strip(),
                 notice_ends_on=ends)


@transaction.atomic
def signoff_return(
    *, task: Task, actor: User, reason: str, expected_version: int | None = None,
) -> SignoffStep:
    """退回: back to work with a reason — by the lead unit while it reviews, by the office at any step."""
    current = _lock(task, expected_version)
    allowed = user_is_office(actor) or (
        current.status == TaskStatus.SIGNOFF_APPLIED and user_is_lead_liaison(current, actor)
    )
    if not allowed:
        raise PermissionDenied(_("您无权退回该任务的销号申请。"))
    _require_status(current, RETURNABLE, Action.RETURN.label)
    if not reason.strip():
        raise ValidationError(_("退回须说明理由。"), code="no_reason")
    return _move(task=current, actor=actor, action=Action.RETURN, to_status=TaskStatus.IN_PROGRESS,
                 comment=reason)


def notice_ends_on(task: Task) -> dt.date | None:
    """The last day of the task's current public notice, if it is in one."""
    if task.status != TaskStatus.PUBLIC_NOTICE:
        return None
    step = (task.signoff_steps.filter(action=Action.OFFICE_VERIFY).order_by("-at", "-id").first())
    return step.notice_ends_on if step else None


@transaction.atomic
def signoff_close(*, task: Task, today: dt.date | None = None, actor: User | None = None) -> SignoffStep:
    """销号: once the notice period is over; a LONG_TERM task becomes SUSTAINING instead."""
    today = today or timezone.localdate()
    current = _lock(task, None)
    _require_status(current, [TaskStatus.PUBLIC_NOTICE], Action.CLOSE.label)
    ends = notice_ends_on(current)
    if ends is None or today <= ends:
        raise ValidationError(
            _("公示期至%(d)s,期满后方可销号。") % {"d": date_long(ends) if ends else "?"}, code="in_notice",
        )
    unanswered = current.objections.filter(status=Objection.Status.OPEN).count()
    if unanswered:
        raise ValidationError(
            _("公示期内收到的异议尚有%(n)d条未答复:办公室逐条答复后方可销号。") % {"n": unanswered},
            code="open_objection",
        )
    final = TaskStatus.SUSTAINING if current.deadline_class == DeadlineClass.LONG_TERM else TaskStatus.CLOSED
    comment = _("公示期满(%(d)s)无异议") % {"d": date_long(ends)}
    return _move(task=current, actor=actor, action=Action.CLOSE, to_status=final, comment=comment, today=today)


def notice_ends_subquery(task_ref: str = "pk") -> Subquery:
    """For annotating tasks (or rows naming a task by `task_ref`): the last day of the notice
    the task's latest verification opened."""
    return Subquery(
        SignoffStep.objects.filter(task=OuterRef(task_ref), action=Action.OFFICE_VERIFY)
        .order_by("-at", "-id").values("notice_ends_on")[:1]
    )


def tasks_notice_due(*, today: dt.date) -> list[int]:
    return list(
        Task.objects.filter(status=TaskStatus.PUBLIC_NOTICE)
        .annotate(notice_ends=notice_ends_subquery())
        .filter(notice_ends__lt=today)
        .values_list("pk", flat=True)
    )


def signoff_close_due(*, today: dt.date | None = None) -> list[int]:
    """Close every task whose notice has ended. Safe to run twice: each close re-checks the
    status under a row lock, so a task closed by another run is skipped. A task with an
    unanswered objection is left in its notice, and the log says so."""
    today = today or timezone.localdate()
    closed, held = [], []
    for pk in tasks_notice_due(today=today):
        try:
            signoff_close(task=Task(pk=pk), today=today)
        except ValidationError as exc:
            if exc.code == "open_objection":
                held.append(pk)  # stays 公示中 until the office has answered every objection
            continue  # else returned or closed meanwhile
        closed.append(pk)
    if closed:
        logger.info("signoff_close_due %s: closed %s", today, closed)
    if held:
        logger.warning("signoff_close_due %s: left in public notice, objections unanswered: %s", today, held)
    return closed


def signoff_next_actions(task: Task, user: User) -> list[str]:
    """The sign-off actions this user may take on the task now (for pages and queues)."""
    actions: list[str] = []
    if task.status == TaskStatus.IN_PROGRESS and user_answers_for(task, user):
        actions.append(Action.APPLY)
    if task.status == TaskStatus.SIGNOFF_APPLIED and task_unit_role(task, user) == "LEAD":
        actions += [Action.LEAD_REVIEW, Action.RETURN]
    if user_is_office(user):
        if task.status == TaskStatus.LEAD_REVIEWED:
            actions.append(Action.OFFICE_VERIFY)
        if task.status in RETURNABLE:
            actions.append(Action.RETURN)
    return list(dict.fromkeys(actions))
