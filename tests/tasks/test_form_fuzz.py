"""Property-based fuzzing of the officials' workspace forms through the test client.

The property, for every form: never a 5xx; a refusal explains itself in Chinese on the page
(or as a message after the redirect) and leaves the database and the stored files exactly as
they were; an acceptance stores rows that pass the model's validation and hold no NUL.
Strategies and checks: tests/fuzzing.py. The register, the reports, logins and the GET
filters: test_form_fuzz_more.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import assume, given
from hypothesis import strategies as st

from tasks.extensions import extension_request_create
from tasks.models import ProgressReport, SupervisionKind, Task, TaskStatus, Unit
from tasks.selectors import tasks_visible_to
from tasks.signoff import signoff_apply, signoff_lead_review
from tasks.supervision import supervision_issue
from tests.fuzzing import (
    FUZZ,
    PNG,
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
from tests.workspace_files import png

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # hypothesis: many examples per form


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)  # lead 省环保厅, responsible 太原市政府


@pytest.fixture
def media(evidence_storage):
    return evidence_storage


def _version(task12):
    return st.one_of(st.just(str(task12.version)), nasty_int())


# --- Progress report (进展情况) -------------------------------------------------------------


def _report_valid(rows):
    for row in rows:
        if isinstance(row, ProgressReport):
            assert 0 <= row.percent <= 100 and row.text.strip() == row.text and row.text


@FUZZ
@given(data=st.data())
def test_progress_report_form(client, taiyuan_liaison, task12, media, data):
    client.force_login(taiyuan_liaison)
    posted = data.draw(form(percent=nasty_int(), text=nasty_text(), version=nasty_int()))
    posted["evidence"] = data.draw(uploads(PNG, "png"))
    post_and_check(client, reverse("tasks:report", args=[task12.pk]), posted, media, invariants=_report_valid)


# --- Sign-off (销号) ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_signoff_apply_form(client, taiyuan_liaison, task12, media, data):
    client.force_login(taiyuan_liaison)
    posted = data.draw(form(comment=nasty_text(), version=_version(task12)))
    posted["evidence"] = data.draw(uploads(PNG, "png"))
    post_and_check(client, reverse("tasks:signoff_apply", args=[task12.pk]), posted, media)


@pytest.fixture
def applied(task12, taiyuan_liaison, media):
    signoff_apply(task=task12, actor=taiyuan_liaison, evidence=[png()])
    task12.refresh_from_db()
    return task12


@pytest.fixture
def reviewed(applied, env_liaison):
    signoff_lead_review(task=applied, actor=env_liaison)
    applied.refresh_from_db()
    return applied


@FUZZ
@given(data=st.data())
def test_signoff_review_form(client, env_liaison, applied, media, data):
    client.force_login(env_liaison)
    posted = data.draw(form(comment=nasty_text(), version=_version(applied), next=nasty_text()))
    post_and_check(client, reverse("tasks:signoff_review", args=[applied.pk]), posted, media)


@FUZZ
@given(data=st.data())
def test_signoff_verify_form(client, office_user, reviewed, media, data):
    client.force_login(office_user)
    posted = data.draw(form(comment=nasty_text(), version=_version(reviewed), onsite_checked_on=nasty_date(),
                            onsite_note=nasty_text(), next=st.sampled_from(["queue", "", "x"])))
    post_and_check(client, reverse("tasks:signoff_verify", args=[reviewed.pk]), posted, media)


@FUZZ
@given(data=st.data(), who=st.sampled_from(["office", "env"]))
def test_signoff_return_form(client, office_user, env_liaison, applied, media, data, who):
    client.force_login(office_user if who == "office" else env_liaison)
    posted = data.draw(form(comment=nasty_text(), version=_version(applied)))
    with rolled_back():
        response, before, after = post(client, reverse("tasks:signoff_return", args=[applied.pk]), posted, media)
        outcome = assert_outcome(response, before, after)
        if outcome == "accepted" and after != before:
            applied.refresh_from_db()
            assert applied.status == TaskStatus.IN_PROGRESS
            assert applied.signoff_steps.order_by("-id").first().comment.strip()


@FUZZ
@given(posted=form(version=nasty_int(), comment=nasty_text()))
def test_signoff_close_ignores_whatever_is_posted(client, office_user, reviewed, media, posted):
    client.force_login(office_user)
    post_and_check(client, reverse("tasks:signoff_close", args=[reviewed.pk]), posted, media)


# --- Extensions (延期申请) ------------------------------------------------------------------------


@FUZZ
@given(posted=form(proposed_deadline=nasty_date((dt.date(2017, 1, 1), dt.date(2200, 1, 1))), reason=nasty_text()))
def test_extension_request_form(client, taiyuan_liaison, task12, media, posted):
    client.force_login(taiyuan_liaison)
    post_and_check(client, reverse("tasks:extension_new", args=[task12.pk]), posted, media)


@pytest.fixture
def extension(task12, taiyuan_liaison):
    return extension_request_create(task=task12, actor=taiyuan_liaison, proposed_deadline=dt.date(2199, 6, 30),
                                    reason="工期顺延")


@FUZZ
@given(posted=form(decision=st.one_of(st.sampled_from(["approve", "reject"]), nasty_text()), comment=nasty_text(),
                   next=st.sampled_from(["queue", "", "x"])))
def test_extension_decision_form(client, office_user, extension, media, posted):
    client.force_login(office_user)
    post_and_check(client, reverse("tasks:extension_decide", args=[extension.pk]), posted, media)


# --- Supervision (督办) ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_supervision_form(client, office_user, plan, media, data):
    client.force_login(office_user)
    unit_pk = Unit.objects.get(name="太原市政府").pk
    posted = data.draw(form(
        kind=st.one_of(st.sampled_from(SupervisionKind.values), nasty_text()),
        task_number=st.one_of(st.integers(1, 70).map(str), nasty_int()),
        unit=st.one_of(st.just(str(unit_pk)), nasty_int()),
        title=nasty_text(), requirements=nasty_text(), time_limit=nasty_date(), issued_on=nasty_date(),
        reopen_task=st.one_of(st.sampled_from(["on", "1", "true", "false", ""]), nasty_text()),
        reopen_reason=nasty_text(),
    ))
    post_and_check(client, reverse("tasks:supervision_new"), posted, media)


@FUZZ
@given(params=form(task=nasty_int(), unit=nasty_int(), plan=nasty_text()))
def test_supervision_form_get_parameters(client, office_user, plan, params):
    client.force_login(office_user)
    response = client.get(reverse("tasks:supervision_new"), params)
    assert response.status_code == 200


@pytest.fixture
def listed(task12, office_user):
    return supervision_issue(actor=office_user, kind=SupervisionKind.LISTED, title="挂牌督办", task=task12,
                             requirements="限期整改", time_limit=dt.date(2099, 1, 1))


@FUZZ
@given(posted=form(outcome=nasty_text()))
def test_supervision_lift_form(client, office_user, listed, media, posted):
    client.force_login(office_user)
    post_and_check(client, reverse("tasks:supervision_lift", args=[listed.pk]), posted, media)


# --- Wrong ids: other units' tasks, tasks that do not exist -----------------------------------------

TASK_FORMS = ["tasks:report", "tasks:signoff_apply", "tasks:signoff_review", "tasks:signoff_verify",
              "tasks:signoff_return", "tasks:signoff_close", "tasks:extension_new"]


@FUZZ
@given(name=st.sampled_from(TASK_FORMS), pk=st.one_of(st.integers(0, 10**6), st.integers(0, 10**40)),
       posted=form(percent=nasty_int(), text=nasty_text(), version=nasty_int(), comment=nasty_text()))
def test_forms_of_tasks_one_may_not_touch(client, coal_liaison, task12, media, name, pk, posted):
    """The coal bureau's liaison posts to every task form, for task 12 (not theirs) and any id."""
    assume(not tasks_visible_to(coal_liaison).filter(pk=pk).exists())
    client.force_login(coal_liaison)
    for target in (task12.pk, pk):
        with rolled_back():
            response, before, after = post(client, reverse(name, args=[target]), posted, media)
            assert response.status_code in (403, 404) or assert_outcome(response, before, after)
            assert after == before
