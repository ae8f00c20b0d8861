"""The roles of DOMAIN.md ("Who uses it"), kept as Django groups named by code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import Group


class Role(models.TextChoices):
    LIAISON = "liaison", _("责任单位联络员")
    OFFICE = "office", _("领导小组办公室")
    OFFICE_HEAD = "office_head", _("办公室负责人")
    SUPERVISOR = "supervisor", _("整改督导组")
    LEADER = "leader", _("领导")
    ACCOUNTABILITY = "accountability", _("责任追究组")
    PUBLICITY = "publicity", _("宣传报道组")


# What each role may do in the admin. Only the office keeps the ledger there.
ADMIN_PERMISSIONS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.OFFICE: {
        "tasks": ("view", "add", "change", "delete"),
        "rectify": ("view",),
    },
}


def roles_ensure() -> dict[str, Group]:
    """Create the role groups and give them their admin permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    groups = {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    for role, apps in ADMIN_PERMISSIONS.items():
        wanted = [
            perm
            for perm in Permission.objects.filter(content_type__app_label__in=apps)
            .select_related("content_type")
            if perm.codename.split("_", 1)[0] in apps[perm.content_type.app_label]
        ]
        groups[role.value].permissions.add(*wanted)
    return groups
