"""What the forms of every app share: the hidden version field of optimistic locking."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

STALE_PAGE = _("页面已过期,请刷新后再提交。")


class VersionField(forms.IntegerField):
    """The version of the object the page was made from. Hidden: a bad value can only come
    from a stale or tampered page, and says so."""

    widget = forms.HiddenInput
    default_error_messages = {"required": STALE_PAGE, "invalid": STALE_PAGE}


class HiddenErrorsShownForm(forms.Form):
    """Hidden inputs show no error next to them, so their errors go to the top of the form,
    where the templates show the form's own errors."""

    def full_clean(self) -> None:
        super().full_clean()
        for bound in self.hidden_fields():
            errors = self._errors.pop(bound.name, None) if self._errors else None
            for message in errors or ():
                if message not in self.non_field_errors():
                    self.add_error(None, message)
