"""Dates as officials write them: 2026年11月24日, or 11月24日 where a table is dense.

One helper for Python (messages, notes) and the `official_date` template filter built on it, so
no page shows ISO dates to a person. In English the same forms read "November 24, 2026" and
"Nov. 24". Official documents (dispatch, bulletin) are rendered in Chinese whatever the reader's
language (rectify/i18n.py), so they get the Chinese form through the same filter.
"""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone
from django.utils.translation import gettext

FORMS = ("long", "short", "long_time", "short_time")


def _format(form: str) -> str:
    # Django date-format strings, translated (年, 月 and 日 are no format characters).
    return {
        "long": gettext("Y年n月j日"),
        "short": gettext("n月j日"),
        "long_time": gettext("Y年n月j日 H:i"),
        "short_time": gettext("n月j日 H:i"),
    }[form]


def date_official(value: dt.date | dt.datetime | None, form: str = "long") -> str:
    """`value` in the officials' form; a datetime is shown in local time (Asia/Shanghai)."""
    if value is None or value == "":
        return ""
    if form not in FORMS:
        raise ValueError(f"unknown date form {form!r}; one of {FORMS}")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
    elif "time" in form:
        form = form.removesuffix("_time")
    return dateformat.format(value, _format(form))
