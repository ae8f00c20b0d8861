"""The Shanxi plan as data: 60 tasks decomposed from the 20 measures."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from rectify.roles import roles_ensure
from tasks.models import DeadlineClass, Measure, Plan, Problem, Region, Task, TaskUnit, Unit
from tasks.plan_loading import plan_load
from tests.plan_replay import _replayed_models

pytestmark = pytest.mark.django_db


def test_exactly_sixty_tasks_each_with_one_lead_and_a_class(plan):
    tasks = list(plan.tasks.prefetch_related("task_units"))
    assert len(tasks) == 60
    assert [t.number for t in tasks] == list(range(1, 61))
    for task in tasks:
        leads = [tu for tu in task.task_units.all() if tu.role == TaskUnit.Role.LEAD]
        assert len(leads) == 1, task
        assert task.deadline_class in DeadlineClass.values
        assert task.deadline_text, task
        if task.deadline_class != DeadlineClass.LONG_TERM:
            assert task.deadline is not None, task
        assert task.measure is not None and task.problem_id == task.measure.problem_id


def test_every_measure_has_a_task_and_the_sections_are_the_plans(plan):
    assert Measure.objects.filter(plan=plan).count() == 20
    assert not Measure.objects.filter(plan=plan, tasks__isnull=True).exists()
    assert Problem.objects.filter(plan=plan).count() == 6
    assert Problem.objects.filter(plan=plan, kind=Problem.Kind.FEEDBACK).count() == 4
    assert Measure.objects.get(plan=plan, number=9).heading == "坚决打赢蓝天保卫战"


def test_deadlines_the_text_gives(plan):
    def task_with(words):
        return [t for t in plan.tasks.all() if words in t.title + t.target + t.actions]

    coal_free = task_with("禁煤区")
    assert coal_free and all(t.deadline.isoformat() == "2017-10-31" for t in coal_free)
    red_line = task_with("生态保护红线")
    assert any(t.deadline and t.deadline.isoformat() == "2018-12-31" for t in red_line)
    yellow = task_with("黄标车")
    assert yellow and yellow[0].deadline_text == "年内" and yellow[0].deadline.isoformat() == "2017-12-31"
    assert plan.tasks.filter(deadline_class=DeadlineClass.IMMEDIATE).exists()
    assert plan.tasks.filter(deadline_class=DeadlineClass.LONG_TERM, deadline__isnull=True).exists()


def test_region_tree_and_units(plan):
    province = Region.objects.get(level=Region.Level.PROVINCE)
    cities = Region.objects.filter(level=Region.Level.CITY)
    assert province.name == "山西省"
    assert sorted(c.name for c in cities) == sorted(
        ["太原市", "大同市", "朔州市", "忻州市", "阳泉市", "吕梁市", "晋中市", "长治市", "晋城市", "临汾市", "运城市"]
    )
    assert Region.objects.filter(level=Region.Level.COUNTY).count() >= 110
    county = Region.objects.get(name="昔阳县")
    assert county.parent.name == "晋中市" and county.path.startswith(province.path)
    assert Unit.objects.get(name="昔阳县政府").kind == Unit.Kind.GOVERNMENT
    assert Unit.objects.get(name="太原市委").kind == Unit.Kind.PARTY_COMMITTEE
    for name in ["省发展改革委", "省经信委", "省国土资源厅", "省住房城乡建设厅", "省交通运输厅", "省水利厅",
                 "省农业厅", "省煤炭工业厅", "省环保厅", "省林业厅"]:
        assert Unit.objects.filter(name=name, kind=Unit.Kind.PROVINCIAL_DEPARTMENT).exists(), name


def test_loading_twice_changes_nothing(plan, plan_data):
    again, created = plan_load(data=plan_data)
    assert not created and again == plan
    assert Task.objects.count() == 60



def _ledger_rows(since: dt.datetime, *, ids: bool) -> dict:
    """Every row of every table the plan fixture fills; times from `since` on read "NOW";
    without `ids`, the primary and foreign keys are left out."""
    def value(v):
        return "NOW" if isinstance(v, dt.datetime) and v >= since else v

    rows = {}
    for model in _replayed_models():
        cols = [f.attname for f in model._meta.concrete_fields if ids or not (f.primary_key or f.is_relation)]
        rows[model._meta.label] = [tuple(map(value, row))
                                   for row in model._base_manager.order_by("pk").values_list(*cols)]
    return rows


def test_the_replayed_plan_is_what_plan_load_writes(db, plan_snapshot, plan_data):
    """The `plan` fixture replays the session's snapshot (tests/plan_replay.py); a real load
    gives the same rows, times taken from the clock at the time of the replay, and the next
    task created does not collide. On SQLite the ids are the same too; on PostgreSQL a real load
    now takes new ids (sequences do not go back on a rollback), so there the keys are left out."""
    same_ids = connection.vendor == "sqlite"

    def state_after(load) -> tuple[dict, int]:
        with transaction.atomic():
            since = timezone.now()
            roles_ensure()
            load()
            rows = _ledger_rows(since, ids=same_ids)
            task = Task.objects.create(plan=Plan.objects.get(), number=999, title="新", deadline=dt.date(2018, 12, 31))
            transaction.set_rollback(True)
        return rows, task.pk

    loaded_rows, loaded_next_id = state_after(lambda: plan_load(data=plan_data))
    replayed_rows, replayed_next_id = state_after(plan_snapshot.replay)
    assert sum(len(r) for r in loaded_rows.values()) > 1000
    assert replayed_rows == loaded_rows
    assert replayed_next_id > plan_snapshot.replay_max_pk(Task)
    if same_ids:
        assert replayed_next_id == loaded_next_id
