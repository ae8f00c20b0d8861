"""Ledger search in Chinese (issue 18, item 10): queries typed without spaces, report text,
a fixed number of queries on SQLite and PostgreSQL (run this file with DATABASE_URL too)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rectify.search import search_terms
from tasks.dashboards import ledger_states, snapshot_cache_clear
from tasks.models import Task, Unit
from tests.factories import ProgressReportFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def found(user, q: str, as_of: str = "2018-03-01") -> set[int]:
    result = ledger_states(user=user, plan=Task.objects.first().plan, params={"q": q, "as_of": as_of})
    assert not result.form.errors
    return {s.number for s in result.states}


@pytest.mark.parametrize(("typed", "spaced"), [
    ("关闭煤矿", "关闭 煤矿"),  # task 5: 2017年关闭退出煤矿18座
    ("太原市环保局", "太原市 环保局"),
    ("汾河流域水质", "汾河 流域 水质"),
    ("燃煤锅炉淘汰", "燃煤 锅炉 淘汰"),
])
def test_words_typed_without_spaces_find_what_the_spaced_words_find(office_user, plan, typed, spaced):
    assert found(office_user, typed) == found(office_user, spaced)
    assert 5 in found(office_user, "关闭煤矿")
    assert found(office_user, "关闭煤矿 不存在的词") == set()


def test_terms_keep_unknown_names_whole_and_drop_separators():
    assert search_terms("关闭煤矿") == ["关闭", "煤矿"]
    assert search_terms("太原市环保局") == ["太原市", "环保局"]
    assert search_terms("“汾河”流域,PM2.5") == ["汾河", "流域", "PM2.5"]
    assert search_terms("关闭的煤矿") == ["关闭", "煤矿"]  # function words narrow nothing
    assert search_terms("%") == ["%"]  # searched literally (a parameter, never a LIKE pattern)
    assert search_terms("  ") == []
    assert len(search_terms(" ".join(f"词{i}" for i in range(30)))) == 8


def test_report_text_is_searched_as_of_the_day_shown_and_only_in_visible_tasks(
        office_user, coal_liaison, taiyuan_liaison, plan):
    task = Task.objects.get(plan=plan, number=5)
    phrase = "无人机航拍复核井口封闭"
    assert not found(office_user, phrase)
    unit = task.task_units.order_by("position").first().unit
    ProgressReportFactory(task=task, unit=unit, week=dt.date(2018, 2, 5), text=f"经{phrase},已全部到位。",
                          reported_at=dt.datetime(2018, 2, 6, 10, tzinfo=SHANGHAI))
    snapshot_cache_clear()
    assert found(office_user, phrase) == {5}
    assert found(office_user, "航拍复核 井口") == {5}
    assert found(office_user, phrase, as_of="2018-02-05") == set()  # not yet filed that day
    assert found(coal_liaison, phrase) == ({5} if task.task_units.filter(unit=coal_liaison.unit).exists() else set())
    assert not task.task_units.filter(unit=taiyuan_liaison.unit).exists()
    assert found(taiyuan_liaison, phrase) == set()


def test_search_query_count_is_fixed_whatever_the_terms_and_reports(client, office_user, plan,
                                                                    django_assert_num_queries, calendar_read):
    client.force_login(office_user)
    unit = Unit.objects.get(name="省环保厅")
    tasks = list(Task.objects.filter(plan=plan, task_units__unit=unit).distinct()[:20])
    params = {"as_of": "2018-03-01", "q": "关闭煤矿"}
    assert client.get(reverse("tasks:ledger"), params).status_code == 200  # snapshot and page cached
    for grow in (0, 1):
        for task in tasks if grow else []:
            for week in range(3):
                ProgressReportFactory(task=task, unit=unit, week=dt.date(2018, 1, 1) + dt.timedelta(days=7 * week),
                                      text="关闭退出煤矿已拆除")
            snapshot_cache_clear()
        for q in ("关闭煤矿", "关闭退出煤矿已拆除", "太原市环保局燃煤锅炉"):
            client.get(reverse("tasks:ledger"), {**params, "q": q})  # warm the snapshot for this state
            with django_assert_num_queries(6):  # session, user, plan, roles, header unit, the search
                response = client.get(reverse("tasks:ledger"), {**params, "q": q})
            assert response.status_code == 200
    assert found(office_user, "关闭退出煤矿已拆除") >= {t.number for t in tasks}  # the reports were searched


def test_segmenting_only_widens_a_search_every_title_and_unit_still_finds_its_task(office_user, plan):
    """Each term is a piece of the query, so text holding the whole query holds every term."""
    for task in Task.objects.filter(plan=plan).prefetch_related("task_units__unit"):
        assert task.number in found(office_user, task.title[:30]), task.title
        for tu in task.task_units.all():
            assert task.number in found(office_user, tu.unit.name), tu.unit.name


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("关闭退出煤矿太原市环保局的和 ,，、%_PM2.5\x00\u3000") | st.characters(), max_size=40))
def test_every_term_is_a_piece_of_the_query(q):
    terms = search_terms(q)
    assert len(terms) <= 8 and len(set(terms)) == len(terms)
    assert all(term and term in q for term in terms)
