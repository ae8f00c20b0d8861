"""Small forms: they validate input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accountability.models import CaseSource, Outcome, PublicField, Rank, Stage
from accountability.resolve import RegionResolver, UnitResolver, tasks_resolve
from accountability.services import NewUnit
from rectify.forms import HiddenErrorsShownForm, VersionField
from tasks.models import Region
from tasks.selectors import plan_current


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _today():
    return timezone.localdate()


class VersionedForm(HiddenErrorsShownForm):
    version = VersionField(required=False)


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    stage = forms.ChoiceField(label=_("办理阶段"), required=False,
                              choices=[("", _("全部阶段")), *Stage.choices])
    source = forms.ChoiceField(label=_("来源"), required=False,
                               choices=[("", _("全部来源")), *CaseSource.choices])
    city = forms.ChoiceField(label=_("地区"), required=False)
    overdue = forms.BooleanField(label=_("仅看阶段超时"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = [("", _("全部地区"))] + list(
            Region.objects.filter(level=Region.Level.CITY).values_list("code", "name")
        )


class CaseForm(HiddenErrorsShownForm):
    reference = forms.CharField(label=_("问题编号"), max_length=60,
                                help_text=_("如:移交问题清单第3项"))
    source = forms.ChoiceField(label=_("来源"), choices=CaseSource.choices)
    title = forms.CharField(label=_("问题概要"), max_length=200, required=False)
    problem_text = forms.CharField(label=_("移交的问题原文"), widget=forms.Textarea(attrs={"rows": 5}))
    transferred_on = forms.DateField(label=_("交办日期"), widget=DateInput, initial=_today)
    region = forms.CharField(label=_("行政区"), required=False, max_length=50,
                             help_text=_("市或县名称,如“晋中市”“大同市城区”"))
    units = forms.CharField(label=_("涉及单位"), required=False, max_length=500,
                            help_text=_("多个单位用顿号分隔;输入时可从单位表中选取"))
    add_units = forms.BooleanField(label=_("把单位表中没有的单位加入单位表"), required=False)
    new_units_region = forms.CharField(
        label=_("新单位所属行政区"), required=False, max_length=50,
        help_text=_("单位名称以市县名开头的(如“太原市环保局”)可不填"))
    task_numbers = forms.CharField(label=_("关联整改任务序号"), required=False, max_length=200,
                                   help_text=_("如“12、15”;从台账发起的问题须填写且只填一个"))
    handling_authority = forms.CharField(label=_("办理机关"), required=False, max_length=120)

    def clean_region(self):
        return RegionResolver().resolve(self.cleaned_data["region"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Suggestions from the unit table as one types (rectify/static/rectify/pick.js).
        self.fields["units"].widget.attrs.update({"list": "unit-names", "data-names": "", "autocomplete": "off"})

    def clean_units(self):
        return UnitResolver().split(self.cleaned_data["units"])

    def clean_new_units_region(self):
        return RegionResolver().resolve(self.cleaned_data["new_units_region"])

    def units_clean(self, data):
        """Named units from the table; the others either become new units (ticked, with their
        region) or an error that says how to add them."""
        if "units" not in data:
            return
        found, unknown = data["units"]
        data["units"], data["new_units"] = found, []
        if not unknown:
            return
        names = _("、").join(unknown)
        if not data.get("add_units"):
            self.add_error("units", _("找不到单位:%(names)s。请从单位表中选取;确需登记表中没有的单位,请勾选"
                                      "“把单位表中没有的单位加入单位表”。") % {"names": names})
            return
        regions, given = RegionResolver(), data.get("new_units_region")
        for name in unknown:
            region = regions.region_named_first(name) or given
            if region is None:
                if "new_units_region" not in self.errors:
                    self.add_error("new_units_region", _("请填写“%(name)s”所属的行政区。") % {"name": name})
                continue
            if len(name) > 60:
                self.add_error("units", _("单位名称“%(name)s…”过长(最多60个字)。") % {"name": name[:20]})
                continue
            data["new_units"].append(NewUnit(name=name, region=region))

    def clean_task_numbers(self):
        return tasks_resolve(self.cleaned_data["task_numbers"], plan=plan_current())

    def clean(self):
        data = super().clean()
        self.units_clean(data)
        source, tasks = data.get("source"), data.get("task_numbers")
        if source and source != CaseSource.TRANSFERRED and tasks is not None and len(tasks) != 1:
            raise ValidationError(_("从台账发起的问题须关联且只关联一个整改任务。"))
        return data


class CaseEditForm(CaseForm):
    """The description of a registered case; reference, source and date stay as registered."""

    version = VersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("reference", "source", "transferred_on"):
            del self.fields[name]

    def clean(self):
        data = forms.Form.clean(self)
        self.units_clean(data)
        return data


class StageAdvanceForm(VersionedForm):
    to_stage = forms.ChoiceField(choices=Stage.choices, widget=forms.HiddenInput)
    on = forms.DateField(label=_("日期"), widget=DateInput, initial=_today)
    note = forms.CharField(label=_("办理情况"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           max_length=4000)
    document_title = forms.CharField(label=_("材料名称"), required=False, max_length=200)
    document = forms.FileField(label=_("材料(PDF、图片或Office文件)"), required=False)


class StageReturnForm(VersionedForm):
    to_stage = forms.ChoiceField(label=_("退回到"), choices=Stage.choices)
    on = forms.DateField(label=_("日期"), widget=DateInput, initial=_today)
    reason = forms.CharField(label=_("退回原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["to_stage"].choices = [(s.value, s.label) for s in case.earlier_stages]


class PersonForm(VersionedForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    position = forms.CharField(label=_("职务"), max_length=120)
    rank = forms.ChoiceField(label=_("职级"), required=False, choices=[("", _("(未定)")), *Rank.choices])
    unit_name = forms.CharField(label=_("所在单位"), max_length=120)
    outcome = forms.ChoiceField(label=_("处理结果"), required=False,
                                choices=[("", _("(尚未决定)")), *Outcome.choices])
    decided_on = forms.DateField(label=_("处理日期"), required=False, widget=DateInput)
    deciding_body = forms.CharField(label=_("决定机关"), required=False, max_length=120)


class DocumentForm(VersionedForm):
    title = forms.CharField(label=_("材料名称"), required=False, max_length=200)
    file = forms.FileField(label=_("文件(PDF、图片或Office文件)"))


class PublicResultForm(VersionedForm):
    summary = forms.CharField(label=_("公开摘要"), widget=forms.Textarea(attrs={"rows": 6}), max_length=4000)
    released_fields = forms.MultipleChoiceField(
        label=_("处理决定同意公开的字段"), required=False, choices=PublicField.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class ReviewForm(VersionedForm):
    note = forms.CharField(label=_("审核意见"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("移交问题清单(xlsx)"))
