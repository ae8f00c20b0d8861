"""Property-based fuzzing of the accountability register's forms (责任追究), through the test
client, as the accountability group (and the publicity group for its review). The property
is the one of test_form_fuzz.py: never a 5xx; a refusal explains itself in Chinese and
changes nothing; an acceptance stores valid rows. The access log is written on every look at
a case by design and is not compared."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accountability.models import Outcome, PublicField, PublicResult, Rank, Stage
from accountability.services import case_advance, person_save, public_result_prepare
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures)
from tests.fuzzing import (
    FUZZ,
    PDF,
    assert_outcome,
    form,
    nasty_date,
    nasty_int,
    nasty_text,
    post,
    post_and_check,
    rolled_back,
    uploads,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # hypothesis: many examples per form

D = dt.date(2018, 2, 1)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _version(case):
    return st.one_of(st.just(str(case.version)), nasty_int())


def _choice(values):
    return st.one_of(st.sampled_from(list(values)), nasty_text())


REGIONS = st.one_of(st.sampled_from(["晋中市", "昔阳县", "城区", "大同市城区", "山西省", ""]), nasty_text())
UNITS = st.one_of(st.sampled_from(["晋中市政府", "省环保厅、晋中市政府", "晋中市政府,,不存在的单位", ""]), nasty_text())
TASK_NUMBERS = st.one_of(st.sampled_from(["12", "12、15", "任务12号", "12 15", "99", "0", ""]), nasty_int())


def _case_fields(**extra):
    return form(title=nasty_text(), problem_text=nasty_text(), region=REGIONS, units=UNITS,
                task_numbers=TASK_NUMBERS, handling_authority=nasty_text(), **extra)


@FUZZ
@given(posted=_case_fields(
    reference=st.one_of(st.sampled_from(["移交问题清单第1项", "移交问题清单第9项"]), nasty_text()),
    source=_choice(["TRANSFERRED", "TASK_OVERDUE", "FALSE_CLOSURE", "SUPERVISION"]),
    transferred_on=nasty_date()))
def test_case_register_form(client, acc_officer, case, media, posted):
    client.force_login(acc_officer)
    post_and_check(client, reverse("accountability:new"), posted, media)


@FUZZ
@given(data=st.data())
def test_case_edit_form(client, acc_officer, case, media, data):
    client.force_login(acc_officer)
    posted = data.draw(_case_fields(version=_version(case)))
    post_and_check(client, reverse("accountability:edit", args=[case.pk]), posted, media)


@FUZZ
@given(data=st.data())
def test_stage_advance_form(client, acc_officer, case, media, data):
    client.force_login(acc_officer)
    posted = data.draw(form(to_stage=_choice(Stage.values), on=nasty_date(), note=nasty_text(),
                            document_title=nasty_text(), version=_version(case)))
    files = data.draw(uploads(PDF, "pdf", max_size=1))
    if files:
        posted["document"] = files[0]
    post_and_check(client, reverse("accountability:advance", args=[case.pk]), posted, media)


@pytest.fixture
def verifying(case, acc_officer):
    case_advance(case=case, actor=acc_officer, to_stage=Stage.VERIFICATION, on=D)
    case_advance(case=case, actor=acc_officer, to_stage=Stage.PROPOSAL_REVIEW, on=D + dt.timedelta(days=1))
    case.refresh_from_db()
    return case


@FUZZ
@given(data=st.data())
def test_stage_return_form(client, acc_officer, verifying, media, data):
    client.force_login(acc_officer)
    posted = data.draw(form(to_stage=_choice(Stage.values), on=nasty_date(), reason=nasty_text(),
                            version=_version(verifying)))
    post_and_check(client, reverse("accountability:return", args=[verifying.pk]), posted, media)


def _person_fields(case):
    return form(name=nasty_text(), position=nasty_text(), rank=_choice(["", *Rank.values]),
                unit_name=nasty_text(), outcome=_choice(["", *Outcome.values]), decided_on=nasty_date(),
                deciding_body=nasty_text(), version=_version(case))


@pytest.fixture
def person(case, acc_officer):
    saved = person_save(case=case, actor=acc_officer, name="欧阳某某", position="某县副县长", unit_name="某县人民政府")
    case.refresh_from_db()
    return saved


@FUZZ
@given(data=st.data())
def test_person_add_form(client, acc_officer, case, media, data):
    client.force_login(acc_officer)
    posted = data.draw(_person_fields(case))
    post_and_check(client, reverse("accountability:person_new", args=[case.pk]), posted, media)


@FUZZ
@given(data=st.data())
def test_person_edit_form(client, acc_officer, case, person, media, data):
    client.force_login(acc_officer)
    posted = data.draw(_person_fields(case))
    post_and_check(client, reverse("accountability:person_edit", args=[person.pk]), posted, media)


@FUZZ
@given(data=st.data())
def test_person_remove_form(client, acc_officer, case, person, media, data):
    client.force_login(acc_officer)
    posted = data.draw(form(version=_version(case)))
    post_and_check(client, reverse("accountability:person_delete", args=[person.pk]), posted, media)


@FUZZ
@given(data=st.data())
def test_document_upload_form(client, acc_officer, case, media, data):
    client.force_login(acc_officer)
    posted = data.draw(form(title=nasty_text(), version=_version(case)))
    files = data.draw(uploads(PDF, "pdf", max_size=1))
    if files:
        posted["file"] = files[0]
    post_and_check(client, reverse("accountability:document_upload", args=[case.pk]), posted, media)


@pytest.fixture
def executing(case, acc_officer):
    person_save(case=case, actor=acc_officer, name="欧阳某某", position="某县副县长", rank=Rank.DIVISION,
                unit_name="某县人民政府", outcome=Outcome.PARTY_SERIOUS_WARNING, decided_on=dt.date(2018, 2, 3),
                deciding_body="晋中市纪委")
    for i, stage in enumerate(list(Stage)[1:5]):
        case_advance(case=case, actor=acc_officer, to_stage=stage, on=D + dt.timedelta(days=i))
    case.refresh_from_db()
    return case


@FUZZ
@given(data=st.data())
def test_public_summary_form(client, acc_officer, executing, media, data):
    client.force_login(acc_officer)
    posted = data.draw(form(summary=nasty_text(), version=_version(executing)))
    posted["released_fields"] = data.draw(st.lists(_choice(PublicField.values), max_size=4))
    post_and_check(client, reverse("accountability:public_result", args=[executing.pk]), posted, media)


@pytest.fixture
def awaiting_review(executing, acc_officer):
    result = public_result_prepare(case=executing, actor=acc_officer, summary="经调查核实,有关责任人员已依规依纪作出处理。",
                                   released_fields=[PublicField.REGION])
    executing.refresh_from_db()
    case_advance(case=executing, actor=acc_officer, to_stage=Stage.PUBLIC, on=D + dt.timedelta(days=10))
    result.refresh_from_db()
    return result


@FUZZ
@given(data=st.data(), approve=st.booleans())
def test_publicity_review_forms(client, publicity_officer, awaiting_review, media, data, approve):
    client.force_login(publicity_officer)
    posted = data.draw(form(note=nasty_text(), version=st.one_of(st.just(str(awaiting_review.version)),
                                                                  nasty_int())))
    name = "accountability:review_approve" if approve else "accountability:review_reject"
    with rolled_back():
        response, before, after = post(client, reverse(name, args=[awaiting_review.pk]), posted, media)
        assert_outcome(response, before, after)
        if after != before:
            awaiting_review.refresh_from_db()
            assert awaiting_review.status == (PublicResult.Status.APPROVED if approve else PublicResult.Status.REJECTED)


@FUZZ
@given(posted=form(sha256=nasty_text()), data=st.data())
def test_case_import_forms(client, acc_officer, case, media, posted, data):
    client.force_login(acc_officer)
    post_and_check(client, reverse("accountability:import_confirm"), posted, media)
    files = data.draw(uploads(data.draw(st.sampled_from([b"", b"PK\x03\x04junk", PDF, b"\x00" * 64])), "xlsx", 1))
    post_and_check(client, reverse("accountability:import"), {"file": files} if files else {}, media)
