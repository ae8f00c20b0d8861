"""Password rules with messages in Chinese."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2's zh-hans catalogue lacks this message: a short new password was refused
    in English on the password change form."""

    def get_error_message(self) -> str:
        return _("密码太短,至少需要%(n)d个字符。") % {"n": self.min_length}
