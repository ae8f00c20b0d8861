"""Confidentiality: only the accountability group and the office head open cases. Everyone
else gets 404 — pages, downloads, exports, search, admin — and every attempt is logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accountability.models import CaseAccessLog, Outcome, Rank
from accountability.services import DocumentUpload, document_add, person_save
from rectify.models import User
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import PDF, upload

pytestmark = pytest.mark.django_db

MISSING = 999_999
OUTSIDERS = ["coal_liaison", "taiyuan_liaison", "leader", "office_user", "publicity_officer", "outsider"]


@pytest.fixture
def person(case, acc_officer):
    return person_save(case=case, actor=acc_officer, name="欧阳某某", position="副县长", rank=Rank.DIVISION,
                       unit_name="某县政府", outcome=Outcome.ADMONISHING_TALK, decided_on=dt.date(2018, 2, 1),
                       deciding_body="晋中市纪委")


@pytest.fixture
def document(case, acc_officer):
    return document_add(case=case, actor=acc_officer, uploads=[DocumentUpload("核查报告", upload())])[0]


def case_urls(case, person, document, pk=None):
    """Every GET page that shows something of one case; pk=None → the real ids."""
    c = case.pk if pk is None else pk
    p = person.pk if pk is None else pk
    d = document.pk if pk is None else pk
    return [
        reverse("accountability:detail", args=[c]),
        reverse("accountability:edit", args=[c]),
        reverse("accountability:person_new", args=[c]),
        reverse("accountability:person_edit", args=[p]),
        reverse("accountability:public_result", args=[c]),
        reverse("accountability:document_download", args=[d]),
    ]


LIST_URLS = [
    reverse("accountability:list"),
    reverse("accountability:list") + "?q=欧阳",
    reverse("accountability:export"),
    reverse("accountability:export") + "?q=欧阳",
    reverse("accountability:new"),
    reverse("accountability:import"),
    reverse("accountability:log"),
]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_guessing_case_urls_is_404_and_logged(request, client, case, person, document, who):
    user: User = request.getfixturevalue(who)
    client.force_login(user)
    for real, missing in zip(case_urls(case, person, document), case_urls(case, person, document, MISSING),
                             strict=True):
        before = CaseAccessLog.objects.count()
        r_real, r_missing = client.get(real), client.get(missing)
        assert r_real.status_code == 404, real
        assert r_missing.status_code == 404, missing
        # the same answer whether or not the case exists
        assert r_real.content == r_missing.content
        logs = list(CaseAccessLog.objects.order_by("id")[before:])
        assert len(logs) == 2 and not any(log.granted for log in logs)
        assert {log.username for log in logs} == {user.username}
        assert logs[0].case == case  # the group sees which case the guess hit
        assert logs[1].case is None
        assert "欧阳某某" not in r_real.content.decode()
    for url in LIST_URLS:
        before = CaseAccessLog.objects.filter(granted=False).count()
        response = client.get(url)
        assert response.status_code == 404, url
        assert "欧阳" not in response.content.decode() and case.reference not in response.content.decode()
        assert CaseAccessLog.objects.filter(granted=False).count() == before + 1, url


def test_anonymous_is_sent_to_login_the_same_way_and_logged(client, case, person, document):
    for real, missing in zip(case_urls(case, person, document), case_urls(case, person, document, MISSING),
                             strict=True):
        r_real, r_missing = client.get(real), client.get(missing)
        assert r_real.status_code == r_missing.status_code == 302
        # nothing but the typed URL comes back: no hint whether the case exists
        assert r_real["Location"] == f"/accounts/login/?next={real}"
        assert r_missing["Location"] == f"/accounts/login/?next={missing}"
    denied = CaseAccessLog.objects.filter(granted=False, user=None)
    assert denied.count() == 2 * len(case_urls(case, person, document))
    assert denied.filter(requested=f"case:{case.pk}").exists()
    for url in LIST_URLS:
        assert client.get(url).status_code == 302


@pytest.mark.parametrize("who", ["acc_officer", "office_head"])
def test_readers_open_cases_and_each_opening_is_logged(request, client, case, person, document, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("accountability:detail", args=[case.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "欧阳某某" in text and "核查报告" in text and "线索交办" in text
    log = CaseAccessLog.objects.latest("id")
    assert (log.user, log.case, log.granted, log.action) == (user, case, True, CaseAccessLog.Action.VIEW)
    assert client.get(reverse("accountability:list") + "?q=欧阳").status_code == 200
    # the office head reads but has no forms to change anything
    assert ('id="advance-form"' in text) is (who == "acc_officer")


def test_download_is_an_attachment_for_readers_only_and_logged(client, case, document, acc_officer, office_head):
    for user in (acc_officer, office_head):
        client.force_login(user)
        response = client.get(reverse("accountability:document_download", args=[document.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF
        log = CaseAccessLog.objects.latest("id")
        assert (log.user, log.case, log.action, log.granted) == (user, case, "DOWNLOAD", True)


def test_export_lists_cases_with_persons_for_readers(client, case, person, acc_officer):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(acc_officer)
    response = client.get(reverse("accountability:export"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == case.reference and "欧阳某某" in rows[1][-1]
    assert CaseAccessLog.objects.filter(action="EXPORT", granted=True, user=acc_officer).exists()


def test_access_log_is_the_groups_alone(client, case, acc_officer, office_head, coal_liaison):
    client.force_login(coal_liaison)
    client.get(reverse("accountability:detail", args=[case.pk]))
    client.force_login(acc_officer)
    response = client.get(reverse("accountability:log") + "?denied=1")
    assert response.status_code == 200
    text = response.content.decode()
    assert "coal" in text and case.reference in text and "拒绝" in text
    client.force_login(office_head)
    assert client.get(reverse("accountability:log")).status_code == 404


# --- The admin ------------------------------------------------------------------------------

ADMIN_MODELS = ["case", "accountableperson", "casedocument", "publicresult", "caseaccesslog"]


@pytest.mark.parametrize("who", ["office_user", "superuser", "staff_leader"])
def test_admin_hides_the_register_from_everyone_else(request, client, case, person, who):
    if who == "staff_leader":
        user = request.getfixturevalue("leader")
        user.is_staff = True
        user.save()
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="accountability"))
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "责任追究" not in index.content.decode()
    assert client.get("/admin/accountability/").status_code == 404
    for model in ADMIN_MODELS:
        assert client.get(f"/admin/accountability/{model}/").status_code == 404, model
        assert client.get(f"/admin/accountability/{model}/?q=欧阳").status_code == 404, model
    for pk in (case.pk, MISSING):
        assert client.get(f"/admin/accountability/case/{pk}/change/").status_code == 404
        assert client.get(f"/admin/accountability/case/{pk}/history/").status_code == 404
        assert client.get(f"/admin/accountability/case/{pk}/delete/").status_code == 404
    assert client.get(f"/admin/accountability/accountableperson/{person.pk}/change/").status_code == 404
    assert CaseAccessLog.objects.filter(user=user, granted=False, action="ADMIN").count() >= 10


def test_admin_shows_the_register_read_only_to_the_group(client, case, person, admin_acc_officer):
    client.force_login(admin_acc_officer)
    assert "责任追究" in client.get(reverse("admin:index")).content.decode()
    listing = client.get("/admin/accountability/case/")
    assert listing.status_code == 200 and case.reference in listing.content.decode()
    page = client.get(f"/admin/accountability/case/{case.pk}/change/")
    assert page.status_code == 200 and "欧阳某某" in page.content.decode()
    log = CaseAccessLog.objects.filter(action="ADMIN").latest("id")
    assert (log.case, log.granted) == (case, True)
    # read-only: a POST to the change form is refused
    assert client.post(f"/admin/accountability/case/{case.pk}/change/", {"title": "改"}).status_code == 403
    assert client.get("/admin/accountability/case/add/").status_code == 403
