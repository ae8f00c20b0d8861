"""督办: supervision actions by the office and the supervision group (services and selectors).

挂牌督办 needs requirements and a time limit; 约谈, 通报, 专项督察, 暗查暗访 and 回头看 are
recorded against a task, a unit, or both. A look-back check (回头看) that finds a closed task
not truly done reopens it through `tasks.services.task_reopen`, in the same transaction.
Every action against a task is also written to the task's change history.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.i18n import date_long
from rectify.models import User
from rectify.roles import Role
from tasks.models import SUPERVISION_KINDS_UNANNOUNCED, SupervisionAction, SupervisionKind, Task, Unit
from tasks.selectors import tasks_visible_to, user_sees_whole_ledger
from tasks.services import change_record, task_reopen

# Who may issue and lift supervision actions.
SUPERVISING_ROLES = (Role.OFFICE, Role.OFFICE_HEAD, Role.SUPERVISOR)


def user_may_supervise(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*SUPERVISING_ROLES))


def _require_supervisor(user: User) -> None:
    if not user_may_supervise(user):
        raise PermissionDenied(_("只有领导小组办公室和整改督导组可以督办。"))


@transaction.atomic
def supervision_issue(
    *, actor: User, kind: str, title: str, task: Task | None = None, unit: Unit | None = None,
    requirements: str = "", time_limit: dt.date | None = None, issued_on: dt.date | None = None,
    reopen_task: bool = False, reopen_reason: str = "",
) -> SupervisionAction:
    """Record a supervision action; a 回头看 with `reopen_task` reopens the closed task."""
    _require_supervisor(actor)
    if kind not in SupervisionKind.values:
        raise ValidationError(_("督办方式“%(kind)s”无效。") % {"kind": kind})
    if not title.strip():
        raise ValidationError(_("请填写督办事由。"))
    today = timezone.localdate()
    issued_on = issued_on or today
    if issued_on > today:
        raise ValidationError(_("督办日期不能晚于今天。"))
    if reopen_task:
        if kind != SupervisionKind.LOOK_BACK:
            raise ValidationError(_("只有“回头看”可以重新打开已销号的任务。"))
        if task is None:
            raise ValidationError(_("重新打开任务必须指明任务。"))
    action = SupervisionAction(
        kind=kind, task=task, unit=unit, title=title.strip(), requirements=requirements.strip(),
        time_limit=time_limit, issued_on=issued_on, issued_by=actor, reopened_task=reopen_task,
    )
    action.full_clean()
    action.save()
    if task is not None:
        change_record(task=task, actor=actor, subject=f"supervision:{action.pk}", field="supervision",
                      old="", new=action.get_kind_display(), note=action.title)
    if reopen_task and task is not None:
        # task_reopen refuses a task that is not closed: the whole action is then rolled back.
        task_reopen(task=task, actor=actor, reason=reopen_reason or f"回头看:{action.title}")
    return action


@transaction.atomic
def supervision_lift(
    *, action: SupervisionAction, actor: User, outcome: str, lifted_on: dt.date | None = None,
) -> SupervisionAction:
    """解除督办 (摘牌): the action is done; the task is no longer flagged from that day."""
    _require_supervisor(actor)
    current = SupervisionAction.objects.select_for_update().get(pk=action.pk)
    if current.lifted_on is not None:
        raise ValidationError(_("该督办事项已于%(d)s解除。"), params={"d": date_long(current.lifted_on)})
    if not outcome.strip():
        raise ValidationError(_("解除督办须填写办理结果。"))
    lifted_on = lifted_on or timezone.localdate()
    if lifted_on > timezone.localdate():
        raise ValidationError(_("解除督办日期不能晚于今天。"))
    current.lifted_on, current.outcome = lifted_on, outcome.strip()
    current.full_clean()
    current.save(update_fields=["lifted_on", "outcome", "updated_at"])
    if current.task_id is not None:
        change_record(task=current.task, actor=actor, subject=f"supervision:{current.pk}",
                      field="supervision_lifted", old=current.get_kind_display(), new="",
                      note=current.outcome)
    return current


# --- Selectors -----------------------------------------------------------------------------


def supervision_visible_to(user: User) -> QuerySet[SupervisionAction]:
    """Actions the user may read: all for the whole-ledger roles; for a liaison, those against
    their unit or a task they can see, except unannounced visits (暗查暗访)."""
    actions = SupervisionAction.objects.select_related("task", "unit", "issued_by")
    if user_sees_whole_ledger(user):
        return actions
    if not user.is_authenticated:
        return actions.none()
    actions = actions.exclude(kind__in=SUPERVISION_KINDS_UNANNOUNCED)
    visible = tasks_visible_to(user).values("pk")
    scope = Q(task__in=visible)
    if user.unit_id:
        scope |= Q(unit_id=user.unit_id)
    return actions.filter(scope)


def supervision_for_task(*, user: User, task: Task) -> QuerySet[SupervisionAction]:
    """For the task page (include templates/tasks/_supervision_list.html)."""
    return supervision_visible_to(user).filter(task=task)


def supervision_for_unit(*, user: User, unit: Unit) -> QuerySet[SupervisionAction]:
    """For the unit page: actions against the unit itself or against tasks it answers for."""
    return supervision_visible_to(user).filter(Q(unit=unit) | Q(task__task_units__unit=unit)).distinct()
