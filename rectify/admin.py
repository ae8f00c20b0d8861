from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rectify import calendar
from rectify.admin_history import HIDDEN, AdminHistoryMixin, admin_changes_record, user_may_read_admin_history
from rectify.admin_locking import StaleGuardAdmin
from rectify.holiday_notice import notice_parse, notice_year
from rectify.models import AdminChange, CalendarDay, CalendarYear, Heartbeat, HeldJob, User
from rectify.roles import Role
from rectify.services import calendar_year_enter

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


class WrittenByTheSystemAdmin(admin.ModelAdmin):
    """Rows only the system writes: read, never added or changed by hand."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


# --- The working calendar: the office keeps it -------------------------------------------------


def _keeps_calendar(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(user.is_active and (user.is_superuser or user.has_role(Role.OFFICE)))


class CalendarKeptByOffice(admin.ModelAdmin):
    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return _keeps_calendar(request)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return _keeps_calendar(request)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return _keeps_calendar(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return _keeps_calendar(request)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return _keeps_calendar(request)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        calendar.calendar_cache_clear()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        calendar.calendar_cache_clear()


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarKeptByOffice):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)


CSV_MAX_BYTES = 200 * 1024


class NoticeForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100, required=False,
                              help_text=_("留空时从通知标题读取(如“关于2027年部分节假日安排的通知”)。"))
    notice = forms.CharField(label=_("通知正文"), widget=forms.Textarea(attrs={"rows": 16, "cols": 90}),
                             max_length=20000, required=False,
                             help_text=_("也可粘贴从表格复制的行,每行一天:日期、放假或上班、节日(如“2027-02-05,放假,春节”)。"))
    csv_file = forms.FileField(label=_("或上传CSV文件"), required=False,
                               help_text=_("每行一天:日期,放假或上班,节日;UTF-8或GBK编码。"))

    def clean_csv_file(self) -> str | None:
        upload = self.cleaned_data.get("csv_file")
        if not upload:
            return None
        raw = upload.read(CSV_MAX_BYTES + 1)
        if len(raw) > CSV_MAX_BYTES:
            raise ValidationError(_("CSV文件过大(最多200KB)。"))
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise ValidationError(_("无法识别CSV文件的编码,请另存为UTF-8。"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("csv_file"):
            data["notice"] = data["csv_file"]
        if not data.get("notice"):
            raise ValidationError(_("请粘贴通知正文或上传CSV文件。"))
        if not data.get("year"):
            year = notice_year(data["notice"])
            if year is None:
                raise ValidationError(_("请填写年份:通知中没有找到“XXXX年部分节假日安排”。"))
            data["year"] = year
        return data


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarKeptByOffice):
    list_display = ("year", "entered_by", "entered_at")
    readonly_fields = ("year", "notice", "entered_by", "entered_at")
    change_list_template = "admin/rectify/calendaryear/change_list.html"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # a year is entered from its notice (notice_view), never by hand

    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [path("notice/", self.admin_site.admin_view(self.notice_view), name="rectify_calendar_notice")]
        return extra + super().get_urls()  # type: ignore[misc]

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        today = timezone.localdate()
        years = range(today.year - 1, today.year + 3)
        extra_context = {**(extra_context or {}),
                         "calendar_years": [(y, calendar.year_source(y)) for y in years],
                         "fallback_holidays": calendar.FALLBACK_HOLIDAYS}
        return super().changelist_view(request, extra_context=extra_context)

    def notice_view(self, request: HttpRequest) -> HttpResponse:
        """Paste the notice → preview of the days → confirm (the same text parsed again)."""
        if not _keeps_calendar(request):
            raise PermissionDenied
        form = NoticeForm(request.POST or None, request.FILES or None)
        days, errors, year = [], [], None
        if request.method == "POST" and form.is_valid():
            year, text = form.cleaned_data["year"], form.cleaned_data["notice"]
            if form.cleaned_data["csv_file"]:  # the file's rows go into the text box: confirm posts them
                form = NoticeForm(initial={"year": year, "notice": text})
            try:
                if "confirm" in request.POST:
                    days = calendar_year_enter(year=year, notice=text, actor=request.user)  # type: ignore[arg-type]
                    self.message_user(request, gettext("已录入%(year)s年节假日安排:%(n)d天。")
                                      % {"year": year, "n": len(days)}, messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:rectify_calendaryear_changelist"))
                days = notice_parse(text, year=year)
            except ValidationError as exc:
                errors = exc.messages
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "days": days, "errors": errors, "year": year, "title": gettext("录入国务院节假日安排通知")}
        return TemplateResponse(request, "admin/rectify/calendaryear/notice.html", context)


@admin.register(HeldJob)
class HeldJobAdmin(WrittenByTheSystemAdmin):
    """Rows are written when the queue refuses work and released by the worker."""

    list_display = ("description", "requested_by", "requested_at", "released_at")
    list_filter = ("released_at",)


@admin.register(Heartbeat)
class HeartbeatAdmin(WrittenByTheSystemAdmin):
    """When the worker and beat last reported in (rectify/liveness.py)."""

    list_display = ("process", "at", "hostname")
