"""公示异议: the public objects to a sign-off during its public notice; the office answers.

Anyone may lodge an objection, without logging in and without a captcha, so the door is kept
narrow instead: only during the notice, length limits, a honeypot field (the view's), CSRF, and
rate limits counted in the database per sender address (kept only as a keyed hash) and per
task. The task's row is locked while counting, so two requests cannot both take the last slot.
The office answers each objection with a text; upholding one returns the task (signoff_return),
and a task with an unanswered objection is not closed (signoff_close).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.models import User
from tasks.models import Objection, SignoffStep, Task, TaskStatus, TaskUnit
from tasks.permissions import user_is_office
from tasks.selectors import plan_current
from tasks.signoff import notice_ends_subquery, signoff_return

CONTACT_MAX = 100
TEXT_MIN, TEXT_MAX = 10, 2000
ANSWER_MAX = 2000
_PHONE = re.compile(r"^\+?[0-9][0-9 \-()]{5,22}[0-9]$")


class ObjectionRateLimited(ValidationError):
    """Too many objections from one address, or on one task: the view answers 429."""


@dataclass(frozen=True)
class PublicNotice:
    """A task in its public notice as the public reads it: nothing internal."""

    task_id: int
    number: int
    title: str
    lead: str
    deadline_text: str
    plan: str
    notice_ends_on: dt.date


def client_key(address: str) -> str:
    """A keyed hash of the sender's address: counts per address without keeping it."""
    return hmac.new(settings.SECRET_KEY.encode(), f"objection:{address}".encode(), hashlib.sha256).hexdigest()


# --- Selectors -------------------------------------------------------------------------------


def _in_notice(today: dt.date) -> QuerySet[Task]:
    return (
        Task.objects.filter(status=TaskStatus.PUBLIC_NOTICE)
        .annotate(notice_ends=notice_ends_subquery()).filter(notice_ends__gte=today)
    )


def notices_public(*, today: dt.date | None = None) -> list[PublicNotice]:
    """Tasks of the current plan in their notice today, for /public/: two queries."""
    today = today or timezone.localdate()
    plan = plan_current()
    if plan is None:
        return []
    leads = Prefetch("task_units", queryset=TaskUnit.objects.filter(role=TaskUnit.Role.LEAD)
                     .select_related("unit"), to_attr="lead_units")
    return [
        PublicNotice(task_id=t.pk, number=t.number, title=t.title,
                     lead=t.lead_units[0].unit.name if t.lead_units else "", deadline_text=t.deadline_text,
                     plan=plan.title, notice_ends_on=t.notice_ends)
        for t in _in_notice(today).filter(plan=plan).prefetch_related(leads).order_by("notice_ends", "number")
    ]


def notice_public(*, task_id: int, today: dt.date | None = None) -> PublicNotice | None:
    """One task in its notice today, or None (not in notice, over, or no such task)."""
    return next((n for n in notices_public(today=today) if n.task_id == task_id), None)


def objections_for_task(*, user: User, task: Task) -> QuerySet[Objection]:
    """The task page's list: the office's business (the sender's contact is personal data)."""
    objections = Objection.objects.filter(task=task).select_related("answered_by").order_by("lodged_at", "id")
    return objections if user_is_office(user) else objections.none()


def objections_open(*, user: User) -> QuerySet[Objection]:
    """The office queue's list: every objection still waiting for an answer."""
    objections = (Objection.objects.filter(status=Objection.Status.OPEN).select_related("task")
                  .annotate(notice_ends=notice_ends_subquery("task_id")).order_by("lodged_at", "id"))
    return objections if user_is_office(user) else objections.none()


# --- Services --------------------------------------------------------------------------------


def _clean_contact(contact: str) -> str:
    contact = " ".join(contact.split())
    if not contact:
        raise ValidationError(_("请填写联系方式(电话或电子邮箱),以便办公室答复。"), code="contact")
    if len(contact) > CONTACT_MAX:
        raise ValidationError(_("联系方式不能超过%(n)d个字符。") % {"n": CONTACT_MAX}, code="contact")
    if "@" in contact:
        try:
            validate_email(contact)
        except ValidationError:
            raise ValidationError(_("电子邮箱格式不正确。"), code="contact") from None
    elif not _PHONE.match(contact):
        raise ValidationError(_("联系方式须为电话号码或电子邮箱。"), code="contact")
    return contact


def _clean_text(text: str) -> str:
    text = text.strip()
    if len(text) < TEXT_MIN:
        raise ValidationError(_("异议内容至少%(n)d个字,请写明事实和理由。") % {"n": TEXT_MIN}, code="text")
    if len(text) > TEXT_MAX:
        raise ValidationError(_("异议内容不能超过%(n)d个字。") % {"n": TEXT_MAX}, code="text")
    return text


def _rate_check(*, task: Task, key: str, now: dt.datetime) -> None:
    recent = Objection.objects.filter(lodged_at__gt=now - dt.timedelta(days=1))
    from_here = recent.filter(client_key=key)
    if (from_here.filter(lodged_at__gt=now - dt.timedelta(hours=1)).count()
            >= settings.RECTIFY_OBJECTION_PER_ADDRESS_HOUR
            or from_here.count() >= settings.RECTIFY_OBJECTION_PER_ADDRESS_DAY):
        raise ObjectionRateLimited(_("您提交的异议过于频繁,请稍后再提交。"), code="rate_address")
    if recent.filter(task=task).count() >= settings.RECTIFY_OBJECTION_PER_TASK_DAY:
        raise ObjectionRateLimited(
            _("该任务今日收到的异议已达上限,请明日再提交,或直接联系领导小组办公室。"), code="rate_task")


@transaction.atomic
def objection_lodge(
    *, task_id: int, contact: str, text: str, address: str, now: dt.datetime | None = None,
) -> Objection:
    """A member of the public objects to a task in its notice. Refused (ValidationError, nothing
    written) outside the notice, on bad input, or past a rate limit (ObjectionRateLimited)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    contact, text = _clean_contact(contact), _clean_text(text)
    task = Task.objects.select_for_update().filter(pk=task_id).first()
    verify = (task.signoff_steps.filter(action=SignoffStep.Action.OFFICE_VERIFY).order_by("-at", "-id").first()
              if task is not None and task.status == TaskStatus.PUBLIC_NOTICE else None)
    if verify is None or verify.notice_ends_on is None or today > verify.notice_ends_on:
        raise ValidationError(_("该任务不在销号公示期内,不能提出异议。"), code="not_in_notice")
    key = client_key(address)
    _rate_check(task=task, key=key, now=now)
    if Objection.objects.filter(task=task, client_key=key, text=text).exists():
        raise ValidationError(_("您已提交过相同的异议,办公室将逐条答复。"), code="duplicate")
    objection = Objection(task=task, notice_step=verify, contact=contact, text=text, lodged_at=now,
                          client_key=key)
    objection.full_clean()
    objection.save()
    return objection


@transaction.atomic
def objection_answer(*, objection: Objection, actor: User, answer: str, uphold: bool) -> Objection:
    """The office answers an objection. Upheld while the task is in its notice: the task is
    returned for rework (the sign-off's own return path), with the answer as its reason."""
    if not user_is_office(actor):
        raise PermissionDenied(_("只有领导小组办公室可以答复公示异议。"))
    current = Objection.objects.select_for_update().select_related("task").get(pk=objection.pk)
    if current.status != Objection.Status.OPEN:
        raise ValidationError(_("该异议已答复(%(s)s)。") % {"s": current.get_status_display()}, code="answered")
    answer = answer.strip()
    if not answer:
        raise ValidationError(_("答复异议须填写答复内容。"), code="no_answer")
    if len(answer) > ANSWER_MAX:
        raise ValidationError(_("答复不能超过%(n)d个字。") % {"n": ANSWER_MAX}, code="answer_length")
    current.status = Objection.Status.UPHELD if uphold else Objection.Status.DISMISSED
    current.answer, current.answered_by, current.answered_at = answer, actor, timezone.now()
    current.full_clean()
    current.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    if uphold and current.task.status == TaskStatus.PUBLIC_NOTICE:
        signoff_return(task=current.task, actor=actor, reason=_("公示异议成立:%(a)s") % {"a": answer})
    return current
