"""The pages in front of the services: refusals come back as a Chinese reason (escaped),
with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.models import Case, CaseSource, Stage, StageRecord
from tasks.models import Task
from tasks.services import task_update
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)

pytestmark = pytest.mark.django_db


def post_advance(client, case, to_stage, **extra):
    return client.post(reverse("accountability:advance", args=[case.pk]), {
        "to_stage": to_stage, "on": "2018-02-01", "note": "办理", "version": case.version, **extra})


def test_skipping_by_a_forged_form_is_refused_with_the_reason(client, case, acc_officer):
    client.force_login(acc_officer)
    response = post_advance(client, case, Stage.EXECUTION)
    assert response.status_code == 400
    assert "不能跳过办理阶段" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.CLUE and StageRecord.objects.count() == 1


def test_the_office_head_reads_but_cannot_advance(client, case, office_head):
    client.force_login(office_head)
    assert client.get(reverse("accountability:detail", args=[case.pk])).status_code == 200
    assert post_advance(client, case, Stage.VERIFICATION).status_code == 403
    case.refresh_from_db()
    assert case.stage == Stage.CLUE


def test_return_without_reason_is_refused(client, case, acc_officer):
    client.force_login(acc_officer)
    assert post_advance(client, case, Stage.VERIFICATION).status_code == 302
    case.refresh_from_db()
    response = client.post(reverse("accountability:return", args=[case.pk]), {
        "to_stage": "CLUE", "on": "2018-02-02", "reason": "", "version": case.version})
    assert response.status_code == 400 and "说明原因" in response.content.decode()
    response = client.post(reverse("accountability:return", args=[case.pk]), {
        "to_stage": "PUBLIC", "on": "2018-02-02", "reason": "x", "version": case.version})
    assert response.status_code == 400 and "之前的阶段" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.VERIFICATION


def test_a_stale_page_is_refused(client, case, acc_officer):
    client.force_login(acc_officer)
    old = case.version
    assert post_advance(client, case, Stage.VERIFICATION).status_code == 302
    response = post_advance(client, case, Stage.PROPOSAL_REVIEW, version=old)
    assert response.status_code == 400 and "已被他人办理" in response.content.decode()


def test_register_a_case_and_correct_it(client, plan, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:new"), {
        "reference": "移交-1", "source": "TRANSFERRED", "title": "", "problem_text": "<b>违规</b>审批",
        "transferred_on": "2018-01-05", "region": "大同市城区", "units": "省环保厅、大同市政府",
        "task_numbers": "3", "handling_authority": "大同市纪委"})
    assert response.status_code == 302
    case = Case.objects.get(reference="移交-1")
    assert case.region.parent.name == "大同市" and case.tasks.get().number == 3
    page = client.get(reverse("accountability:detail", args=[case.pk])).content.decode()
    assert "&lt;b&gt;违规&lt;/b&gt;" in page and "<b>违规</b>" not in page and "大同市城区" in page
    form = client.get(reverse("accountability:edit", args=[case.pk]))
    assert form.status_code == 200 and "大同市城区" in form.content.decode()
    response = client.post(reverse("accountability:edit", args=[case.pk]), {
        "title": "更正", "problem_text": "更正原文", "region": "城区", "units": "", "task_numbers": "",
        "handling_authority": "", "version": case.version})
    assert response.status_code == 400 and "在多个市都有" in response.content.decode()
    response = client.post(reverse("accountability:edit", args=[case.pk]), {
        "title": "更正", "problem_text": "更正原文", "region": "", "units": "", "task_numbers": "",
        "handling_authority": "", "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "更正" and case.reference == "移交-1" and not case.units.exists()


def test_raise_from_the_ledger_through_the_form(client, plan, acc_officer):
    client.force_login(acc_officer)
    task = Task.objects.get(plan=plan, number=4)
    data = {"reference": "逾期-4", "source": CaseSource.TASK_OVERDUE, "problem_text": "任务逾期未完成",
            "transferred_on": timezone.localdate().isoformat(), "task_numbers": "4"}
    response = client.post(reverse("accountability:new"), data)
    assert response.status_code == 400 and "未超过" in response.content.decode()
    response = client.post(reverse("accountability:new"), {**data, "task_numbers": "4、5"})
    assert response.status_code == 400 and "只关联一个" in response.content.decode()
    task_update(task=task, actor=None, deadline=timezone.localdate() - dt.timedelta(days=200))
    assert client.post(reverse("accountability:new"), data).status_code == 302
    assert Case.objects.get().source == CaseSource.TASK_OVERDUE


def test_person_form_refusals(client, case, acc_officer):
    client.force_login(acc_officer)
    url = reverse("accountability:person_new", args=[case.pk])
    response = client.post(url, {"name": "王某", "position": "局长", "unit_name": "某局",
                                 "outcome": "REMOVAL", "version": case.version})
    assert response.status_code == 400 and "处理日期和决定机关" in response.content.decode()
    response = client.post(url, {"name": "王某", "position": "局长", "unit_name": "某局",
                                 "outcome": "不存在的结果", "version": case.version})
    assert response.status_code == 400
    assert not case.persons.exists()
