"""The exported ledger: officials' layout, real numbers and dates, no live formulas."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook

from tasks.exporting import LEDGER_HEADERS, ledger_workbook_write
from tasks.importing import ledger_import_bytes
from tasks.models import Task, TaskChange
from tasks.services import task_report_progress, task_update

pytestmark = pytest.mark.django_db
TODAY = dt.date(2018, 7, 1)
NASTY = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "==1+1", "+86-351", "-2", "@SUM(A1)",
         "\tcmd", "\rcmd"]


def export(tasks) -> bytes:
    buf = io.BytesIO()
    ledger_workbook_write(tasks=tasks, out=buf, today=TODAY)
    return buf.getvalue()


def test_layout_headers_frozen_widths_wrapped(plan):
    data = export(Task.objects.filter(plan=plan))
    ws = load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in ws[1]]
    assert headers == list(LEDGER_HEADERS)
    assert headers[:11] == ["序号", "问题", "整改目标", "整改措施", "牵头单位", "责任单位", "配合单位",
                            "责任人", "领办领导", "整改时限", "时限日期"]
    assert {"整改类型", "进展情况", "状态", "完成率", "警示灯"} <= set(headers)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["D"].width == 50
    assert ws.max_row == 61
    row = {h: c for h, c in zip(headers, ws[2], strict=True)}
    assert row["序号"].value == 1 and row["序号"].data_type == "n"
    assert row["整改措施"].alignment.wrap_text
    assert "\n" in row["整改措施"].value  # line breaks kept
    dated = next(r for r in ws.iter_rows(min_row=2) if r[10].value is not None)
    assert isinstance(dated[10].value, dt.datetime) and dated[10].is_date
    assert dated[10].number_format == "yyyy-mm-dd"
    assert isinstance(row["完成率"].value, int) and row["完成率"].number_format == '0"%"'
    assert row["警示灯"].value  # a light label for every open task


def test_formula_injection_is_written_as_literal_text(plan):
    task = Task.objects.get(plan=plan, number=1)
    task_update(task=task, actor=None, title=NASTY[0], target=NASTY[1], actions="\n".join(NASTY),
                leading_official=NASTY[2])
    data = export(Task.objects.filter(plan=plan, number__in=[1, 2]))
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    row = ws[2]
    assert row[1].value == NASTY[0] and row[1].data_type == "s" and row[1].quotePrefix
    assert row[2].value == NASTY[1] and row[2].quotePrefix
    assert row[8].value == NASTY[2] and row[8].quotePrefix
    assert row[0].value == 1 and row[0].data_type == "n"  # numbers stay numbers
    assert not row[0].quotePrefix
    # The raw sheet has no formula element at all.
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    for nasty in ("@SUM(A1)", "-2", "\tcmd"):
        task_update(task=Task.objects.get(pk=task.pk), actor=None, title=nasty)
        ws = load_workbook(io.BytesIO(export(Task.objects.filter(pk=task.pk)))).active
        assert ws["B2"].value == nasty and ws["B2"].data_type == "s" and ws["B2"].quotePrefix


def test_export_then_import_changes_nothing(plan, office_user):
    task = Task.objects.get(plan=plan, number=7)
    unit = task.task_units.first().unit
    task_report_progress(task=task, unit=unit, author=None, percent=40, text="已完成40%")
    task_update(task=Task.objects.get(pk=task.pk), actor=None, title="==1+1 " + task.title)
    data = export(Task.objects.filter(plan=plan))
    before = TaskChange.objects.count()
    result = ledger_import_bytes(data, name="export.xlsx", plan=plan, dry_run=False, actor=office_user)
    assert result.ok, result.errors[:5]
    assert result.change_count == 0, [r for r in result.rows if r.kind != "unchanged"][:5]
    assert result.counts["unchanged"] == 60
    assert TaskChange.objects.count() == before
    assert any("状态" in c for c in result.ignored_columns)


def test_export_query_count_does_not_grow_with_rows(plan, django_assert_num_queries):
    few = Task.objects.filter(plan=plan, number__lte=3)
    with django_assert_num_queries(4):  # unit names; tasks (with latest report), milestones, units
        export(few)
    with django_assert_num_queries(4):
        export(Task.objects.filter(plan=plan))
