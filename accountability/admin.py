"""The register in the admin: read-only, and as closed as the pages.

Only the case readers (accountability group, office head) see the module at all, and only
if they are staff with view permission; for everyone else, superusers included, the module
does not exist and every URL under it answers 404. Openings are logged like the pages'.
Writes go through the pages (the services), never through the admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext as _

from accountability.access import access_record, user_may_handle_cases, user_may_open_cases
from accountability.models import (
    AccountablePerson,
    Case,
    CaseAccessLog,
    CaseDocument,
    PublicResult,
    StageRecord,
)


class ConfidentialAdmin(admin.ModelAdmin):
    may_see = staticmethod(user_may_open_cases)

    def _allowed(self, request) -> bool:
        return self.may_see(request.user)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if self._allowed(request) else qs.none()

    def _gate(self, request, object_id=None):
        if not self._allowed(request):
            access_record(request, action=CaseAccessLog.Action.ADMIN, granted=False,
                          requested=f"admin:{self.model._meta.model_name}:{object_id or ''}")
            raise Http404(_("没有找到该页面。"))

    def changelist_view(self, request, extra_context=None):
        self._gate(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._gate(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._gate(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._gate(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        self._gate(request)
        return super().add_view(request, form_url, extra_context)


class StageRecordInline(admin.TabularInline):
    model = StageRecord
    fields = ("kind", "from_stage", "stage", "on", "handler", "note", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PersonInline(admin.TabularInline):
    model = AccountablePerson
    fields = ("name", "position", "rank", "unit_name", "outcome", "decided_on", "deciding_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ConfidentialAdmin):
    list_display = ("reference", "title", "source", "stage", "stage_entered_on", "transferred_on")
    list_filter = ("stage", "source")
    search_fields = ("reference", "title", "problem_text", "persons__name")
    list_select_related = ("region",)
    inlines = (StageRecordInline, PersonInline)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._gate(request, object_id)
        case = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        access_record(request, action=CaseAccessLog.Action.ADMIN, granted=case is not None, case=case,
                      requested=f"case:{object_id}")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AccountablePerson)
class AccountablePersonAdmin(ConfidentialAdmin):
    list_display = ("name", "position", "rank", "outcome", "case")
    list_filter = ("rank", "outcome")
    search_fields = ("name", "unit_name", "case__reference")
    list_select_related = ("case",)


@admin.register(CaseDocument)
class CaseDocumentAdmin(ConfidentialAdmin):
    list_display = ("title", "case", "stage", "size", "sha256", "uploaded_at")
    exclude = ("file",)  # downloads go through the logged page, not a media URL
    list_select_related = ("case",)


@admin.register(PublicResult)
class PublicResultAdmin(ConfidentialAdmin):
    list_display = ("case", "status", "published_on")
    list_filter = ("status",)
    list_select_related = ("case",)


@admin.register(CaseAccessLog)
class CaseAccessLogAdmin(ConfidentialAdmin):
    may_see = staticmethod(user_may_handle_cases)
    list_display = ("at", "username", "action", "granted", "requested", "case", "ip")
    list_filter = ("granted", "action")
    search_fields = ("username", "requested", "path")
    list_select_related = ("case",)
