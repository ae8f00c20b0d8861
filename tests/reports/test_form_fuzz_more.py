"""Property-based fuzzing of the other forms and of the GET parameters of every list and
dashboard: report re-sends, the weekly publication, the login, the language switch, the
password change; the ledger's filters and `as_of` days. Same property as test_form_fuzz.py;
a GET must never write anything the forms watch."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from rectify.models import User
from reports import services
from reports.models import ReportKind
from tasks.models import Task, Unit
from tests.cast import example_user
from tests.fuzzing import (
    CJK,
    FUZZ,
    db_state,
    form,
    nasty_date,
    nasty_int,
    nasty_text,
    post,
    post_and_check,
    rolled_back,
)
from tests.reports_helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # hypothesis: many examples per form


@pytest.fixture
def dispatch(plan, office_user, leader, coal_liaison, taiyuan_liaison, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    return report


@pytest.fixture
def publicity(plan):
    return example_user("publicity")


@pytest.fixture
def publication(plan):
    with time_machine.travel(at(2018, 10, 11, 16, 0), tick=False):
        draft, _ = services.publication_draft()
    return draft


@pytest.fixture
def acc_reader(plan):
    return example_user("acc-reader")


FLAG = st.one_of(st.sampled_from(["on", "1", "true", "false", "0", ""]), nasty_text())


# --- Reports and publications -------------------------------------------------------------------


@FUZZ
@given(posted=form(reason=nasty_text(), only_failed=FLAG))
def test_report_resend_form(client, office_user, dispatch, posted):
    client.force_login(office_user)
    post_and_check(client, reverse("reports:resend", args=[dispatch.pk]), posted)


@FUZZ
@given(posted=form(intro=nasty_text()), approve=st.booleans())
def test_publication_intro_and_approval(client, publicity, publication, posted, approve):
    client.force_login(publicity)
    name = "reports:publication_approve" if approve else "reports:publication"
    post_and_check(client, reverse(name, args=[publication.pk]), posted)


# --- Login, language, password ------------------------------------------------------------------


def _last(value):
    """What Django reads of a field posted twice: the last value."""
    return value[-1] if isinstance(value, list) else value


def _local(location: str) -> bool:
    """A path on this site. (Not url_has_allowed_host_and_scheme: it refuses any URL over 2048
    characters, and a long path percent-encoded is one.)"""
    parts = urlsplit(location)
    return (parts.scheme in ("", "http") and parts.netloc in ("", "testserver")
            and not location.startswith(("//", "/\\")))


@FUZZ
@given(posted=form(username=st.one_of(st.just("taiyuan"), nasty_text()),
                   password=st.one_of(st.just("pw-for-tests"), nasty_text()), next=nasty_text()))
def test_login_form(client, taiyuan_liaison, posted):
    with rolled_back():
        before = list(User.objects.values_list("pk", "password", "is_active"))
        response = client.post(reverse("login"), posted)
        assert response.status_code < 500
        assert list(User.objects.values_list("pk", "password", "is_active")) == before
        if response.status_code == 302:  # logged in: only with the real credentials, to a local page
            assert (_last(posted.get("username")), _last(posted.get("password"))) == ("taiyuan", "pw-for-tests")
            assert _local(response["Location"])
            client.logout()
        else:
            assert CJK.search(response.content.decode().split("<main>")[1])


@FUZZ
@given(posted=form(language=st.one_of(st.sampled_from(["en", "zh-hans", "zh-Hans", "fr", ""]), nasty_text()),
                   next=st.one_of(st.sampled_from(["/tasks/", "//evil.example/", "https://evil.example/", ""]),
                                  nasty_text())))
def test_language_switch(client, taiyuan_liaison, posted):
    client.force_login(taiyuan_liaison)
    with rolled_back():
        before = db_state()
        response = client.post(reverse("set_language"), posted)
        assert response.status_code in (200, 302, 204)
        assert db_state() == before
        if response.status_code == 302:
            assert _local(response["Location"])


@FUZZ
@given(posted=form(old_password=st.one_of(st.just("pw-for-tests"), nasty_text()),
                   new_password1=nasty_text(), new_password2=nasty_text()))
def test_password_change_form(client, taiyuan_liaison, posted):
    # An earlier example's refresh_from_db() left the new (rolled back) password hash on this
    # object; logging in with it would put a session hash the database no longer matches.
    taiyuan_liaison.refresh_from_db()
    client.force_login(taiyuan_liaison)
    with rolled_back():
        response, before, after = post(client, reverse("password_change"), posted)
        assert response.status_code < 500
        if after != before:
            assert response.status_code == 302
            taiyuan_liaison.refresh_from_db()
            assert taiyuan_liaison.check_password(posted["new_password1"])
        else:
            assert response.status_code == 200 and response.context["form"].errors
            assert all(CJK.search(e) for errors in response.context["form"].errors.values() for e in errors)


# --- GET parameters of the lists and dashboards -----------------------------------------------------

PAGES = ["tasks:ledger", "tasks:ledger_export", "tasks:overview", "tasks:league_units", "tasks:league_regions",
         "tasks:timeline", "tasks:mytasks", "tasks:supervision_list", "tasks:office_queue", "reports:archive",
         "reports:outbox", "accountability:figures", "public:home"]
PARAMS = ["as_of", "page", "q", "unit", "region", "own", "status", "deadline_class", "light", "flag", "problem",
          "measure", "due", "supervised", "sort", "plan", "ids", "kind", "active", "role", "unreported"]


def _params():
    value = st.one_of(nasty_text(), nasty_int(), nasty_date())
    return st.one_of(
        st.dictionaries(st.sampled_from(PARAMS), st.one_of(value, st.lists(value, min_size=2, max_size=2)),
                        max_size=5),
        st.dictionaries(nasty_text(), value, max_size=2),
    )


@FUZZ
@given(name=st.sampled_from(PAGES), params=_params(), who=st.sampled_from(["office", "liaison"]))
def test_lists_and_dashboards_withstand_any_query(client, office_user, taiyuan_liaison, name, params, who):
    client.force_login(office_user if who == "office" else taiyuan_liaison)
    with rolled_back():
        before = db_state()
        response = client.get(reverse(name), params)
        assert response.status_code in (200, 400, 403, 404), response.status_code
        assert db_state() == before
        if response.status_code == 400:
            assert CJK.search(response.content.decode())
        as_of = params.get("as_of")
        if response.status_code == 200 and response.context and response.context.get("scope") is not None:
            scope = response.context["scope"]
            if as_of and scope.as_of_error:
                assert CJK.search(scope.as_of_error)


@FUZZ
@given(params=_params(), pk=st.one_of(st.none(), st.integers(0, 10**30)))
def test_unit_page_withstands_any_query(client, office_user, taiyuan_liaison, params, pk):
    client.force_login(office_user)
    unit_pk = pk if pk is not None else Unit.objects.get(name="太原市政府").pk
    with rolled_back():
        before = db_state()
        response = client.get(reverse("tasks:unit", args=[unit_pk]), params)
        assert response.status_code in (200, 404)
        assert db_state() == before


@FUZZ
@given(params=st.one_of(st.dictionaries(st.sampled_from(["q", "stage", "source", "city", "overdue", "denied",
                                                          "as_of"]), nasty_text(), max_size=4)),
       name=st.sampled_from(["accountability:list", "accountability:export", "accountability:log",
                             "accountability:figures"]))
def test_register_lists_withstand_any_query(client, acc_reader, name, params):
    client.force_login(acc_reader)
    with rolled_back():
        before = db_state()
        response = client.get(reverse(name), params)
        assert response.status_code == 200
        assert db_state() == before


@FUZZ
@given(pk=st.integers(0, 10**30), data=st.data())
def test_task_pages_with_any_id(client, taiyuan_liaison, plan, pk, data):
    client.force_login(taiyuan_liaison)
    name = data.draw(st.sampled_from(["tasks:detail", "tasks:report", "tasks:extension_new", "tasks:signoff_apply"]))
    visible = Task.objects.filter(pk=pk, task_units__unit=taiyuan_liaison.unit).exists()
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code in ((200, 403) if visible else (404,))


@FUZZ
@given(ids=st.lists(st.one_of(nasty_int(), st.integers(1, 80).map(str)), max_size=4).map(",".join))
def test_ledger_export_ids(client, taiyuan_liaison, plan, ids):
    client.force_login(taiyuan_liaison)
    response = client.get(reverse("tasks:ledger_export"), {"ids": ids})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert CJK.search(response.content.decode())
