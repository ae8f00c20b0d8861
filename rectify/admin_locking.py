"""Optimistic locking for the admin's change forms: no lost update, no edit recorded twice.

Django's admin compares a POST with the row as it is *when the POST arrives*. Two office users
open the same task; the first saves a new title; the second saves the target only — and the
second POST's old title counts as changed, silently reverts the first edit and goes to the
history under the second user's name.

So each change form carries, in a signed hidden field, a digest of every value it was
rendered with (its own fields and the rows of its inlines). On POST, with the row locked, the
values now in the database are compared with those digests: if anything changed since the page
was opened, nothing is written and the user is told, in their language, which fields changed
and what they hold now. Otherwise the form's `changed_data` is exactly what this user changed,
and only that is written and recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from rectify.forms import STALE_PAGE

RENDERED_FIELD = "rendered_state"
SECRET_FIELDS = frozenset({"password", "password1", "password2"})
_SALT = "rectify.admin-rendered-state"
_SHOWN_CHARS = 60


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset) or hasattr(value, "all"):
        items = value.all() if hasattr(value, "all") else value
        return "|".join(sorted(_plain(v) for v in items))
    return str(value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _row_shown(row: models.Model, parent: models.Model) -> str:
    """An inline row as the user knows it: its values, without its id and its parent."""
    values = []
    for f in row._meta.concrete_fields:
        if f.primary_key or (f.is_relation and f.related_model is type(parent)):
            continue
        value = getattr(row, f.name)
        if value not in (None, ""):
            values.append(str(value))
    return " ".join(values)


class StaleGuardForm(forms.ModelForm):
    """A change form that refuses to save over a row changed since the page was rendered."""

    rendered_state = forms.CharField(widget=forms.HiddenInput, required=False)
    # Related rows edited as inlines on the same page: accessor name → label.
    guarded_related: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields[RENDERED_FIELD]  # an add form: nothing can go stale
        elif not self.is_bound:
            digests = {name: _digest(value) for name, (value, _shown_value) in self._current().items()}
            self.initial[RENDERED_FIELD] = signing.dumps(digests, salt=_SALT)

    def _current(self) -> dict[str, tuple[str, str]]:
        """name → (plain value, what to show) of the row as it is now (the form's initial)."""
        out: dict[str, tuple[str, str]] = {}
        for name, field in self.fields.items():
            if name == RENDERED_FIELD:
                continue
            value = self.get_initial_for_field(field, name)
            shown = getattr(self.instance, name, value) if hasattr(self.instance, name) else value
            if hasattr(shown, "all"):
                shown = "、".join(sorted(str(v) for v in shown.all()))
            if name in SECRET_FIELDS:
                shown = "******"  # a password hash is never shown
            out[name] = (_plain(value), "" if shown is None else str(shown))
        for accessor in self.guarded_related:
            related = list(getattr(self.instance, accessor).all())
            rows = sorted(
                "·".join(_plain(v) for k, v in sorted(model_to_dict(row).items()) if k != "id")
                for row in related
            )
            out[f"related:{accessor}"] = ("\n".join(rows), "; ".join(_row_shown(row, self.instance) for row in related))
        return out

    def _label(self, name: str) -> str:
        if name.startswith("related:"):
            return str(self.guarded_related[name.removeprefix("related:")])
        return str(self.fields[name].label or name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if RENDERED_FIELD not in self.fields:
            return cleaned
        try:
            rendered = signing.loads(self.data.get(self.add_prefix(RENDERED_FIELD)) or "", salt=_SALT)
        except signing.BadSignature:
            raise ValidationError(STALE_PAGE, code="stale") from None
        changed = [
            (name, shown) for name, (value, shown) in self._current().items()
            if rendered.get(name) != _digest(value)
        ]
        if changed:
            fields = _("、").join(
                _("%(field)s(现为“%(value)s”)") % {"field": self._label(name), "value": _shown(shown)}
                for name, shown in changed
            )
            raise ValidationError(
                _("该记录在您打开后已被他人修改,本次提交未保存。已变化的内容:%(fields)s。请核对最新内容后重新修改。"),
                params={"fields": fields}, code="stale",
            )
        return cleaned


def guarded_form(form: type[forms.ModelForm], related: dict[str, str]) -> type[StaleGuardForm]:
    """`form` with the guard mixed in (Django's own admin forms, e.g. UserChangeForm, too)."""
    if issubclass(form, StaleGuardForm) and form.guarded_related == related:
        return form
    return type(f"Guarded{form.__name__}", (StaleGuardForm, form), {"guarded_related": related})


class StaleGuardAdmin(admin.ModelAdmin):
    """Mixed into every admin whose change form writes: the guard, and the row locked on POST."""

    change_form_template = "admin/stale_guard_change_form.html"
    guarded_related: Iterable[str] = ()

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        related = {name: self._related_label(name) for name in self.guarded_related}
        return guarded_form(form, related)

    def get_fields(self, request: Any, obj: Any = None) -> Any:
        # The guard's hidden field is rendered by the template, not as a row of the form.
        return [f for f in super().get_fields(request, obj) if f != RENDERED_FIELD]

    def _related_label(self, accessor: str) -> str:
        remote = self.model._meta.get_field(accessor).related_model
        return str(remote._meta.verbose_name_plural)

    def get_object(self, request: Any, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST" and transaction.get_connection().in_atomic_block:
            # The admin's change and delete views run in one transaction: lock the row so that
            # the check against the rendered values and the write see the same state. (Other
            # views, such as the password change, are not atomic: nothing to lock for.)
            obj = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        return obj
