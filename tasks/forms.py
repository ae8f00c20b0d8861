"""Forms of the officials' workspace. They check shapes; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rectify.forms import HiddenErrorsShownForm, VersionField

TEXT_MAX = 5000


class ProgressReportForm(HiddenErrorsShownForm):
    percent = forms.IntegerField(
        label=_("完成率(%)"), min_value=0, max_value=100,
        error_messages={"required": _("请填写完成率。"), "invalid": _("完成率必须是整数。"),
                        "min_value": _("完成率不能小于0。"), "max_value": _("完成率不能大于100。")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 100}),
    )
    text = forms.CharField(
        label=_("进展情况"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("请填写进展情况。"),
                        "max_length": _("进展情况不能超过%(limit_value)d字。")},
    )
    version = VersionField(required=False)


class SignoffApplyForm(HiddenErrorsShownForm):
    comment = forms.CharField(
        label=_("申请说明"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("说明不能超过%(limit_value)d字。")},
    )
    version = VersionField()


class SignoffDecisionForm(HiddenErrorsShownForm):
    comment = forms.CharField(
        label=_("意见"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("意见不能超过%(limit_value)d字。")},
    )
    version = VersionField()


class SignoffVerifyForm(SignoffDecisionForm):
    onsite_checked_on = forms.DateField(
        label=_("现场核查日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("请填写有效的日期。")},
    )
    onsite_note = forms.CharField(
        label=_("现场核查情况"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )


class SignoffReturnForm(SignoffDecisionForm):
    comment = forms.CharField(
        label=_("退回理由"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("退回须说明理由。"), "max_length": _("理由不能超过%(limit_value)d字。")},
    )


class ExtensionRequestForm(forms.Form):
    proposed_deadline = forms.DateField(
        label=_("申请延期至"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请填写新的完成时限。"), "invalid": _("请填写有效的日期。")},
    )
    reason = forms.CharField(
        label=_("延期理由"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写延期理由。"), "max_length": _("理由不能超过%(limit_value)d字。")},
    )


class ExtensionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("批准")), ("reject", _("不批准"))],
        error_messages={"required": _("请选择审批结果。"), "invalid_choice": _("请选择审批结果。")},
    )
    comment = forms.CharField(label=_("审批意见"), max_length=TEXT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class MyTasksFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    light = forms.ChoiceField(label=_("预警"), required=False)
    role = forms.ChoiceField(label=_("角色"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    unreported = forms.BooleanField(label=_("只看本周未报送"), required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[
        ("number", _("按序号")), ("light", _("按预警(逾期在前)")), ("deadline", _("按时限")),
        ("last_report", _("按最近报送(久未报送在前)")),
    ])

    def __init__(self, *args, **kwargs):
        from tasks.lights import Light
        from tasks.models import TaskStatus, TaskUnit

        super().__init__(*args, **kwargs)
        everything = [("", _("全部"))]
        self.fields["light"].choices = everything + list(Light.choices)
        self.fields["role"].choices = everything + list(TaskUnit.Role.choices)
        self.fields["status"].choices = everything + list(TaskStatus.choices)


class ObjectionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("答复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        error_messages={"required": _("答复异议须填写答复内容。"), "max_length": _("答复不能超过%(limit_value)d个字。")},
    )
    decision = forms.ChoiceField(
        choices=[("dismiss", _("异议不成立")), ("uphold", _("异议成立,退回整改"))],
        error_messages={"required": _("请选择异议是否成立。"), "invalid_choice": _("请选择异议是否成立。")},
    )
