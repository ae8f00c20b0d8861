"""Permission matrix for every view of the register that changes data.

accountability group: allowed · office head: 403 (may read, not handle) · office staff,
leader, liaison: 404 (the case is not theirs to know of) · anonymous: login redirect ·
GET on a POST-only view: 405. Approving a public result belongs to the publicity group.

It runs on the suite's database: SQLite in `make test` / `make test-fast`, PostgreSQL in
`.ci/run` (DATABASE_URL), so both engines answer the same 98 cases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accountability.models import (
    AccountablePerson,
    Case,
    CaseDocument,
    Outcome,
    PublicField,
    PublicResult,
    Rank,
    Stage,
    StageRecord,
)
from accountability.services import case_advance, person_save, public_result_prepare
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import upload
from tests.accountability.test_accountability_import import GOOD, xlsx

pytestmark = pytest.mark.django_db

D = dt.date(2018, 2, 1)


def to_stage(case, officer, stage):
    for i, s in enumerate(list(Stage)[1:list(Stage).index(stage) + 1]):
        if s == Stage.EXECUTION:
            person_save(case=case, actor=officer, name="王某某", position="副县长", rank=Rank.DIVISION,
                        unit_name="某县政府", outcome=Outcome.ADMIN_WARNING, decided_on=D, deciding_body="纪委")
        if s == Stage.PUBLIC:
            public_result_prepare(case=case, actor=officer, summary="已处理。", released_fields=[PublicField.TITLE])
        case_advance(case=case, actor=officer, to_stage=s, on=D + dt.timedelta(days=i))


def undecided_person(case, officer):
    return person_save(case=case, actor=officer, name="李某某", position="局长", unit_name="某局")


# view → (POST-only?, who is allowed, setup(case, officer) → (url, data))
def _new(case, officer):
    return reverse("accountability:new"), {
        "reference": "新-1", "source": "TRANSFERRED", "problem_text": "新问题", "transferred_on": "2018-01-05"}


def _edit(case, officer):
    return reverse("accountability:edit", args=[case.pk]), {
        "title": "改后的概要", "problem_text": "补充后的问题原文", "region": "晋中市", "units": "晋中市政府",
        "task_numbers": "1", "handling_authority": "省纪委省监委", "version": case.version}


def _advance(case, officer):
    return reverse("accountability:advance", args=[case.pk]), {
        "to_stage": "VERIFICATION", "on": "2018-02-01", "note": "核查", "version": case.version}


def _return(case, officer):
    to_stage(case, officer, Stage.VERIFICATION)
    return reverse("accountability:return", args=[case.pk]), {
        "to_stage": "CLUE", "on": "2018-02-02", "reason": "重新交办", "version": case.version}


def _person_new(case, officer):
    return reverse("accountability:person_new", args=[case.pk]), {
        "name": "赵某某", "position": "科长", "unit_name": "某局", "version": case.version}


def _person_edit(case, officer):
    p = undecided_person(case, officer)
    return reverse("accountability:person_edit", args=[p.pk]), {
        "name": "李某某", "position": "原局长", "unit_name": "某局", "rank": "SECTION", "version": case.version}


def _person_delete(case, officer):
    p = undecided_person(case, officer)
    return reverse("accountability:person_delete", args=[p.pk]), {"version": case.version}


def _document(case, officer):
    return reverse("accountability:document_upload", args=[case.pk]), {
        "title": "核查报告", "version": case.version, "file": upload()}


def _public(case, officer):
    to_stage(case, officer, Stage.EXECUTION)
    return reverse("accountability:public_result", args=[case.pk]), {
        "summary": "已依规处理。", "released_fields": ["title"], "version": case.version}


def _approve(case, officer):
    to_stage(case, officer, Stage.PUBLIC)
    r = case.public_result
    return reverse("accountability:review_approve", args=[r.pk]), {"version": r.version}


def _reject(case, officer):
    to_stage(case, officer, Stage.PUBLIC)
    r = case.public_result
    return reverse("accountability:review_reject", args=[r.pk]), {"version": r.version, "note": "请补充"}


def _import(case, officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return reverse("accountability:import"), {"file": SimpleUploadedFile("清单.xlsx", xlsx(GOOD))}


def _import_confirm(case, officer):
    return reverse("accountability:import_confirm"), {"sha256": "see-test"}


VIEWS = {
    "new": (False, "acc", _new),
    "edit": (False, "acc", _edit),
    "advance": (True, "acc", _advance),
    "return": (True, "acc", _return),
    "person_new": (False, "acc", _person_new),
    "person_edit": (False, "acc", _person_edit),
    "person_delete": (True, "acc", _person_delete),
    "document_upload": (True, "acc", _document),
    "public_result": (False, "acc", _public),
    "review_approve": (True, "pub", _approve),
    "review_reject": (True, "pub", _reject),
    "import": (False, "acc", _import),
    "import_confirm": (True, "acc", _import_confirm),
}
ROLES = {
    "acc_officer": "acc",
    "office_head": "head",
    "publicity_officer": "pub",
    "office_user": "office",
    "leader": "leader",
    "coal_liaison": "liaison",
    "anonymous": "anonymous",
}


def expected(view: str, role: str) -> int:
    allowed = VIEWS[view][1]
    if role == "anonymous":
        return 302
    if role == allowed:
        return 200 if view == "import" else 302
    # those who may read cases but not do this: they know it exists
    if role in {"acc", "head"}:
        return 403
    return 404


def snapshot():
    return (
        list(Case.objects.order_by("pk").values_list("pk", "stage", "version", "title")),
        StageRecord.objects.count(),
        list(AccountablePerson.objects.order_by("pk").values_list("pk", "name", "position", "rank")),
        CaseDocument.objects.count(),
        list(PublicResult.objects.values_list("pk", "status", "summary", "version")),
    )


@pytest.mark.parametrize("role_fixture", list(ROLES))
@pytest.mark.parametrize("view", list(VIEWS))
def test_permission_matrix(request, client, case, acc_officer, publicity_officer, view, role_fixture):
    url, data = VIEWS[view][2](case, acc_officer)
    role = ROLES[role_fixture]
    if view == "import_confirm":
        # a real preview in the officer's session, then the role under test confirms
        client.force_login(acc_officer)
        preview = client.post(reverse("accountability:import"), {"file": _import(case, acc_officer)[1]["file"]})
        data = {"sha256": preview.context["preview"].sha256}
        if role != "acc":
            client.logout()
    if role_fixture != "anonymous":
        client.force_login(request.getfixturevalue(role_fixture))
    before = snapshot()
    response = client.post(url, data)
    want = expected(view, role)
    assert response.status_code == want, (view, role, response.content[:300])
    if want == 302 and role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    if want in {403, 404} or role == "anonymous" or view == "import":
        assert snapshot() == before, (view, role)
    else:
        assert snapshot() != before, (view, role)


@pytest.mark.parametrize("view", [v for v, (post_only, _, _) in VIEWS.items() if post_only])
def test_get_on_post_only_views_is_405(client, case, acc_officer, publicity_officer, view):
    url, _ = VIEWS[view][2](case, acc_officer)
    client.force_login(publicity_officer if VIEWS[view][1] == "pub" else acc_officer)
    before = snapshot()
    assert client.get(url).status_code == 405
    assert snapshot() == before
