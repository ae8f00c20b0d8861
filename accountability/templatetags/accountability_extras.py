"""Small display helpers for the register's pages."""

from __future__ import annotations

from django import template

from accountability.resolve import region_label as _region_label

register = template.Library()


@register.filter
def region_label(region) -> str:
    """A county with its city in front ("晋中市昔阳县")."""
    return _region_label(region)
