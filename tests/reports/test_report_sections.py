"""Who receives what of the monthly bulletin: the whole to the office and leaders (they may open
/accountability/figures/), a unit's section to its liaisons (their own rows, the register's
public count only, an annex no wider than their ledger export), nothing to the register's group.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from accountability.models import Case, CaseSource
from rectify.models import User
from rectify.roles import Role
from reports import services
from reports.models import Delivery, ReportKind
from tasks.models import Task, Unit
from tests.reports_helpers import at, html_part, mails_to

pytestmark = pytest.mark.django_db

CONFIDENTIAL = "问题线索(件)"
PUBLIC = "结果已向社会公开(件)"


def sheet_numbers(content: bytes, sheet: str, column: int = 0) -> list:
    rows = openpyxl.load_workbook(io.BytesIO(content), read_only=True)[sheet].iter_rows(values_only=True)
    return [r[column] for r in list(rows)[1:]]


@pytest.fixture
def acc_officer(plan) -> User:
    user = User.objects.create_user(username="acc", email="acc@example.test",
                                    unit=Unit.objects.get(name="省纪委省监委"))
    user.groups.add(Group.objects.get_or_create(name=Role.ACCOUNTABILITY.value)[0])
    Case.objects.create(reference="移交问题清单第1项", source=CaseSource.TRANSFERRED, title="某县违规审批问题",
                        problem_text="机密", transferred_on=dt.date(2018, 1, 10),
                        stage_entered_on=dt.date(2018, 1, 10))
    return user


def test_bulletin_sections_per_recipient(client, plan, office_user, leader, coal_liaison, taiyuan_liaison,
                                         acc_officer, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 11, 1, 9, 0), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        report, _ = services.report_issue(kind=ReportKind.BULLETIN)
    all_numbers = set(Task.objects.values_list("number", flat=True))

    for address in ("office@example.test", "leader@example.test"):
        (message,) = mails_to(address)
        for part in (message.body, html_part(message)):
            assert CONFIDENTIAL in part and "太原市政府" in part
        assert set(sheet_numbers(message.attachments[0][1], "整改台账")) == all_numbers

    client.force_login(coal_liaison)
    exported = sheet_numbers(b"".join(client.get(reverse("tasks:ledger_export")).streaming_content), "整改台账")
    (coal_mail,) = mails_to("coal@example.test")
    assert "省煤炭工业厅部分" in coal_mail.subject
    for part in (coal_mail.body, html_part(coal_mail)):
        assert "省煤炭工业厅部分" in part and "六、责任追究进展" in part and PUBLIC in part
        assert CONFIDENTIAL not in part and "被问责人员" not in part
    annex = coal_mail.attachments[0][1]
    assert set(sheet_numbers(annex, "整改台账")) == set(exported) < all_numbers
    assert sheet_numbers(annex, "单位排名", column=1) == ["省煤炭工业厅"]
    assert sheet_numbers(annex, "城市排名") == []
    assert set(sheet_numbers(annex, "逾期任务")) <= set(exported)
    (taiyuan_mail,) = mails_to("taiyuan@example.test")
    assert sheet_numbers(taiyuan_mail.attachments[0][1], "单位排名", column=1) == ["太原市政府"]

    assert not mails_to("acc@example.test")  # the register's group is not on the distribution list
    audiences = dict(report.deliveries.values_list("recipient", "audience"))
    assert audiences == {
        "office@example.test": Delivery.Audience.WHOLE, "leader@example.test": Delivery.Audience.WHOLE,
        "coal@example.test": Delivery.Audience.UNIT, "taiyuan@example.test": Delivery.Audience.UNIT,
    }
