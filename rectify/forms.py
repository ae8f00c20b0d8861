"""What the forms of every app share: the hidden version field of optimistic locking; the login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
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


class LoginForm(AuthenticationForm):
    """Django's login form sets the username's max_length without its validator: a name of
    any length went on to authenticate, and django-axes stored it on failure in a 255-character
    column that PostgreSQL enforces (a 500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))
