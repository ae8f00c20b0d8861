"""The rectification ledger (整改台账): plans, their tasks, the units that answer for them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rectify.i18n import date_long


class Region(models.Model):
    """行政区: province → city → county. `path` lets totals roll up without recursion."""

    class Level(models.TextChoices):
        PROVINCE = "PROVINCE", _("省")
        CITY = "CITY", _("市")
        COUNTY = "COUNTY", _("县(市、区)")

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=100, db_index=True, editable=False)

    class Meta:
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected_parent = {
            self.Level.PROVINCE: None,
            self.Level.CITY: self.Level.PROVINCE,
            self.Level.COUNTY: self.Level.CITY,
        }[self.Level(self.level)]
        parent_level = self.parent.level if self.parent_id else None
        if parent_level != expected_parent:
            raise ValidationError({"parent": _("上级行政区的层级不对:省无上级,市属于省,县属于市。")})


class Unit(models.Model):
    """单位: a provincial department, or a city's/county's party committee or government."""

    class Kind(models.TextChoices):
        PROVINCIAL_DEPARTMENT = "PROVINCIAL_DEPARTMENT", _("省直部门")
        PARTY_COMMITTEE = "PARTY_COMMITTEE", _("党委")
        GOVERNMENT = "GOVERNMENT", _("政府")
        OFFICE = "OFFICE", _("整改办")
        OTHER = "OTHER", _("其他")

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("简称"), max_length=60, unique=True)
    full_name = models.CharField(_("全称"), max_length=120, blank=True)
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("行政区"), on_delete=models.PROTECT, related_name="units"
    )
    head_name = models.CharField(_("主要负责人"), max_length=50, blank=True)
    head_email = models.EmailField(_("主要负责人邮箱"), blank=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["kind", "region__code", "code"]

    def __str__(self) -> str:
        return self.name


class UnitAlias(models.Model):
    """Another name officials write for a unit ("省环保厅", "山西省环境保护厅", "环保厅")."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(_("别名"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("单位别名")
        verbose_name_plural = _("单位别名")

    def __str__(self) -> str:
        return self.alias


class Plan(models.Model):
    """整改方案: one per inspection round."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    issuing_body = models.CharField(_("印发机关"), max_length=200, blank=True)
    issued_on = models.DateField(_("印发日期"))
    inspection_team = models.CharField(_("督察组"), max_length=100, blank=True)
    inspection_start = models.DateField(_("督察开始"), null=True, blank=True)
    inspection_end = models.DateField(_("督察结束"), null=True, blank=True)
    feedback_on = models.DateField(_("反馈日期"), null=True, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("行政区"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("整改方案")
        verbose_name_plural = _("整改方案")
        ordering = ["-issued_on"]

    def __str__(self) -> str:
        return self.title

    @property
    def history_starts_on(self) -> dt.date:
        """Where the ledger's history starts: rectification begins with the inspection's
        feedback, months before the plan is issued (the demo's reports start in those months)."""
        return min(self.feedback_on or self.issued_on, self.issued_on)

    def clean(self) -> None:
        if self.inspection_start and self.inspection_end and self.inspection_end < self.inspection_start:
            raise ValidationError({"inspection_end": _("督察结束日期不能早于开始日期。")})


class Problem(models.Model):
    """督察反馈问题: the sections of 四 — four problem areas, accountability, institutions."""

    class Kind(models.TextChoices):
        FEEDBACK = "FEEDBACK", _("督察反馈突出问题")
        ACCOUNTABILITY = "ACCOUNTABILITY", _("移交的责任追究问题")
        INSTITUTIONAL = "INSTITUTIONAL", _("举一反三、制度建设")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="problems")
    code = models.CharField(_("编号"), max_length=10)
    ordinal = models.CharField(_("序号"), max_length=10)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("问题"), max_length=100)
    heading = models.TextField(_("标题全文"))

    class Meta:
        verbose_name = _("督察反馈问题")
        verbose_name_plural = _("督察反馈问题")
        ordering = ["plan", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="problem_code_unique_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.ordinal}{self.title}"


class Measure(models.Model):
    """重点举措: the numbered measures of section 四."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="measures")
    number = models.PositiveSmallIntegerField(_("序号"))
    heading = models.CharField(_("举措"), max_length=200)
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("重点举措")
        verbose_name_plural = _("重点举措")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="measure_number_unique_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.number}.{self.heading}"


class DeadlineClass(models.TextChoices):
    IMMEDIATE = "IMMEDIATE", _("立行立改")
    BY_DEADLINE = "BY_DEADLINE", _("限期整改")
    LONG_TERM = "LONG_TERM", _("长期整治")


class TaskStatus(models.TextChoices):
    """Where a task stands; the sign-off (销号) steps are states of the same machine."""

    IN_PROGRESS = "IN_PROGRESS", _("正在推进整改")
    SIGNOFF_APPLIED = "SIGNOFF_APPLIED", _("已申请销号")
    LEAD_REVIEWED = "LEAD_REVIEWED", _("牵头单位已审核")
    PUBLIC_NOTICE = "PUBLIC_NOTICE", _("验收通过·公示中")
    CLOSED = "CLOSED", _("已完成整改(销号)")
    SUSTAINING = "SUSTAINING", _("已完成整改并长期坚持")


FINISHED_STATUSES = frozenset({TaskStatus.CLOSED, TaskStatus.SUSTAINING})


class Task(models.Model):
    """整改任务."""

    plan = models.ForeignKey(Plan, verbose_name=_("整改方案"), on_delete=models.CASCADE, related_name="tasks")
    number = models.PositiveIntegerField(_("序号"))
    measure = models.ForeignKey(
        Measure, verbose_name=_("重点举措"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="tasks",
    )
    problem = models.ForeignKey(
        Problem, verbose_name=_("督察反馈问题"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="tasks",
    )
    title = models.CharField(_("任务"), max_length=200)
    target = models.TextField(_("整改目标"), blank=True)
    actions = models.TextField(_("整改措施"), blank=True)
    deadline = models.DateField(_("整改时限(日期)"), null=True, blank=True)
    deadline_text = models.CharField(_("整改时限"), max_length=100, blank=True)
    deadline_class = models.CharField(
        _("整改类型"), max_length=20, choices=DeadlineClass.choices, default=DeadlineClass.BY_DEADLINE
    )
    original_deadline = models.DateField(
        _("原定时限"), null=True, blank=True,
        help_text=_("时限经批准延期后,原定时限保留于此,按期完成率以此计算。"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.IN_PROGRESS
    )
    progress = models.PositiveSmallIntegerField(
        _("完成率(%)"), default=0, validators=[MaxValueValidator(100)]
    )
    leading_official = models.CharField(_("领办领导"), max_length=100, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    # Optimistic locking: every write bumps it; a stale form is refused, not merged.
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="task_number_unique_per_plan"),
            models.CheckConstraint(
                condition=~Q(deadline_class=DeadlineClass.BY_DEADLINE) | Q(deadline__isnull=False),
                name="task_by_deadline_has_date",
                violation_error_message=_("限期整改的任务必须有整改时限日期。"),
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="task_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.deadline_class == DeadlineClass.BY_DEADLINE and self.deadline is None:
            errors["deadline"] = _("限期整改的任务必须有整改时限日期。")
        if self.measure_id and self.problem_id and self.measure.problem_id != self.problem_id:
            errors["problem"] = _("所选问题与重点举措所属的问题不一致。")
        if self.measure_id and self.plan_id and self.measure.plan_id != self.plan_id:
            errors["measure"] = _("重点举措不属于本整改方案。")
        if errors:
            raise ValidationError(errors)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def measured_deadline(self) -> dt.date | None:
        """The deadline on-time statistics count against: the original one, if revised."""
        return self.original_deadline or self.deadline


class TaskUnit(models.Model):
    """A unit's part in a task, with its role and named responsible person (责任人)."""

    class Role(models.TextChoices):
        LEAD = "LEAD", _("牵头单位")
        RESPONSIBLE = "RESPONSIBLE", _("责任单位")
        SUPPORTING = "SUPPORTING", _("配合单位")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_units")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="task_units")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    responsible_person = models.CharField(_("责任人"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("任务单位")
        verbose_name_plural = _("任务单位")
        ordering = ["task", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "unit"], name="taskunit_unit_once_per_task",
                violation_error_message=_("同一单位在一个任务中只能出现一次。"),
            ),
            models.UniqueConstraint(
                fields=["task"], condition=Q(role="LEAD"), name="taskunit_one_lead_per_task",
                violation_error_message=_("每个任务只能有一个牵头单位。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} ({self.get_role_display()})"


class Milestone(models.Model):
    """倒排工期: a stage scheduled backwards from the deadline."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due_on = models.DateField(_("计划完成日期"))
    done_on = models.DateField(_("实际完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("工期节点")
        verbose_name_plural = _("工期节点")
        ordering = ["task", "due_on", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        try:
            task = self.task  # in an admin inline, the unsaved task with its new deadline
        except Task.DoesNotExist:
            return
        if task.deadline and self.due_on and self.due_on > task.deadline:
            raise ValidationError(
                {"due_on": _("节点日期不能晚于任务的整改时限(%(deadline)s)。") % {"deadline": date_long(task.deadline)}}
            )


class ProgressReport(models.Model):
    """进展情况: one unit's report on its part of a task for one reporting week."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    unit = models.ForeignKey(Unit, verbose_name=_("报送单位"), on_delete=models.PROTECT, related_name="reports")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="reports",
    )
    week = models.DateField(_("报送周(周一)"), help_text="The Monday of the reporting week.")
    percent = models.PositiveSmallIntegerField(_("完成率(%)"), validators=[MaxValueValidator(100)])
    text = models.TextField(_("进展情况"))
    reported_at = models.DateTimeField(_("报送时间"))
    is_late = models.BooleanField(_("逾期报送"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        verbose_name = _("进展报告")
        verbose_name_plural = _("进展报告")
        ordering = ["-week", "task", "unit"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "unit", "week"], name="report_once_per_unit_week",
                violation_error_message=_("本周已报送,请修改已有的报告。"),
            ),
            models.CheckConstraint(condition=Q(percent__lte=100), name="report_percent_at_most_100"),
        ]
        indexes = [models.Index(fields=["unit", "week"]), models.Index(fields=["week"])]

    def __str__(self) -> str:
        return f"{self.task_id}/{self.unit_id} {self.week}"


class TaskChange(models.Model):
    """Change history: one changed field of a task, its units or its reports. Kept forever."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    subject = models.CharField(_("对象"), max_length=40, help_text="task, unit:<code>, report:<id>, milestone:<id>")
    field = models.CharField(_("字段"), max_length=60)
    old = models.TextField(_("原值"), blank=True)
    new = models.TextField(_("新值"), blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["task", "field", "at"])]

    def __str__(self) -> str:
        return f"{self.task_id} {self.field}: {self.old} → {self.new}"


# --- Officials' workspace: evidence, sign-off trail, extension requests -----------------------


class Evidence(models.Model):
    """佐证材料: a file attached to a progress report or a sign-off application.

    Stored under MEDIA_ROOT with a random name and the extension of its real type; served only
    by the permission-checked download view, always as an attachment.
    """

    class Kind(models.TextChoices):
        IMAGE = "IMAGE", _("图片")
        PDF = "PDF", _("PDF文档")
        OFFICE = "OFFICE", _("Office文档")
        VIDEO = "VIDEO", _("视频")
        OFD = "OFD", _("OFD文档")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="evidence")
    unit = models.ForeignKey(Unit, verbose_name=_("提交单位"), on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(
        ProgressReport, verbose_name=_("进展报告"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="evidence",
    )
    signoff_step = models.ForeignKey(
        "SignoffStep", verbose_name=_("销号环节"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="evidence",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    file = models.FileField(_("文件"), upload_to="evidence/", max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("MIME类型"), max_length=120)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.original_name


class SignoffStep(models.Model):
    """One transition of the sign-off (销号) machine: who, when, from where to where, and why."""

    class Action(models.TextChoices):
        APPLY = "APPLY", _("申请销号")
        LEAD_REVIEW = "LEAD_REVIEW", _("牵头单位审核通过")
        OFFICE_VERIFY = "OFFICE_VERIFY", _("办公室验收通过")
        CLOSE = "CLOSE", _("公示期满销号")
        RETURN = "RETURN", _("退回")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="signoff_steps")
    action = models.CharField(_("环节"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=TaskStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=20, choices=TaskStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("操作单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    comment = models.TextField(_("意见"), blank=True)
    onsite_checked_on = models.DateField(_("现场核查日期"), null=True, blank=True)
    onsite_note = models.TextField(_("现场核查情况"), blank=True)
    notice_ends_on = models.DateField(_("公示截止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("销号环节")
        verbose_name_plural = _("销号环节")
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.get_action_display()}"


class ExtensionRequest(models.Model):
    """延期申请: a unit proposes a new deadline; the office decides. The original one is kept."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("待审批")
        APPROVED = "APPROVED", _("已批准")
        REJECTED = "REJECTED", _("未批准")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="extension_requests")
    unit = models.ForeignKey(Unit, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"))
    current_deadline = models.DateField(_("申请时的时限"), null=True, blank=True)
    proposed_deadline = models.DateField(_("申请延期至"))
    reason = models.TextField(_("延期理由"))
    status = models.CharField(_("审批状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(status="PENDING"), name="extension_one_pending_per_task",
                violation_error_message=_("该任务已有一项待审批的延期申请。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.proposed_deadline}"


class SupervisionKind(models.TextChoices):
    """督办: what the office or the supervision group does to push a task or a unit."""

    LISTED = "LISTED", _("挂牌督办")
    SUMMONS = "SUMMONS", _("约谈")
    NOTICE = "NOTICE", _("通报")
    SPECIAL_INSPECTION = "SPECIAL_INSPECTION", _("专项督察")
    UNANNOUNCED_VISIT = "UNANNOUNCED_VISIT", _("暗查暗访")
    LOOK_BACK = "LOOK_BACK", _("回头看")


# Kinds shown only to the roles that read the whole ledger, never to the units concerned: an
# unannounced visit (暗查暗访) must not be announced to the unit visited.
SUPERVISION_KINDS_UNANNOUNCED = frozenset({SupervisionKind.UNANNOUNCED_VISIT})


class SupervisionAction(models.Model):
    """One supervision action against a task, a unit, or both. Written by tasks/supervision.py.

    A task counts as supervised (督办中) from `issued_on` until the action is lifted (`lifted_on`).
    """

    kind = models.CharField(_("督办方式"), max_length=30, choices=SupervisionKind.choices)
    task = models.ForeignKey(
        Task, verbose_name=_("整改任务"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="supervision_actions",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("被督办单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="supervision_actions",
    )
    title = models.CharField(_("事由"), max_length=200)
    requirements = models.TextField(_("督办要求"), blank=True)
    time_limit = models.DateField(_("办结时限"), null=True, blank=True)
    issued_on = models.DateField(_("督办日期"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    reopened_task = models.BooleanField(_("回头看重新打开任务"), default=False)
    lifted_on = models.DateField(_("解除督办日期"), null=True, blank=True)
    outcome = models.TextField(_("办理结果"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(task__isnull=False) | Q(unit__isnull=False),
                name="supervision_has_task_or_unit",
                violation_error_message=_("督办事项必须针对一项任务或一个单位。"),
            ),
            models.CheckConstraint(
                condition=~Q(kind="LISTED") | (Q(time_limit__isnull=False) & ~Q(requirements="")),
                name="supervision_listed_has_limit_and_requirements",
                violation_error_message=_("挂牌督办必须写明督办要求和办结时限。"),
            ),
        ]
        indexes = [models.Index(fields=["task", "issued_on"]), models.Index(fields=["unit", "issued_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}:{self.title}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.task_id is None and self.unit_id is None:
            errors["task"] = _("督办事项必须针对一项任务或一个单位。")
        if self.kind == SupervisionKind.LISTED:
            if not self.requirements.strip():
                errors["requirements"] = _("挂牌督办必须写明督办要求。")
            if self.time_limit is None:
                errors["time_limit"] = _("挂牌督办必须规定办结时限。")
        if self.time_limit and self.issued_on and self.time_limit < self.issued_on:
            errors["time_limit"] = _("办结时限不能早于督办日期。")
        if self.lifted_on and self.issued_on and self.lifted_on < self.issued_on:
            errors["lifted_on"] = _("解除督办日期不能早于督办日期。")
        if errors:
            raise ValidationError(errors)

    def is_active_on(self, day: dt.date) -> bool:
        return self.issued_on <= day and (self.lifted_on is None or self.lifted_on > day)


class Objection(models.Model):
    """公示异议: what a member of the public objects to a task's sign-off during its public
    notice (公示). Written by tasks/objections.py. The office answers each one; a task with an
    unanswered objection is not closed, and an upheld one returns the task for rework."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("待答复")
        DISMISSED = "DISMISSED", _("异议不成立")
        UPHELD = "UPHELD", _("异议成立,退回整改")

    task = models.ForeignKey(Task, verbose_name=_("整改任务"), on_delete=models.CASCADE, related_name="objections")
    notice_step = models.ForeignKey(
        SignoffStep, verbose_name=_("公示(验收环节)"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="objections",
    )
    contact = models.CharField(_("联系方式"), max_length=100)
    text = models.TextField(_("异议内容"))
    lodged_at = models.DateTimeField(_("提出时间"), db_index=True)
    # A keyed hash of the sender's address: enough to count per address, nothing to read back.
    client_key = models.CharField(_("来源标识"), max_length=64, db_index=True, editable=False)
    status = models.CharField(_("办理状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("答复人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["lodged_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="OPEN") | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="objection_answered_has_answer",
                violation_error_message=_("答复异议须填写答复内容。"),
            ),
        ]
        indexes = [models.Index(fields=["task", "status"])]

    def __str__(self) -> str:
        return f"{self.task_id} {self.get_status_display()}"
