"""The ledger as an Excel download. The rows come from a swappable queryset function."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rectify.xlsx import XLSX_MIME
from tasks.dashboards import ledger_filter
from tasks.exporting import ledger_workbook_write
from tasks.models import Task
from tasks.selectors import tasks_visible_to

# Exports stay in memory up to this size, then spill to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024

TasksForExport = Callable[[HttpRequest], QuerySet[Task]]


def ledger_xlsx_response(*, tasks: QuerySet[Task], filename: str | None = None) -> FileResponse:
    today = timezone.localdate()
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (FileResponse closes it)
    ledger_workbook_write(tasks=tasks, out=out, today=today)
    out.seek(0)
    return FileResponse(
        out, as_attachment=True, filename=filename or f"整改台账-{today:%Y%m%d}.xlsx",
        content_type=XLSX_MIME,
    )


def tasks_from_ids(request: HttpRequest) -> QuerySet[Task]:
    """`?ids=3,5,8`: those tasks (of the ones the user may see); no ids: every visible task."""
    tasks = tasks_visible_to(request.user)
    raw = request.GET.get("ids", "").strip()
    if not raw:
        return tasks
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    # isascii too: "²".isdigit() is True, and int() refuses it.
    if not parts or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise ValidationError(_("参数ids应为以逗号分隔的任务编号。"))
    return tasks.filter(pk__in=[int(p) for p in parts])


def ledger_export_view(tasks_for: TasksForExport) -> Callable[[HttpRequest], HttpResponse]:
    """Build the export view around a queryset function (the ledger page's filters, later)."""

    @login_required
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        try:
            tasks = tasks_for(request)
        except ValidationError as exc:
            return HttpResponseBadRequest("; ".join(exc.messages), content_type="text/plain; charset=utf-8")
        return ledger_xlsx_response(tasks=tasks)

    return view


def tasks_from_ledger_filters(request: HttpRequest) -> QuerySet[Task]:
    """Exactly the rows the ledger page shows for the same query string, in its order;
    `?ids=` still picks tasks by id (of the visible ones)."""
    if request.GET.get("ids", "").strip():
        return tasks_from_ids(request)
    tasks, _form = ledger_filter(user=request.user, params=request.GET)
    return tasks


ledger_export = ledger_export_view(tasks_from_ledger_filters)
