from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rectify.admin_history import HIDDEN, AdminHistoryMixin, admin_changes_record, user_may_read_admin_history
from rectify.admin_locking import StaleGuardAdmin
from rectify.models import AdminChange, HeldJob, User

admin.site.site_header = _("Rectify 整改台账 · 管理后台")
admin.site.site_title = _("Rectify 整改台账")
admin.site.index_title = _("台账管理")


@admin.register(User)
class UserAdmin(AdminHistoryMixin, StaleGuardAdmin, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("单位"), {"fields": ("unit", "full_name", "phone")}),
    )
    list_display = ("username", "full_name", "unit", "email", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email", "unit__name")
    autocomplete_fields = ("unit",)
    list_select_related = ("unit",)

    @transaction.atomic  # the new password and its history row together
    def user_change_password(self, request, id, form_url=""):  # type: ignore[no-untyped-def]
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # saved
            admin_changes_record(actor=request.user, obj=User.objects.get(pk=id),
                                 action=AdminChange.Action.CHANGED,
                                 changes=[("密码", HIDDEN, HIDDEN)])
        return response


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AdminHistoryMixin, StaleGuardAdmin, DjangoGroupAdmin):
    """The role groups (rectify.roles.Role) and their admin permissions: every edit recorded."""


@admin.register(AdminChange)
class AdminChangeAdmin(admin.ModelAdmin):
    """The history of admin edits, read by the office head only; nobody edits or deletes it."""

    list_display = ("at", "actor_name", "action", "model", "object_repr", "field", "old", "new")
    list_filter = ("action", "model")
    search_fields = ("object_repr", "actor_name", "field", "old", "new")
    date_hierarchy = "at"

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return user_may_read_admin_history(request.user)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return user_may_read_admin_history(request.user)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(HeldJob)
class HeldJobAdmin(admin.ModelAdmin):
    """Read-only: rows are written when the queue refuses work and released by the worker."""

    list_display = ("description", "requested_by", "requested_at", "released_at")
    list_filter = ("released_at",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
