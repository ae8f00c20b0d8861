import datetime as dt

import pytest
from django.core.management import call_command

from rectify.models import User
from rectify.roles import Role
from tasks.demo import DEMO_USERS, demo_load
from tasks.lights import Light, task_light
from tasks.models import ProgressReport, Task, TaskChange, TaskStatus

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 27)


def test_demo_loads_once_with_a_realistic_mix():
    plan, created = demo_load(today=TODAY)
    assert created
    assert plan.feedback_on.year * 12 + plan.feedback_on.month == TODAY.year * 12 + TODAY.month - 6
    # Dated wording follows the shifted dates: never "2017年底前" next to a 2026 date.
    for task in plan.tasks.exclude(deadline=None).filter(deadline_class="BY_DEADLINE"):
        assert str(task.deadline.year) in task.deadline_text, task
    tasks = list(plan.tasks.prefetch_related("milestones"))
    lights = {task_light(t, TODAY) for t in tasks}
    assert {Light.RED, Light.GREEN, Light.CLOSED} <= lights
    assert any(task_light(t, TODAY) == Light.YELLOW for t in tasks)
    assert ProgressReport.objects.count() > 1000
    assert ProgressReport.objects.filter(is_late=True).exists()
    assert TaskChange.objects.filter(field="status", new=TaskStatus.CLOSED).exists()
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert user.check_password("rectify-demo")
        assert user.has_role(*spec.roles)
    assert User.objects.get(username="liaison-taiyuan").unit.name == "太原市政府"

    counts = (Task.objects.count(), ProgressReport.objects.count(), User.objects.count())
    _, again = demo_load(today=TODAY)
    assert not again
    assert (Task.objects.count(), ProgressReport.objects.count(), User.objects.count()) == counts


def test_demo_text_keeps_no_stale_year_after_the_date_shift():
    """Issue 18 item 8: "2017年关闭退出煤矿…" stood next to a 2026 deadline."""
    import re

    from tasks.models import Measure, Milestone

    plan, _ = demo_load(today=TODAY)
    texts = [t for task in plan.tasks.all() for t in (task.title, task.target, task.actions, task.deadline_text)]
    texts += [t for m in Measure.objects.filter(plan=plan) for t in (m.heading, m.text)]
    texts += list(Milestone.objects.filter(task__plan=plan).values_list("title", flat=True))
    stale = [t for t in texts if re.search(r"201[7-9]年", t)]
    assert not stale, stale[:3]
    coal = plan.tasks.get(title__contains="关闭退出煤矿18座")
    assert coal.title.startswith(f"{plan.issued_on.year}年关闭退出煤矿") and coal.deadline.year == plan.issued_on.year


def test_demo_text_shift_moves_each_form_of_date():
    from tasks.plan_loading import demo_text_shift

    issued = dt.date(2017, 12, 19)
    assert demo_text_shift("2017年关闭退出煤矿18座;2018年度任务", shift_months=107, issued=issued) == \
        "2026年关闭退出煤矿18座;2027年度任务"
    assert demo_text_shift("2017年10月底前完成,2017年底实现", shift_months=107, issued=issued) == \
        "2026年9月底前完成,2026年11月底实现"
    assert demo_text_shift("2018年1月31日前", shift_months=1, issued=issued) == "2018年2月28日前"
    assert demo_text_shift("2017年底前", shift_months=0, issued=issued) == "2017年底前"


def test_historical_flag_keeps_2017_dates(capsys):
    call_command("load_demo", "--historical")
    task = Task.objects.get(number=1, plan__code="shanxi-2017")
    assert task.plan.issued_on == dt.date(2017, 12, 19)
    assert "liaison-coal" in capsys.readouterr().out
    assert User.objects.filter(groups__name=Role.OFFICE).exists()
