"""What the ledger must withstand: each bad write is refused in Chinese and changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tasks.models import DeadlineClass, Milestone, Task, TaskChange, TaskUnit, Unit
from tasks.services import (
    MilestoneSpec,
    StaleEditError,
    TaskUnitSpec,
    milestone_save,
    task_create,
    task_set_units,
    task_update,
)

pytestmark = pytest.mark.django_db


def units(*names_roles):
    return [TaskUnitSpec(Unit.objects.get(name=n), r, f"{n}负责人") for n, r in names_roles]


LEAD, RESP = TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE


def snapshot():
    return (Task.objects.count(), TaskUnit.objects.count(), Milestone.objects.count(), TaskChange.objects.count())


def create(plan, **overrides):
    kwargs = dict(
        plan=plan, number=61, title="测试任务", deadline=dt.date(2018, 6, 30),
        deadline_text="2018年6月底前", deadline_class=DeadlineClass.BY_DEADLINE,
        units=units(("省环保厅", LEAD), ("太原市政府", RESP)),
    )
    kwargs.update(overrides)
    return task_create(**kwargs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"units": units.__call__}, None),  # placeholder replaced below
    ][:0]
    + [
        ({"units": "no-lead"}, "必须有一个牵头单位"),
        ({"units": "two-leads"}, "只能有一个牵头单位"),
        ({"units": "twice"}, "只能出现一次"),
        ({"deadline": None}, "限期整改的任务必须有整改时限日期"),
        ({"milestones": "late"}, "晚于整改时限"),
        ({"number": 1}, "已有序号为1的任务"),
    ],
)
def test_bad_task_is_refused_and_nothing_written(plan, overrides, message):
    resolved = dict(overrides)
    if resolved.get("units") == "no-lead":
        resolved["units"] = units(("省环保厅", RESP))
    elif resolved.get("units") == "two-leads":
        resolved["units"] = units(("省环保厅", LEAD), ("省水利厅", LEAD))
    elif resolved.get("units") == "twice":
        resolved["units"] = units(("省环保厅", LEAD), ("省环保厅", RESP))
    if resolved.get("milestones") == "late":
        resolved["milestones"] = [MilestoneSpec("验收", dt.date(2018, 7, 31))]
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        create(plan, **resolved)
    assert message in " ".join(info.value.messages)
    assert snapshot() == before


def test_good_task_is_created_with_its_history(plan, office_user):
    task = create(plan, actor=office_user, milestones=[MilestoneSpec("方案", dt.date(2018, 3, 1))])
    assert task.task_units.get(role=LEAD).unit.name == "省环保厅"
    assert task.changes.filter(field="created", actor=office_user).exists()


def test_database_itself_refuses_two_leads_and_duplicate_units(plan):
    task = plan.tasks.get(number=1)
    other = Unit.objects.exclude(task_units__task=task).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskUnit.objects.create(task=task, unit=other, role=LEAD)
    existing = task.task_units.first().unit
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskUnit.objects.create(task=task, unit=existing, role=RESP)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(plan=plan, number=1, title="重号")
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(plan=plan, number=99, title="无日期", deadline_class=DeadlineClass.BY_DEADLINE)


def test_update_records_each_field_and_refuses_stale_versions(plan, office_user):
    task = plan.tasks.get(number=1)
    version = task.version
    updated = task_update(task=task, actor=office_user, expected_version=version,
                          title="新标题", leading_official="常务副省长")
    assert updated.version == version + 1
    fields = set(updated.changes.filter(actor=office_user).values_list("field", flat=True))
    assert {"title", "leading_official"} <= fields
    with pytest.raises(StaleEditError, match="已被他人修改"):
        task_update(task=task, actor=office_user, expected_version=version, title="旧页面提交")
    assert Task.objects.get(pk=task.pk).title == "新标题"


def test_moving_deadline_before_a_milestone_is_refused(plan, office_user):
    task = plan.tasks.filter(deadline_class=DeadlineClass.BY_DEADLINE, milestones__isnull=False).first()
    latest = task.milestones.order_by("-due_on").first()
    with pytest.raises(ValidationError, match="晚于整改时限"):
        task_update(task=task, actor=office_user, deadline=latest.due_on - dt.timedelta(days=1))
    assert Task.objects.get(pk=task.pk).deadline == task.deadline


def test_unit_changes_are_in_the_history(plan, office_user):
    task = plan.tasks.get(number=1)
    lead = task.task_units.get(role=LEAD)
    specs = [TaskUnitSpec(lead.unit, LEAD, "新责任人"), TaskUnitSpec(Unit.objects.get(name="大同市政府"), RESP)]
    task_set_units(task=task, units=specs, actor=office_user)
    rows = task.changes.filter(subject="units")
    assert rows.filter(field="unit:140200-gov", old="").exists()
    assert rows.filter(field=f"unit:{lead.unit.code}", new__contains="新责任人").exists()
    with pytest.raises(ValidationError):
        task_set_units(task=task, units=specs[1:], actor=office_user)  # no lead left
    assert task.task_units.count() == 2


def test_milestone_after_deadline_refused(plan, office_user):
    task = plan.tasks.filter(deadline__isnull=False).first()
    with pytest.raises(ValidationError, match="节点日期不能晚于"):
        milestone_save(task=task, actor=office_user, title="太晚", due_on=task.deadline + dt.timedelta(days=1))


def test_reopen_by_look_back(plan, office_user):
    from tasks.models import TaskStatus
    from tasks.services import task_reopen

    task = plan.tasks.get(number=2)
    with pytest.raises(ValidationError, match="只有已销号"):
        task_reopen(task=task, actor=office_user, reason="复查")
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 1, 5))
    with pytest.raises(ValidationError, match="必须说明原因"):
        task_reopen(task=task, actor=office_user, reason=" ")
    reopened = task_reopen(task=task, actor=office_user, reason="现场发现问题反弹")
    assert reopened.status == TaskStatus.IN_PROGRESS and reopened.closed_on is None
    assert reopened.changes.filter(field="status", note__contains="问题反弹").exists()
