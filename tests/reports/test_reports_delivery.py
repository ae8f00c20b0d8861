"""E-mails of dispatches and bulletins (text and HTML), retries on transient errors, the sweeper."""

from __future__ import annotations

import datetime as dt
import io
import smtplib

import openpyxl
import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from reports import jobs, services
from reports.models import Delivery, ReportKind
from reports.selectors import bulletin_compile, dispatch_compile
from tasks.models import Task, Unit
from tasks.services import task_report_progress
from tests.factories import MilestoneFactory, ProgressReportFactory, TaskFactory, TaskUnitFactory
from tests.mail_backends import FlakySMTPBackend
from tests.reports_helpers import at, html_part, mails_to

pytestmark = pytest.mark.django_db

FLAKY = "tests.mail_backends.FlakySMTPBackend"


@pytest.fixture
def cast(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    return plan


def _coal_and_taiyuan_reports(plan, coal_liaison, taiyuan_liaison):
    """One coal report last week and this week (it moves), nothing from Taiyuan this week."""
    coal = coal_liaison.unit
    coal_task = Task.objects.filter(task_units__unit=coal).order_by("number").first()
    task_report_progress(task=coal_task, unit=coal, author=coal_liaison, percent=20, text="上周进展",
                         week=dt.date(2018, 10, 1), now=at(2018, 10, 3, 10))
    task_report_progress(task=coal_task, unit=coal, author=coal_liaison, percent=45,
                         text="煤矿关闭退出已完成验收<b>", week=dt.date(2018, 10, 8), now=at(2018, 10, 9, 10))
    return coal_task


def test_dispatch_emails_whole_to_office_and_leaders_and_own_section_to_units(
        cast, coal_liaison, taiyuan_liaison, django_capture_on_commit_callbacks):
    coal_task = _coal_and_taiyuan_reports(cast, coal_liaison, taiyuan_liaison)
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        report, created = services.report_issue(kind=ReportKind.DISPATCH)
    assert created

    (office_mail,) = mails_to("office@example.test")
    assert office_mail.subject == "【周调度】" + report.title
    html = html_part(office_mail)
    for part in (office_mail.body, html):
        assert "一、总体情况" in part and "六、未按时报送" in part and "七、督办情况" in part
        assert coal_task.title in part
        assert "太原市政府" in part  # Taiyuan did not report: named in the whole dispatch
    assert "20% → 45%" in office_mail.body
    assert "煤矿关闭退出已完成验收&lt;b&gt;" in html  # report text escaped in HTML
    assert "煤矿关闭退出已完成验收<b>" not in html
    name, content, mimetype = office_mail.attachments[0]
    assert name.endswith(".xlsx") and mimetype.startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["整改台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) == 1 + Task.objects.count()

    (coal_mail,) = mails_to("coal@example.test")
    assert "省煤炭工业厅部分" in coal_mail.subject
    coal_tasks = set(Task.objects.filter(task_units__unit=coal_liaison.unit).values_list("number", flat=True))
    for part in (coal_mail.body, html_part(coal_mail)):
        assert "省煤炭工业厅部分" in part
        assert "太原市政府:" not in part and "太原市政府</td>" not in part  # another unit's section
    coal_rows = list(openpyxl.load_workbook(io.BytesIO(coal_mail.attachments[0][1]), read_only=True)["整改台账"]
                     .iter_rows(values_only=True))[1:]
    assert {r[0] for r in coal_rows} == coal_tasks
    (taiyuan_mail,) = mails_to("taiyuan@example.test")
    assert "太原市政府部分" in taiyuan_mail.body and "20% → 45%" not in taiyuan_mail.body
    assert Delivery.objects.filter(report=report, status=Delivery.Status.SENT).count() == 4
    # The message id is stable per delivery: a duplicate after a crash is recognisable.
    assert office_mail.extra_headers["Message-ID"].startswith("<rectify-delivery-")


def test_bulletin_email_text_and_html_with_rankings(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 11, 1, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        report, _ = services.report_issue(kind=ReportKind.BULLETIN)
    assert report.issue_label == "2018年第11期"  # the n-th month of its year (issue 16)
    assert len(mail.outbox) == 4  # whole to office and leaders, its unit's section to each liaison
    message = mails_to("office@example.test")[0]
    for part in (message.body, html_part(message)):
        assert "2018年第11期" in part and "二、单位排名" in part and "三、城市排名" in part
        assert "四、逾期未完成任务" in part and "太原市" in part
        assert "六、责任追究进展" in part and "问题线索(件)" in part
    workbook = openpyxl.load_workbook(io.BytesIO(message.attachments[0][1]), read_only=True)
    assert workbook.sheetnames == ["单位排名", "城市排名", "逾期任务", "整改台账"]
    snapshot = report.snapshot
    assert [u["rank"] for u in snapshot["unit_ranking"]] == list(range(1, len(snapshot["unit_ranking"]) + 1))
    assert {c["city"] for c in snapshot["city_ranking"]} >= {"太原市", "大同市"}
    assert snapshot["overdue"] and all(t["overdue_days"] > 0 for t in snapshot["overdue"])


def test_bulletin_shows_the_accountability_registers_figures(cast):
    from accountability.demo import accountability_demo_load
    from accountability.models import AccountablePerson, Case
    from tasks.demo import demo_users_ensure

    demo_users_ensure()  # the register's demo cases are handled by the demo accountability group
    import time_machine

    with time_machine.travel(at(2018, 10, 25), tick=False):
        assert accountability_demo_load(today=dt.date(2018, 10, 25)) > 0
    snapshot = bulletin_compile(plan=cast, period="2018-11", as_of=at(2018, 11, 1), number=1)
    figures = snapshot["accountability"]
    assert figures["问题线索(件)"] == Case.objects.filter(transferred_on__lte=dt.date(2018, 11, 1)).count() > 0
    assert figures["被问责人员(人)"] == AccountablePerson.objects.count() > 0
    assert figures["结果已向社会公开(件)"] == 1


def test_smtp_failing_twice_then_succeeding_sends_one_email(cast):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)  # on-commit not run: nothing sent yet
    delivery = report.deliveries.get(recipient="office@example.test")
    FlakySMTPBackend.failures, FlakySMTPBackend.calls = 2, 0
    FlakySMTPBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    with override_settings(EMAIL_BACKEND=FLAKY):
        result = jobs.delivery_send_job.apply(args=[delivery.pk])
    assert result.get() == "sent"
    assert FlakySMTPBackend.calls == 3
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SENT, 3, "")
    # Sending it again (a redelivered job) is a no-op: the claim fails.
    assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("error", [
    smtplib.SMTPRecipientsRefused({"office@example.test": (550, b"no such user")}),
    smtplib.SMTPAuthenticationError(535, b"bad credentials"),
    ValueError("a bug, not the network"),
])
def test_permanent_errors_are_not_retried(cast, error):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    delivery = report.deliveries.get(recipient="office@example.test")
    FlakySMTPBackend.failures, FlakySMTPBackend.calls, FlakySMTPBackend.error = 5, 0, error
    with override_settings(EMAIL_BACKEND=FLAKY):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "failed"
    assert FlakySMTPBackend.calls == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and type(error).__name__ in delivery.last_error
    assert mail.outbox == []


def test_transient_errors_give_up_as_failed_after_the_last_retry(cast):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    delivery = report.deliveries.get(recipient="office@example.test")
    FlakySMTPBackend.failures, FlakySMTPBackend.calls = 100, 0
    FlakySMTPBackend.error = ConnectionRefusedError(111, "Connection refused")
    with override_settings(EMAIL_BACKEND=FLAKY):
        assert jobs.delivery_send_job.apply(args=[delivery.pk]).get() == "failed"
    assert FlakySMTPBackend.calls == jobs.DELIVERY_MAX_RETRIES + 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


def test_sweeper_releases_deliveries_stuck_in_claimed(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    stuck, fresh, *_ = report.deliveries.order_by("id")
    Delivery.objects.filter(pk=stuck.pk).update(status=Delivery.Status.CLAIMED, claimed_at=at(2018, 10, 11, 9, 1))
    Delivery.objects.filter(pk=fresh.pk).update(status=Delivery.Status.CLAIMED, claimed_at=at(2018, 10, 11, 9, 29))
    with time_machine.travel(at(2018, 10, 11, 9, 30), tick=False):
        requeued = services.deliveries_sweep()
    # The 29-minute-old claim is released (its worker died); the 1-minute-old one may still be sending
    # (stale after RECTIFY_CLAIM_STALE_SECONDS, 150 s, no longer 15 minutes).
    assert stuck.pk in requeued and fresh.pk not in requeued
    statuses = dict(report.deliveries.values_list("pk", "status"))
    assert statuses[stuck.pk] == Delivery.Status.SENT and statuses[fresh.pk] == Delivery.Status.CLAIMED
    assert [m.to[0] for m in mail.outbox].count(stuck.recipient) == 1


def test_xlsx_cells_that_look_like_formulas_stay_text(cast):
    Task.objects.filter(number=1).update(title="=HYPERLINK(\"http://evil\",\"点我\")")
    Task.objects.filter(number=2).update(title="@SUM(A1:A9)")
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        preview = services.report_preview(kind=ReportKind.DISPATCH)
    sheet = openpyxl.load_workbook(io.BytesIO(preview["xlsx"]))["整改台账"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert cells[1].value == "=HYPERLINK(\"http://evil\",\"点我\")" and cells[1].data_type == "s"
    assert cells[1].quotePrefix and cells[2].data_type == "s" and cells[2].quotePrefix
    assert not cells[3].quotePrefix


def _grow_ledger(plan, n: int) -> None:
    """n more tasks, each with units, a milestone and reports: more rows, same queries."""
    units = list(Unit.objects.order_by("id")[:3])
    for i in range(n):
        task = TaskFactory(plan=plan, number=1000 + i, title=f"新增任务{i}", deadline=dt.date(2018, 12, 31))
        for j, unit in enumerate(units):
            TaskUnitFactory(task=task, unit=unit, role="LEAD" if j == 0 else "RESPONSIBLE", position=j)
            for week in (dt.date(2018, 9, 24), dt.date(2018, 10, 1), dt.date(2018, 10, 8)):
                ProgressReportFactory(task=task, unit=unit, week=week, percent=10, text="t",
                                      reported_at=at(2018, 10, 1))
        MilestoneFactory(task=task, title="m", due_on=dt.date(2018, 9, 30))


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_compiling_query_count_does_not_grow_with_tasks(cast, calendar_read):
    def dispatch():
        dispatch_compile(plan=cast, week=dt.date(2018, 10, 8), as_of=at(2018, 10, 11), since=at(2018, 10, 4))

    def bulletin():
        bulletin_compile(plan=cast, period="2018-11", as_of=at(2018, 11, 1), number=1)

    before = (_queries(dispatch), _queries(bulletin))
    _grow_ledger(cast, 25)
    after = (_queries(dispatch), _queries(bulletin))
    assert before == after
    assert before[0] <= 8 and before[1] <= 8


def test_long_lists_are_cut_in_the_email_but_kept_in_the_attachment(cast):
    from reports.emails import EMAIL_LIST_LIMIT, report_render
    from reports.xlsx import dispatch_xlsx

    snapshot = dispatch_compile(plan=cast, week=dt.date(2018, 10, 8), as_of=at(2018, 10, 11), since=at(2018, 10, 4))
    move = {"task_id": 1, "number": 1, "title": "任务", "unit_id": 1, "unit": "单位", "from": 1, "to": 2, "text": "x"}
    snapshot["moved"] = [{**move, "text": f"第{i}条"} for i in range(EMAIL_LIST_LIMIT + 25)]
    _subject, text, html = report_render(kind=ReportKind.DISPATCH, title="t", snapshot=snapshot)
    for part in (text, html):
        assert "另有25项,详见附件" in part
    assert text.count("1% → 2%") == EMAIL_LIST_LIMIT
    assert f"第{EMAIL_LIST_LIMIT - 1}条" in html and f"第{EMAIL_LIST_LIMIT}条" not in html
    sheet = openpyxl.load_workbook(io.BytesIO(dispatch_xlsx(snapshot)), read_only=True)["本周进展变化"]
    assert len(list(sheet.iter_rows())) == 1 + EMAIL_LIST_LIMIT + 25
