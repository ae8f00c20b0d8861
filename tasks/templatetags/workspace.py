"""Small template helpers for the officials' workspace pages."""

from __future__ import annotations

from django import template

from rectify.models import User
from rectify.roles import Role
from tasks.permissions import user_is_office

register = template.Library()


@register.filter
def is_liaison(user: User) -> bool:
    return bool(user.is_authenticated and user.unit_id and user.has_role(Role.LIAISON))


@register.filter
def is_office(user: User) -> bool:
    return user_is_office(user)


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register.filter
def absolute(value: int) -> int:
    return abs(value)
