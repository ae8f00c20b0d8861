"""Dashboards: figures against the lights, as-of-a-date from history, scope, bad input, query counts."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tasks.dashboards import (
    AsOfError,
    as_of_parse,
    dashboard_overview,
    last_due_week,
    league_regions,
    league_units,
    ledger_filter,
    snapshot_cache_clear,
    snapshot_get,
)
from tasks.lights import Light, task_is_lagging, task_light
from tasks.models import (
    DeadlineClass,
    Region,
    Task,
    TaskStatus,
    TaskUnit,
    Unit,
)
from tasks.services import TaskUnitSpec, task_create, task_report_progress, task_update
from tests.factories import ProgressReportFactory, TaskChangeFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DASHBOARDS = ["tasks:overview", "tasks:league_units", "tasks:league_regions", "tasks:ledger", "tasks:timeline"]


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Figures agree with tasks/lights.py -------------------------------------------------------


def test_overview_figures_match_the_lights(client, office_user, plan):
    today = dt.date(2018, 3, 1)
    with time_machine.travel(at("2018-03-01"), tick=False):
        tasks = list(Task.objects.filter(plan=plan).prefetch_related("milestones"))
        expected = {light: sum(1 for t in tasks if task_light(t, today) == light) for light in Light.values}
        lagging = sum(1 for t in tasks if task_is_lagging(t, today))
        snapshot = snapshot_get(plan=plan, as_of=today)
        overview = dashboard_overview(states=list(snapshot.states.values()), snapshot=snapshot)
        assert {v: n for v, _label, n in overview.by_light} == expected
        assert overview.total == 60 and overview.lagging == lagging
        assert overview.overdue == expected[Light.RED] > 0
        assert sum(n for _v, _l, n in overview.by_class) == 60
        assert {v: n for v, _l, n in overview.by_class} == {
            DeadlineClass.BY_DEADLINE: 38, DeadlineClass.IMMEDIATE: 6, DeadlineClass.LONG_TERM: 16}
        assert sum(n for _p, _l, n in overview.by_measure) == 60
        client.force_login(office_user)
        page = text_of(client.get(reverse("tasks:overview")))
    assert f"<strong>{expected[Light.RED]}</strong><span>逾期</span>" in page
    assert "<svg" in page and "红黄绿灯预警" in page


# --- As of a date, from the history ----------------------------------------------------------


def test_as_of_rebuilds_status_deadline_and_progress_from_history(client, leader, plan, coal_liaison):
    task = Task.objects.get(plan=plan, number=24)
    coal = coal_liaison.unit
    unit = task.task_units.exclude(role=TaskUnit.Role.SUPPORTING).first().unit
    counted = task.task_units.exclude(role=TaskUnit.Role.SUPPORTING).count()
    extended = Task.objects.get(plan=plan, number=3)
    assert coal is not None
    with time_machine.travel(at("2018-02-01"), tick=False):
        task_report_progress(task=task, unit=unit, author=None, percent=60, text="推进中")
    with time_machine.travel(at("2018-03-10"), tick=False):
        task_update(task=task, actor=leader, status=TaskStatus.CLOSED, closed_on=dt.date(2018, 3, 10),
                    progress=100)
        old = extended.deadline
        task_update(task=extended, actor=leader, original_deadline=old, deadline=dt.date(2019, 6, 30))
    with time_machine.travel(at("2018-04-02"), tick=False):
        before = snapshot_get(plan=plan, as_of=dt.date(2018, 3, 1))
        early = snapshot_get(plan=plan, as_of=dt.date(2018, 1, 20))
        now = snapshot_get(plan=plan, as_of=dt.date(2018, 4, 2))
        assert before.states[task.pk].status == TaskStatus.IN_PROGRESS
        assert before.states[task.pk].progress == round(60 / counted)
        assert early.states[task.pk].progress == 0  # the report's week came later
        assert now.states[task.pk].status == TaskStatus.CLOSED
        assert now.states[task.pk].light == Light.CLOSED
        assert before.states[extended.pk].deadline == old
        assert before.states[extended.pk].original_deadline is None
        assert now.states[extended.pk].deadline == dt.date(2019, 6, 30)
        assert now.states[extended.pk].measured_deadline == old  # on time counts against the original
        # The overview as of the earlier day shows one closed task fewer; the trend agrees.
        o_before = dashboard_overview(states=list(before.states.values()), snapshot=before)
        o_now = dashboard_overview(states=list(now.states.values()), snapshot=now)
        assert o_now.finished == o_before.finished + 1
        assert [c for _w, c, _o, _p in o_now.trend if c >= 0][-1] == o_now.finished
        client.force_login(leader)
        page = text_of(client.get(reverse("tasks:ledger"), {"as_of": "2018-03-01", "status": "CLOSED"}))
        assert "2018年3月1日 当日结束时的台账" in page and "没有符合条件的整改任务" in page
        page = text_of(client.get(reverse("tasks:ledger"), {"status": "CLOSED"}))
        assert task.title in page


@pytest.mark.parametrize(("raw", "message"), [
    ("2017-01-01", "不能早于整改工作开始的日期(2017年7月30日,督察反馈)"),
    ("2999-01-01", "不能晚于今天"),
    ("2018-02-30", "格式不对"),
    ("yesterday", "格式不对"),
    ("'; DROP TABLE tasks_task; --", "格式不对"),
])
def test_bad_as_of_dates_are_refused_in_chinese_on_every_dashboard(client, leader, raw, message):
    client.force_login(leader)
    for name in DASHBOARDS:
        response = client.get(reverse(name), {"as_of": raw})
        assert response.status_code == 200, name
        assert message in response.content.decode(), name
        assert "下面显示的是今天的台账" in response.content.decode(), name


def test_as_of_parse_accepts_the_plan_day_and_today(plan):
    assert as_of_parse("2017-12-19", plan=plan) == dt.date(2017, 12, 19)
    # The history starts with the inspection's feedback (2017-07-30), months before the plan's
    # issue: the trend chart starts there, so "as of" does too (issue 18 item 3).
    assert as_of_parse("2017-12-18", plan=plan) == dt.date(2017, 12, 18)
    assert as_of_parse("2017-07-30", plan=plan) == dt.date(2017, 7, 30)
    with pytest.raises(AsOfError, match="2017年7月30日"):
        as_of_parse("2017-07-29", plan=plan)


def test_the_demo_reads_as_of_a_day_in_its_history_before_the_issue_date(client, db, evidence_storage):
    """Issue 18 item 3: the demo's reports start weeks after the feedback, months before the
    shifted issue date; "as of" a day in between was refused."""
    from rectify.models import User
    from tasks.demo import demo_load

    plan, _ = demo_load(today=dt.date(2026, 12, 1))
    leader = User.objects.get(username="leader")
    day = plan.feedback_on + dt.timedelta(days=30)
    assert day < plan.issued_on and plan.tasks.filter(reports__week__lte=day).exists()
    client.force_login(leader)
    page = client.get(reverse("tasks:ledger"), {"as_of": day.isoformat()}).content.decode()
    assert "不能早于" not in page
    assert f"以下为 {day.year}年{day.month}月{day.day}日 当日结束时的台账" in page


def test_last_due_week_waits_for_the_cutoff():
    # Cut-off is Wednesday 18:00: by the end of Tuesday this week's report is not yet due.
    assert last_due_week(dt.date(2018, 3, 6)) == dt.date(2018, 2, 26)
    assert last_due_week(dt.date(2018, 3, 7)) == dt.date(2018, 3, 5)


# --- What the pages must withstand ------------------------------------------------------------


def test_ledger_withstands_nonsense(client, office_user, plan):
    client.force_login(office_user)
    response = client.get(reverse("tasks:ledger"), {
        "q": "'; DROP TABLE tasks_task; --", "page": str(10**9), "unit": "abc", "status": "zz",
        "light": "purple", "problem": "99999999999999999999", "sort": "1;DELETE", "due": "-1",
        "supervised": "maybe", "region": "../../etc", "measure": "", "as_of": "2018-13-45",
    })
    assert response.status_code == 200
    page = text_of(response)
    assert "以下筛选条件无效,已忽略" in page
    assert "没有符合条件的整改任务" in page  # nobody wrote that phrase in a task
    assert Task.objects.count() == 60
    response = client.get(reverse("tasks:ledger"), {"page": str(10**9)})
    assert response.status_code == 200
    assert "没有这一页,显示的是第 2 页" in text_of(response)
    assert client.get(reverse("tasks:ledger"), {"page": "-3"}).status_code == 200
    assert client.get(reverse("tasks:timeline"), {"page": str(10**9), "light": "x"}).status_code == 200
    assert client.get(reverse("tasks:league_units"), {"sort": "'; DROP"}).status_code == 200
    response = client.get(reverse("tasks:league_regions"), {"region": "'; DROP TABLE"})
    assert response.status_code == 200 and "没有这个行政区划代码" in response.content.decode()


def test_search_is_parameterised_and_finds_chinese_words(client, office_user, plan):
    client.force_login(office_user)
    page = text_of(client.get(reverse("tasks:ledger"), {"q": "焦化"}))
    titles = set(Task.objects.filter(plan=plan).filter(
        title__icontains="焦化").values_list("title", flat=True))
    assert titles and all(t in page for t in titles)
    # A unit's name finds its tasks; two words must both match.
    n_taiyuan = Task.objects.filter(task_units__unit__name__icontains="太原").distinct().count()
    assert f"共 {n_taiyuan} 项任务" in text_of(client.get(reverse("tasks:ledger"), {"q": "太原"}))
    assert "共 0 项任务" in text_of(client.get(reverse("tasks:ledger"), {"q": "焦化 不存在的词"}))
    # LIKE wildcards are searched for literally.
    with_percent = sum(1 for t in Task.objects.filter(plan=plan) if "%" in t.title + t.target + t.actions + t.deadline_text)
    assert f"共 {with_percent} 项任务" in text_of(client.get(reverse("tasks:ledger"), {"q": "%"}))
    assert with_percent < 60


def test_ledger_filters_and_ledger_filter_agree(rf, office_user, plan):
    with time_machine.travel(at("2018-03-01"), tick=False):
        taiyuan = Region.objects.get(name="太原市")
        cases = [
            ({"light": "red"}, lambda s: s.light == Light.RED),
            ({"flag": "lagging"}, lambda s: s.lagging),
            ({"deadline_class": "LONG_TERM"}, lambda s: s.deadline_class == DeadlineClass.LONG_TERM),
            ({"due": "30"}, lambda s: s.due_within(dt.date(2018, 3, 1), 30)),
        ]
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 3, 1))
        for params, predicate in cases:
            tasks, form = ledger_filter(user=office_user, params=params)
            assert not form.errors
            expected = {s.id for s in snapshot.states.values() if predicate(s)}
            assert set(tasks.values_list("pk", flat=True)) == expected, params
            assert expected, params  # each filter picks something in this plan on that day
        tasks, _form = ledger_filter(user=office_user, params={"region": taiyuan.code})
        in_taiyuan = set(Task.objects.filter(
            task_units__unit__region__path__startswith=taiyuan.path,
            task_units__role__in=[TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE]).values_list("pk", flat=True))
        assert set(tasks.values_list("pk", flat=True)) == in_taiyuan and in_taiyuan
        tasks, _form = ledger_filter(user=office_user, params={"sort": "-days", "flag": "overdue"})
        days = [snapshot.states[pk].days_overdue for pk in tasks.values_list("pk", flat=True)]
        assert days == sorted(days, reverse=True) and days


# --- Who sees what ----------------------------------------------------------------------------


def test_liaison_sees_only_their_units_tasks_on_every_dashboard(client, coal_liaison, taiyuan_liaison):
    own = set(Task.objects.filter(task_units__unit=coal_liaison.unit).values_list("number", flat=True))
    client.force_login(coal_liaison)
    page = text_of(client.get(reverse("tasks:ledger")))
    assert f"共 {len(own)} 项任务" in page
    overview = text_of(client.get(reverse("tasks:overview")))
    assert f"<strong>{len(own)}</strong><span>整改任务</span>" in overview
    league = text_of(client.get(reverse("tasks:league_units")))
    assert "省煤炭工业厅" in league and "太原市政府</a>" not in league
    assert client.get(reverse("tasks:unit", args=[taiyuan_liaison.unit.pk])).status_code == 404
    assert client.get(reverse("tasks:unit", args=[coal_liaison.unit.pk])).status_code == 200
    timeline = text_of(client.get(reverse("tasks:timeline")))
    assert f"共 {len(own)} 项任务" in timeline


def test_outsider_sees_nothing_and_anonymous_is_sent_to_login(client, outsider):
    for name in DASHBOARDS:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(outsider)
    assert "共 0 项任务" in text_of(client.get(reverse("tasks:ledger")))
    assert "<strong>0</strong><span>整改任务</span>" in text_of(client.get(reverse("tasks:overview")))
    unit = Unit.objects.get(name="太原市政府")
    assert client.get(reverse("tasks:unit", args=[unit.pk])).status_code == 404


def test_dashboards_are_read_only_for_everyone(client, leader, office_user):
    for user in (leader, office_user):
        client.force_login(user)
        for name in DASHBOARDS:
            assert client.post(reverse(name)).status_code == 405
        unit = Unit.objects.get(name="太原市政府")
        assert client.post(reverse("tasks:unit", args=[unit.pk])).status_code == 405


# --- League tables ----------------------------------------------------------------------------


def test_region_league_rolls_up_the_region_tree(plan, office_user):
    with time_machine.travel(at("2018-03-01"), tick=False):
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 3, 1))
        states = list(snapshot.states.values())
        league = league_regions(states=states, snapshot=snapshot, region_code=None)
    assert league.region[1] == "山西省"
    names = {r.name for r in league.rows}
    assert "山西省本级" in names and "太原市" in names
    taiyuan = next(r for r in league.rows if r.name == "太原市")
    path = Region.objects.get(name="太原市").path
    answering = [TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE]
    expected = Task.objects.filter(task_units__unit__region__path__startswith=path,
                                   task_units__role__in=answering).distinct()
    assert taiyuan.tasks == expected.count()
    assert taiyuan.overdue == sum(1 for pk in expected.values_list("pk", flat=True) if snapshot.states[pk].overdue)
    assert league.total.tasks == 60
    # Drilling into Taiyuan: its counties and its own city units, summing to at least the city row.
    inner = league_regions(states=states, snapshot=snapshot, region_code=Region.objects.get(name="太原市").code)
    assert inner.total.tasks == taiyuan.tasks
    assert inner.ancestors[-1][1] == "太原市"


def test_unit_league_counts_reports_on_time_against_reports_due(plan, coal_liaison):
    coal = coal_liaison.unit
    task = Task.objects.filter(task_units__unit=coal, task_units__role__in=["LEAD", "RESPONSIBLE"]).first()
    with time_machine.travel(at("2018-01-02"), tick=False):  # reporting starts the week after the plan (12-25)
        task_report_progress(task=task, unit=coal, author=coal_liaison, percent=10, text="第一周")
    with time_machine.travel(at("2018-01-12"), tick=False):  # the next week's report, 2 days late
        task_report_progress(task=task, unit=coal, author=coal_liaison, percent=20, text="第二周",
                             week=dt.date(2018, 1, 8))
    with time_machine.travel(at("2018-01-25"), tick=False):
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 1, 25))
        assert snapshot.reports[(task.pk, coal.pk)] == (1, 5)  # weeks of 12-25, 1-1, 1-8, 1-15, 1-22
        rows = league_units(states=list(snapshot.states.values()), snapshot=snapshot, only_unit_id=coal.pk)
    n_tasks = Task.objects.filter(task_units__unit=coal, task_units__role__in=["LEAD", "RESPONSIBLE"]).count()
    assert len(rows) == 1 and rows[0].tasks == n_tasks
    assert rows[0].reports_due == 5 * n_tasks and rows[0].reports_on_time == 1


def test_league_sorts_by_any_column(client, office_user):
    client.force_login(office_user)
    for column in ("tasks", "-closed", "overdue", "-lagging", "compliance", "-days", "name", "-supervised"):
        assert client.get(reverse("tasks:league_units"), {"sort": column}).status_code == 200
    page = client.get(reverse("tasks:league_units"), {"sort": "-tasks"}).content.decode()
    counts = [int(n) for n in re.findall(r'<td class="num"><a href="/tasks/\?unit=\d+">(\d+)</a></td>', page)]
    assert counts == sorted(counts, reverse=True) and len(counts) > 10


# --- Query counts do not grow with the ledger --------------------------------------------------


def _add_tasks_and_reports(plan, n: int) -> None:
    units = list(Unit.objects.filter(name__in=["省环保厅", "太原市政府", "大同市政府"]))
    for i in range(n):
        task = task_create(
            plan=plan, number=100 + i, title=f"新增任务{i}", deadline=dt.date(2018, 6, 30),
            units=[TaskUnitSpec(units[0], TaskUnit.Role.LEAD), TaskUnitSpec(units[1 + i % 2], TaskUnit.Role.RESPONSIBLE)],
        )
        for week in range(4):
            ProgressReportFactory(
                task=task, unit=units[0], week=dt.date(2018, 1, 1) + dt.timedelta(days=7 * week),
                percent=10 * week, text="x", reported_at=at("2018-01-02"),
            )
        TaskChangeFactory(task=task, at=at("2018-01-03"), subject="task", field="status",
                          old=TaskStatus.IN_PROGRESS, new=TaskStatus.IN_PROGRESS)


PINNED = {
    # name: (queries on a cold cache, queries with the snapshot cached)
    "tasks:overview": (15, 5),
    "tasks:league_units": (16, 5),  # + the report counts, only pages showing compliance need them
    "tasks:league_regions": (16, 5),
    "tasks:ledger": (18, 6),
    "tasks:timeline": (15, 5),
}


@pytest.mark.parametrize("name", list(PINNED))
def test_query_counts_are_pinned_and_do_not_grow(client, office_user, plan, name, django_assert_num_queries,
                                                  calendar_read):
    cold, warm = PINNED[name]
    params = {"as_of": "2018-03-01", "q": "环境"} if name == "tasks:ledger" else {"as_of": "2018-03-01"}
    client.force_login(office_user)
    for grow in (0, 40):
        _add_tasks_and_reports(plan, grow)
        snapshot_cache_clear()
        with django_assert_num_queries(cold):
            assert client.get(reverse(name), params).status_code == 200
        with django_assert_num_queries(warm):
            assert client.get(reverse(name), params).status_code == 200


def test_unit_page_query_count_is_pinned(client, office_user, plan, django_assert_num_queries):
    unit = Unit.objects.get(name="省环保厅")
    client.force_login(office_user)
    for grow in (0, 30):
        _add_tasks_and_reports(plan, grow)
        client.get(reverse("tasks:unit", args=[unit.pk]))  # warm the snapshot
        with django_assert_num_queries(7):
            page = client.get(reverse("tasks:unit", args=[unit.pk]))
        assert page.status_code == 200
    assert "新增任务29" in page.content.decode()


def test_a_write_shows_on_the_next_request(client, office_user, plan):
    client.force_login(office_user)
    task = Task.objects.get(plan=plan, number=5)
    before = text_of(client.get(reverse("tasks:ledger"), {"status": "CLOSED"}))
    assert task.title not in before
    task_update(task=task, actor=office_user, status=TaskStatus.CLOSED, closed_on=dt.date(2018, 1, 5))
    after = text_of(client.get(reverse("tasks:ledger"), {"status": "CLOSED"}))
    assert task.title in after


def test_text_in_charts_and_tables_is_escaped(client, office_user, plan):
    task = Task.objects.get(plan=plan, number=7)
    task_update(task=task, actor=office_user, title="<script>alert(1)</script>钢铁")
    client.force_login(office_user)
    for name in ("tasks:timeline", "tasks:ledger"):
        page = client.get(reverse(name)).content.decode()
        assert "<script>alert(1)</script>" not in page, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;钢铁" in page, name
    page = client.get(reverse("tasks:ledger"), {"q": "<b>x</b>"}).content.decode()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_each_overview_figure_links_to_as_many_ledger_rows(office_user, plan):
    with time_machine.travel(at("2018-06-01"), tick=False):
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 6, 1))
        o = dashboard_overview(states=list(snapshot.states.values()), snapshot=snapshot)
        for params, figure in [
            ({"due": "past"}, o.due_by_now), ({"flag": "overdue"}, o.overdue), ({"flag": "lagging"}, o.lagging),
            ({"due": "7"}, o.due_7), ({"due": "30"}, o.due_30), ({"flag": "finished"}, o.finished),
            ({"supervised": "1"}, o.supervised), ({}, o.total),
        ]:
            tasks, _form = ledger_filter(user=office_user, params=params)
            assert tasks.count() == figure, params


def test_league_figures_link_to_as_many_ledger_rows(office_user, plan):
    with time_machine.travel(at("2018-06-01"), tick=False):
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 6, 1))
        states = list(snapshot.states.values())
        league = league_regions(states=states, snapshot=snapshot, region_code=None)
        for row in league.rows:
            params = {"region": row.region_code} if row.region_code else {"region": league.region[0], "own": "1"}
            for flag, figure in (("", row.tasks), ("overdue", row.overdue), ("lagging", row.lagging),
                                 ("finished", row.closed)):
                tasks, form = ledger_filter(user=office_user, params={**params, "flag": flag})
                assert not form.errors and tasks.count() == figure, (row.name, flag)
        for row in league_units(states=states, snapshot=snapshot)[:15]:
            tasks, _form = ledger_filter(user=office_user, params={"unit": row.key, "flag": "overdue"})
            assert tasks.count() == row.overdue, row.name


def test_liaisons_with_the_same_tasks_never_see_each_others_league_row(client, coal_liaison, plan):
    from django.contrib.auth.models import Group

    from rectify.models import User

    coal = coal_liaison.unit
    twin = Unit.objects.create(code="sx-twin", name="省煤炭工业厅驻厅组", kind=Unit.Kind.OTHER, region=coal.region)
    for tu in TaskUnit.objects.filter(unit=coal):
        TaskUnit.objects.create(task=tu.task, unit=twin, role=TaskUnit.Role.RESPONSIBLE, position=99)
    other = User.objects.create_user(username="twin", password="pw-for-tests", unit=twin)
    other.groups.add(Group.objects.get(name="liaison"))
    client.force_login(coal_liaison)
    first = client.get(reverse("tasks:league_units")).content.decode()
    client.force_login(other)
    second = client.get(reverse("tasks:league_units")).content.decode()
    assert f"/tasks/units/{coal.pk}/" in first and f"/tasks/units/{twin.pk}/" not in first
    assert f"/tasks/units/{twin.pk}/" in second and f"/tasks/units/{coal.pk}/" not in second
