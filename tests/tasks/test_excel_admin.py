"""Excel through the web: the admin import (office only) and exports, the ledger download,
and the two management commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from rectify.models import User
from rectify.roles import Role
from tasks.models import Task, TaskChange, TaskUnit

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/tasks/task/import/"
CONFIRM_URL = "/admin/tasks/task/import/confirm/"


@pytest.fixture(autouse=True)
def _imports_in_tmp(settings, tmp_path):
    settings.RECTIFY_IMPORT_DIR = tmp_path / "imports"


def workbook(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["山西省整改台账(2018年)"])
    ws.merge_cells("A1:F1")
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["序号", "问题 ", "牵头\n单位", "整改实施主体", "计划完成整治时间", "完成率"]


def good_rows():
    return [HEADER,
            [61, "新问题一", "省环保厅", "昔阳、和顺县(市)委、县(市)政府", "2018年6月底前", "20%"],
            [62, "新问题二", "省水利厅", "太原市政府", 43465, None]]


def upload(client, data: bytes, name="台账.xlsx", **extra):
    return client.post(IMPORT_URL, {"plan": Task.objects.first().plan_id,
                                     "file": SimpleUploadedFile(name, data), **extra})


def staff_with_role(username, role, unit=None):
    user = User.objects.create_user(username=username, password="pw-for-tests", is_staff=True, unit=unit)
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def test_import_permission_matrix(client, plan, office_user, coal_liaison, leader):
    client.force_login(office_user)
    assert client.get(IMPORT_URL).status_code == 200
    assert client.get(CONFIRM_URL).status_code == 405  # POST only
    for user in (staff_with_role("staff-leader", Role.LEADER),
                 staff_with_role("staff-liaison", Role.LIAISON, coal_liaison.unit)):
        client.force_login(user)
        assert client.get(IMPORT_URL).status_code == 403
        assert upload(client, workbook(good_rows())).status_code == 403
        assert client.post(CONFIRM_URL, {"token": "x" * 32}).status_code == 403
    for user in (coal_liaison, leader):  # not staff: the admin sends them to its login
        client.force_login(user)
        response = client.get(IMPORT_URL)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.logout()
    response = client.post(CONFIRM_URL, {"token": "x" * 32})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Task.objects.filter(number__gt=60).exists()


def test_preview_then_confirm_round_trip(client, plan, office_user):
    client.force_login(office_user)
    before = TaskChange.objects.count()

    # 1. A messy file with an unreadable deadline: the preview names it, nothing can be confirmed.
    bad = good_rows()
    bad[2][4] = "下季度"
    response = upload(client, workbook(bad))
    assert response.status_code == 200
    page = response.content.decode()
    assert "第4行 计划完成整治时间: 无法识别&#x27;下季度&#x27;" in page
    assert 'name="token"' not in page
    assert TaskChange.objects.count() == before

    # 2. The fixed file: two new rows, and a confirm form carrying the token.
    data = workbook(good_rows())
    response = upload(client, data)
    page = response.content.decode()
    assert response.context["result"].counts["new"] == 2
    token = response.context["token"]
    assert token and f'value="{token}"' in page
    assert not Task.objects.filter(number__gt=60).exists()  # a preview writes nothing

    # 3. Confirm applies exactly the previewed file.
    response = client.post(CONFIRM_URL, {"token": token})
    assert response.status_code == 302 and response["Location"].endswith("/admin/tasks/task/")
    t61 = Task.objects.get(plan=plan, number=61)
    assert t61.progress == 20
    assert set(t61.task_units.filter(role=TaskUnit.Role.RESPONSIBLE).values_list("unit__name", flat=True)) == {
        "昔阳县委", "和顺县委", "昔阳县政府", "和顺县政府"}
    assert t61.changes.filter(field="created", actor=office_user).exists()
    assert client.post(CONFIRM_URL, {"token": token}).status_code == 302  # used: refused below
    assert Task.objects.filter(number__gt=60).count() == 2

    # 4. The same file again: zero changes, nothing to confirm.
    response = upload(client, data)
    assert response.context["result"].change_count == 0
    assert response.context["result"].counts["unchanged"] == 2
    assert response.context["token"] is None


def test_confirm_uses_the_stored_file_never_a_new_one(client, plan, office_user, settings):
    client.force_login(office_user)
    response = upload(client, workbook(good_rows()))
    token = response.context["token"]
    stored = Path(settings.RECTIFY_IMPORT_DIR) / f"{token}.upload"
    stored.write_bytes(workbook([HEADER, [70, "偷换的内容", "省环保厅", "太原市政府", "年内", None]]))
    response = client.post(CONFIRM_URL, {"token": token}, follow=True)
    assert "预览的文件已被改动" in response.content.decode()
    assert not Task.objects.filter(number__gte=61).exists()
    # Another user's session cannot confirm someone else's token.
    other = staff_with_role("office2", Role.OFFICE)
    response = upload(client, workbook(good_rows()))
    token = response.context["token"]
    client.force_login(other)
    response = client.post(CONFIRM_URL, {"token": token}, follow=True)
    assert "已失效或不属于您" in response.content.decode()
    assert not Task.objects.filter(number__gte=61).exists()


def test_upload_refuses_what_is_not_a_ledger(client, plan, office_user):
    client.force_login(office_user)
    response = upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="old.xlsx")
    assert "旧版.xls" in response.content.decode()
    response = upload(client, b"<script>alert(1)</script>,x\n", name="x.csv")
    page = response.content.decode()
    assert "找不到表头" in page and "<script>alert(1)" not in page


def read_numbers(response) -> list[int]:
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    return [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]


def test_admin_export_action_and_filtered_button(client, plan, office_user):
    client.force_login(office_user)
    picked = list(Task.objects.filter(plan=plan, number__in=[3, 9]).values_list("pk", flat=True))
    response = client.post("/admin/tasks/task/", {"action": "export_selected_xlsx", "_selected_action": picked})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert read_numbers(response) == [3, 9]
    response = client.get("/admin/tasks/task/export/?deadline_class__exact=IMMEDIATE")
    numbers = read_numbers(response)
    assert numbers == sorted(Task.objects.filter(deadline_class="IMMEDIATE").values_list("number", flat=True))
    assert 0 < len(numbers) < 60
    changelist = client.get("/admin/tasks/task/?deadline_class__exact=IMMEDIATE").content.decode()
    assert "/admin/tasks/task/export/?deadline_class__exact=IMMEDIATE" in changelist
    assert IMPORT_URL in changelist


def test_ledger_download_is_filtered_by_what_the_user_sees(client, plan, coal_liaison, office_user,
                                                           django_assert_num_queries):
    url = reverse("tasks:ledger_export")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(coal_liaison)
    own = set(Task.objects.filter(task_units__unit=coal_liaison.unit).values_list("number", flat=True))
    assert set(read_numbers(client.get(url))) == own
    other = Task.objects.exclude(task_units__unit=coal_liaison.unit).first()
    mine = Task.objects.filter(task_units__unit=coal_liaison.unit).first()
    assert read_numbers(client.get(url, {"ids": f"{other.pk},{mine.pk}"})) == [mine.number]
    assert client.get(url, {"ids": "1;drop"}).status_code == 400
    assert client.post(url).status_code == 405
    client.force_login(office_user)
    assert len(read_numbers(client.get(url))) == 60
    # session + user + groups, the ledger's plan with its fingerprint (its snapshot is warm from
    # the request above), then the export's four queries
    with django_assert_num_queries(8):
        response = client.get(url)
        b"".join(response.streaming_content)


def test_ledger_page_export_has_exactly_the_filtered_rows_in_its_order(client, plan, office_user):
    client.force_login(office_user)
    params = {"deadline_class": "IMMEDIATE", "sort": "deadline"}
    page = client.get(reverse("tasks:ledger"), params)
    shown = [row.task.number for row in page.context["rows"]]
    expected = sorted(Task.objects.filter(deadline_class="IMMEDIATE").values_list("number", flat=True))
    assert sorted(shown) == expected and 0 < len(shown) < 60
    assert "export.xlsx?" in page.content.decode()
    assert read_numbers(client.get(reverse("tasks:ledger_export"), params)) == shown


def test_management_commands_round_trip(plan, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    call_command("export_ledger", str(out), plan=plan.code)
    call_command("import_ledger", str(out), plan=plan.code, dry_run=True)
    printed = capsys.readouterr().out
    assert "新增0行,修改0行,无变化60行,错误0行" in printed
    bad = tmp_path / "bad.csv"
    bad.write_text("序号,问题,牵头单位,整改时限\n61,甲,省环保厅,下季度\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1个错误"):
        call_command("import_ledger", str(bad), plan=plan.code)
    assert "第2行 整改时限: 无法识别'下季度'" in capsys.readouterr().err
    with pytest.raises(CommandError, match="没有编码"):
        call_command("export_ledger", str(out), plan="nope")
