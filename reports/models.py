"""周调度、月通报、提醒和信息公开: what was compiled, what was sent to whom, and what was published.

Exactly-once rests on the database, never on "check then act":
- one `Report` per (kind, period): a second beat tick or a retried job hits the unique constraint;
- one `Delivery` per (report, round, recipient), claimed by a conditional update before sending;
- one `Reminder` per (kind, unit, key): the sent-log of reminders and escalations;
- one `ReminderDigest` per (recipient, day): every reminder that needs a person goes out in
  one e-mail a day (`ReminderNotice` links each reminder to each of its recipients).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    DISPATCH = "dispatch", _("周调度")
    BULLETIN = "bulletin", _("月通报")


class Report(models.Model):
    """One weekly dispatch or monthly bulletin, kept as sent: content and data snapshot."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("定时任务")
        CATCH_UP = "catch_up", _("补发(定时任务恢复后)")
        OFFICE = "office", _("办公室手动生成")

    kind = models.CharField(_("类型"), max_length=20, choices=ReportKind.choices)
    period = models.CharField(
        _("期间"), max_length=20,
        help_text=_("周调度:报送周的周一(2018-10-01);月通报:印发月份(2018-10)。"),
    )
    plan = models.ForeignKey("tasks.Plan", verbose_name=_("整改方案"), on_delete=models.PROTECT,
                             related_name="reports")
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveSmallIntegerField(_("期号"))
    title = models.CharField(_("标题"), max_length=200)
    as_of = models.DateTimeField(_("数据截至"))
    snapshot = models.JSONField(_("数据快照"))
    subject = models.CharField(_("邮件主题"), max_length=200)
    body_text = models.TextField(_("正文(纯文本)"))
    body_html = models.TextField(_("正文(HTML)"))
    xlsx = models.BinaryField(_("台账(xlsx)"))
    trigger = models.CharField(_("生成方式"), max_length=20, choices=Trigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调度与通报")
        verbose_name_plural = _("调度与通报")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="report_once_per_kind_period"),
            models.UniqueConstraint(fields=["kind", "year", "number"], name="report_number_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def issue_label(self) -> str:
        """How officials cite it: "2018年第3期"."""
        return f"{self.year}年第{self.number}期"


class Resend(models.Model):
    """An explicit re-send by the office: recorded, with who, when and why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="resends")
    round = models.PositiveSmallIntegerField(_("轮次"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("原因"), max_length=200)
    only_failed = models.BooleanField(_("仅重发失败的"), default=False)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("重发记录")
        verbose_name_plural = _("重发记录")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["report", "round"], name="resend_round_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.report} 第{self.round}次重发"


class Reminder(models.Model):
    """The sent-log of reminders and escalations: a row exists once per (kind, unit, key)."""

    class Kind(models.TextChoices):
        DEADLINE_7 = "deadline_7", _("距整改时限7天")
        DEADLINE_3 = "deadline_3", _("距整改时限3天")
        DEADLINE_1 = "deadline_1", _("距整改时限1天")
        REPORT_MISSING = "report_missing", _("本周进展未报送")
        OVERDUE_LIAISON = "overdue_liaison", _("逾期·提醒联络员")
        OVERDUE_HEAD = "overdue_head", _("逾期未改·提醒单位主要负责人")
        OVERDUE_OFFICE = "overdue_office", _("逾期未改·报办公室")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    unit = models.ForeignKey("tasks.Unit", verbose_name=_("单位"), on_delete=models.CASCADE,
                             related_name="reminders")
    task = models.ForeignKey("tasks.Task", verbose_name=_("整改任务"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="reminders")
    # What makes it "the same reminder": the task and its deadline, or the reporting week.
    key = models.CharField(_("键"), max_length=60)
    context = models.JSONField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "unit", "key"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit} {self.key}"


class ReminderDigest(models.Model):
    """One reminder e-mail per recipient per day, listing every reminder that needs them."""

    day = models.DateField(_("日期"))
    recipient = models.EmailField(_("收件人"), help_text=_("小写保存:同一地址每天只收一封。"))
    recipient_name = models.CharField(_("收件人姓名"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("每日提醒")
        verbose_name_plural = _("每日提醒")
        ordering = ["-day", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="reminder_digest_once_per_recipient_day"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.day}"


class ReminderNotice(models.Model):
    """One reminder for one recipient: waits (digest empty) until that person's next digest."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="notices")
    recipient = models.EmailField(_("收件人"))
    recipient_name = models.CharField(_("收件人姓名"), max_length=100, blank=True)
    digest = models.ForeignKey(ReminderDigest, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="notices")

    class Meta:
        verbose_name = _("提醒收件人")
        verbose_name_plural = _("提醒收件人")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["reminder", "recipient"], name="reminder_notice_once_per_recipient"),
        ]
        indexes = [models.Index(fields=["recipient", "digest"])]

    def __str__(self) -> str:
        return f"{self.reminder} → {self.recipient}"


class Delivery(models.Model):
    """The outbox: one e-mail to one recipient, claimed by a conditional update before sending."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        CLAIMED = "claimed", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        # The server had the whole message when the worker lost track (killed, or no answer):
        # it may have been delivered, so it is never sent again by itself (see services).
        UNCERTAIN = "uncertain", _("结果不明")

    class Audience(models.TextChoices):
        WHOLE = "whole", _("全文")
        UNIT = "unit", _("本单位部分")
        REMINDER = "reminder", _("提醒")

    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="deliveries")
    # Before issue 16 each reminder had its own e-mails; those rows keep `reminder`.
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="deliveries")
    digest = models.ForeignKey(ReminderDigest, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="deliveries")
    round = models.PositiveSmallIntegerField(_("轮次"), default=0, help_text=_("0 为首次发送,其后为重发。"))
    audience = models.CharField(_("内容"), max_length=20, choices=Audience.choices)
    unit = models.ForeignKey("tasks.Unit", verbose_name=_("单位"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    recipient = models.EmailField(_("收件人"))
    recipient_name = models.CharField(_("收件人姓名"), max_length=100, blank=True)
    subject = models.CharField(_("主题"), max_length=200)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claim_token = models.UUIDField(_("认领标记"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    handed_over_at = models.DateTimeField(
        _("交付时间"), null=True, blank=True,
        help_text=_("整封邮件交给邮件服务器、等待其答复的时刻;此后结果不明的邮件不再自动重发。"),
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    smtp_reply = models.TextField(_("服务器答复"), blank=True,
                                  help_text=_("邮件服务器对本封邮件的最终答复(代码和文字),或发送时的异常。"))
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("发件记录")
        verbose_name_plural = _("发件记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "round", "recipient"], condition=models.Q(report__isnull=False),
                name="delivery_once_per_report_round_recipient",
            ),
            models.UniqueConstraint(
                fields=["reminder", "recipient"], condition=models.Q(reminder__isnull=False),
                name="delivery_once_per_reminder_recipient",
            ),
            models.UniqueConstraint(
                fields=["digest"], condition=models.Q(digest__isnull=False), name="delivery_once_per_digest",
            ),
            models.CheckConstraint(
                condition=models.Q(report__isnull=False, reminder__isnull=True, digest__isnull=True)
                | models.Q(report__isnull=True, reminder__isnull=False, digest__isnull=True)
                | models.Q(report__isnull=True, reminder__isnull=True, digest__isnull=False),
                name="delivery_of_report_reminder_or_digest",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class Publication(models.Model):
    """信息公开: the weekly progress publication (Fridays), public once the publicity group approves.

    `snapshot` holds only what may be public: task numbers, titles, lead units, official
    deadline wording, public status wording. Never people, phones, e-mails or report texts.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        APPROVED = "approved", _("已审核发布")

    plan = models.ForeignKey("tasks.Plan", verbose_name=_("整改方案"), on_delete=models.PROTECT,
                             related_name="publications")
    week = models.DateField(_("公开周(周一)"), unique=True)
    publish_on = models.DateField(_("发布日期"))
    title = models.CharField(_("标题"), max_length=200)
    intro = models.TextField(_("导语"), blank=True)
    snapshot = models.JSONField(_("公开内容"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信息公开")
        verbose_name_plural = _("信息公开")
        ordering = ["-week"]

    def __str__(self) -> str:
        return self.title
