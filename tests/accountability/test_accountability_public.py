"""Public results: only the fields a decision released, only after the publicity group approves."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from accountability.models import Outcome, PublicField, PublicResult, Rank, Stage
from accountability.selectors import public_results
from accountability.services import (
    case_advance,
    case_return,
    case_update,
    person_save,
    public_result_approve,
    public_result_prepare,
    public_result_reject,
)
from tasks.models import Unit
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)

pytestmark = pytest.mark.django_db

D = dt.date(2018, 2, 1)
SUMMARY = "经调查核实,有关责任人员已依规依纪作出处理。"
# A value of each field that appears nowhere else, to look for in the published output.
MARKERS = {
    PublicField.REFERENCE: "移交问题清单第9项",
    PublicField.TITLE: "某县违规审批问题",
    PublicField.REGION: "昔阳县",
    PublicField.UNITS: "晋中市政府",
    PublicField.HANDLING_AUTHORITY: "晋中市纪委市监委",
    PublicField.PERSONS_COUNT: None,  # a number: checked by key only
    PublicField.OUTCOMES: "党内严重警告",
    PublicField.PERSON_NAMES: "欧阳某某",
    PublicField.DECIDED_ON: "2018-02-03",
}


def to_public(case, officer, released, summary=SUMMARY):
    person_save(case=case, actor=officer, name="欧阳某某", position="某县副县长", rank=Rank.DIVISION,
                unit_name="某县人民政府", outcome=Outcome.PARTY_SERIOUS_WARNING, decided_on=dt.date(2018, 2, 3),
                deciding_body="晋中市纪委")
    for i, stage in enumerate(list(Stage)[1:5]):
        case_advance(case=case, actor=officer, to_stage=stage, on=D + dt.timedelta(days=i))
    result = public_result_prepare(case=case, actor=officer, summary=summary, released_fields=released)
    case.refresh_from_db()
    case_advance(case=case, actor=officer, to_stage=Stage.PUBLIC, on=D + dt.timedelta(days=10))
    return result


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, cls=DjangoJSONEncoder)


def test_nothing_is_public_until_the_publicity_group_approves(case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.TITLE])
    assert public_results() == []
    public_result_approve(result=result, actor=publicity_officer)
    [entry] = public_results()
    assert entry["summary"] == SUMMARY and entry["title"] == "某县违规审批问题"


@pytest.mark.parametrize("withheld", list(PublicField))
def test_a_field_not_released_never_appears(case, acc_officer, publicity_officer, withheld):
    released = [f for f in PublicField if f != withheld]
    result = to_public(case, acc_officer, released)
    public_result_approve(result=result, actor=publicity_officer)
    [entry] = public_results()
    assert withheld.value not in entry
    assert {k for k in entry if k not in {"id", "summary", "published_on", "released"}} == {f.value for f in released}
    marker = MARKERS[withheld]
    if marker is not None:
        assert marker not in dump(public_results())


def test_only_summary_when_nothing_released(case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [])
    public_result_approve(result=result, actor=publicity_officer)
    [entry] = public_results()
    assert set(entry) == {"id", "summary", "published_on", "released"}
    text = dump(public_results())
    for marker in MARKERS.values():
        if marker:
            assert marker not in text
    assert "督察发现" not in text  # the problem as transferred is never public


def test_a_summary_naming_an_unreleased_person_is_refused(case, acc_officer):
    with pytest.raises(ValidationError, match="欧阳某某"):
        to_public(case, acc_officer, [PublicField.OUTCOMES], summary="欧阳某某受到党内严重警告处分。")
    assert not PublicResult.objects.exists()


def test_naming_is_allowed_once_names_are_released(case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.PERSON_NAMES], summary="欧阳某某受到党内严重警告处分。")
    public_result_approve(result=result, actor=publicity_officer)
    assert public_results()[0]["person_names"] == ["欧阳某某(某县副县长)"]


def test_only_the_publicity_group_approves(case, acc_officer, office_head, leader, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.TITLE])
    for actor in (acc_officer, office_head, leader, None):
        with pytest.raises(ValidationError, match="只有宣传报道组"):
            public_result_approve(result=result, actor=actor)
    assert PublicResult.objects.get().status == PublicResult.Status.DRAFT


def test_rejection_needs_a_reason_and_redrafting_waits_for_approval_again(case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.TITLE])
    with pytest.raises(ValidationError, match="说明原因"):
        public_result_reject(result=result, actor=publicity_officer, note="")
    public_result_reject(result=result, actor=publicity_officer, note="摘要过简")
    with pytest.raises(ValidationError, match="不在待审核状态"):
        public_result_approve(result=result, actor=publicity_officer)
    case.refresh_from_db()
    result = public_result_prepare(case=case, actor=acc_officer, summary=SUMMARY + "详见处理决定。",
                                   released_fields=[PublicField.TITLE])
    approved = public_result_approve(result=result, actor=publicity_officer)
    assert approved.published_on is not None
    # a later redraft waits for approval again; until then the approved copy keeps showing
    case.refresh_from_db()
    redraft = public_result_prepare(case=case, actor=acc_officer, summary=SUMMARY,
                                    released_fields=[PublicField.TITLE])
    assert [e["summary"] for e in public_results()] == [SUMMARY + "详见处理决定。"]
    public_result_approve(result=redraft, actor=publicity_officer)
    assert [e["summary"] for e in public_results()] == [SUMMARY]


def test_the_public_page_shows_the_approved_copy_until_a_change_is_approved(
        client, case, acc_officer, publicity_officer):
    """Editing the case's title or adding a person after approval changes nothing public: the
    result goes back to the publicity group, and only its approval publishes the change."""
    result = to_public(case, acc_officer, [PublicField.TITLE, PublicField.PERSON_NAMES])
    public_result_approve(result=result, actor=publicity_officer)
    case.refresh_from_db()
    case_update(case=case, actor=acc_officer, title="改过的问题概要", problem_text=case.problem_text,
                region=case.region, units=case.units.all(), tasks=case.tasks.all(),
                handling_authority=case.handling_authority)
    person_save(case=case, actor=acc_officer, name="尚未公开某", position="某局局长", rank=Rank.DIVISION,
                unit_name="某局", outcome=Outcome.ADMIN_WARNING, decided_on=dt.date(2018, 2, 5),
                deciding_body="晋中市监委")
    page = client.get("/public/").content.decode()
    assert "某县违规审批问题" in page and "欧阳某某" in page
    assert "改过的问题概要" not in page and "尚未公开某" not in page
    [entry] = public_results()
    assert entry["title"] == "某县违规审批问题" and entry["person_names"] == ["欧阳某某(某县副县长)"]
    result.refresh_from_db()
    assert result.status == PublicResult.Status.DRAFT  # back to the publicity group
    client.force_login(publicity_officer)
    review = client.get(reverse("accountability:review_list")).content.decode()
    assert "改过的问题概要" in review and "尚未公开某" in review  # they see what approval would publish
    public_result_approve(result=result, actor=publicity_officer)
    [entry] = public_results()
    assert entry["title"] == "改过的问题概要" and "尚未公开某(某局局长)" in entry["person_names"]


def test_returning_a_public_case_withdraws_its_result(case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.TITLE])
    public_result_approve(result=result, actor=publicity_officer)
    case.refresh_from_db()
    case_return(case=case, actor=acc_officer, to_stage=Stage.EXECUTION, on=D + dt.timedelta(days=11),
                reason="处理决定被撤销,重新作出")
    assert public_results() == []
    assert PublicResult.objects.get().status == PublicResult.Status.DRAFT


def test_review_page_shows_only_what_would_be_published(client, case, acc_officer, publicity_officer):
    to_public(case, acc_officer, [PublicField.OUTCOMES])
    client.force_login(publicity_officer)
    response = client.get(reverse("accountability:review_list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert SUMMARY in text and "党内严重警告" in text
    for hidden in ("欧阳某某", "移交问题清单第9项", "督察发现", "晋中市纪委市监委"):
        assert hidden not in text
    # the publicity group still cannot open the case itself
    assert client.get(reverse("accountability:detail", args=[case.pk])).status_code == 404


def test_review_page_approves(client, case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.TITLE])
    client.force_login(publicity_officer)
    response = client.post(reverse("accountability:review_approve", args=[result.pk]),
                           {"version": result.version, "note": "同意公开"})
    assert response.status_code == 302
    assert public_results()[0]["title"] == "某县违规审批问题"


def test_region_is_named_with_its_city(case, acc_officer, publicity_officer):
    case.units.add(Unit.objects.get(name="省环保厅"))
    result = to_public(case, acc_officer, [PublicField.REGION, PublicField.UNITS])
    public_result_approve(result=result, actor=publicity_officer)
    entry = public_results()[0]
    assert entry["region"] == "晋中市昔阳县"
    assert set(entry["units"]) == {"晋中市政府", "省环保厅"}


def test_the_public_page_reads_plain_headings_not_the_release_choices(client, case, acc_officer, publicity_officer):
    result = to_public(case, acc_officer, [PublicField.OUTCOMES])
    public_result_approve(result=result, actor=publicity_officer)
    page = client.get(reverse("public:home")).content.decode()
    assert "<dt>处理结果</dt>" in page and "党内严重警告" in page
    assert "不含姓名" not in page  # the publicity group's label, not the public's
