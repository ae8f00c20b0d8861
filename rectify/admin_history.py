"""History of admin edits to what decides access and escalation: one mechanism, `AdminChange`.

Units (their head's e-mail decides where escalations go), regions, plans, users (unit, active,
staff, roles) and the role groups are edited in the admin only. Each save there records every
field the user changed — the guard (rectify/admin_locking.py) makes `changed_data` exactly
that — with its old and new value, the rows of its inlines, creations and deletions. The tasks
keep their own history (TaskChange, written by tasks.services) and are not recorded twice.
Password hashes are never copied: a password change is recorded as changed, without values.
The office head (Role.OFFICE_HEAD) reads the history in the admin; nobody edits it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.utils import timezone

from rectify.admin_locking import RENDERED_FIELD, SECRET_FIELDS
from rectify.i18n import in_official_language
from rectify.models import AdminChange, User
from rectify.roles import Role

HIDDEN = "******"


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"  # history is data: kept in the site language
    if isinstance(value, list | tuple | set | models.QuerySet):
        return "、".join(sorted(_display(v) for v in value))
    return str(value)


@transaction.atomic
def admin_changes_record(
    *, actor: User | None, obj: models.Model, action: str,
    changes: Sequence[tuple[str, str, str]] = (), at: dt.datetime | None = None,
) -> list[AdminChange]:
    """Record one admin action on `obj`: (field, old, new) per changed field, or one row."""
    at = at or timezone.now()
    base = {
        "at": at, "actor": actor if actor and actor.pk else None,
        "actor_name": getattr(actor, "username", "") or "", "model": obj._meta.label,
        "object_id": str(obj.pk), "object_repr": str(obj)[:200], "action": action,
    }
    rows = [AdminChange(**base, field=field[:100], old=old, new=new) for field, old, new in changes]
    return AdminChange.objects.bulk_create(rows or [AdminChange(**base)])


def _field_value(form: Any, name: str, value: Any) -> str:
    if name in SECRET_FIELDS:
        return HIDDEN if value else ""
    field = form.fields.get(name)
    queryset = getattr(field, "queryset", None)
    if queryset is not None and value not in (None, "", [], ()):
        # The initial of a choice of rows is their pk(s); show the rows themselves.
        if isinstance(value, models.QuerySet):
            return _display(list(value))
        values = value if isinstance(value, list | tuple) else [value]
        pks = [v.pk if isinstance(v, models.Model) else v for v in values]
        return _display(list(queryset.model._default_manager.filter(pk__in=pks)))
    return _display(value)


@in_official_language
def form_changes(form: Any, *, prefix: str = "") -> list[tuple[str, str, str]]:
    """(label, old, new) of each field the user changed, read before the save; labels in the
    site language whatever the editor's, like the tasks' change history."""
    out = []
    for name in form.changed_data:
        if name == RENDERED_FIELD:
            continue
        label = str(form.fields[name].label or name)
        out.append((
            f"{prefix}{label}",
            _field_value(form, name, form.initial.get(name)),
            _field_value(form, name, form.cleaned_data.get(name)),
        ))
    return out


class AdminHistoryMixin(admin.ModelAdmin):
    """Mixed into the admins of units, regions, plans, users and groups (see the module doc)."""

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        # Old values are read from the forms before the inlines and relations are written.
        changes = form_changes(form)
        inline_changes = []
        for formset in formsets:
            label = in_official_language(lambda m=formset.model: str(m._meta.verbose_name))()
            for inline in formset.forms:
                if not inline.has_changed() or not getattr(inline, "cleaned_data", None):
                    continue
                if inline.cleaned_data.get("DELETE"):
                    if inline.instance.pk:
                        inline_changes.append((label, str(inline.instance), ""))
                elif inline.instance.pk:
                    inline_changes += form_changes(inline, prefix=f"{label}·")
                else:
                    inline_changes.append((label, "", _display(
                        [inline.cleaned_data[n] for n in inline.changed_data if n in inline.cleaned_data])))
        super().save_related(request, form, formsets, change)
        action = AdminChange.Action.CHANGED if change else AdminChange.Action.CREATED
        all_changes = changes + inline_changes
        if all_changes or not change:
            admin_changes_record(actor=request.user, obj=form.instance, action=action, changes=all_changes)

    def delete_model(self, request: Any, obj: models.Model) -> None:
        admin_changes_record(actor=request.user, obj=obj, action=AdminChange.Action.DELETED)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: models.QuerySet) -> None:
        for obj in queryset:
            admin_changes_record(actor=request.user, obj=obj, action=AdminChange.Action.DELETED)
        super().delete_queryset(request, queryset)


def user_may_read_admin_history(user: Any) -> bool:
    # The office head only: superusers get no pass (their own edits are what is recorded).
    return bool(user is not None and user.is_authenticated and user.is_staff and user.has_role(Role.OFFICE_HEAD))
