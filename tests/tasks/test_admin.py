"""The office keeps the ledger in the admin; its writes go through the services."""

import pytest
from django.urls import reverse

from tasks.models import Task, TaskChange, TaskUnit, Unit

pytestmark = pytest.mark.django_db


def formset_data(task=None, units=(), milestones=()):
    data = {
        "task_units-TOTAL_FORMS": str(len(units)), "task_units-INITIAL_FORMS": "0",
        "task_units-MIN_NUM_FORMS": "1", "task_units-MAX_NUM_FORMS": "1000",
        "milestones-TOTAL_FORMS": str(len(milestones)), "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0", "milestones-MAX_NUM_FORMS": "1000",
    }
    for i, (unit, role) in enumerate(units):
        data.update({f"task_units-{i}-unit": str(unit.pk), f"task_units-{i}-role": role,
                     f"task_units-{i}-responsible_person": "责任人"})
    for i, (title, due) in enumerate(milestones):
        data.update({f"milestones-{i}-title": title, f"milestones-{i}-due_on": due})
    return data


def new_task(plan, **extra):
    data = {"plan": str(plan.pk), "number": "61", "title": "新增任务", "deadline_text": "2018年6月底前",
            "deadline": "2018-06-30", "deadline_class": "BY_DEADLINE", "status": "IN_PROGRESS",
            "target": "", "actions": "", "leading_official": ""}
    data.update(extra)
    return data


def test_office_adds_a_task_with_units_and_milestones(client, plan, office_user):
    client.force_login(office_user)
    env, ty = Unit.objects.get(name="省环保厅"), Unit.objects.get(name="太原市政府")
    data = new_task(plan) | formset_data(units=[(env, "LEAD"), (ty, "RESPONSIBLE")],
                                        milestones=[("方案印发", "2018-03-31")])
    response = client.post(reverse("admin:tasks_task_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Task.objects.get(plan=plan, number=61)
    assert task.task_units.get(role="LEAD").unit == env
    assert task.milestones.count() == 1
    assert TaskChange.objects.filter(task=task, field="created", actor=office_user).exists()


@pytest.mark.parametrize(
    ("units", "milestones", "message"),
    [
        ("two-leads", [], "只能有一个牵头单位"),
        ("no-lead", [], "必须有一个牵头单位"),
        ("ok", [("太晚", "2018-07-31")], "节点日期不能晚于"),
    ],
)
def test_admin_refuses_bad_tasks_in_chinese(client, plan, office_user, units, milestones, message):
    client.force_login(office_user)
    env, ty = Unit.objects.get(name="省环保厅"), Unit.objects.get(name="太原市政府")
    unit_rows = {"two-leads": [(env, "LEAD"), (ty, "LEAD")], "no-lead": [(env, "RESPONSIBLE")],
                 "ok": [(env, "LEAD")]}[units]
    before = (Task.objects.count(), TaskUnit.objects.count())
    response = client.post(reverse("admin:tasks_task_add"), new_task(plan) | formset_data(units=unit_rows, milestones=milestones))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Task.objects.count(), TaskUnit.objects.count()) == before


def test_admin_edit_goes_to_history_and_search_finds_chinese(client, plan, office_user):
    client.force_login(office_user)
    task = plan.tasks.get(number=1)
    url = reverse("admin:tasks_task_change", args=[task.pk])
    data = {
        "title": "改过的标题", "problem": task.problem_id, "measure": task.measure_id,
        "leading_official": task.leading_official, "target": task.target, "actions": task.actions,
        "deadline_text": task.deadline_text, "deadline": task.deadline or "",
        "deadline_class": task.deadline_class, "original_deadline": "",
    }
    for prefix, rows, fields in (
        ("task_units", list(task.task_units.all()), ("unit", "role", "responsible_person")),
        ("milestones", list(task.milestones.all()), ("title", "due_on", "done_on")),
    ):
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-task"] = task.pk
            for name in fields:
                value = getattr(row, f"{name}_id", None) if name == "unit" else getattr(row, name)
                data[f"{prefix}-{i}-{name}"] = "" if value is None else value
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    assert TaskChange.objects.filter(task=task, field="title", new="改过的标题", actor=office_user).exists()
    result = client.get(reverse("admin:tasks_task_changelist"), {"q": "改过"})
    assert "改过的标题" in result.content.decode()


def test_leader_and_liaison_cannot_use_the_admin(client, plan, leader, coal_liaison):
    for user in (leader, coal_liaison):
        client.force_login(user)
        response = client.get(reverse("admin:tasks_task_changelist"))
        assert response.status_code == 302 and "login" in response["Location"]
