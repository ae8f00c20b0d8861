from django import forms
from django.utils.translation import gettext_lazy as _


class ResendForm(forms.Form):
    reason = forms.CharField(label=_("重发原因"), max_length=200,
                             error_messages={"required": _("请说明重发原因。")})
    only_failed = forms.BooleanField(label=_("仅重发给发送失败的收件人"), required=False)


class PublicationIntroForm(forms.Form):
    intro = forms.CharField(label=_("导语"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
