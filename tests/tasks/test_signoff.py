"""The sign-off (销号) state machine: every step, every refusal, the notice period, the job."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from rectify.calendar import add_working_days, is_working_day
from tasks.models import SignoffStep, Task, TaskChange, TaskStatus
from tasks.services import StaleEditError, task_reopen, task_report_progress
from tasks.signoff import (
    notice_ends_on,
    signoff_apply,
    signoff_close,
    signoff_close_due,
    signoff_lead_review,
    signoff_office_verify,
    signoff_return,
)
from tests.workspace_files import png

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]
Action = SignoffStep.Action


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)  # lead 省环保厅, responsible 太原市政府…


def _through_verify(task, applicant, lead, office, today):
    signoff_apply(task=task, actor=applicant, comment="已全部完成", evidence=[png()])
    signoff_lead_review(task=task, actor=lead, comment="同意")
    return signoff_office_verify(task=task, actor=office, comment="验收合格", today=today,
                                 onsite_checked_on=today, onsite_note="现场核查,设施运行正常")


def test_whole_path_records_who_when_and_why(task12, taiyuan_liaison, env_liaison, office_user):
    today = dt.date(2018, 3, 5)
    with time_machine.travel(dt.datetime(2018, 3, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        step = _through_verify(task12, taiyuan_liaison, env_liaison, office_user, today)
    task12.refresh_from_db()
    assert task12.status == TaskStatus.PUBLIC_NOTICE
    # 7 working days after Monday 2018-03-05: Tue..Fri (4) + Mon..Wed (3) = 2018-03-14.
    assert step.notice_ends_on == dt.date(2018, 3, 14) == notice_ends_on(task12)
    with pytest.raises(ValidationError, match="公示期至2018年3月14日"):
        signoff_close(task=task12, today=dt.date(2018, 3, 14))
    assert signoff_close_due(today=dt.date(2018, 3, 14)) == []
    assert signoff_close_due(today=dt.date(2018, 3, 15)) == [task12.pk]
    assert signoff_close_due(today=dt.date(2018, 3, 16)) == []  # a second run changes nothing
    task12.refresh_from_db()
    assert (task12.status, task12.closed_on, task12.progress) == (TaskStatus.CLOSED, dt.date(2018, 3, 15), 100)
    trail = list(task12.signoff_steps.values_list("action", "from_status", "to_status"))
    assert trail == [
        (Action.APPLY, "IN_PROGRESS", "SIGNOFF_APPLIED"), (Action.LEAD_REVIEW, "SIGNOFF_APPLIED", "LEAD_REVIEWED"),
        (Action.OFFICE_VERIFY, "LEAD_REVIEWED", "PUBLIC_NOTICE"), (Action.CLOSE, "PUBLIC_NOTICE", "CLOSED"),
    ]
    steps = list(task12.signoff_steps.select_related("actor", "unit"))
    assert [s.actor for s in steps] == [taiyuan_liaison, env_liaison, office_user, None]
    assert steps[0].unit == taiyuan_liaison.unit and steps[0].evidence.count() == 1
    assert steps[2].onsite_note == "现场核查,设施运行正常"
    statuses = list(TaskChange.objects.filter(task=task12, field="status").order_by("id").values_list("new", "note"))
    assert statuses[0] == ("SIGNOFF_APPLIED", "申请销号:已全部完成")
    assert statuses[-1][0] == "CLOSED"


def test_long_term_task_becomes_sustaining_and_keeps_reporting(plan, env_liaison, office_user):
    task = Task.objects.get(plan=plan, number=13)  # 长期坚持, lead 省环保厅
    assert task.deadline_class == "LONG_TERM"
    _through_verify(task, env_liaison, env_liaison, office_user, dt.date(2018, 3, 5))
    signoff_close_due(today=dt.date(2018, 4, 1))
    task.refresh_from_db()
    assert task.status == TaskStatus.SUSTAINING and task.closed_on is None
    task_report_progress(task=task, unit=env_liaison.unit, author=env_liaison, percent=100, text="长期坚持")


def test_notice_period_counts_chinese_working_days_and_is_configurable(task12, taiyuan_liaison, env_liaison, office_user):
    # Verified on Friday 2018-09-28: National Day week (10-01..07) is off; Sat 09-29 and Sun 09-30 are make-up days.
    assert is_working_day(dt.date(2018, 9, 29)) and not is_working_day(dt.date(2018, 10, 2))
    assert add_working_days(dt.date(2018, 9, 28), 7) == dt.date(2018, 10, 12)
    # A year the calendar package does not know falls back to weekends only.
    assert add_working_days(dt.date(2099, 1, 2), 3) == dt.date(2099, 1, 7)
    with override_settings(RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS=3):
        step = _through_verify(task12, taiyuan_liaison, env_liaison, office_user, dt.date(2018, 9, 28))
    assert step.notice_ends_on == dt.date(2018, 10, 8)  # 09-29, 09-30 (make-up days), 10-08


@pytest.mark.parametrize("stage", ["applied", "reviewed", "notice"])
def test_any_step_can_return_the_task_with_a_reason(stage, task12, taiyuan_liaison, env_liaison, office_user):
    signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()])
    if stage != "applied":
        signoff_lead_review(task=task12, actor=env_liaison)
    if stage == "notice":
        signoff_office_verify(task=task12, actor=office_user, today=dt.date(2018, 3, 5))
    with pytest.raises(ValidationError, match="退回须说明理由"):
        signoff_return(task=task12, actor=office_user, reason="  ")
    step = signoff_return(task=task12, actor=office_user, reason="佐证材料不全")
    task12.refresh_from_db()
    assert task12.status == TaskStatus.IN_PROGRESS and step.comment == "佐证材料不全"
    # Back to work: a fresh application is possible (its earlier evidence still counts).
    signoff_apply(task=task12, actor=taiyuan_liaison)


def test_lead_unit_may_return_only_while_it_reviews(task12, taiyuan_liaison, env_liaison):
    signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()])
    with pytest.raises(PermissionDenied):
        signoff_return(task=task12, actor=taiyuan_liaison, reason="撤回")  # a responsible unit is not the lead
    signoff_return(task=task12, actor=env_liaison, reason="请补充照片")
    signoff_apply(task=task12, actor=taiyuan_liaison)
    signoff_lead_review(task=task12, actor=env_liaison)
    with pytest.raises(PermissionDenied):
        signoff_return(task=task12, actor=env_liaison, reason="改主意了")


def test_wrong_role_or_out_of_order_is_refused_and_nothing_changes(
    task12, taiyuan_liaison, env_liaison, coal_liaison, office_user, leader
):
    def frozen():
        task12.refresh_from_db()
        return task12.status, task12.version, SignoffStep.objects.count(), TaskChange.objects.count()

    before = frozen()
    with pytest.raises(ValidationError, match="须附佐证材料"):
        signoff_apply(task=task12, actor=taiyuan_liaison)
    for actor in (coal_liaison, leader, office_user):  # another unit, a leader, the office: not applicants
        with pytest.raises(PermissionDenied):
            signoff_apply(task=task12, actor=actor, evidence=[png()])
    with pytest.raises(ValidationError, match="不能进行“牵头单位审核通过”"):
        signoff_lead_review(task=task12, actor=env_liaison)
    with pytest.raises(ValidationError, match="不能进行“办公室验收通过”"):
        signoff_office_verify(task=task12, actor=office_user)
    with pytest.raises(ValidationError, match="不能进行“公示期满销号”"):
        signoff_close(task=task12, today=dt.date(2030, 1, 1))
    assert frozen() == before

    signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()])
    for actor in (taiyuan_liaison, office_user, leader, coal_liaison):
        with pytest.raises(PermissionDenied):
            signoff_lead_review(task=task12, actor=actor)
    with pytest.raises(ValidationError, match="不能进行“办公室验收通过”"):  # the lead has not reviewed yet
        signoff_office_verify(task=task12, actor=office_user)
    signoff_lead_review(task=task12, actor=env_liaison)
    for actor in (env_liaison, taiyuan_liaison, leader):
        with pytest.raises(PermissionDenied):
            signoff_office_verify(task=task12, actor=actor)
    with pytest.raises(ValidationError, match="不能进行“申请销号”"):
        signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()])


def test_stale_page_is_told_and_nothing_is_overwritten(task12, taiyuan_liaison, env_liaison, office_user):
    version = task12.version
    signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()], expected_version=version)
    # The lead returns it while the office's page still shows the old version.
    seen_by_office = Task.objects.get(pk=task12.pk).version
    signoff_return(task=task12, actor=env_liaison, reason="补材料", expected_version=seen_by_office)
    with pytest.raises(StaleEditError, match="已被他人处理"):
        signoff_return(task=task12, actor=office_user, reason="另一理由", expected_version=seen_by_office)
    assert task12.signoff_steps.filter(action=Action.RETURN).count() == 1


def test_closed_task_refuses_reports_until_a_look_back_reopens_it(task12, taiyuan_liaison, env_liaison, office_user):
    _through_verify(task12, taiyuan_liaison, env_liaison, office_user, dt.date(2018, 3, 5))
    signoff_close_due(today=dt.date(2018, 4, 1))
    with pytest.raises(ValidationError, match="该任务已销号"):
        task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=90, text="x")
    reopened = task_reopen(task=task12, actor=office_user, reason="回头看发现反弹")
    assert reopened.status == TaskStatus.IN_PROGRESS and reopened.closed_on is None
    task_report_progress(task=task12, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=90, text="再整改")


def test_a_supporting_unit_reports_but_cannot_apply_or_ask_for_more_time(plan, coal_liaison):
    from tasks.extensions import extension_request_create

    task = Task.objects.get(plan=plan, number=7)  # 省煤炭工业厅 only supports
    assert task.task_units.get(unit=coal_liaison.unit).role == "SUPPORTING"
    task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=30, text="配合推进")
    with pytest.raises(PermissionDenied):
        signoff_apply(task=task, actor=coal_liaison, evidence=[png()])
    with pytest.raises(PermissionDenied):
        extension_request_create(task=task, actor=coal_liaison, proposed_deadline=dt.date(2099, 1, 1), reason="x")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS and task.progress == 0  # supporting units do not weigh in
