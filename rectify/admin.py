from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from rectify.models import Heartbeat, HeldJob, User

admin.site.site_header = _("Rectify 整改台账 · 管理后台")
admin.site.site_title = _("Rectify 整改台账")
admin.site.index_title = _("台账管理")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("单位"), {"fields": ("unit", "full_name", "phone")}),
    )
    list_display = ("username", "full_name", "unit", "email", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email", "unit__name")
    autocomplete_fields = ("unit",)
    list_select_related = ("unit",)


class WrittenByTheSystemAdmin(admin.ModelAdmin):
    """Rows only the system writes: read, never added or changed by hand."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(HeldJob)
class HeldJobAdmin(WrittenByTheSystemAdmin):
    """Rows are written when the queue refuses work and released by the worker."""

    list_display = ("description", "requested_by", "requested_at", "released_at")
    list_filter = ("released_at",)


@admin.register(Heartbeat)
class HeartbeatAdmin(WrittenByTheSystemAdmin):
    """When the worker and beat last reported in (rectify/liveness.py)."""

    list_display = ("process", "at", "hostname")
