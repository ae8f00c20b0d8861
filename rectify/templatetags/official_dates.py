"""{% load official_dates %} {{ day|official_date }} → 2026年11月24日; {{ day|official_date:"short" }}
→ 11月24日 (dense tables); "long_time" / "short_time" add the hour for a datetime."""

from __future__ import annotations

from django import template

from rectify.dates import date_official

register = template.Library()


@register.filter
def official_date(value, form: str = "long") -> str:
    return date_official(value, form)
