"""Archive, outbox, preview, issue, re-send, publications and the public page: who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from reports import services
from reports.models import Delivery, Publication, Report, ReportKind, Resend
from tasks.models import Task, TaskStatus, TaskUnit
from tasks.services import task_report_progress
from tests.cast import example_user
from tests.reports_helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(plan, office_user, leader, coal_liaison, taiyuan_liaison, outsider):
    return plan


@pytest.fixture
def office_head(plan):
    """Here the head role alone (not conftest's office_head, who is office staff too)."""
    return example_user("office-head")


@pytest.fixture
def publicity(plan):
    return example_user("publicity")


@pytest.fixture
def dispatch(cast, django_capture_on_commit_callbacks) -> Report:
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        report, _ = services.report_issue(kind=ReportKind.DISPATCH)
    return report


def _get(client, user, url):
    if user is not None:
        client.force_login(user)
    return client.get(url)


def _post(client, user, url, data=None):
    if user is not None:
        client.force_login(user)
    return client.post(url, data or {})


# --- Archive and outbox: who may read -------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["reports:archive", "reports:outbox"])
def test_archive_and_outbox_readers(client, cast, office_user, office_head, supervisor, leader, coal_liaison,
                                    outsider, url_name):
    url = reverse(url_name)
    assert _get(client, office_user, url).status_code == 200
    assert _get(client, office_head, url).status_code == 200
    assert _get(client, supervisor, url).status_code == 200  # reads like leaders (issue 18)
    assert _get(client, leader, url).status_code == 200
    assert _get(client, coal_liaison, url).status_code == 403
    assert _get(client, outsider, url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert _post(client, office_user, url).status_code == 405


def test_report_pages_and_downloads(client, dispatch, office_user, supervisor, leader, coal_liaison):
    for name in ("reports:detail", "reports:original", "reports:xlsx", "reports:snapshot"):
        url = reverse(name, args=[dispatch.pk])
        assert _get(client, office_user, url).status_code == 200, name
        assert _get(client, supervisor, url).status_code == 200, name
        assert _get(client, leader, url).status_code == 200, name
        assert _get(client, coal_liaison, url).status_code == 403, name
    detail = _get(client, office_user, reverse("reports:detail", args=[dispatch.pk])).content.decode()
    assert dispatch.title in detail and "coal@example.test" in detail and "登记并重发" in detail
    assert "登记并重发" not in _get(client, leader, reverse("reports:detail", args=[dispatch.pk])).content.decode()
    assert "登记并重发" not in _get(client, supervisor, reverse("reports:detail", args=[dispatch.pk])).content.decode()
    original = _get(client, office_user, reverse("reports:original", args=[dispatch.pk]))
    assert original.content.decode() == dispatch.body_html  # exactly as sent
    xlsx = _get(client, office_user, reverse("reports:xlsx", args=[dispatch.pk]))
    assert xlsx.content == bytes(dispatch.xlsx) and "attachment" in xlsx["Content-Disposition"]
    assert _get(client, office_user, reverse("reports:detail", args=[dispatch.pk + 999])).status_code == 404


def _issue_more(n: int) -> None:
    for week in range(n):
        day = dt.date(2018, 10, 18) + dt.timedelta(weeks=week)
        with time_machine.travel(at(day.year, day.month, day.day, 9, 0), tick=False):
            services.report_issue(kind=ReportKind.DISPATCH)


def test_archive_and_outbox_query_counts_do_not_grow(client, dispatch, office_user,
                                                     django_assert_num_queries):
    client.force_login(office_user)
    client.get(reverse("reports:archive"))  # warm the session
    # session, user, its roles, its unit (base.html), the count, the page; the archive also
    # lists the work held while the queue was down
    with django_assert_num_queries(7):
        client.get(reverse("reports:archive"))
    with django_assert_num_queries(6):
        client.get(reverse("reports:outbox"))
    _issue_more(3)
    assert Delivery.objects.count() == 16
    with django_assert_num_queries(7):
        client.get(reverse("reports:archive"))
    with django_assert_num_queries(6):
        client.get(reverse("reports:outbox"))


# --- Preview, issue, re-send -------------------------------------------------------------------------


def test_preview_compiles_without_saving_or_sending(client, cast, office_user, leader, coal_liaison):
    with time_machine.travel(at(2018, 10, 11, 10, 0), tick=False):
        for kind in ("dispatch", "bulletin"):
            response = _get(client, office_user, reverse("reports:preview", args=[kind]))
            assert response.status_code == 200
            assert "这是预览" in response.content.decode()
        assert _get(client, leader, reverse("reports:preview", args=["dispatch"])).status_code == 403
        assert _get(client, coal_liaison, reverse("reports:preview", args=["dispatch"])).status_code == 403
        assert _get(client, office_user, reverse("reports:preview", args=["nonsense"])).status_code == 404
    assert Report.objects.count() == 0 and Delivery.objects.count() == 0 and mail.outbox == []


def test_issue_now_permission_matrix(client, cast, office_user, supervisor, leader, coal_liaison, taiyuan_liaison,
                                     django_capture_on_commit_callbacks):
    url = reverse("reports:issue", args=["dispatch"])
    with time_machine.travel(at(2018, 10, 11, 10, 0), tick=False):
        assert _post(client, supervisor, url).status_code == 403  # reads the archive, never issues
        assert _post(client, leader, url).status_code == 403
        assert _post(client, coal_liaison, url).status_code == 403
        assert _post(client, taiyuan_liaison, url).status_code == 403
        assert _get(client, office_user, url).status_code == 405
        client.logout()
        assert client.post(url)["Location"].startswith(reverse("login"))
        assert Report.objects.count() == 0
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, office_user, url)
        assert response.status_code == 302
        report = Report.objects.get()
        assert (report.trigger, report.triggered_by) == (Report.Trigger.OFFICE, office_user)
        assert len(mail.outbox) == 4
        # A second click finds this period's dispatch: nothing new is sent.
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, office_user, url)
        assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert Report.objects.count() == 1 and len(mail.outbox) == 4


def test_resend_is_explicit_and_recorded(client, dispatch, office_user, supervisor, leader, coal_liaison,
                                         django_capture_on_commit_callbacks):
    url = reverse("reports:resend", args=[dispatch.pk])
    sent_before = len(mail.outbox)
    assert _post(client, supervisor, url, {"reason": "x"}).status_code == 403
    assert _post(client, leader, url, {"reason": "x"}).status_code == 403
    assert _post(client, coal_liaison, url, {"reason": "x"}).status_code == 403
    assert _get(client, office_user, url).status_code == 405
    client.logout()
    assert client.post(url, {"reason": "x"})["Location"].startswith(reverse("login"))

    response = _post(client, office_user, url, {"reason": "  "})
    assert response.status_code == 302 and not Resend.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, office_user, url, {"reason": "领导要求补发", "only_failed": "on"})
    assert not Resend.objects.exists()  # nothing failed: nothing to re-send
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, office_user, url, {"reason": "邮件系统故障后补发<script>"})
    resend = Resend.objects.get()
    assert (resend.round, resend.actor, resend.reason) == (1, office_user, "邮件系统故障后补发<script>")
    assert dispatch.deliveries.filter(round=1, status=Delivery.Status.SENT).count() == 4
    assert len(mail.outbox) == sent_before + 4
    page = _get(client, office_user, reverse("reports:detail", args=[dispatch.pk])).content.decode()
    assert "邮件系统故障后补发&lt;script&gt;" in page and "<script>" not in page.split("<body")[1].split("</main>")[0]


# --- Publications and the public page ---------------------------------------------------------------


def test_publication_permission_matrix(client, cast, publicity, office_user, leader, coal_liaison):
    draft_url = reverse("reports:publication_draft")
    with time_machine.travel(at(2018, 10, 11, 16, 0), tick=False):
        assert _post(client, coal_liaison, draft_url).status_code == 403
        assert _post(client, leader, draft_url).status_code == 403
        assert _get(client, publicity, draft_url).status_code == 405
        client.logout()
        assert client.post(draft_url)["Location"].startswith(reverse("login"))
        assert _post(client, publicity, draft_url).status_code == 302
    publication = Publication.objects.get()
    assert publication.status == Publication.Status.DRAFT and publication.publish_on == dt.date(2018, 10, 12)

    edit_url = reverse("reports:publication", args=[publication.pk])
    assert _post(client, coal_liaison, edit_url, {"intro": "x"}).status_code == 403
    assert _post(client, office_user, edit_url, {"intro": "本周整改进展如下。"}).status_code == 302
    publication.refresh_from_db()
    assert publication.intro == "本周整改进展如下。"

    approve_url = reverse("reports:publication_approve", args=[publication.pk])
    assert _post(client, office_user, approve_url).status_code == 403  # the publicity group approves
    assert _post(client, coal_liaison, approve_url).status_code == 403
    assert _post(client, leader, approve_url).status_code == 403
    assert _get(client, publicity, approve_url).status_code == 405
    client.logout()
    assert client.post(approve_url)["Location"].startswith(reverse("login"))
    assert _post(client, publicity, approve_url).status_code == 302
    publication.refresh_from_db()
    assert (publication.status, publication.approved_by) == (Publication.Status.APPROVED, publicity)
    _post(client, publicity, edit_url, {"intro": "改了"})
    publication.refresh_from_db()
    assert publication.intro == "本周整改进展如下。"  # approved: no longer editable


def test_public_page_shows_the_latest_approved_publication_and_nothing_internal(
        client, cast, publicity, coal_liaison):
    coal = coal_liaison.unit
    coal_liaison.phone = "13812345678"
    coal_liaison.save()
    coal.head_email, coal.head_name = "head-coal@example.test", "王厅长"
    coal.save()
    TaskUnit.objects.filter(unit=coal).update(responsible_person="李责任人")
    task = Task.objects.filter(task_units__unit=coal).order_by("number").first()
    task_report_progress(task=task, unit=coal, author=coal_liaison, percent=30, text="内部进展:涉密线索已移交",
                         week=dt.date(2018, 10, 1), now=at(2018, 10, 2))
    closed = Task.objects.exclude(pk=task.pk).order_by("number").first()
    Task.objects.filter(pk=closed.pk).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 9, 30))
    in_notice = Task.objects.exclude(pk__in=[task.pk, closed.pk]).order_by("number").first()
    Task.objects.filter(pk=in_notice.pk).update(status=TaskStatus.PUBLIC_NOTICE)

    assert "暂无已发布" in client.get(reverse("public:home")).content.decode()
    old, _ = services.publication_draft(week=dt.date(2018, 9, 24))
    services.publication_update(publication=old, intro="九月第四周公开")
    services.publication_approve(publication=old, user=publicity)
    current, _ = services.publication_draft(week=dt.date(2018, 10, 1))
    services.publication_update(publication=current, intro="十月第一周公开")
    services.publication_approve(publication=current, user=publicity)
    draft, _ = services.publication_draft(week=dt.date(2018, 10, 8))
    services.publication_update(publication=draft, intro="未审核的草稿内容")

    with time_machine.travel(at(2018, 10, 11, 12, 0), tick=False):
        page = client.get(reverse("public:home")).content.decode()
    assert "十月第一周公开" in page
    assert "九月第四周公开" not in page      # only the latest approved one
    assert "未审核的草稿内容" not in page    # no drafts
    for internal in ("13812345678", "example.test", "head-coal", "王厅长", "李责任人", "内部进展", "涉密",
                     "coal", "逾期", "未达序时进度"):
        assert internal not in page, internal
    assert task.title in page
    closed_section = page.split("已销号任务")[1]
    assert closed.title in closed_section and "2018年9月30日" in closed_section
    assert in_notice.title not in closed_section  # still in its notice period

    with time_machine.travel(at(2018, 10, 4, 12, 0), tick=False):  # before that Friday: the older one
        assert "九月第四周公开" in client.get(reverse("public:home")).content.decode()
