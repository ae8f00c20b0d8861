"""`make bench`: compile a weekly dispatch and a monthly bulletin on the national-scale data.

Called by bench/run.py with the database already seeded; uses the ORM on the configured DB.
Compiling = reading the ledger, building the snapshot, rendering the e-mail (text and HTML)
and writing the xlsx in streaming mode, exactly as `report_issue` does before it saves;
nothing is saved or sent. Each plan is compiled on its own, as production does; the
timings are summed over the plans and the query count is the largest of one compile.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import ReportKind
from reports.services import report_preview
from tasks.models import Plan


def run(results: dict, context: Any) -> None:
    plans = list(Plan.objects.annotate(n_tasks=Count("tasks")).filter(n_tasks__gt=0).order_by("-n_tasks"))
    results["jobs_plans"] = len(plans)
    results["jobs_tasks"] = sum(p.n_tasks for p in plans)
    now = timezone.now()
    for kind in (ReportKind.DISPATCH, ReportKind.BULLETIN):
        seconds, queries, xlsx_bytes, html_bytes = 0.0, 0, 0, 0
        for plan in plans:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                preview = report_preview(kind=kind, now=now, plan=plan)
                seconds += time.perf_counter() - started
            queries = max(queries, len(captured.captured_queries))
            xlsx_bytes += len(preview["xlsx"])
            html_bytes += len(preview["body_html"].encode())
        results[f"{kind.value}_compile_s"] = round(seconds, 3)
        results[f"{kind.value}_compile_queries"] = queries
        results[f"{kind.value}_xlsx_bytes"] = xlsx_bytes
        results[f"{kind.value}_html_bytes"] = html_bytes
