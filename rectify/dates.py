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

# "table": 11月24日 in the current year, 2025年11月24日 otherwise (dense tables).
FORMS = ("long", "short", "table", "long_time", "short_time", "table_time", "long_seconds")


def _format(form: str) -> str:
    # Django date-format strings, translated (年, 月 and 日 are no format characters).
    return {
        "long": gettext("Y年n月j日"),
        "short": gettext("n月j日"),
        "long_time": gettext("Y年n月j日 H:i"),
        "short_time": gettext("n月j日 H:i"),
        "long_seconds": gettext("Y年n月j日 H:i:s"),
    }[form]


def date_official(value: dt.date | dt.datetime | str | None, form: str = "long") -> str:
    """`value` in the officials' form; a datetime is shown in local time (Asia/Shanghai). An ISO
    string (as frozen in a dispatch's or publication's snapshot) is read first; anything else
    that is no date is returned as it is."""
    if value is None or value == "":
        return ""
    if form not in FORMS:
        raise ValueError(f"unknown date form {form!r}; one of {FORMS}")
    if isinstance(value, str):
        try:
            value = (dt.datetime if "T" in value or " " in value.strip() else dt.date).fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
    elif "time" in form or "seconds" in form:
        form = form.removesuffix("_time").removesuffix("_seconds")
    if form.startswith("table"):
        form = form.replace("table", "short" if value.year == timezone.localdate().year else "long")
    return dateformat.format(value, _format(form))
