"""The unit pickers in a real Chromium (issue 18): the ledger's ~400-unit select gets a search box,
and the accountability case form suggests units from the table and adds a missing one."""

from __future__ import annotations

import pytest

from accountability.models import Case
from tasks.dashboards import snapshot_cache_clear
from tasks.models import Unit
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_ledger_unit_select_narrows_as_one_types(page, live_server, plan, office_user, tmp_path):
    snapshot_cache_clear()
    login(page, live_server.url, office_user.username)
    page.goto(f"{live_server.url}/tasks/")
    select = page.locator("select#id_unit")
    before = select.locator("option").count()
    assert before > 40
    box = page.get_by_role("searchbox", name="输入名称筛选单位")
    box.fill("大同")
    names = select.locator("option").all_inner_texts()
    assert 1 < len(names) < 20 and all("大同" in n for n in names[1:]) and names[0] == "全部"
    box.fill("大同市政府")
    assert select.input_value() == str(Unit.objects.get(name="大同市政府").pk)
    page.screenshot(path=str(tmp_path / "ledger-unit-search.png"), full_page=False)
    page.get_by_role("button", name="筛选", exact=True).click()
    page.wait_for_url("**unit=*")
    assert "大同市政府" in page.locator("select#id_unit option:checked").inner_text()


def test_the_case_form_suggests_units_and_adds_a_city_bureau(page, live_server, plan, acc_officer, tmp_path):
    login(page, live_server.url, acc_officer.username)
    page.goto(f"{live_server.url}/accountability/new/")
    units = page.get_by_label("涉及单位")
    units.fill("省环保厅、太原")
    suggestions = page.locator("datalist#unit-names option").evaluate_all("os => os.map(o => o.value)")
    assert "省环保厅、太原市政府" in suggestions and all(s.startswith("省环保厅、") for s in suggestions)
    page.get_by_label("问题编号").fill("移交-7")
    page.get_by_label("移交的问题原文").fill("太原市环保局违规审批")
    units.fill("省环保厅、太原市环保局")
    page.get_by_role("button", name="登记").click()
    assert "找不到单位:太原市环保局" in page.locator("main").inner_text()
    page.get_by_role("checkbox", name="把单位表中没有的单位加入单位表").check()
    page.screenshot(path=str(tmp_path / "case-form-add-unit.png"), full_page=True)
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/accountability/*/")
    assert set(Case.objects.get(reference="移交-7").units.values_list("name", flat=True)) == {"省环保厅", "太原市环保局"}
