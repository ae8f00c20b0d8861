"""销号公示 is public (issue 18, item 2): the notice on /public/ and in the weekly publication,
objections lodged by the public (bad input, abuse limits), answered by the office before closing."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports.selectors import publication_compile
from tasks.models import Objection, SignoffStep, Task, TaskStatus
from tasks.objections import client_key, objection_answer, objection_lodge
from tasks.signoff import (
    notice_ends_on,
    signoff_apply,
    signoff_close_due,
    signoff_lead_review,
    signoff_office_verify,
)
from tests.workspace_files import png

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]

TEXT = "现场仍有煤矸石露天堆放,扬尘未得到控制,整改并未到位。"


@pytest.fixture
def in_notice(plan, taiyuan_liaison, env_liaison, office_user) -> Task:
    """Task 12, verified by the office today: in its public notice."""
    task = Task.objects.get(plan=plan, number=12)
    signoff_apply(task=task, actor=taiyuan_liaison, comment="已全部完成", evidence=[png()])
    signoff_lead_review(task=task, actor=env_liaison, comment="同意")
    signoff_office_verify(task=task, actor=office_user, comment="验收合格")
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLIC_NOTICE
    return task


def _post(client: Client, task: Task, address: str = "203.0.113.7", **data):
    fields = {"contact": "0351-1234567", "text": TEXT, "website": ""}
    fields.update(data)
    return client.post(reverse("public:objection", args=[task.pk]), fields, REMOTE_ADDR=address)


# --- On the public page and in the publication --------------------------------------------------


def test_a_task_in_notice_is_on_the_public_page_and_in_the_publication_as_in_notice(client, plan, in_notice):
    ends = notice_ends_on(in_notice)
    page = client.get(reverse("public:home")).content.decode()
    assert f"{in_notice.number}. {in_notice.title}" in page
    assert f"公示至{ends.year}年{ends.month}月{ends.day}日" in page
    assert reverse("public:objection", args=[in_notice.pk]) in page
    notice_page = client.get(reverse("public:objection", args=[in_notice.pk])).content.decode()
    assert plan.title in notice_page and 'name="csrfmiddlewaretoken"' in notice_page

    snapshot = publication_compile(plan=plan, week=timezone.localdate())
    row = next(r for r in snapshot["tasks"] if r["number"] == 12)
    assert row["status"] == "公示中" and row["notice_ends_on"] == ends.isoformat()
    assert snapshot["totals"]["in_notice"] == 1 and [r["number"] for r in snapshot["in_notice"]] == [12]
    assert snapshot["totals"]["finished"] == 0  # in notice is not yet finished


def test_a_task_out_of_notice_takes_no_objection(client, plan, in_notice):
    other = Task.objects.get(plan=plan, number=13)
    assert other.status == TaskStatus.IN_PROGRESS
    assert client.get(reverse("public:objection", args=[other.pk])).status_code == 404
    assert _post(client, other).status_code == 404
    assert client.get(reverse("public:objection", args=[999999])).status_code == 404
    # After the notice's last day, neither the page nor the service takes one.
    ends = notice_ends_on(in_notice)
    late = timezone.make_aware(dt.datetime.combine(ends + dt.timedelta(days=1), dt.time(9)))
    with pytest.raises(ValidationError, match="不在销号公示期内"):
        objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="1.2.3.4", now=late)
    assert not Objection.objects.exists()


# --- Lodging: the happy path and bad input ------------------------------------------------------


def test_the_public_lodges_an_objection_without_logging_in(client, in_notice):
    response = _post(client, in_notice)
    assert response.status_code == 302
    (objection,) = Objection.objects.all()
    assert (objection.task, objection.contact, objection.text, objection.status) == (
        in_notice, "0351-1234567", TEXT, Objection.Status.OPEN)
    assert objection.notice_step.action == SignoffStep.Action.OFFICE_VERIFY
    assert objection.client_key == client_key("203.0.113.7") and "203.0.113.7" not in objection.client_key
    assert "您的异议已收到" in client.get(response.url).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"contact": ""}, "请填写联系方式"),
    ({"contact": "随便"}, "联系方式须为电话号码或电子邮箱"),
    ({"contact": "a@b"}, "电子邮箱格式不正确"),
    ({"contact": "1" * 101}, "联系方式不能超过100个字符"),
    ({"text": ""}, "请填写异议内容"),
    ({"text": "不行"}, "异议内容至少10个字"),
    ({"text": "长" * 2001}, "异议内容不能超过2000个字"),
])
def test_bad_input_is_explained_and_nothing_is_written(client, in_notice, data, message):
    response = _post(client, in_notice, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Objection.objects.exists()


def test_the_honeypot_is_thanked_and_nothing_is_written(client, in_notice):
    response = _post(client, in_notice, website="http://spam.example")
    assert response.status_code == 302
    assert not Objection.objects.exists()


def test_the_same_objection_twice_is_refused(client, in_notice):
    assert _post(client, in_notice).status_code == 302
    response = _post(client, in_notice)
    assert response.status_code == 400 and "已提交过相同的异议" in response.content.decode()
    assert Objection.objects.count() == 1


def test_csrf_is_required(in_notice):
    response = _post(Client(enforce_csrf_checks=True), in_notice)
    assert response.status_code == 403
    assert not Objection.objects.exists()


def test_rate_limits_per_address_and_per_task(client, in_notice, settings):
    settings.RECTIFY_OBJECTION_PER_ADDRESS_HOUR = 2
    settings.RECTIFY_OBJECTION_PER_TASK_DAY = 3
    for i in range(2):
        assert _post(client, in_notice, text=f"{TEXT}第{i}条").status_code == 302
    refused = _post(client, in_notice, text=f"{TEXT}第三条")
    assert refused.status_code == 429 and "过于频繁" in refused.content.decode()
    assert _post(client, in_notice, address="198.51.100.9", text=f"{TEXT}另一处").status_code == 302
    refused = _post(client, in_notice, address="192.0.2.44", text=f"{TEXT}再一处")
    assert refused.status_code == 429 and "已达上限" in refused.content.decode()
    assert Objection.objects.count() == 3


# --- The office sees and answers; closing waits for the answers ---------------------------------


def test_the_office_sees_objections_escaped_on_its_queue_and_the_task_page(
        client, in_notice, office_user, leader, taiyuan_liaison):
    objection_lodge(task_id=in_notice.pk, contact="13800000000", text="<script>alert(1)</script>整改未到位,请核查",
                    address="203.0.113.7")
    client.force_login(office_user)
    for url in (reverse("tasks:office_queue"), reverse("tasks:detail", args=[in_notice.pk])):
        page = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;整改未到位" in page and "<script>alert(1)" not in page
        assert "13800000000" in page and 'name="answer"' in page
    for user in (leader, taiyuan_liaison):  # the sender's contact is the office's business only
        client.force_login(user)
        assert "13800000000" not in client.get(reverse("tasks:detail", args=[in_notice.pk])).content.decode()


def test_the_closing_job_leaves_a_task_with_an_unanswered_objection_in_notice(in_notice, office_user, caplog):
    objection = objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="203.0.113.7")
    after = notice_ends_on(in_notice) + dt.timedelta(days=1)
    with caplog.at_level(logging.WARNING, logger="tasks.signoff"):
        assert signoff_close_due(today=after) == []
    assert "objections unanswered" in caplog.text and str(in_notice.pk) in caplog.text
    in_notice.refresh_from_db()
    assert in_notice.status == TaskStatus.PUBLIC_NOTICE
    objection_answer(objection=objection, actor=office_user, answer="经现场复核,煤矸石已清运,异议不成立。",
                     uphold=False)
    assert signoff_close_due(today=after) == [in_notice.pk]
    in_notice.refresh_from_db()
    assert in_notice.status == TaskStatus.CLOSED


def test_an_upheld_objection_returns_the_task(in_notice, office_user):
    objection = objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="203.0.113.7")
    objection_answer(objection=objection, actor=office_user, answer="现场复核属实,退回整改。", uphold=True)
    in_notice.refresh_from_db()
    assert in_notice.status == TaskStatus.IN_PROGRESS
    step = in_notice.signoff_steps.order_by("-at", "-id").first()
    assert step.action == SignoffStep.Action.RETURN and "现场复核属实" in step.comment
    objection.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD and objection.answered_by == office_user


def test_answer_view_permission_matrix_and_bad_input(
        client, in_notice, office_user, leader, env_liaison, coal_liaison, supervisor):
    objection = objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="203.0.113.7")
    url = reverse("tasks:objection_answer", args=[objection.pk])
    answer = {"answer": "经复核,异议不成立。", "decision": "dismiss"}

    response = client.post(url, answer)
    assert response.status_code == 302 and "/accounts/login/" in response.url  # anonymous
    for user, status in ((leader, 403), (supervisor, 403), (env_liaison, 403), (coal_liaison, 404)):
        client.force_login(user)
        assert client.post(url, answer).status_code == status, user
    client.force_login(office_user)
    assert client.get(url).status_code == 405
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN

    for bad in ({"answer": "  ", "decision": "dismiss"}, {"answer": "好", "decision": "maybe"}):
        client.post(url, bad)
        objection.refresh_from_db()
        assert objection.status == Objection.Status.OPEN and objection.answer == ""
    response = client.post(url, answer, follow=True)
    assert "已答复异议" in response.content.decode()
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED and objection.answer == "经复核,异议不成立。"
    response = client.post(url, {"answer": "再答一次", "decision": "uphold"}, follow=True)
    assert "该异议已答复" in response.content.decode()
    in_notice.refresh_from_db()
    assert in_notice.status == TaskStatus.PUBLIC_NOTICE  # a second answer returns nothing


def test_the_queue_and_task_page_queries_do_not_grow_with_objections(client, in_notice, office_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counts() -> tuple[int, int]:
        out = []
        for url in (reverse("tasks:office_queue"), reverse("tasks:detail", args=[in_notice.pk])):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out[0], out[1]

    client.force_login(office_user)
    objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="203.0.113.1")
    before = counts()
    for i in range(2, 5):
        objection_lodge(task_id=in_notice.pk, contact="13800000000", text=f"{TEXT}{i}", address=f"203.0.113.{i}")
    assert counts() == before


def test_the_queue_says_a_task_in_notice_waits_for_its_answers(client, in_notice, office_user):
    objection_lodge(task_id=in_notice.pk, contact="13800000000", text=TEXT, address="203.0.113.7")
    client.force_login(office_user)
    page = client.get(reverse("tasks:office_queue")).content.decode()
    assert "1条异议待答复,暂不销号" in page


def test_the_demo_has_a_task_in_its_notice_on_the_public_page(client, settings, tmp_path):
    import time_machine

    from tasks.demo import demo_load

    settings.MEDIA_ROOT = str(tmp_path / "demo-media")
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        plan, _created = demo_load()
        (task,) = plan.tasks.filter(status=TaskStatus.PUBLIC_NOTICE)
        page = client.get(reverse("public:home")).content.decode()
    assert f"{task.number}. {task.title}" in page and reverse("public:objection", args=[task.pk]) in page
