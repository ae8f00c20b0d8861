from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.roles import Role


class User(AbstractUser):
    """An official. Liaisons act for their unit; roles are groups named by `Role`."""

    unit = models.ForeignKey(
        "tasks.Unit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def role_codes(self) -> frozenset[str]:
        # Cached per instance: permission checks ask many times per request.
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *roles: Role) -> bool:
        return self.is_active and bool(self.role_codes() & {r.value for r in roles})


class HeldJob(models.Model):
    """Work someone asked for while the message queue (Redis) was down, kept until it is back.

    Most queued work is already recorded elsewhere (a pending delivery, a due dispatch); this
    holds what is not, such as the office's "issue now". `held_jobs_release` hands each row to
    the queue once, when the broker answers again.
    """

    key = models.CharField("去重标识", max_length=100,
                           help_text="同一项工作在等待期间只保留一条,例如 report_issue:dispatch:2018-10-01。")
    task_name = models.CharField("后台任务", max_length=100)
    args = models.JSONField("参数", default=list)
    description = models.CharField("说明", max_length=200)
    requested_by = models.ForeignKey("rectify.User", verbose_name="提交人", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField("提交时间", auto_now_add=True)
    released_at = models.DateTimeField("交给队列时间", null=True, blank=True)

    class Meta:
        verbose_name = "等待队列恢复的工作"
        verbose_name_plural = "等待队列恢复的工作"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=models.Q(released_at__isnull=True),
                                    name="held_job_one_waiting_per_key"),
        ]

    def __str__(self) -> str:
        return self.description


class CalendarYear(models.Model):
    """The office entered this year's State Council holiday notice completely: from now on the
    year's days come from the table alone (docs/calendar.md)."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    notice = models.TextField(_("通知原文"), blank=True)
    entered_by = models.ForeignKey("rectify.User", verbose_name=_("录入人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("录入时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日安排(年度)")
        verbose_name_plural = _("节假日安排(年度)")
        ordering = ["-year"]

    def __str__(self) -> str:
        return _("%(year)s年节假日安排") % {"year": self.year}


class CalendarDay(models.Model):
    """One day the State Council's notice changes: a holiday, or a make-up working day (调休上班)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("节假日或调休日")
        verbose_name_plural = _("节假日和调休日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


class AdminChange(models.Model):
    """What the admin changed on the records that decide access and escalation (units and their
    heads' e-mail, regions, plans, users, roles and groups): field by field, old and new, by
    whom. Written by rectify/admin_history.py; kept forever, read by the office head only."""

    class Action(models.TextChoices):
        CREATED = "CREATED", _("新增")
        CHANGED = "CHANGED", _("修改")
        DELETED = "DELETED", _("删除")

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey("rectify.User", verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("操作人账号"), max_length=150)  # kept if the user is deleted
    model = models.CharField(_("对象类型"), max_length=100)
    object_id = models.CharField(_("对象编号"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200)
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    field = models.CharField(_("字段"), max_length=100, blank=True)
    old = models.TextField(_("原值"), blank=True)
    new = models.TextField(_("新值"), blank=True)

    class Meta:
        verbose_name = _("后台修改记录")
        verbose_name_plural = _("后台修改记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"], name="admin_change_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.object_repr} {self.field}"


class Heartbeat(models.Model):
    """The last sign of life of the background processes: one row per kind, written every
    RECTIFY_HEARTBEAT_SECONDS by any worker (and by the `heartbeat` job) and by beat's tick."""

    class Process(models.TextChoices):
        WORKER = "worker", _("后台任务进程(worker)")
        BEAT = "beat", _("定时调度(beat)")

    process = models.CharField(_("进程"), max_length=20, choices=Process.choices, unique=True)
    at = models.DateTimeField(_("最近心跳"))
    hostname = models.CharField(_("主机"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("后台进程心跳")
        verbose_name_plural = _("后台进程心跳")
        ordering = ["process"]

    def __str__(self) -> str:
        return f"{self.get_process_display()} {self.at:%Y-%m-%d %H:%M:%S}"
