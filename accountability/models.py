"""The confidential accountability register (责任追究, measure 15 of the plan).

A case comes from the list the national inspection office transferred, or is raised from the
ledger. It moves through six stages in order (see `accountability.services`); each move leaves
a `StageRecord`. It holds the persons held accountable and the case's documents. Only the
accountability group and the office head may open a case; every opening is logged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    CLUE = "CLUE", _("线索交办")
    VERIFICATION = "VERIFICATION", _("问题核查")
    PROPOSAL_REVIEW = "PROPOSAL_REVIEW", _("审核处理建议")
    COMMUNICATION = "COMMUNICATION", _("沟通问责情况")
    EXECUTION = "EXECUTION", _("落实处理意见")
    PUBLIC = "PUBLIC", _("向社会公开")


# The stages in the order the plan lists them; a case may only move one step forward.
STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


def stage_index(stage: str) -> int:
    return STAGE_ORDER.index(Stage(stage))


class CaseSource(models.TextChoices):
    TRANSFERRED = "TRANSFERRED", _("移交的责任追究问题清单")
    TASK_OVERDUE = "TASK_OVERDUE", _("整改任务逾期超过时限")
    FALSE_CLOSURE = "FALSE_CLOSURE", _("回头看发现虚假销号")
    SUPERVISION = "SUPERVISION", _("督办发现")


class Rank(models.TextChoices):
    BUREAU = "BUREAU", _("厅级")
    DIVISION = "DIVISION", _("处级")
    SECTION = "SECTION", _("科级")
    OTHER = "OTHER", _("其他")


class Outcome(models.TextChoices):
    ADMONISHING_TALK = "ADMONISHING_TALK", _("诫勉谈话")
    CRITICISM_EDUCATION = "CRITICISM_EDUCATION", _("批评教育")
    CIRCULATED_CRITICISM = "CIRCULATED_CRITICISM", _("通报批评")
    PARTY_WARNING = "PARTY_WARNING", _("党内警告")
    PARTY_SERIOUS_WARNING = "PARTY_SERIOUS_WARNING", _("党内严重警告")
    PARTY_POST_REVOKED = "PARTY_POST_REVOKED", _("撤销党内职务")
    ADMIN_WARNING = "ADMIN_WARNING", _("政务警告")
    ADMIN_DEMERIT = "ADMIN_DEMERIT", _("政务记过")
    ADMIN_MAJOR_DEMERIT = "ADMIN_MAJOR_DEMERIT", _("政务记大过")
    DEMOTION = "DEMOTION", _("降级")
    DISMISSAL = "DISMISSAL", _("撤职")
    REMOVAL = "REMOVAL", _("免职")
    JUDICIAL_TRANSFER = "JUDICIAL_TRANSFER", _("移送司法机关")
    OTHER = "OTHER", _("其他")


class Case(models.Model):
    """责任追究问题: one transferred (or ledger-raised) problem and its handling."""

    reference = models.CharField(_("编号"), max_length=60, unique=True)
    source = models.CharField(_("来源"), max_length=20, choices=CaseSource.choices)
    title = models.CharField(_("问题概要"), max_length=200)
    problem_text = models.TextField(_("移交的问题原文"))
    tasks = models.ManyToManyField(
        "tasks.Task", verbose_name=_("关联整改任务"), blank=True, related_name="accountability_cases"
    )
    units = models.ManyToManyField(
        "tasks.Unit", verbose_name=_("涉及单位"), blank=True, related_name="accountability_cases"
    )
    region = models.ForeignKey(
        "tasks.Region", verbose_name=_("行政区"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="accountability_cases",
    )
    handling_authority = models.CharField(_("办理机关"), max_length=120, blank=True)
    transferred_on = models.DateField(_("交办日期"))
    stage = models.CharField(_("办理阶段"), max_length=20, choices=Stage.choices, default=Stage.CLUE)
    stage_entered_on = models.DateField(_("进入本阶段日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("责任追究问题")
        verbose_name_plural = _("责任追究问题")
        ordering = ["transferred_on", "reference"]
        indexes = [models.Index(fields=["stage", "stage_entered_on"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def stage_index(self) -> int:
        return stage_index(self.stage)

    @property
    def next_stage(self) -> Stage | None:
        i = self.stage_index
        return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else None

    @property
    def earlier_stages(self) -> tuple[Stage, ...]:
        return STAGE_ORDER[: self.stage_index]


class StageRecord(models.Model):
    """One step of a case's stage trail: opened, advanced, or returned (with a reason)."""

    class Kind(models.TextChoices):
        OPENED = "OPENED", _("登记")
        ADVANCED = "ADVANCED", _("推进")
        RETURNED = "RETURNED", _("退回")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_records")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    from_stage = models.CharField(_("原阶段"), max_length=20, choices=Stage.choices, blank=True)
    stage = models.CharField(_("阶段"), max_length=20, choices=Stage.choices)
    on = models.DateField(_("日期"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    reason = models.TextField(_("退回原因"), blank=True)
    at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办理阶段记录")
        verbose_name_plural = _("办理阶段记录")
        ordering = ["case", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="RETURNED") | ~Q(reason=""), name="stagerecord_return_has_reason",
                violation_error_message=_("退回必须说明原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.get_stage_display()}"


class AccountablePerson(models.Model):
    """被问责人: rank and outcome may wait until the decision; 落实处理意见 needs both."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="persons")
    name = models.CharField(_("姓名"), max_length=50)
    position = models.CharField(_("职务"), max_length=120)
    rank = models.CharField(_("职级"), max_length=10, choices=Rank.choices, blank=True)
    unit_name = models.CharField(_("所在单位"), max_length=120)
    outcome = models.CharField(_("处理结果"), max_length=30, choices=Outcome.choices, blank=True)
    decided_on = models.DateField(_("处理日期"), null=True, blank=True)
    deciding_body = models.CharField(_("决定机关"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("被问责人")
        verbose_name_plural = _("被问责人")
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.name}({self.position})"

    @property
    def is_decided(self) -> bool:
        return bool(self.rank and self.outcome)


class CaseDocument(models.Model):
    """A document of a case, checked by content on upload and kept with its SHA-256."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    stage_record = models.ForeignKey(
        StageRecord, verbose_name=_("阶段记录"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="documents",
    )
    stage = models.CharField(_("上传时阶段"), max_length=20, choices=Stage.choices)
    title = models.CharField(_("材料名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to="accountability/%Y/%m/", max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=120)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("责任追究材料")
        verbose_name_plural = _("责任追究材料")
        ordering = ["case", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title


class PublicField(models.TextChoices):
    """Fields a decision may release to the public page; anything else is never shown."""

    REFERENCE = "reference", _("问题编号")
    TITLE = "title", _("问题概要")
    REGION = "region", _("地区")
    UNITS = "units", _("涉及单位")
    HANDLING_AUTHORITY = "handling_authority", _("办理机关")
    PERSONS_COUNT = "persons_count", _("问责人数")
    OUTCOMES = "outcomes", _("处理结果(职级及处理方式,不含姓名)")
    PERSON_NAMES = "person_names", _("被问责人姓名及职务")
    DECIDED_ON = "decided_on", _("处理日期")


class PublicResult(models.Model):
    """向社会公开: the redacted summary, with the fields the decision released."""

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("待宣传报道组审核")
        APPROVED = "APPROVED", _("已批准公开")
        REJECTED = "REJECTED", _("宣传报道组退回修改")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="public_result")
    summary = models.TextField(_("公开摘要"))
    released_fields = models.JSONField(_("可公开字段"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("拟稿人"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True)
    published_on = models.DateField(_("公开日期"), null=True, blank=True)
    # What /public/ shows, frozen at approval (accountability/public.py); kept while a redraft
    # waits for approval, cleared when the case is taken back from public.
    published_entry = models.JSONField(_("已公开内容"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("责任追究公开结果")
        verbose_name_plural = _("责任追究公开结果")
        ordering = ["-published_on", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_status_display()}"

    def released_labels(self) -> list[str]:
        return [PublicField(f).label for f in self.released_fields if f in PublicField.values]


class CaseAccessLog(models.Model):
    """Every opening of a case, and every refused attempt, kept for the accountability group."""

    class Action(models.TextChoices):
        VIEW = "VIEW", _("查看")
        CHANGE = "CHANGE", _("办理")
        DOWNLOAD = "DOWNLOAD", _("下载材料")
        EXPORT = "EXPORT", _("导出")
        ADMIN = "ADMIN", _("后台查看")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    case = models.ForeignKey(
        Case, verbose_name=_("问题"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="access_logs",
    )
    requested = models.CharField(_("请求的对象"), max_length=100, blank=True)
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    granted = models.BooleanField(_("是否允许"))
    path = models.CharField(_("地址"), max_length=300)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = _("责任追究访问记录")
        verbose_name_plural = _("责任追究访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '匿名'} {self.requested}"
