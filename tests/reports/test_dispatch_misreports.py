"""What a dispatch tells of its week (issue 18, item 6): who had to report, which events it lists."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from reports.emails import report_render
from reports.models import ReportKind
from reports.selectors import dispatch_compile
from tasks.models import SupervisionKind, Task, Unit
from tasks.services import task_reopen
from tasks.signoff import signoff_apply, signoff_close_due, signoff_lead_review, signoff_office_verify
from tasks.supervision import supervision_issue, supervision_lift
from tests.reports_helpers import at
from tests.workspace_files import png

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]

WEEK = dt.date(2018, 10, 15)  # Monday; cut-off Wednesday the 17th, 18:00
NEXT_WEEK = dt.date(2018, 10, 22)


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)  # lead 省环保厅, responsible 太原市政府…


def _close_on_tuesday_reopen_next_monday(task, taiyuan_liaison, env_liaison, office_user) -> None:
    with time_machine.travel(at(2018, 9, 25, 10), tick=False):
        signoff_apply(task=task, actor=taiyuan_liaison, comment="已全部完成", evidence=[png()])
        signoff_lead_review(task=task, actor=env_liaison, comment="同意")
        signoff_office_verify(task=task, actor=office_user, comment="验收合格", today=dt.date(2018, 9, 25))
    with time_machine.travel(at(2018, 10, 16, 10), tick=False):
        assert signoff_close_due(today=dt.date(2018, 10, 16)) == [task.pk]
    with time_machine.travel(at(2018, 10, 22, 10), tick=False):
        task_reopen(task=task, actor=office_user, reason="回头看发现反弹")


def _missing_numbers(snapshot) -> set[int]:
    return {n for u in snapshot["units_missing"] for n in u["missing"]}


def _sections(snapshot) -> tuple[str, str]:
    _subject, text, html = report_render(kind=ReportKind.DISPATCH, title="周调度", snapshot=snapshot)
    return text, html


def test_a_task_closed_in_its_week_and_reopened_on_monday_owes_no_report_for_that_week(
        plan, task12, taiyuan_liaison, env_liaison, office_user):
    _close_on_tuesday_reopen_next_monday(task12, taiyuan_liaison, env_liaison, office_user)
    # The week's dispatch compiled after the reopening (a late or caught-up issue).
    closed_week = dispatch_compile(plan=plan, week=WEEK, as_of=at(2018, 10, 22, 12), since=at(2018, 10, 11))
    assert 12 not in _missing_numbers(closed_week)
    # From the week it was reopened in, the units owe their reports again.
    reopened_week = dispatch_compile(plan=plan, week=NEXT_WEEK, as_of=at(2018, 10, 25, 9), since=at(2018, 10, 18))
    assert 12 in _missing_numbers(reopened_week)


def test_sections_three_and_seven_hold_only_the_dispatchs_week(
        plan, task12, taiyuan_liaison, env_liaison, office_user):
    datong = Unit.objects.get(name="大同市政府")
    with time_machine.travel(at(2018, 10, 16, 11), tick=False):
        supervision_issue(actor=office_user, kind=SupervisionKind.NOTICE, title="本周通报", unit=datong)
    _close_on_tuesday_reopen_next_monday(task12, taiyuan_liaison, env_liaison, office_user)
    with time_machine.travel(at(2018, 10, 23, 11), tick=False):
        supervision_issue(actor=office_user, kind=SupervisionKind.SPECIAL_INSPECTION, title="下周专项督察",
                          unit=datong)

    snapshot = dispatch_compile(plan=plan, week=WEEK, as_of=at(2018, 10, 25, 9), since=at(2018, 10, 18, 9))
    assert [(c["number"], c["new"]) for c in snapshot["status_changes"]] == [(12, "已完成整改(销号)")]
    assert [s["title"] for s in snapshot["supervision"]] == ["本周通报"]
    for part in _sections(snapshot):
        assert "本周通报" in part
        assert "下周专项督察" not in part
        assert "已完成整改(销号) → 正在推进整改" not in part  # the reopening is next week's news


def test_a_summons_without_requirements_names_its_reason_once(plan, office_user):
    with time_machine.travel(at(2018, 10, 16, 11), tick=False):
        supervision_issue(actor=office_user, kind=SupervisionKind.SUMMONS, title="约谈主要负责人",
                          unit=Unit.objects.get(name="大同市政府"))
    snapshot = dispatch_compile(plan=plan, week=WEEK, as_of=at(2018, 10, 18, 9), since=at(2018, 10, 11, 9))
    (entry,) = snapshot["supervision"]
    assert entry["requirements"] == ""
    for part in _sections(snapshot):
        assert part.count("约谈主要负责人") == 1


def test_an_action_lifted_the_day_it_was_issued_shows_as_lifted(plan, office_user):
    task = Task.objects.get(plan=plan, number=10)
    with time_machine.travel(at(2018, 10, 16, 11), tick=False):
        action = supervision_issue(actor=office_user, kind=SupervisionKind.LISTED, title="进度滞后", task=task,
                                   requirements="三日内报送方案", time_limit=dt.date(2018, 10, 19))
    with time_machine.travel(at(2018, 10, 16, 17), tick=False):
        supervision_lift(action=action, actor=office_user, outcome="当日报送整改方案")
    snapshot = dispatch_compile(plan=plan, week=WEEK, as_of=at(2018, 10, 18, 9), since=at(2018, 10, 11, 9))
    (entry,) = snapshot["supervision"]
    assert entry["lifted_on"] == "2018-10-16"
    assert entry["reason"] == "进度滞后"
    for part in _sections(snapshot):
        assert "三日内报送方案〔已解除〕" in part
