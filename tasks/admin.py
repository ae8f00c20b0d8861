"""The office's admin over the ledger. Writes go through tasks.services like every page."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from rectify.admin_history import AdminHistoryMixin
from rectify.admin_locking import StaleGuardAdmin
from tasks.admin_excel import LedgerExcelAdminMixin
from tasks.models import (
    Measure,
    Milestone,
    Plan,
    Problem,
    ProgressReport,
    Region,
    Task,
    TaskChange,
    TaskUnit,
    Unit,
    UnitAlias,
)
from tasks.services import (
    TRACKED_TASK_FIELDS,
    MilestoneSpec,
    TaskUnitSpec,
    milestone_delete,
    milestone_save,
    task_create,
    task_set_units,
    task_units_validate,
    task_update,
)

_FORM_TO_SERVICE = {"measure": "measure_id", "problem": "problem_id"}


class UnitFilter(admin.SimpleListFilter):
    title = _("单位")
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        return Unit.objects.exclude(kind=Unit.Kind.PARTY_COMMITTEE).filter(
            task_units__isnull=False
        ).distinct().values_list("pk", "name")

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(task_units__unit_id=self.value()).distinct()
        return queryset


class CityFilter(admin.SimpleListFilter):
    title = _("市")
    parameter_name = "city"

    def lookups(self, request, model_admin):
        return Region.objects.filter(level=Region.Level.CITY).values_list("code", "name")

    def queryset(self, request, queryset):
        region = Region.objects.filter(code=self.value(), level=Region.Level.CITY).first()
        if region is None:
            return queryset
        return queryset.filter(task_units__unit__region__path__startswith=region.path).distinct()


class TaskUnitFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        specs = [
            TaskUnitSpec(f.cleaned_data["unit"], f.cleaned_data["role"],
                         f.cleaned_data.get("responsible_person", ""))
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("unit")
        ]
        try:
            task_units_validate(specs)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        self.specs = specs


class TaskUnitInline(admin.TabularInline):
    model = TaskUnit
    formset = TaskUnitFormSet
    fields = ("unit", "role", "responsible_person")
    autocomplete_fields = ("unit",)
    extra = 0
    min_num = 1


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ("title", "due_on", "done_on")
    extra = 0


@admin.register(Task)
class TaskAdmin(LedgerExcelAdminMixin, StaleGuardAdmin):
    list_display = ("number", "title", "deadline_text", "deadline", "deadline_class", "status", "progress")
    list_display_links = ("number", "title")
    list_filter = (UnitFilter, CityFilter, "status", "deadline_class", "problem", "measure", "plan")
    search_fields = ("title", "target", "actions", "deadline_text", "task_units__unit__name",
                     "task_units__responsible_person")
    list_select_related = ("plan",)
    inlines = (TaskUnitInline, MilestoneInline)
    guarded_related = ("task_units", "milestones")
    readonly_fields = ("progress", "version", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("plan", "number", "title", "problem", "measure", "leading_official")}),
        (_("整改内容"), {"fields": ("target", "actions")}),
        (_("整改时限"), {"fields": ("deadline_text", "deadline", "deadline_class", "original_deadline")}),
        (_("进度"), {"fields": ("status", "closed_on", "progress", "version", "created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return super().get_queryset(request).select_related("plan")

    # The admin's own ModelForm validates; the writes themselves go through the services,
    # inside the transaction that wraps the whole change form.
    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the sign-off steps; plan and number identify the task.
        if obj is not None:
            return (*self.readonly_fields, "plan", "number", "status", "closed_on")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            return  # created in save_related, once the units are known
        fields: dict[str, object] = {}
        for name in form.changed_data:
            target = _FORM_TO_SERVICE.get(name, name)
            if target in TRACKED_TASK_FIELDS:
                value = form.cleaned_data[name]
                fields[target] = value.pk if name in _FORM_TO_SERVICE and value else value
        if fields:
            task_update(task=obj, actor=request.user, note="后台修改", **fields)
            obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # the admin's change message reads these
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        unit_formset = next(f for f in formsets if isinstance(f, TaskUnitFormSet))
        milestone_formset = next(f for f in formsets if f.model is Milestone)
        if not change:
            obj = form.instance
            task = task_create(
                plan=obj.plan, number=obj.number, title=obj.title, target=obj.target,
                actions=obj.actions, deadline=obj.deadline, deadline_text=obj.deadline_text,
                deadline_class=obj.deadline_class, leading_official=obj.leading_official,
                measure_id=obj.measure_id, problem_id=obj.problem_id, status=obj.status,
                units=unit_formset.specs, actor=request.user,
                milestones=[
                    MilestoneSpec(f.cleaned_data["title"], f.cleaned_data["due_on"],
                                  f.cleaned_data.get("done_on"))
                    for f in milestone_formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ],
            )
            obj.pk = task.pk
            obj._state.adding = False
            return
        task = form.instance
        if unit_formset.has_changed():
            task_set_units(task=task, units=unit_formset.specs, actor=request.user)
        for f in milestone_formset.forms:
            if not f.has_changed() or not f.cleaned_data:
                continue
            existing = f.instance if f.instance.pk else None
            if f.cleaned_data.get("DELETE"):
                if existing is not None:
                    milestone_delete(milestone=existing, actor=request.user)
                continue
            milestone_save(
                task=task, actor=request.user, milestone=existing, title=f.cleaned_data["title"],
                due_on=f.cleaned_data["due_on"], done_on=f.cleaned_data.get("done_on"),
            )


class UnitAliasInline(admin.TabularInline):
    model = UnitAlias
    extra = 0


@admin.register(Unit)
class UnitAdmin(AdminHistoryMixin, StaleGuardAdmin):
    list_display = ("name", "full_name", "kind", "region", "head_name")
    list_filter = ("kind", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "full_name", "code", "aliases__alias")
    inlines = (UnitAliasInline,)
    guarded_related = ("aliases",)
    list_select_related = ("region",)


@admin.register(Region)
class RegionAdmin(AdminHistoryMixin, StaleGuardAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    readonly_fields = ("path",)


@admin.register(Plan)
class PlanAdmin(AdminHistoryMixin, StaleGuardAdmin):
    list_display = ("title", "issued_on", "inspection_team", "feedback_on")
    search_fields = ("title", "issuing_body", "inspection_team")


@admin.register(Problem)
class ProblemAdmin(AdminHistoryMixin, StaleGuardAdmin):
    list_display = ("ordinal", "title", "kind", "plan")
    list_filter = ("plan", "kind")
    search_fields = ("title", "heading")


@admin.register(Measure)
class MeasureAdmin(AdminHistoryMixin, StaleGuardAdmin):
    list_display = ("number", "heading", "problem", "plan")
    list_filter = ("plan", "problem")
    search_fields = ("heading", "text")
    list_select_related = ("problem", "plan")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services; the admin shows them and nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    """Reports are filed by the units themselves; the admin only reads them."""

    list_display = ("task", "unit", "week", "percent", "is_late", "reported_at", "author")
    list_filter = ("is_late", ("unit", admin.RelatedOnlyFieldListFilter), "week")
    search_fields = ("text", "task__title", "unit__name")
    list_select_related = ("task", "unit", "author")
    date_hierarchy = "week"


@admin.register(TaskChange)
class TaskChangeAdmin(ReadOnlyAdmin):
    """The change history is kept forever: nobody edits or deletes it."""

    list_display = ("at", "task", "subject", "field", "old", "new", "actor", "note")
    list_filter = ("field", "subject")
    search_fields = ("task__title", "old", "new", "note")
    list_select_related = ("task", "actor")
    date_hierarchy = "at"
