"""Extension requests (延期申请): a unit proposes a new deadline, the office decides.

On approval the task's deadline moves; the original one is kept in `original_deadline` (set
once, by the first approved extension) so on-time statistics keep counting against it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.i18n import date_long
from rectify.models import User
from tasks.deadlines import format_deadline
from tasks.models import ExtensionRequest, Task
from tasks.permissions import user_answers_for, user_is_office
from tasks.services import StaleEditError, change_record, task_update


@transaction.atomic
def extension_request_create(
    *, task: Task, actor: User, proposed_deadline: dt.date, reason: str,
    today: dt.date | None = None,
) -> ExtensionRequest:
    if not user_answers_for(task, actor):
        raise PermissionDenied(_("只有该任务的牵头单位或责任单位可以申请延期。"))
    today = today or timezone.localdate()
    current = Task.objects.select_for_update().get(pk=task.pk)
    if current.is_finished:
        raise ValidationError(_("该任务已完成整改,不能申请延期。"))
    if current.deadline is None:
        raise ValidationError(_("该任务没有限定完成日期,无需申请延期。"))
    if proposed_deadline <= current.deadline:
        raise ValidationError(
            _("申请的新时限须晚于现行时限(%(d)s)。") % {"d": date_long(current.deadline)}
        )
    if proposed_deadline <= today:
        raise ValidationError(_("申请的新时限须晚于今天。"))
    if not reason.strip():
        raise ValidationError(_("请填写延期理由。"))
    if current.extension_requests.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise ValidationError(_("该任务已有一项待审批的延期申请。"))
    request = ExtensionRequest(
        task=current, unit=actor.unit, requested_by=actor, requested_at=timezone.now(),
        current_deadline=current.deadline, proposed_deadline=proposed_deadline, reason=reason.strip(),
    )
    request.full_clean()
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise ValidationError(_("该任务已有一项待审批的延期申请。")) from None
    change_record(task=current, actor=actor, subject=f"extension:{request.pk}", field="proposed_deadline",
                  old=current.deadline, new=proposed_deadline,
                  note=_("%(unit)s申请延期:%(reason)s") % {"unit": actor.unit, "reason": request.reason})
    return request


@transaction.atomic
def extension_request_decide(
    *, request: ExtensionRequest, actor: User, approve: bool, comment: str = "",
) -> ExtensionRequest:
    if not user_is_office(actor):
        raise PermissionDenied(_("只有领导小组办公室可以审批延期申请。"))
    current = ExtensionRequest.objects.select_for_update().select_related("task").get(pk=request.pk)
    if current.status != ExtensionRequest.Status.PENDING:
        raise StaleEditError(
            _("该延期申请已由他人处理(%(s)s)。") % {"s": current.get_status_display()}, code="stale"
        )
    if not approve and not comment.strip():
        raise ValidationError(_("不批准延期须说明理由。"))
    task = current.task
    if approve:
        if task.is_finished:
            raise ValidationError(_("该任务已完成整改,无需延期。"))
        fields: dict[str, object] = {
            "deadline": current.proposed_deadline,
            "deadline_text": f"{format_deadline(current.proposed_deadline)}" + _("(经批准延期)"),
        }
        if task.original_deadline is None:
            fields["original_deadline"] = task.deadline
        task_update(task=task, actor=actor, note=_("批准延期申请:%(c)s") % {"c": comment.strip()}, **fields)
    old_status = current.status
    current.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    current.decided_by, current.decided_at = actor, timezone.now()
    current.decision_comment = comment.strip()
    current.full_clean()
    current.save()
    change_record(task=task, actor=actor, subject=f"extension:{current.pk}", field="status",
                  old=ExtensionRequest.Status(old_status).label, new=current.get_status_display(),
                  note=current.decision_comment)
    return current
