"""Cases may name units the plan's table lacks (issue 18 item 9, "找不到单位:太原市环保局"): pick
from the table (suggested as one types) or add the unit with its region, through a service,
only by the accountability group, recorded in the units' history; nothing half-written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accountability.models import Case
from accountability.services import NewUnit, case_units_add
from rectify.models import AdminChange
from tasks.models import Region, Unit
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)

pytestmark = pytest.mark.django_db


def new_case(**extra):
    return {"reference": "移交-9", "source": "TRANSFERRED", "title": "", "problem_text": "违规审批",
            "transferred_on": "2018-01-05", "region": "太原市", "units": "省环保厅、太原市环保局",
            "task_numbers": "", "handling_authority": "", **extra}


def test_an_unknown_unit_is_explained_and_nothing_is_written(client, plan, acc_officer):
    client.force_login(acc_officer)
    units = Unit.objects.count()
    response = client.post(reverse("accountability:new"), new_case())
    text = response.content.decode()
    assert response.status_code == 400
    assert "找不到单位:太原市环保局" in text and "把单位表中没有的单位加入单位表" in text
    assert not Case.objects.exists() and Unit.objects.count() == units


def test_a_city_bureau_is_added_with_the_region_its_name_starts_with(client, plan, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:new"), new_case(add_units="on"))
    assert response.status_code == 302
    case = Case.objects.get(reference="移交-9")
    bureau = Unit.objects.get(name="太原市环保局")
    assert bureau.region == Region.objects.get(name="太原市", level=Region.Level.CITY)
    assert set(case.units.values_list("name", flat=True)) == {"省环保厅", "太原市环保局"}
    history = AdminChange.objects.filter(model="tasks.Unit", object_id=str(bureau.pk))
    assert {(h.action, h.field, h.new) for h in history} >= {
        ("CREATED", "name", "太原市环保局"), ("CREATED", "region", "太原市")}
    assert history.first().actor == acc_officer
    # Named again later, it is simply found in the table.
    response = client.post(reverse("accountability:new"), new_case(reference="移交-10", units="太原市环保局"))
    assert response.status_code == 302 and Unit.objects.filter(name="太原市环保局").count() == 1


def test_a_unit_whose_name_names_no_region_needs_one(client, plan, acc_officer):
    client.force_login(acc_officer)
    units = Unit.objects.count()
    response = client.post(reverse("accountability:new"), new_case(units="省煤监局某处", add_units="on"))
    assert response.status_code == 400 and "请填写“省煤监局某处”所属的行政区" in response.content.decode()
    assert Unit.objects.count() == units and not Case.objects.exists()
    response = client.post(reverse("accountability:new"), new_case(
        units="省煤监局某处", add_units="on", new_units_region="不存在的县"))
    assert response.status_code == 400 and "找不到行政区“不存在的县”" in response.content.decode()
    response = client.post(reverse("accountability:new"), new_case(
        units="省煤监局某处", add_units="on", new_units_region="晋中市昔阳县"))
    assert response.status_code == 302
    assert Unit.objects.get(name="省煤监局某处").region.name == "昔阳县"


def test_correcting_a_case_may_add_a_unit_too(client, plan, acc_officer):
    client.force_login(acc_officer)
    assert client.post(reverse("accountability:new"), new_case(units="省环保厅")).status_code == 302
    case = Case.objects.get(reference="移交-9")
    response = client.post(reverse("accountability:edit", args=[case.pk]), {
        "title": "更正", "problem_text": "更正原文", "region": "", "units": "晋中市昔阳县环保局",
        "task_numbers": "", "handling_authority": "", "version": case.version, "add_units": "on"})
    assert response.status_code == 302
    assert case.units.get().region.name == "昔阳县"


def test_only_the_accountability_group_adds_units(client, plan, office_user, coal_liaison, leader, acc_officer):
    taiyuan = Region.objects.get(name="太原市", level=Region.Level.CITY)
    for actor in (office_user, coal_liaison, leader, None):
        with pytest.raises(ValidationError, match="只有责任追究组成员"):
            case_units_add(actor=actor, new_units=[NewUnit("太原市环保局", taiyuan)])
    assert not Unit.objects.filter(name="太原市环保局").exists()
    for user in (office_user, coal_liaison, leader):
        client.force_login(user)
        assert client.post(reverse("accountability:new"), new_case(add_units="on")).status_code in (403, 404)
    assert not Unit.objects.filter(name="太原市环保局").exists()
    with pytest.raises(ValidationError, match="已在单位表中"):
        case_units_add(actor=acc_officer, new_units=[NewUnit("省环保厅", taiyuan)])


def test_the_case_form_suggests_units_from_the_table(client, plan, acc_officer):
    client.force_login(acc_officer)
    page = client.get(reverse("accountability:new")).content.decode()
    assert 'list="unit-names"' in page and '<datalist id="unit-names">' in page
    assert '<option value="太原市政府">' in page and "rectify/pick.js" in page


def test_the_long_unit_selects_get_a_search_box(client, plan, office_user):
    """The ledger's, the timeline's and the supervision form's unit selects carry data-search and
    the script that reads it (rectify/static/rectify/pick.js; tests/tasks/test_pickers_browser.py
    types into it)."""
    client.force_login(office_user)
    for name in ("tasks:ledger", "tasks:timeline", "tasks:supervision_new"):
        page = client.get(reverse(name)).content.decode()
        select = page.split('name="unit"', 1)[1].split(">", 1)[0]
        assert 'data-search="输入名称筛选单位"' in select, name
        assert "rectify/pick.js" in page, name
    from django.contrib.staticfiles import finders

    assert finders.find("rectify/pick.js")  # served by the app, no CDN
