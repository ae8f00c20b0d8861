"""Figures for the bulletin and the dashboard, read back from the stage trail; pages that
list things keep a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accountability.models import CaseSource, Outcome, PublicField, Rank, Stage
from accountability.selectors import bulletin_figures
from accountability.services import (
    case_advance,
    case_create,
    case_return,
    person_save,
    public_result_approve,
    public_result_prepare,
)
from tasks.models import Region, Unit
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)

pytestmark = pytest.mark.django_db

D = dt.date(2018, 1, 10)


def make_case(officer, n, region_name=None, on=D):
    region = Region.objects.get(name=region_name) if region_name else None
    return case_create(actor=officer, reference=f"R-{n}", source=CaseSource.TRANSFERRED, title=f"问题{n}",
                       problem_text="督察发现的问题", transferred_on=on, region=region,
                       units=[Unit.objects.get(name="晋中市政府")])


def decide(case, officer, name, rank, outcome, on):
    person_save(case=case, actor=officer, name=name, position="职务", rank=rank, unit_name="某单位",
                outcome=outcome, decided_on=on, deciding_body="纪委")


@override_settings(RECTIFY_ACCOUNTABILITY_STAGE_DAYS=30)
def test_bulletin_figures(acc_officer, publicity_officer):
    a = make_case(acc_officer, 1, "昔阳县")          # county of 晋中 → 晋中市
    b = make_case(acc_officer, 2, "晋中市")
    c = make_case(acc_officer, 3, "太原市", on=dt.date(2018, 3, 1))
    make_case(acc_officer, 4, None)                 # no region: counted, not placed
    make_case(acc_officer, 5, "山西省")              # province level → 省直
    case_advance(case=a, actor=acc_officer, to_stage=Stage.VERIFICATION, on=dt.date(2018, 1, 20))
    case_advance(case=a, actor=acc_officer, to_stage=Stage.PROPOSAL_REVIEW, on=dt.date(2018, 2, 20))
    case_advance(case=b, actor=acc_officer, to_stage=Stage.VERIFICATION, on=dt.date(2018, 1, 15))
    case_return(case=b, actor=acc_officer, to_stage=Stage.CLUE, on=dt.date(2018, 2, 25), reason="重新交办")
    decide(a, acc_officer, "甲", Rank.BUREAU, Outcome.REMOVAL, dt.date(2018, 2, 10))
    decide(a, acc_officer, "乙", Rank.SECTION, Outcome.PARTY_WARNING, dt.date(2018, 4, 1))
    person_save(case=c, actor=acc_officer, name="丙", position="职务", unit_name="某单位")  # not yet decided
    for stage in (Stage.COMMUNICATION, Stage.EXECUTION):
        case_advance(case=a, actor=acc_officer, to_stage=stage, on=dt.date(2018, 4, 2))
    public_result_prepare(case=a, actor=acc_officer, summary="已处理。", released_fields=[PublicField.TITLE])
    case_advance(case=a, actor=acc_officer, to_stage=Stage.PUBLIC, on=dt.date(2018, 4, 3))
    public_result_approve(result=a.public_result, actor=publicity_officer)

    now = bulletin_figures()
    stages = {code: n for code, _, n in now.cases_by_stage}
    assert now.cases_total == 5
    assert stages == {"CLUE": 4, "VERIFICATION": 0, "PROPOSAL_REVIEW": 0, "COMMUNICATION": 0,
                      "EXECUTION": 0, "PUBLIC": 1}
    assert now.persons_total == 3
    assert {c: n for c, _, n in now.persons_by_rank} == {"BUREAU": 1, "DIVISION": 0, "SECTION": 1, "OTHER": 0, "": 1}
    outcomes = {c: n for c, _, n in now.persons_by_outcome}
    assert outcomes["REMOVAL"] == 1 and outcomes["PARTY_WARNING"] == 1 and sum(outcomes.values()) == 2
    regions = {c: n for c, _, n in now.cases_by_region}
    assert regions["140700"] == 2 and regions["140100"] == 1 and regions["province"] == 1
    assert sum(regions.values()) == 4 and len(regions) == 12
    assert now.overdue_total == 4 and now.published_total == 1  # every open stage began in 2018
    assert now.as_dict()["cases_by_stage"]["PUBLIC"] == 1

    # As the register stood on 2018-02-21: c not yet transferred, b at verification, a at review.
    then = bulletin_figures(as_of=dt.date(2018, 2, 21))
    stages = {code: n for code, _, n in then.cases_by_stage}
    assert then.cases_total == 4
    assert stages["CLUE"] == 2 and stages["VERIFICATION"] == 1 and stages["PROPOSAL_REVIEW"] == 1
    overdue = {code: n for code, _, n in then.overdue_by_stage}
    # b entered 问题核查 on 01-15 (37 days), 4 and 5 sit at 线索交办 since 01-10; a is 1 day in.
    assert overdue == {"CLUE": 2, "VERIFICATION": 1, "PROPOSAL_REVIEW": 0, "COMMUNICATION": 0, "EXECUTION": 0}
    assert then.published_total == 0


def test_figures_count_in_a_fixed_number_of_queries(acc_officer, django_assert_num_queries):
    for i in range(3):
        make_case(acc_officer, i, "太原市")
    with django_assert_num_queries(5):
        bulletin_figures()
    for i in range(3, 12):
        c = make_case(acc_officer, i, "昔阳县")
        decide(c, acc_officer, f"人{i}", Rank.DIVISION, Outcome.ADMIN_WARNING, D)
    with django_assert_num_queries(5):
        bulletin_figures()


@pytest.mark.parametrize(("who", "status"), [
    ("leader", 200), ("office_user", 200), ("office_head", 200), ("acc_officer", 200),
    ("coal_liaison", 404), ("publicity_officer", 404), ("outsider", 404),
])
def test_aggregates_page_for_leaders_without_names(request, client, acc_officer, who, status):
    c = make_case(acc_officer, 1, "昔阳县")
    decide(c, acc_officer, "欧阳某某", Rank.DIVISION, Outcome.ADMIN_WARNING, D)
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("accountability:figures"))
    assert response.status_code == status
    text = response.content.decode()
    assert "欧阳某某" not in text and "R-1" not in text
    if status == 200:
        assert "政务警告" in text and "晋中市" in text


def test_aggregates_page_as_of_a_date(client, acc_officer, leader):
    make_case(acc_officer, 1, "昔阳县", on=dt.date(2018, 3, 1))
    client.force_login(leader)
    response = client.get(reverse("accountability:figures"), {"as_of": "2018-02-01"})
    assert response.context["f"].cases_total == 0
    response = client.get(reverse("accountability:figures"), {"as_of": "not-a-date"})
    assert response.context["f"].as_of == timezone.localdate() and "日期格式" in response.content.decode()


def _pages(client, acc_officer, n):
    for i in range(n):
        c = make_case(acc_officer, 100 + i + n * 1000, "昔阳县")
        decide(c, acc_officer, f"人{i}", Rank.DIVISION, Outcome.ADMIN_WARNING, D)
        client.get(reverse("accountability:detail", args=[c.pk]))


@pytest.mark.parametrize("url_name", ["accountability:list", "accountability:log", "accountability:figures"])
def test_list_pages_do_not_grow_with_rows(client, acc_officer, url_name):
    client.force_login(acc_officer)
    _pages(client, acc_officer, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    _pages(client, acc_officer, 8)
    with CaptureQueriesContext(connection) as big:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(big) == len(small)


def test_case_list_query_count_is_pinned(client, acc_officer, django_assert_num_queries):
    client.force_login(acc_officer)
    _pages(client, acc_officer, 6)
    # session, user, roles, cities (filter), cases with person counts, their units, the top bar's unit
    with django_assert_num_queries(7):
        client.get(reverse("accountability:list"))


def test_review_queue_does_not_grow(client, acc_officer, publicity_officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def public_case(n):
        c = make_case(acc_officer, 500 + n, "昔阳县")
        decide(c, acc_officer, f"人{n}", Rank.DIVISION, Outcome.ADMIN_WARNING, D)
        for s in list(Stage)[1:5]:
            case_advance(case=c, actor=acc_officer, to_stage=s, on=D)
        public_result_prepare(case=c, actor=acc_officer, summary="已处理。", released_fields=list(PublicField))
        case_advance(case=c, actor=acc_officer, to_stage=Stage.PUBLIC, on=D)

    client.force_login(publicity_officer)
    public_case(1)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("accountability:review_list"))
    for n in range(2, 7):
        public_case(n)
    with CaptureQueriesContext(connection) as big:
        response = client.get(reverse("accountability:review_list"))
    assert response.content.decode().count("批准公开") == 6
    assert len(big) == len(small)
