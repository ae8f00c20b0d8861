"""Regressions: each input here once crashed a page or reached the database unchecked; the
form fuzzing (test_form_fuzz*.py) found them. Each test names the input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accountability.models import Outcome, PublicResult, Rank, Stage
from accountability.services import case_advance, person_save
from tasks.models import SupervisionAction, SupervisionKind, Task, TaskChange, Unit
from tasks.supervision import supervision_issue
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)


@pytest.fixture
def listed(task12, office_user):
    return supervision_issue(actor=office_user, kind=SupervisionKind.LISTED, title="挂牌督办", task=task12,
                             requirements="限期整改", time_limit=dt.date(2099, 1, 1))


@pytest.mark.parametrize("param", ["unit", "task"])
@pytest.mark.parametrize("value", ["²", "9" * 5000])
def test_supervision_form_with_superscript_or_huge_id_in_the_query(client, office_user, param, value):
    # "²".isdigit() is True but int("²") raises: it was a 500.
    client.force_login(office_user)
    response = client.get(reverse("tasks:supervision_new"), {param: value})
    assert response.status_code == 200


def test_supervision_lift_with_nul_in_the_outcome(client, office_user, listed):
    # The outcome went from request.POST to the database unchecked: PostgreSQL refuses NUL (a 500).
    client.force_login(office_user)
    changes = TaskChange.objects.count()
    response = client.post(reverse("tasks:supervision_lift", args=[listed.pk]), {"outcome": "进展\x00正常"})
    assert response.status_code == 302
    listed.refresh_from_db()
    assert listed.lifted_on is None and listed.outcome == ""
    assert TaskChange.objects.count() == changes
    shown = client.get(response["Location"]).content.decode()
    assert "空字符" in shown or "控制字符" in shown


def test_supervision_requirements_of_100k_characters(client, office_user, plan):
    client.force_login(office_user)
    response = client.post(reverse("tasks:supervision_new"), {
        "kind": SupervisionKind.LISTED, "unit": Unit.objects.get(name="太原市政府").pk, "title": "挂牌督办",
        "requirements": "要" * 100_000, "time_limit": "2099-01-01"})
    assert response.status_code == 400
    assert "5000" in response.context["form"].errors["requirements"][0]
    assert not SupervisionAction.objects.exists()


# --- Refusals that explained nothing -------------------------------------------------------------


def test_progress_report_with_version_1e16_says_the_page_is_stale(client, taiyuan_liaison, task12):
    # The version is a hidden input: its error ("输入整数。") was shown nowhere on the 400 page.
    client.force_login(taiyuan_liaison)
    response = client.post(reverse("tasks:report", args=[task12.pk]), {"percent": "0", "text": "0", "version": "1e+16"})
    assert response.status_code == 400
    assert "页面已过期,请刷新后再提交。" in response.content.decode()
    assert not task12.reports.exists()


@pytest.mark.parametrize("name", ["tasks:report", "tasks:extension_new", "tasks:signoff_apply"])
def test_an_empty_post_to_a_task_form_names_the_missing_fields(client, taiyuan_liaison, task12, name):
    # `Form(request.POST or None)` left an empty POST unbound: a 400 page without a message.
    client.force_login(taiyuan_liaison)
    before = task12.changes.count()
    response = client.post(reverse(name, args=[task12.pk]), {})
    assert response.status_code == 400
    assert response.context["form"].errors and "请" in response.content.decode().split("<main>")[1]
    assert task12.changes.count() == before


def test_an_empty_post_to_the_case_import_asks_for_the_file(client, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:import"), {})
    assert response.status_code == 400 and response.context["form"].errors["file"]


def test_a_file_name_longer_than_the_multipart_header_limit_gets_a_chinese_400(client, taiyuan_liaison, task12):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(taiyuan_liaison)
    name = "😀" * 3000 + ".png"
    response = client.post(reverse("tasks:report", args=[task12.pk]), {
        "percent": "10", "text": "x", "evidence": SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"\0" * 64)})
    assert response.status_code == 400 and "提交的内容无法读取" in response.content.decode()
    assert not task12.reports.exists()


def test_public_summary_with_a_blank_version_says_the_page_is_stale(client, acc_officer, case):
    # public_result_form.html showed no form-wide errors: the hidden version's error was lost.
    person_save(case=case, actor=acc_officer, name="欧阳某某", position="副县长", rank=Rank.DIVISION,
                unit_name="某县人民政府", outcome=Outcome.PARTY_WARNING, decided_on=dt.date(2018, 2, 3),
                deciding_body="晋中市纪委")
    for i, stage in enumerate(list(Stage)[1:5]):
        case_advance(case=case, actor=acc_officer, to_stage=stage, on=dt.date(2018, 2, 4) + dt.timedelta(days=i))
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:public_result", args=[case.pk]),
                           {"summary": "经核实已处理。", "version": "\u3000\u3000"})
    assert response.status_code == 400 and "页面已过期,请刷新后再提交。" in response.content.decode()
    assert not PublicResult.objects.exists()


@pytest.mark.parametrize("name", ["tasks:ledger", "tasks:overview", "tasks:timeline", "tasks:supervision_new"])
def test_plan_parameter_with_nul_characters(client, office_user, name):
    # ?plan=%00 went into a query: PostgreSQL refuses NUL in text (a 500 on every dashboard).
    client.force_login(office_user)
    assert client.get(reverse(name), {"plan": "\x00" * 10}).status_code == 200


def test_short_new_password_is_refused_in_chinese(client, taiyuan_liaison):
    # Django 5.2's zh-hans catalogue has no translation of the minimum-length message.
    client.force_login(taiyuan_liaison)
    response = client.post(reverse("password_change"), {
        "old_password": "pw-for-tests", "new_password1": "短密码", "new_password2": "短密码"})
    assert response.status_code == 200
    assert "密码太短,至少需要8个字符。" in response.context["form"].errors["new_password2"]
    taiyuan_liaison.refresh_from_db()
    assert taiyuan_liaison.check_password("pw-for-tests")


# --- Digits that int() refuses, numbers no column holds ------------------------------------------


def test_ledger_export_with_superscript_id(client, taiyuan_liaison):
    client.force_login(taiyuan_liaison)
    response = client.get(reverse("tasks:ledger_export"), {"ids": "12,²"})
    assert response.status_code == 400 and "参数ids" in response.content.decode()


@pytest.mark.parametrize("numbers", ["²", "9223372036854775808", "12、99999999999999999999"])
def test_case_form_with_task_number_no_task_can_have(client, acc_officer, numbers):
    # "²" reached int() (a 500); 2**63 overflowed SQLite's integer in the lookup (a 500).
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:new"), {
        "reference": "移交问题清单第1项", "source": "TRANSFERRED", "problem_text": "问题",
        "transferred_on": "2018-01-10", "task_numbers": numbers})
    assert response.status_code == 400
    assert "任务序号" in response.content.decode() or "没有序号为" in response.content.decode()


def test_case_form_accepts_full_width_task_numbers(client, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:new"), {
        "reference": "移交问题清单第1项", "source": "TRANSFERRED", "problem_text": "问题",
        "transferred_on": "2018-01-10", "task_numbers": "１２"})
    assert response.status_code == 302


def test_person_removal_with_superscript_version(client, acc_officer, case):
    # int("²") after "²".isdigit(): a 500.
    person = person_save(case=case, actor=acc_officer, name="欧阳某某", position="副县长", unit_name="某县人民政府")
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:person_delete", args=[person.pk]), {"version": "²"})
    assert response.status_code == 400 and "页面已过期,请刷新后再提交。" in response.content.decode()
    assert case.persons.filter(pk=person.pk).exists()


@pytest.mark.parametrize("name", ["accountability:document_upload", "accountability:advance"])
def test_refused_upload_from_a_stale_page_leaves_no_file(client, acc_officer, case, settings, tmp_path, name):
    # The file was written before the transaction and stayed when the stale version refused it.
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(acc_officer)
    data = {"version": str(case.version + 1), "title": "核查报告", "to_stage": "VERIFICATION", "on": "2018-02-01",
            "file" if name.endswith("upload") else "document": SimpleUploadedFile("核查报告.pdf", b"%PDF-1.4\n%%EOF\n")}
    response = client.post(reverse(name, args=[case.pk]), data)
    assert response.status_code == 400 and "已被他人办理" in response.content.decode()
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert not case.documents.exists()


def test_login_with_a_300_character_username(client, taiyuan_liaison):
    # Django's login form does not enforce the username's max_length; django-axes stored the
    # failed name in a 255-character column and PostgreSQL refused it (a 500).
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "字" * 300, "password": "x"})
    assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    assert not AccessAttempt.objects.exists()
