from django import forms
from django.utils.translation import gettext_lazy as _


class ResendForm(forms.Form):
    reason = forms.CharField(label=_("重发原因"), max_length=200,
                             error_messages={"required": _("请说明重发原因。")})
    only_failed = forms.BooleanField(label=_("仅重发给发送失败的收件人"), required=False)


class PublicationIntroForm(forms.Form):
    intro = forms.CharField(label=_("导语"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ObjectionForm(forms.Form):
    """公示异议 from the public. Shapes only; tasks.objections checks the rules. `website` is a
    honeypot: hidden from people (and from screen readers), filled in by form-filling robots."""

    contact = forms.CharField(
        label=_("联系方式(电话或电子邮箱)"), max_length=100,
        error_messages={"required": _("请填写联系方式(电话或电子邮箱),以便办公室答复。"),
                        "max_length": _("联系方式不能超过%(limit_value)d个字符。")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "maxlength": 100}),
    )
    text = forms.CharField(
        label=_("异议内容(事实和理由)"), max_length=2000,
        error_messages={"required": _("请填写异议内容。"), "max_length": _("异议内容不能超过%(limit_value)d个字。")},
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 2000}),
    )
    website = forms.CharField(
        label=_("网址(请留空)"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
