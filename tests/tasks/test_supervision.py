"""督办: services (rules, rollback, look-back reopening) and the permission matrix of its views."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from tasks.models import SupervisionAction, SupervisionKind, Task, TaskChange, TaskStatus, Unit
from tasks.services import task_update
from tasks.supervision import (
    supervision_for_task,
    supervision_for_unit,
    supervision_issue,
    supervision_lift,
)

pytestmark = pytest.mark.django_db




def listed(actor, task=None, unit=None, **extra) -> SupervisionAction:
    kwargs = dict(actor=actor, kind=SupervisionKind.LISTED, title="进度严重滞后", task=task, unit=unit,
                  requirements="一个月内完成主体工程并书面报告", time_limit=timezone.localdate() + dt.timedelta(days=30))
    kwargs.update(extra)
    return supervision_issue(**kwargs)


# --- Services ---------------------------------------------------------------------------------


def test_listed_supervision_needs_requirements_and_a_time_limit(office_user, plan):
    task = Task.objects.get(plan=plan, number=10)
    for missing in ({"requirements": ""}, {"time_limit": None}):
        with pytest.raises(ValidationError) as err:
            listed(office_user, task=task, **missing)
        assert "挂牌督办" in " ".join(err.value.messages)
    with pytest.raises(ValidationError, match="一项任务或一个单位"):
        supervision_issue(actor=office_user, kind=SupervisionKind.SUMMONS, title="约谈")
    with pytest.raises(ValidationError, match="办结时限不能早于督办日期"):
        listed(office_user, task=task, time_limit=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="督办方式"):
        supervision_issue(actor=office_user, kind="FAKE", title="x", task=task)
    assert SupervisionAction.objects.count() == 0 and not TaskChange.objects.filter(field="supervision").exists()
    action = listed(office_user, task=task)
    assert action.is_active_on(timezone.localdate())
    assert TaskChange.objects.filter(task=task, field="supervision", new="挂牌督办").count() == 1


def test_only_the_office_and_supervisors_may_supervise(office_user, supervisor, leader, coal_liaison, outsider, plan):
    unit = Unit.objects.get(name="太原市政府")
    for user in (leader, coal_liaison, outsider):
        with pytest.raises(PermissionDenied):
            supervision_issue(actor=user, kind=SupervisionKind.SUMMONS, title="约谈", unit=unit)
    supervision_issue(actor=supervisor, kind=SupervisionKind.SUMMONS, title="约谈主要负责人", unit=unit)
    supervision_issue(actor=office_user, kind=SupervisionKind.NOTICE, title="通报批评", unit=unit)
    assert SupervisionAction.objects.filter(unit=unit).count() == 2


def test_look_back_reopens_a_closed_task_and_rolls_back_when_it_cannot(office_user, plan):
    task = Task.objects.get(plan=plan, number=5)
    with pytest.raises(ValidationError, match="只有已销号"):
        supervision_issue(actor=office_user, kind=SupervisionKind.LOOK_BACK, title="回头看", task=task,
                          reopen_task=True, reopen_reason="反弹")
    assert SupervisionAction.objects.count() == 0  # nothing half-written
    with pytest.raises(ValidationError, match="只有“回头看”"):
        supervision_issue(actor=office_user, kind=SupervisionKind.NOTICE, title="通报", task=task, reopen_task=True)
    task_update(task=task, actor=office_user, status=TaskStatus.CLOSED, closed_on=timezone.localdate())
    action = supervision_issue(actor=office_user, kind=SupervisionKind.LOOK_BACK, title="回头看发现问题反弹",
                               task=task, reopen_task=True, reopen_reason="现场核查发现问题反弹")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS and task.closed_on is None
    assert action.reopened_task
    assert TaskChange.objects.filter(task=task, field="status", new=TaskStatus.IN_PROGRESS,
                                     note__contains="现场核查发现问题反弹").exists()


def test_lifting_ends_the_supervised_flag(office_user, leader, plan):
    task = Task.objects.get(plan=plan, number=12)
    action = listed(office_user, task=task)
    with pytest.raises(PermissionDenied):
        supervision_lift(action=action, actor=leader, outcome="完成")
    with pytest.raises(ValidationError, match="办理结果"):
        supervision_lift(action=action, actor=office_user, outcome=" ")
    lifted = supervision_lift(action=action, actor=office_user, outcome="主体工程已完工")
    assert not lifted.is_active_on(timezone.localdate())
    with pytest.raises(ValidationError, match="已于"):
        supervision_lift(action=lifted, actor=office_user, outcome="again")


def test_supervision_shows_to_who_may_see_it(office_user, coal_liaison, taiyuan_liaison, plan):
    coal = coal_liaison.unit
    coal_task = Task.objects.filter(task_units__unit=coal).first()
    other_task = Task.objects.exclude(task_units__unit=coal).exclude(task_units__unit=taiyuan_liaison.unit).first()
    on_coal = listed(office_user, task=coal_task)
    on_other = listed(office_user, task=other_task)
    on_unit = supervision_issue(actor=office_user, kind=SupervisionKind.SUMMONS, title="约谈厅长", unit=coal)
    assert set(supervision_for_unit(user=coal_liaison, unit=coal)) == {on_coal, on_unit}
    assert list(supervision_for_task(user=coal_liaison, task=other_task)) == []
    assert list(supervision_for_task(user=office_user, task=other_task)) == [on_other]
    assert list(supervision_for_unit(user=taiyuan_liaison, unit=coal)) == []


# --- Supervised flags on the dashboards --------------------------------------------------------


def test_supervised_tasks_are_flagged_on_every_dashboard(client, office_user, leader, plan):
    task = Task.objects.get(plan=plan, number=23)
    unit = task.task_units.get(role="LEAD").unit
    listed(office_user, task=task)
    client.force_login(leader)
    ledger = client.get(reverse("tasks:ledger"), {"supervised": "1"}).content.decode()
    assert "共 1 项任务" in ledger and task.title in ledger and "挂牌督办" in ledger
    overview = client.get(reverse("tasks:overview")).content.decode()
    assert "<strong>1</strong><span>督办中</span>" in overview
    timeline = client.get(reverse("tasks:timeline")).content.decode()
    assert f"【督】{task.number}." in timeline
    league = client.get(reverse("tasks:league_units"), {"sort": "-supervised"}).content.decode()
    assert f'/tasks/?unit={unit.pk}&amp;supervised=1">1</a>' in league
    unit_page = client.get(reverse("tasks:unit", args=[unit.pk])).content.decode()
    assert "进度严重滞后" in unit_page and "badge sup" in unit_page
    # As of a day before the action, the task was not supervised.
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    before = client.get(reverse("tasks:ledger"), {"supervised": "1", "as_of": yesterday}).content.decode()
    assert "共 0 项任务" in before


# --- Permission matrix of the views that change data ------------------------------------------


def _new_payload(task) -> dict:
    return {"kind": SupervisionKind.LISTED, "task_number": task.number, "title": "进度滞后",
            "requirements": "限期整改到位", "time_limit": (timezone.localdate() + dt.timedelta(days=20)).isoformat()}


def test_issue_view_permission_matrix(client, office_user, supervisor, leader, coal_liaison, plan):
    task = Task.objects.filter(task_units__unit=coal_liaison.unit).first()
    url = reverse("tasks:supervision_new")
    response = client.post(url, _new_payload(task))  # anonymous
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (leader, coal_liaison):  # read-only roles, even on their own unit's task
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, _new_payload(task)).status_code == 403
    assert SupervisionAction.objects.count() == 0
    for user in (office_user, supervisor):
        client.force_login(user)
        assert client.get(url, {"task": task.pk}).status_code == 200
        response = client.post(url, _new_payload(task))
        assert response.status_code == 302, response.content.decode()[:500]
    assert SupervisionAction.objects.filter(task=task).count() == 2
    assert client.put(url).status_code == 405


def test_issue_view_explains_bad_input(client, office_user, plan):
    client.force_login(office_user)
    url = reverse("tasks:supervision_new")
    bad = {"kind": SupervisionKind.LISTED, "task_number": "999", "title": "x"}
    page = client.post(url, bad).content.decode()
    assert "整改方案中没有这个序号的任务" in page
    task = Task.objects.get(plan=plan, number=1)
    page = client.post(url, {"kind": SupervisionKind.LISTED, "task_number": task.number, "title": "<script>x</script>"}).content.decode()
    assert "挂牌督办必须" in page and "<script>x</script>" not in page
    assert SupervisionAction.objects.count() == 0


def test_lift_view_permission_matrix(client, office_user, supervisor, leader, coal_liaison, plan):
    task = Task.objects.filter(task_units__unit=coal_liaison.unit).first()
    action = listed(office_user, task=task)
    url = reverse("tasks:supervision_lift", args=[action.pk])
    assert client.post(url, {"outcome": "x"}).status_code == 302  # anonymous → login
    client.force_login(office_user)
    assert client.get(url).status_code == 405
    for user in (leader, coal_liaison):
        client.force_login(user)
        assert client.post(url, {"outcome": "已完成"}).status_code == 403
    action.refresh_from_db()
    assert action.lifted_on is None
    client.force_login(supervisor)
    assert client.post(url, {"outcome": "已完成整改"}).status_code == 302
    action.refresh_from_db()
    assert action.lifted_on == timezone.localdate() and action.outcome == "已完成整改"
    assert client.post(reverse("tasks:supervision_lift", args=[999999]), {"outcome": "x"}).status_code == 404


def test_supervision_list_is_scoped_and_pinned(client, office_user, coal_liaison, plan, django_assert_num_queries,
                                             calendar_read):
    coal_task = Task.objects.filter(task_units__unit=coal_liaison.unit).first()
    other = Task.objects.exclude(task_units__unit=coal_liaison.unit).first()
    listed(office_user, task=coal_task, title="煤炭督办")
    listed(office_user, task=other, title="其他督办")
    client.force_login(coal_liaison)
    page = client.get(reverse("tasks:supervision_list")).content.decode()
    assert "煤炭督办" in page and "其他督办" not in page
    client.force_login(office_user)
    for grow in (0, 20):
        for i in range(grow):
            listed(office_user, task=other, title=f"更多{i}")
        with django_assert_num_queries(6):
            assert client.get(reverse("tasks:supervision_list")).status_code == 200


def test_the_supervision_include_renders_for_the_task_page(rf, office_user, leader, plan):
    """The lead adds templates/tasks/_supervision_list.html to the task page with this context."""
    from django.template.loader import render_to_string

    from tasks.supervision import user_may_supervise

    task = Task.objects.get(plan=plan, number=30)
    listed(office_user, task=task, title="河长制落实不力<挂牌>")
    for user, can_lift in ((office_user, True), (leader, False)):
        request = rf.get("/")
        request.user = user
        html = render_to_string("tasks/_supervision_list.html", {
            "supervision_actions": supervision_for_task(user=user, task=task),
            "may_supervise": user_may_supervise(user),
        }, request=request)
        assert "河长制落实不力&lt;挂牌&gt;" in html and "挂牌督办" in html and "办结时限" in html
        assert ("解除督办" in html) is can_lift


# --- 暗查暗访: never announced to the unit visited (issue 18 item 5) ---------------------------


def test_unannounced_visit_is_not_shown_to_the_unit_visited(client, office_user, coal_liaison, plan):
    coal = coal_liaison.unit
    task = Task.objects.filter(task_units__unit=coal).order_by("number").first()
    on_task = supervision_issue(actor=office_user, kind=SupervisionKind.UNANNOUNCED_VISIT,
                                title="暗访关停矿井", task=task)
    on_unit = supervision_issue(actor=office_user, kind=SupervisionKind.UNANNOUNCED_VISIT,
                                title="暗访厅属单位", unit=coal)
    announced = listed(office_user, task=task)
    assert set(supervision_for_unit(user=office_user, unit=coal)) == {on_task, on_unit, announced}
    assert list(supervision_for_unit(user=coal_liaison, unit=coal)) == [announced]
    assert list(supervision_for_task(user=coal_liaison, task=task)) == [announced]
    client.force_login(coal_liaison)
    for url in (reverse("tasks:supervision_list"), reverse("tasks:detail", args=[task.pk]),
                reverse("tasks:unit", args=[coal.pk]), reverse("tasks:ledger")):
        page = client.get(url).content.decode()
        assert "暗访关停矿井" not in page and "暗访厅属单位" not in page, url
        assert "暗查暗访</span>" not in page and "、暗查暗访" not in page, url  # no badge either
        assert "挂牌督办" in page, url
    # The unit itself is under no announced action: no 督办 badge on its league row.
    league = client.get(reverse("tasks:league_units")).content.decode()
    assert coal.name in league and "单位被督办" not in league
    client.force_login(office_user)
    page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert "暗访关停矿井" in page and "暗查暗访" in page
    assert "单位被督办" in client.get(reverse("tasks:league_units")).content.decode()


def test_unannounced_visit_is_left_out_of_the_visited_units_dispatch_section(
        office_user, leader, coal_liaison, plan, django_capture_on_commit_callbacks):
    import time_machine
    from django.core import mail

    from reports import services
    from reports.models import ReportKind
    from tests.reports_helpers import at

    task = Task.objects.filter(task_units__unit=coal_liaison.unit).order_by("number").first()
    with time_machine.travel(at(2018, 10, 8, 10), tick=False):
        supervision_issue(actor=office_user, kind=SupervisionKind.UNANNOUNCED_VISIT,
                          title="暗访关停矿井", task=task)
        supervision_issue(actor=office_user, kind=SupervisionKind.UNANNOUNCED_VISIT,
                          title="暗访厅属单位", unit=coal_liaison.unit)
        listed(office_user, task=task, time_limit=dt.date(2018, 11, 8))
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        services.report_issue(kind=ReportKind.DISPATCH)
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "暗查暗访" in bodies["office@example.test"] and "暗查暗访" in bodies["leader@example.test"]
    assert "挂牌督办" in bodies["coal@example.test"]
    assert "暗查暗访" not in bodies["coal@example.test"] and "暗访" not in bodies["coal@example.test"]
