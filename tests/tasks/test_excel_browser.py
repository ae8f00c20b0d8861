"""The office imports a messy ledger in the admin with a real browser: preview, fix, confirm."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from tasks.models import Task
from tests.helpers import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ledger_file(tmp_path, deadline: str) -> str:
    wb = Workbook()
    ws = wb.active
    ws.append(["山西省整改台账"])
    ws.merge_cells("A1:E1")
    ws.append(["序 号", "整改\n问题", "牵头单位", "整改实施主体", "完成时限"])
    ws.append([61, "新发现的问题", "省环保厅", "昔阳、和顺县(市)委、县(市)政府", "2018年6月底前"])
    ws.append([62, "另一个问题", "省水利厅", "太原市政府;大同市政府", deadline])
    path = tmp_path / f"ledger-{len(deadline)}.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    return str(path)


def test_office_previews_fixes_and_confirms_an_import(plan, office_user, tmp_path,
                                                      settings, live_server, page):
    settings.RECTIFY_IMPORT_DIR = tmp_path / "imports"
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "office")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/tasks/task/")
    page.click("text=导入台账")

    page.set_input_files("#id_file", ledger_file(tmp_path, "下季度"))
    page.click("input[type=submit]")
    page.wait_for_selector("#import-rows")
    assert page.locator("text=第4行 完成时限: 无法识别'下季度'").count() >= 1
    assert page.locator("input[name=token]").count() == 0
    screenshot(page, "excel-import-preview-error")

    page.goto(f"{live_server.url}/admin/tasks/task/import/")
    page.set_input_files("#id_file", ledger_file(tmp_path, "2018年底前"))
    page.click("input[type=submit]")
    page.wait_for_selector("#import-rows")
    assert page.locator("tr.import-kind-new").count() == 2
    screenshot(page, "excel-import-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "excel-import-preview-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("text=确认导入")
    page.wait_for_selector("text=台账已导入")
    assert Task.objects.filter(plan=plan, number__in=[61, 62]).count() == 2
    screenshot(page, "excel-import-done")
