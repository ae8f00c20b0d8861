"""The stage machine: one step at a time, by the accountability group only, back with a reason;
落实处理意见 needs every person's rank and outcome. Each refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from accountability.models import (
    AccountablePerson,
    Case,
    CaseDocument,
    CaseSource,
    Outcome,
    PublicField,
    PublicResult,
    Rank,
    Stage,
    StageRecord,
)
from accountability.services import (
    DocumentUpload,
    case_advance,
    case_raise_from_task,
    case_return,
    person_delete,
    person_save,
    public_result_prepare,
)
from tasks.models import Task
from tasks.services import StaleEditError, task_reopen, task_update
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import upload

pytestmark = pytest.mark.django_db

D = dt.date(2018, 2, 1)


def state(case: Case) -> tuple:
    case.refresh_from_db()
    return (case.stage, case.stage_entered_on, case.version, StageRecord.objects.filter(case=case).count(),
            AccountablePerson.objects.filter(case=case).count(), CaseDocument.objects.filter(case=case).count())


def decided_person(case, actor, **over):
    kwargs = dict(case=case, actor=actor, name="王某某", position="某县副县长", rank=Rank.DIVISION,
                  unit_name="某县人民政府", outcome=Outcome.PARTY_WARNING, decided_on=D,
                  deciding_body="晋中市纪委")
    kwargs.update(over)
    return person_save(**kwargs)


def walk_to(case, actor, stage: Stage):
    day = D
    for s in list(Stage)[1:list(Stage).index(stage) + 1]:
        if s == Stage.EXECUTION and not case.persons.exists():
            decided_person(case, actor)
        if s == Stage.PUBLIC and not PublicResult.objects.filter(case=case).exists():
            public_result_prepare(case=case, actor=actor, summary="已依规依纪作出处理。",
                                  released_fields=[PublicField.TITLE])
        case_advance(case=case, actor=actor, to_stage=s, on=day, note=f"{s.label}办理")
        case.refresh_from_db()
        day += dt.timedelta(days=5)


def test_case_walks_every_stage_in_order_with_its_trail(case, acc_officer):
    walk_to(case, acc_officer, Stage.PUBLIC)
    records = list(case.stage_records.order_by("at", "id"))
    assert [r.stage for r in records] == [s.value for s in Stage]
    assert [r.kind for r in records] == ["OPENED"] + ["ADVANCED"] * 5
    assert all(r.handler == acc_officer for r in records)
    assert records[2].from_stage == Stage.VERIFICATION and records[2].note == "审核处理建议办理"
    assert case.stage == Stage.PUBLIC and case.stage_entered_on == D + dt.timedelta(days=20)


def test_advance_keeps_documents_with_the_stage(case, acc_officer):
    record = case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=D, note="核查",
                          documents=[DocumentUpload("核查报告", upload())])
    doc = record.documents.get()
    assert doc.title == "核查报告" and doc.stage == Stage.VERIFICATION and doc.size > 0
    assert len(doc.sha256) == 64 and doc.content_type == "application/pdf"


@pytest.mark.parametrize("target", [Stage.PROPOSAL_REVIEW, Stage.EXECUTION, Stage.PUBLIC])
def test_skipping_a_stage_is_refused_and_changes_nothing(case, acc_officer, target):
    before = state(case)
    with pytest.raises(ValidationError) as exc:
        case_advance(case=case, actor=acc_officer, to_stage=target, on=D)
    assert "不能跳过办理阶段" in exc.value.messages[0] and "问题核查" in exc.value.messages[0]
    assert state(case) == before


def test_advancing_to_the_same_stage_is_refused(case, acc_officer):
    before = state(case)
    with pytest.raises(ValidationError, match="不能跳过"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.CLUE, on=D)
    assert state(case) == before


@pytest.mark.parametrize("who", ["office_head", "office_user", "leader", "coal_liaison", "publicity_officer"])
def test_a_stage_taken_by_the_wrong_role_is_refused(request, case, who):
    actor = request.getfixturevalue(who)
    before = state(case)
    with pytest.raises(ValidationError) as exc:
        case_advance(case=case, actor=actor, to_stage=Stage.VERIFICATION, on=D, note="越权",
                     documents=[DocumentUpload("材料", upload())])
    assert exc.value.messages == ["只有责任追究组成员可以办理责任追究问题。"]
    assert state(case) == before
    with pytest.raises(ValidationError, match="只有责任追究组"):
        decided_person(case, actor)
    with pytest.raises(ValidationError, match="只有责任追究组"):
        case_return(case=case, actor=actor, to_stage=Stage.CLUE, on=D, reason="x")
    assert state(case) == before


def test_anonymous_actor_is_refused(case):
    with pytest.raises(ValidationError, match="只有责任追究组"):
        case_advance(case=case, actor=None, to_stage=Stage.VERIFICATION, on=D)


def test_going_back_needs_a_reason_and_an_earlier_stage(case, acc_officer):
    walk_to(case, acc_officer, Stage.COMMUNICATION)
    before = state(case)
    with pytest.raises(ValidationError, match="必须说明原因"):
        case_return(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=D + dt.timedelta(days=30),
                    reason="  ")
    with pytest.raises(ValidationError, match="之前的阶段"):
        case_return(case=case, actor=acc_officer, to_stage=Stage.COMMUNICATION, on=D + dt.timedelta(days=30),
                    reason="重新核查")
    with pytest.raises(ValidationError, match="之前的阶段"):
        case_return(case=case, actor=acc_officer, to_stage=Stage.PUBLIC, on=D + dt.timedelta(days=30),
                    reason="重新核查")
    assert state(case) == before
    record = case_return(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION,
                         on=D + dt.timedelta(days=30), reason="事实不清,补充核查")
    case.refresh_from_db()
    assert case.stage == Stage.VERIFICATION and record.reason == "事实不清,补充核查"
    assert record.kind == StageRecord.Kind.RETURNED and record.from_stage == Stage.COMMUNICATION
    # and forward again, one step at a time
    with pytest.raises(ValidationError, match="不能跳过"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=31))
    case_advance(case=case, actor=acc_officer, to_stage=Stage.PROPOSAL_REVIEW, on=D + dt.timedelta(days=31))


def test_person_without_rank_or_outcome_blocks_carrying_out_the_decision(case, acc_officer):
    walk_to(case, acc_officer, Stage.COMMUNICATION)
    decided_person(case, acc_officer)
    person_save(case=case, actor=acc_officer, name="李某某", position="某局局长", unit_name="某局")
    before = state(case)
    with pytest.raises(ValidationError) as exc:
        case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=20))
    assert "李某某" in exc.value.messages[0] and "王某某" not in exc.value.messages[0]
    assert state(case) == before
    lee = case.persons.get(name="李某某")
    decided_person(case, acc_officer, person=lee, name="李某某", rank=Rank.SECTION, outcome="")
    with pytest.raises(ValidationError, match="李某某"):  # rank alone is not enough
        case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=20))
    decided_person(case, acc_officer, person=lee, name="李某某", rank="", outcome=Outcome.ADMIN_WARNING)
    with pytest.raises(ValidationError, match="李某某"):  # nor outcome alone
        case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=20))
    decided_person(case, acc_officer, person=lee, name="李某某", rank=Rank.SECTION, outcome=Outcome.ADMIN_WARNING)
    case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=20))


def test_no_person_at_all_blocks_carrying_out_the_decision(case, acc_officer):
    walk_to(case, acc_officer, Stage.COMMUNICATION)
    with pytest.raises(ValidationError, match="至少一名被问责人"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=20))


def test_once_carried_out_persons_need_rank_and_outcome_and_stay(case, acc_officer):
    walk_to(case, acc_officer, Stage.EXECUTION)
    person = case.persons.get()
    before = state(case)
    with pytest.raises(ValidationError, match="须填写职级和处理结果"):
        person_save(case=case, actor=acc_officer, name="新某某", position="科员", unit_name="某局")
    with pytest.raises(ValidationError, match="须填写职级和处理结果"):
        decided_person(case, acc_officer, person=person, outcome="")
    with pytest.raises(ValidationError, match="不能删除"):
        person_delete(person=person, actor=acc_officer)
    assert state(case) == before
    person.refresh_from_db()
    assert person.outcome == Outcome.PARTY_WARNING


def test_outcome_needs_its_date_and_deciding_body(case, acc_officer):
    with pytest.raises(ValidationError, match="处理日期和决定机关"):
        decided_person(case, acc_officer, deciding_body="")
    with pytest.raises(ValidationError, match="处理日期和决定机关"):
        decided_person(case, acc_officer, decided_on=None)
    assert not case.persons.exists()


def test_several_persons_with_different_outcomes(case, acc_officer):
    decided_person(case, acc_officer)
    decided_person(case, acc_officer, name="李某某", rank=Rank.BUREAU, outcome=Outcome.REMOVAL)
    decided_person(case, acc_officer, name="赵某某", rank=Rank.OTHER, outcome=Outcome.JUDICIAL_TRANSFER)
    assert sorted(case.persons.values_list("outcome", flat=True)) == sorted(
        [Outcome.PARTY_WARNING, Outcome.REMOVAL, Outcome.JUDICIAL_TRANSFER])


def test_public_needs_a_drafted_summary(case, acc_officer):
    walk_to(case, acc_officer, Stage.EXECUTION)
    before = state(case)
    with pytest.raises(ValidationError, match="拟定公开摘要"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.PUBLIC, on=D + dt.timedelta(days=25))
    assert state(case) == before


def test_summary_cannot_be_drafted_before_the_decision(case, acc_officer):
    walk_to(case, acc_officer, Stage.COMMUNICATION)
    with pytest.raises(ValidationError, match="落实处理意见"):
        public_result_prepare(case=case, actor=acc_officer, summary="x", released_fields=[])


def test_stage_dates_cannot_be_in_the_future_or_before_the_last_stage(case, acc_officer):
    before = state(case)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION,
                     on=timezone.localdate() + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="不能早于上一阶段"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=dt.date(2018, 1, 9))
    assert state(case) == before


def test_a_stale_form_is_refused(case, acc_officer):
    version = case.version
    case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=D, expected_version=version)
    before = state(case)
    with pytest.raises(StaleEditError):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.PROPOSAL_REVIEW, on=D,
                     expected_version=version)
    assert state(case) == before


def test_a_bad_document_refuses_the_whole_step(case, acc_officer):
    before = state(case)
    with pytest.raises(ValidationError, match="内容与扩展名"):
        case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=D,
                     documents=[DocumentUpload("a", upload()), DocumentUpload("b", upload("假.pdf", b"MZ\x90"))])
    assert state(case) == before


# --- Raised from the ledger -------------------------------------------------------------


@override_settings(RECTIFY_ACCOUNTABILITY_OVERDUE_DAYS=90)
def test_raising_from_an_overdue_task_needs_the_threshold(plan, acc_officer):
    task = Task.objects.get(plan=plan, number=1)
    today = timezone.localdate()
    task_update(task=task, actor=None, deadline=today - dt.timedelta(days=30))
    task.refresh_from_db()
    with pytest.raises(ValidationError, match="未超过90天"):
        case_raise_from_task(actor=acc_officer, task=task, source=CaseSource.TASK_OVERDUE,
                             reference="逾期-1", problem_text="任务逾期未完成")
    task_update(task=task, actor=None, deadline=today - dt.timedelta(days=120))
    task.refresh_from_db()
    case = case_raise_from_task(actor=acc_officer, task=task, source=CaseSource.TASK_OVERDUE,
                                reference="逾期-1", problem_text="任务逾期未完成")
    assert list(case.tasks.all()) == [task] and case.stage == Stage.CLUE
    lead = task.task_units.get(role="LEAD").unit
    assert lead in case.units.all() and case.region == lead.region


def test_raising_a_false_closure_needs_a_look_back_reopening(plan, acc_officer):
    task = Task.objects.get(plan=plan, number=2)
    with pytest.raises(ValidationError, match="回头看"):
        case_raise_from_task(actor=acc_officer, task=task, source=CaseSource.FALSE_CLOSURE,
                             reference="回头看-1", problem_text="虚假销号")
    task_update(task=task, actor=None, status="CLOSED", closed_on=dt.date(2018, 3, 1))
    task_reopen(task=task, actor=None, reason="现场核查发现问题反弹")
    case = case_raise_from_task(actor=acc_officer, task=task, source=CaseSource.FALSE_CLOSURE,
                                reference="回头看-1", problem_text="虚假销号")
    assert case.source == CaseSource.FALSE_CLOSURE


def test_duplicate_reference_is_refused(case, acc_officer):
    from accountability.services import case_create

    with pytest.raises(ValidationError, match="已登记"):
        case_create(actor=acc_officer, reference=case.reference, source=CaseSource.TRANSFERRED, title="",
                    problem_text="x", transferred_on=D)
    assert Case.objects.count() == 1


def test_case_description_can_be_corrected_by_the_group_only(case, acc_officer, office_head, plan):
    from accountability.services import case_update
    from tasks.models import Region, Unit

    kwargs = dict(title="更正后的概要", problem_text="更正后的原文", region=Region.objects.get(name="晋中市"),
                  units=[Unit.objects.get(name="省环保厅")], tasks=[Task.objects.get(plan=plan, number=5)],
                  handling_authority="省纪委省监委")
    before = state(case)
    with pytest.raises(ValidationError, match="只有责任追究组"):
        case_update(case=case, actor=office_head, **kwargs)
    with pytest.raises(ValidationError, match="原文"):
        case_update(case=case, actor=acc_officer, **{**kwargs, "problem_text": " "})
    assert state(case) == before
    case_update(case=case, actor=acc_officer, expected_version=case.version, **kwargs)
    assert (case.title, case.region.name, case.reference) == ("更正后的概要", "晋中市", "移交问题清单第9项")
    assert [u.name for u in case.units.all()] == ["省环保厅"] and case.tasks.get().number == 5
    with pytest.raises(StaleEditError):
        case_update(case=case, actor=acc_officer, expected_version=case.version - 1, **kwargs)
