"""Excel in the admin: export (an action and a button) and import (upload → preview → confirm).

The uploaded file is kept server-side under a random token, with its SHA-256 and the preview's
digest in the uploader's session. Confirming re-reads that very file (the digest of its bytes
must still match) and applies it only if the result is exactly what was previewed; a file
uploaded again is a new preview, never a confirmation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rectify.roles import Role
from tasks.importing import LedgerFileError, ledger_import, ledger_source_open, max_upload_bytes
from tasks.models import Plan, Task
from tasks.selectors import plan_current, tasks_visible_to
from tasks.views.excel import ledger_xlsx_response

SESSION_KEY = "ledger_imports"
UPLOAD_TTL_SECONDS = 24 * 3600
PREVIEW_ROWS_SHOWN = 2000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def import_dir() -> Path:
    directory = Path(getattr(settings, "RECTIFY_IMPORT_DIR", settings.VAR_DIR / "imports"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def user_may_import(user: Any) -> bool:
    return bool(user.is_active and (user.is_superuser or user.has_role(Role.OFFICE)))


class LedgerImportForm(forms.Form):
    plan = forms.ModelChoiceField(Plan.objects.all(), label=gettext_lazy("整改方案"))
    file = forms.FileField(
        label=gettext_lazy("台账文件"),
        help_text=gettext_lazy("xlsx或csv文件;按内容识别,与文件名无关。"),
    )
    create_units = forms.BooleanField(
        label=gettext_lazy("新建未知单位"), required=False,
        help_text=gettext_lazy("勾选后,文件中无法识别的单位将作为新单位创建;否则列为错误。"),
    )


def _purge_old_uploads(directory: Path) -> None:
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for stale in directory.glob("*.upload"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)


def _store_upload(upload: Any) -> tuple[str, Path, str]:
    """Copy the upload under a fresh token, counting bytes as they come (size limit)."""
    directory = import_dir()
    _purge_old_uploads(directory)
    token = secrets.token_urlsafe(24)
    target = directory / f"{token}.upload"
    digest = hashlib.sha256()
    size = 0
    limit = max_upload_bytes()
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                fh.close()
                target.unlink(missing_ok=True)
                raise LedgerFileError(_("文件超过上限%(mb)sMB。") % {"mb": limit // 1048576})
            digest.update(chunk)
            fh.write(chunk)
    return token, target, digest.hexdigest()


class LedgerExcelAdminMixin:
    """Mixed into TaskAdmin: the export action, the export button and the import pages."""

    change_list_template = "admin/tasks/task/change_list.html"
    actions = ["export_selected_xlsx"]

    def get_urls(self):  # type: ignore[no-untyped-def]
        site = self.admin_site  # type: ignore[attr-defined]
        extra = [
            path("export/", site.admin_view(self.export_view), name="tasks_task_export"),
            path("import/", site.admin_view(self.import_view), name="tasks_task_import"),
            path("import/confirm/", site.admin_view(self.import_confirm_view), name="tasks_task_import_confirm"),
        ]
        return extra + super().get_urls()  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # type: ignore[no-untyped-def]
        extra_context = {**(extra_context or {}), "may_import": user_may_import(request.user),
                         "export_query": request.GET.urlencode()}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    # -- export --

    def _visible(self, request: HttpRequest, tasks: QuerySet[Task]) -> QuerySet[Task]:
        return tasks.filter(pk__in=tasks_visible_to(request.user).values("pk"))

    @admin.action(description=gettext_lazy("导出所选任务为Excel"), permissions=["view"])
    def export_selected_xlsx(self, request: HttpRequest, queryset: QuerySet[Task]) -> HttpResponse:
        return ledger_xlsx_response(tasks=self._visible(request, queryset))

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Export exactly what the change list shows with its current filters and search."""
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        return ledger_xlsx_response(tasks=self._visible(request, changelist.get_queryset(request)))

    # -- import --

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": Task._meta, "title": _("导入台账"), **extra,
        }

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not user_may_import(request.user):
            raise PermissionDenied
        current = plan_current()
        posted = request.method == "POST"  # an empty POST is a bound, invalid form
        form = LedgerImportForm(request.POST if posted else None, request.FILES if posted else None,
                                initial={"plan": current.pk if current else None})
        if request.method == "POST" and form.is_valid():
            plan: Plan = form.cleaned_data["plan"]
            upload = form.cleaned_data["file"]
            try:
                token, stored, sha256 = _store_upload(upload)
            except LedgerFileError as exc:
                form.add_error("file", str(exc))
            else:
                try:
                    source = ledger_source_open(stored, name=upload.name)
                    result = ledger_import(source=source, plan=plan, actor=request.user, dry_run=True,
                                           create_units=form.cleaned_data["create_units"])
                except LedgerFileError as exc:
                    stored.unlink(missing_ok=True)
                    form.add_error("file", str(exc))
                else:
                    pending = request.session.get(SESSION_KEY, {})
                    pending[token] = {
                        "sha256": sha256, "plan": plan.pk, "name": upload.name[:200],
                        "create_units": form.cleaned_data["create_units"], "digest": result.digest,
                    }
                    request.session[SESSION_KEY] = pending
                    confirmable = token if result.ok and result.change_count else None
                    return self._preview(request, result, confirmable, plan)
        return TemplateResponse(request, "admin/tasks/task/ledger_import.html", self._context(request, form=form))

    def _preview(self, request: HttpRequest, result: Any, token: str | None, plan: Plan) -> HttpResponse:
        return TemplateResponse(request, "admin/tasks/task/ledger_import_preview.html", self._context(
            request, result=result, token=token, plan=plan,
            rows=result.rows[:PREVIEW_ROWS_SHOWN], rows_hidden=max(0, len(result.rows) - PREVIEW_ROWS_SHOWN),
            title=_("导入预览"),
        ))

    def import_confirm_view(self, request: HttpRequest) -> HttpResponse:
        return require_POST(self._import_confirm)(request)

    def _import_confirm(self, request: HttpRequest) -> HttpResponse:
        if not user_may_import(request.user):
            raise PermissionDenied
        token = request.POST.get("token", "")
        pending = request.session.get(SESSION_KEY, {})
        entry = pending.get(token) if _TOKEN.fullmatch(token) else None
        stored = import_dir() / f"{token}.upload"
        back = reverse("admin:tasks_task_import")
        if entry is None or not stored.exists():
            messages.error(request, _("导入预览已失效或不属于您,请重新上传。"))
            return HttpResponseRedirect(back)
        plan = Plan.objects.filter(pk=entry["plan"]).first()
        try:
            source = ledger_source_open(stored, name=entry["name"])
        except LedgerFileError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if plan is None or source.sha256 != entry["sha256"]:
            messages.error(request, _("预览的文件已被改动,本次导入未执行。请重新上传。"))
            return HttpResponseRedirect(back)
        result = ledger_import(source=source, plan=plan, actor=request.user, dry_run=False,
                               create_units=entry["create_units"], expected_digest=entry["digest"])
        if not result.applied:
            return self._preview(request, result, None, plan)
        stored.unlink(missing_ok=True)
        pending.pop(token, None)
        request.session[SESSION_KEY] = pending
        messages.success(request, _("台账已导入:%(summary)s。") % {"summary": result.summary()})
        return HttpResponseRedirect(reverse("admin:tasks_task_changelist"))
