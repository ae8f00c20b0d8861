"""Read-only admin views of what was compiled and sent: changes go through the office's pages."""

from django.contrib import admin

from reports.models import Delivery, Publication, Reminder, ReminderDigest, Report, Resend


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "period", "as_of", "trigger")
    list_filter = ("kind", "trigger")
    exclude = ("xlsx",)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subject", "recipient", "status", "attempts", "sent_at", "smtp_reply")
    list_filter = ("status", "audience")
    search_fields = ("recipient", "subject")
    list_select_related = ("report", "reminder", "digest", "unit")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "unit", "key")
    list_filter = ("kind",)
    list_select_related = ("unit",)


@admin.register(ReminderDigest)
class ReminderDigestAdmin(ReadOnlyAdmin):
    list_display = ("day", "recipient", "recipient_name", "created_at")
    list_filter = ("day",)
    search_fields = ("recipient", "recipient_name")


@admin.register(Resend)
class ResendAdmin(ReadOnlyAdmin):
    list_display = ("at", "report", "round", "actor", "reason")


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    list_display = ("title", "week", "publish_on", "status", "approved_by")
