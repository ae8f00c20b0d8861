"""The accountability group walks a case from clue to public result in the real Chromium;
the publicity group approves the summary. Screenshots at desktop and phone width."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accountability.models import Case, CaseAccessLog, Stage
from accountability.selectors import public_results
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import PDF
from tests.helpers import screenshot

pytestmark = [pytest.mark.browser]


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button.primary")
    page.wait_for_load_state()


def logout(page):
    page.click("form[action$='/logout/'] button")
    page.wait_for_load_state()


def advance(page, expected_stage: str, note: str, document: bool = False):
    form = page.locator("#advance-form")
    assert expected_stage in form.locator("h3").inner_text()
    form.locator("textarea[name=note]").fill(note)
    if document:
        form.locator("input[name=document_title]").fill("核查报告")
        form.locator("input[name=document]").set_input_files(
            {"name": "核查报告.pdf", "mimeType": "application/pdf", "buffer": PDF})
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".stages li.current").inner_text() == expected_stage


def test_case_from_clue_to_public_result(transactional_db, page, live_server, acc_officer, publicity_officer):
    base = live_server.url
    login(page, base, "acc")
    page.click("nav.mainnav >> text=责任追究")
    page.click("a.button:has-text('登记问题')")
    transferred = timezone.localdate() - dt.timedelta(days=40)
    page.fill("input[name=reference]", "移交问题清单第7项")
    page.select_option("select[name=source]", "TRANSFERRED")
    page.fill("input[name=title]", "某县违规审批采矿项目")
    page.fill("textarea[name=problem_text]", "督察发现,某县在未落实生态修复方案的情况下审批采矿项目,整改不力。")
    page.fill("input[name=transferred_on]", transferred.isoformat())
    page.fill("input[name=region]", "昔阳县")
    page.fill("input[name=units]", "晋中市政府、省国土资源厅")
    page.fill("input[name=handling_authority]", "晋中市纪委市监委")
    screenshot(page, "accountability-case-new")
    page.click("form.form button.primary")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("移交问题清单第7项")
    assert page.locator(".stages li.current").inner_text() == "线索交办"
    case = Case.objects.get(reference="移交问题清单第7项")

    advance(page, "问题核查", "成立核查组,调阅审批档案,现场核查。", document=True)
    assert page.locator("ul.docs a", has_text="核查报告").count() == 1

    # a person held accountable, first without a decision: 落实处理意见 must refuse later
    page.click("a.button:has-text('登记被问责人')")
    page.fill("input[name=name]", "王某某")
    page.fill("input[name=position]", "某县副县长")
    page.fill("input[name=unit_name]", "某县人民政府")
    page.click("#person-form button.primary")
    page.wait_for_load_state()
    advance(page, "审核处理建议", "核查报告及处理建议报审。")
    advance(page, "沟通问责情况", "与干部管理机关沟通问责情况。")

    form = page.locator("#advance-form")
    form.locator("textarea[name=note]").fill("处理决定已送达")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "尚未填写职级或处理结果" in page.locator(".flash.error").first.inner_text()
    assert page.locator(".stages li.current").inner_text() == "沟通问责情况"
    screenshot(page, "accountability-refused-undecided-person")

    page.click("td a:has-text('修改')")
    page.select_option("select[name=rank]", "DIVISION")
    page.select_option("select[name=outcome]", "PARTY_WARNING")
    page.fill("input[name=decided_on]", timezone.localdate().isoformat())
    page.fill("input[name=deciding_body]", "晋中市纪委")
    page.click("#person-form button.primary")
    page.wait_for_load_state()
    advance(page, "落实处理意见", "处理决定已送达,存入本人档案。")

    page.click("a.button:has-text('拟定公开摘要')")
    page.fill("textarea[name=summary]", "经调查核实,有关责任人员对违规审批问题负有责任,已依规依纪作出处理。")
    page.check("input[name=released_fields][value=title]")
    page.check("input[name=released_fields][value=outcomes]")
    screenshot(page, "accountability-public-summary")
    page.click("#public-form button.primary")
    page.wait_for_load_state()
    advance(page, "向社会公开", "报宣传报道组审核后公开。")
    assert "待宣传报道组审核" in page.content()
    screenshot(page, "accountability-case-public")
    page.set_viewport_size(PHONE)
    screenshot(page, "accountability-case-public-phone")
    page.set_viewport_size(DESKTOP)
    assert public_results() == []

    page.click("nav.mainnav >> text=责任追究")
    page.select_option("select[name=stage]", "PUBLIC")
    page.click("form.filters button.primary")
    page.wait_for_load_state()
    assert page.locator("table.cases tbody tr").count() == 1
    assert "晋中市昔阳县" in page.locator("table.cases tbody").inner_text()
    screenshot(page, "accountability-case-list")
    page.click("nav.mainnav >> text=访问记录")
    assert page.locator("table tbody tr").count() > 5
    screenshot(page, "accountability-access-log")
    page.click("nav.mainnav >> text=问责统计")
    screenshot(page, "accountability-figures")
    logout(page)

    login(page, base, "pub")
    page.click("nav.mainnav >> text=问责结果公开审核")
    section = page.locator("section.review")
    assert "党内警告" in section.inner_text() and "王某某" not in section.inner_text()
    screenshot(page, "accountability-publicity-review")
    section.locator("textarea[name=note]").fill("同意公开")
    section.locator("button.primary").click()
    page.wait_for_load_state()
    assert "暂无待审核的公开结果" in page.content()
    # and the publicity group cannot open the case itself
    response = page.goto(f"{base}/accountability/{case.pk}/")
    assert response.status == 404
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/accountability/publication/")
    screenshot(page, "accountability-publicity-review-phone")

    [entry] = public_results()
    assert entry["title"] == "某县违规审批采矿项目"
    assert entry["outcomes"] == [{"rank": "处级", "outcome": "党内警告"}]
    assert "person_names" not in entry and "region" not in entry
    case.refresh_from_db()
    assert case.stage == Stage.PUBLIC and case.stage_records.count() == 6
    assert CaseAccessLog.objects.filter(user=publicity_officer, granted=False, case=case).exists()
