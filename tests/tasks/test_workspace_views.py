"""The workspace pages: landing per role, 我的任务, the task page, the office queue, and the
permission matrix of every view that changes data."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from rectify.models import User
from tasks.extensions import extension_request_create
from tasks.models import (
    Evidence,
    ExtensionRequest,
    ProgressReport,
    SignoffStep,
    Task,
    TaskStatus,
    TaskUnit,
    Unit,
)
from tasks.services import TaskUnitSpec, task_report_progress, task_set_units
from tasks.signoff import signoff_apply, signoff_lead_review, signoff_office_verify
from tests.workspace_files import exe_as_jpeg, png

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)  # lead 省环保厅, responsible 太原市政府


@pytest.fixture
def cast(taiyuan_liaison, env_liaison, coal_liaison, office_user, leader):
    return {"taiyuan": taiyuan_liaison, "env": env_liaison, "coal": coal_liaison,
            "office": office_user, "leader": leader}


def _state(task):
    task.refresh_from_db()
    return (task.status, task.version, task.deadline, ProgressReport.objects.count(), SignoffStep.objects.count(),
            Evidence.objects.count(), list(ExtensionRequest.objects.values_list("status", flat=True)))


# --- Landing -----------------------------------------------------------------------------------


def test_each_role_lands_where_its_work_is(client, cast, outsider):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    for who, target in [("taiyuan", "tasks:mytasks"), ("office", "tasks:office_queue"), ("leader", "tasks:ledger")]:
        client.force_login(cast[who])
        assert client.get("/")["Location"] == reverse(target), who
    client.force_login(outsider)
    assert client.get("/")["Location"] == reverse("tasks:ledger")


def test_login_form_lands_the_liaison_on_my_tasks(client, taiyuan_liaison):
    response = client.post(reverse("login"), {"username": "taiyuan", "password": "pw-for-tests"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tasks:mytasks")
    assert "我的任务" in response.content.decode()


# --- The permission matrix -----------------------------------------------------------------------
# Each case: how to bring task 12 to the state the step needs, the URL, the data, and who may do it.


def _to_applied(task, cast):
    signoff_apply(task=task, actor=cast["taiyuan"], evidence=[png()])


def _to_reviewed(task, cast):
    _to_applied(task, cast)
    signoff_lead_review(task=task, actor=cast["env"])


def _to_notice_due(task, cast):
    _to_reviewed(task, cast)
    signoff_office_verify(task=task, actor=cast["office"], today=dt.date(2018, 3, 5))


def _with_extension(task, cast):
    extension_request_create(task=task, actor=cast["taiyuan"], proposed_deadline=dt.date(2099, 6, 30),
                             reason="理由")


CASES = {
    "report": (None, "tasks:report", lambda t: {"percent": 40, "text": "进展", "evidence": png()}, "taiyuan"),
    "signoff_apply": (None, "tasks:signoff_apply",
                      lambda t: {"comment": "申请", "version": t.version, "evidence": png()}, "taiyuan"),
    "signoff_review": (_to_applied, "tasks:signoff_review", lambda t: {"version": t.version}, "env"),
    "signoff_verify": (_to_reviewed, "tasks:signoff_verify", lambda t: {"version": t.version}, "office"),
    "signoff_return": (_to_reviewed, "tasks:signoff_return",
                       lambda t: {"version": t.version, "comment": "材料不全"}, "office"),
    "signoff_close": (_to_notice_due, "tasks:signoff_close", lambda t: {}, "office"),
    "extension_new": (None, "tasks:extension_new",
                      lambda t: {"proposed_deadline": "2099-06-30", "reason": "工期顺延"}, "taiyuan"),
    "extension_decide": (_with_extension, "tasks:extension_decide",
                         lambda t: {"decision": "approve", "comment": "同意"}, "office"),
}
POST_ONLY = {"signoff_review", "signoff_verify", "signoff_return", "signoff_close", "extension_decide"}


def _url(case, task):
    name = CASES[case][1]
    pk = task.extension_requests.get().pk if case == "extension_decide" else task.pk
    return reverse(name, args=[pk])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("who", ["allowed", "other_unit", "task_member", "leader", "anonymous", "get"])
def test_permission_matrix(client, cast, task12, case, who):
    setup, _, data, allowed = CASES[case]
    if setup:
        setup(task12, cast)
    url = _url(case, task12)
    before = _state(task12)
    if who == "get":
        client.force_login(cast[allowed])
        response = client.get(url)
        assert response.status_code == (405 if case in POST_ONLY else 200)
        assert _state(task12) == before
        return
    if who == "anonymous":
        response = client.post(url, data(task12))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert _state(task12) == before
        return
    actor = {
        "allowed": cast[allowed],
        "other_unit": cast["coal"],  # 省煤炭工业厅 has no part in task 12
        "leader": cast["leader"],
        # someone who may see the task but not take this step
        "task_member": cast["office"] if allowed in ("taiyuan", "env") else cast["taiyuan"],
    }[who]
    client.force_login(actor)
    with time_machine.travel(dt.datetime(2018, 4, 2, 10, tzinfo=CST), tick=False):
        response = client.post(url, data(task12))
    if who == "allowed":
        assert response.status_code == 302, response.content.decode()[:2000]
        assert _state(task12) != before
        return
    expected = {"other_unit": 404, "leader": 403, "task_member": 403}[who]
    assert response.status_code == expected
    assert _state(task12) == before


def test_post_without_csrf_token_is_refused(cast, task12):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["taiyuan"])
    response = client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 40, "text": "x"})
    assert response.status_code == 403
    assert not ProgressReport.objects.exists()


# --- Forms: bad input gets Chinese messages, nothing stored, text escaped ------------------------


@pytest.mark.parametrize(("data", "message"), [
    ({"percent": -5, "text": "x"}, "完成率不能小于0"),
    ({"percent": 140, "text": "x"}, "完成率不能大于100"),
    ({"percent": "abc", "text": "x"}, "完成率必须是整数"),
    ({"percent": 40, "text": ""}, "请填写进展情况"),
    ({"percent": 40, "text": "x", "evidence": "exe"}, "内容不是允许的类型"),
])
def test_bad_report_is_refused_with_a_clear_message(client, cast, task12, data, message):
    if data.get("evidence") == "exe":
        data = {**data, "evidence": exe_as_jpeg()}
    client.force_login(cast["taiyuan"])
    response = client.post(reverse("tasks:report", args=[task12.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()


def test_report_on_closed_task_is_refused_on_the_page(client, cast, task12):
    Task.objects.filter(pk=task12.pk).update(status=TaskStatus.CLOSED)
    client.force_login(cast["taiyuan"])
    response = client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 40, "text": "x"})
    assert response.status_code == 400 and "已销号" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_script_in_every_text_field_is_shown_escaped(client, cast, task12):
    evil = '<script>alert("x")</script><b>粗</b>'
    client.force_login(cast["taiyuan"])
    client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 40, "text": evil, "evidence": png(evil + ".png")})
    task12.refresh_from_db()
    client.post(reverse("tasks:signoff_apply", args=[task12.pk]), {"comment": evil, "version": task12.version})
    client.force_login(cast["env"])
    task12.refresh_from_db()
    client.post(reverse("tasks:signoff_return", args=[task12.pk]), {"comment": evil, "version": task12.version})
    client.force_login(cast["taiyuan"])
    client.post(reverse("tasks:extension_new", args=[task12.pk]), {"proposed_deadline": "2099-01-01", "reason": evil})
    assert ProgressReport.objects.get().text == evil
    assert task12.signoff_steps.filter(comment=evil).count() == 2
    for user, url in [("taiyuan", reverse("tasks:detail", args=[task12.pk])), ("office", reverse("tasks:office_queue")),
                      ("taiyuan", reverse("tasks:report", args=[task12.pk]))]:
        client.force_login(cast[user])
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<b>粗</b>" not in html, url
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in client.get(
        reverse("tasks:detail", args=[task12.pk])).content.decode()


def test_stale_report_form_tells_the_second_official_and_shows_the_new_state(client, cast, task12):
    client.force_login(cast["taiyuan"])
    client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 30, "text": "第一次"})
    first = ProgressReport.objects.get()
    # Two officials of the unit open the form at version 1; the first saves.
    client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 50, "text": "同事更正", "version": first.version})
    response = client.post(reverse("tasks:report", args=[task12.pk]),
                           {"percent": 60, "text": "我的更正", "version": first.version})
    html = response.content.decode()
    assert response.status_code == 400 and "已被他人修改" in html
    assert ProgressReport.objects.get().text == "同事更正"
    assert f'name="version" value="{first.version + 1}"' in html  # resubmit on the new state


def test_stale_signoff_button_is_told_not_applied_twice(client, cast, task12):
    _to_applied(task12, cast)
    old_version = Task.objects.get(pk=task12.pk).version
    client.force_login(cast["env"])
    client.post(reverse("tasks:signoff_review", args=[task12.pk]), {"version": old_version})
    response = client.post(reverse("tasks:signoff_review", args=[task12.pk]), {"version": old_version}, follow=True)
    assert "已被他人处理" in response.content.decode()
    assert task12.signoff_steps.filter(action="LEAD_REVIEW").count() == 1


# --- Pages and their query counts -----------------------------------------------------------------


def test_my_tasks_shows_role_light_deadline_last_report_flag_and_pending(client, cast, task12):
    with time_machine.travel(dt.datetime(2018, 3, 8, 9, tzinfo=CST), tick=False):  # Thursday: cut-off passed
        task_report_progress(task=task12, unit=cast["taiyuan"].unit, author=cast["taiyuan"], percent=40, text="x")
        _to_applied(task12, cast)
        client.force_login(cast["env"])
        html = client.get(reverse("tasks:mytasks")).content.decode()
        rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", html, re.S)
        row12 = next(r for r in rows if f'href="/tasks/{task12.pk}/"' in r)
        assert "牵头单位" in row12 and "审核销号申请" in row12 and "3月31日" in row12 and "23 天" in row12
        assert "未报送" in row12 and "本周进展逾期未报" in row12  # 省环保厅 itself has not reported
        client.force_login(cast["taiyuan"])
        html = client.get(reverse("tasks:mytasks") + "?unreported=on").content.decode()
        assert f'href="/tasks/{task12.pk}/"' not in html  # 太原 reported this week
        html = client.get(reverse("tasks:mytasks") + "?q=12").content.decode()
        assert f'href="/tasks/{task12.pk}/"' in html and "责任单位" in html and "40%" in html


def test_my_tasks_lists_only_my_units_tasks_and_filters_and_sorts(client, cast, plan):
    client.force_login(cast["coal"])
    html = client.get(reverse("tasks:mytasks")).content.decode()
    mine = set(TaskUnit.objects.filter(unit=cast["coal"].unit).values_list("task_id", flat=True))
    shown = {int(pk) for pk in re.findall(r'<td data-label="[^"]+"><a href="/tasks/(\d+)/">', html)}
    assert shown == mine
    html = client.get(reverse("tasks:mytasks") + "?role=LEAD&sort=deadline").content.decode()
    lead = [int(pk) for pk in re.findall(r'<td data-label="[^"]+"><a href="/tasks/(\d+)/">', html)]
    expected = list(Task.objects.filter(task_units__unit=cast["coal"].unit, task_units__role="LEAD")
                    .order_by("deadline", "number").values_list("pk", flat=True))
    assert lead == expected and lead


def test_my_tasks_query_count_does_not_grow_with_rows(client, cast, plan, django_assert_num_queries, calendar_read):
    env_rows = TaskUnit.objects.filter(unit=cast["env"].unit).count()
    coal_rows = TaskUnit.objects.filter(unit=cast["coal"].unit).count()
    assert env_rows > 3 * coal_rows
    for who in ("env", "coal"):
        client.force_login(cast[who])
        # session, user, groups, tasks+annotations, milestones, supervision actions, header unit
        with django_assert_num_queries(7):
            assert client.get(reverse("tasks:mytasks")).status_code == 200


def test_task_page_shows_everything_and_its_query_count_is_fixed(client, cast, task12, django_assert_num_queries):
    task_report_progress(task=task12, unit=cast["taiyuan"].unit, author=cast["taiyuan"], percent=40, text="太原进展",
                         evidence=[png()])
    _to_reviewed(task12, cast)
    specs = [TaskUnitSpec(tu.unit, tu.role, tu.responsible_person) for tu in task12.task_units.select_related("unit")]
    specs.append(TaskUnitSpec(Unit.objects.get(name="省水利厅"), "SUPPORTING", "王水利"))
    task_set_units(task=task12, units=specs, actor=cast["office"])
    client.force_login(cast["office"])
    with django_assert_num_queries(15):  # 14 + the task's supervision actions
        html = client.get(reverse("tasks:detail", args=[task12.pk])).content.decode()
    for text in ("整改目标", "整改措施", "2018年3月底前", "限期整改", "太原市政府", "牵头单位", "倒排工期",
                 "太原进展", "现场照片.png", "SHA-256", "申请销号", "牵头单位审核通过", "变更记录",
                 "省水利厅", "王水利", "验收通过,进入公示", "延期申请", "督办"):
        assert text in html, text
    history = html.split('id="changes"')[1]
    assert "省水利厅|配合单位|王水利" in history and "牵头单位审核通过" in history and "太原进展" in history
    # More reports, evidence and history: the same number of queries.
    task_report_progress(task=task12, unit=cast["env"].unit, author=cast["env"], percent=60, text="牵头进展",
                         evidence=[png("二.png"), png("三.png")])
    with django_assert_num_queries(15):  # 14 + the task's supervision actions
        client.get(reverse("tasks:detail", args=[task12.pk]))


def test_task_page_is_404_for_another_units_liaison(client, cast, task12):
    client.force_login(cast["coal"])
    assert client.get(reverse("tasks:detail", args=[task12.pk])).status_code == 404
    client.force_login(cast["leader"])
    html = client.get(reverse("tasks:detail", args=[task12.pk])).content.decode()
    assert "报送本单位进展" not in html and "申请销号" not in html.split("销号流程")[0]


def test_office_queue_lists_pending_work_in_fixed_queries(client, cast, plan, django_assert_num_queries,
                                                          calendar_read):
    tasks = list(Task.objects.filter(number__in=[12, 19, 20]).order_by("number"))
    _to_reviewed(tasks[0], cast)
    _with_extension(tasks[1], cast)
    client.force_login(cast["office"])
    with django_assert_num_queries(8):  # session, user, groups, sign-off tasks, their lead units, extensions, open objections, header unit
        html = client.get(reverse("tasks:office_queue")).content.decode()
    assert tasks[0].title in html and tasks[1].title in html and "批准延期" in html
    _to_reviewed(tasks[2], cast)
    with django_assert_num_queries(8):  # session, user, groups, sign-off tasks, their lead units, extensions, open objections, header unit
        html = client.get(reverse("tasks:office_queue")).content.decode()
    assert tasks[2].title in html
    client.force_login(cast["leader"])
    html = client.get(reverse("tasks:office_queue")).content.decode()
    assert tasks[0].title in html and "批准延期" not in html  # leaders read, only the office acts
    client.force_login(cast["taiyuan"])
    assert client.get(reverse("tasks:office_queue")).status_code == 403


def test_demo_leaves_work_in_the_queues(client, settings, tmp_path):
    from tasks.demo import demo_load

    settings.MEDIA_ROOT = str(tmp_path / "demo-media")
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, tzinfo=CST), tick=False):
        plan, created = demo_load()
        assert created
        statuses = set(plan.tasks.values_list("status", flat=True))
        assert {"SIGNOFF_APPLIED", "LEAD_REVIEWED"} <= statuses
        assert ExtensionRequest.objects.filter(status="PENDING").count() == 1
        client.post(reverse("login"), {"username": "office", "password": "rectify-demo"})
        html = client.get(reverse("tasks:office_queue")).content.decode()
        assert "暂无待验收的销号申请" not in html and "暂无待审批的延期申请" not in html
        assert demo_load() == (plan, False)  # a second load changes nothing
        assert ExtensionRequest.objects.count() == 1


def test_first_report_of_the_week_by_a_colleague_is_not_silently_replaced(client, cast, task12):
    """Two liaisons of one unit open the empty form; the first files, the second is told and
    shown the first report (a blank version is no pass)."""
    colleague = User.objects.create_user(username="taiyuan2", password="pw-for-tests",
                                         unit=cast["taiyuan"].unit, full_name="太原同事")
    colleague.groups.add(*cast["taiyuan"].groups.all())
    client.force_login(colleague)
    client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 30, "text": "同事先报的进展"})
    client.force_login(cast["taiyuan"])
    response = client.post(reverse("tasks:report", args=[task12.pk]), {"percent": 60, "text": "我的进展"})
    html = response.content.decode()
    assert response.status_code == 400 and "先行报送" in html and "太原同事" in html
    assert "同事先报的进展" in html  # shown the first report
    assert ProgressReport.objects.get().text == "同事先报的进展"
    report = ProgressReport.objects.get()
    assert f'name="version" value="{report.version}"' in html  # a resubmit now corrects knowingly
    response = client.post(reverse("tasks:report", args=[task12.pk]),
                           {"percent": 60, "text": "我的进展", "version": report.version})
    assert response.status_code == 302 and ProgressReport.objects.get().text == "我的进展"


def test_change_history_speaks_the_readers_words_not_code_names(client, cast, task12):
    """Issue 18 item 7: the history showed "supervision", "supervision_lifted", "进展报告 #9082"."""
    from tasks.models import Milestone, SupervisionKind
    from tasks.services import milestone_save
    from tasks.supervision import supervision_issue, supervision_lift

    report = task_report_progress(task=task12, unit=cast["taiyuan"].unit, author=cast["taiyuan"],
                                  percent=30, text="已完成摸底排查")
    action = supervision_issue(actor=cast["office"], kind=SupervisionKind.SUMMONS, title="约谈分管负责人",
                               task=task12)
    supervision_lift(action=action, actor=cast["office"], outcome="已约谈")
    milestone_save(task=task12, actor=cast["office"], title="完成方案编制", due_on=dt.date(2018, 3, 1),
                   milestone=Milestone.objects.filter(task=task12).first())
    client.force_login(cast["office"])
    page = client.get(reverse("tasks:detail", args=[task12.pk])).content.decode()
    history = page[page.index('id="changes"'):]
    cells = re.findall(r'data-label="(?:对象|字段)">([^<]*)</td>', history)
    assert {"督办事项", "督办", "解除督办", "进展报告", "工期节点", "节点名称"} <= set(cells), cells
    for code in ("supervision", "supervision_lifted", "percent", "title", "due_on", f"#{report.pk}",
                 f"#{action.pk}"):
        assert code not in cells and code not in history, code


def test_one_day_overdue_is_singular_in_english(client, cast, task12):
    """Issue 18: "1 days overdue"."""
    assert task12.deadline == dt.date(2018, 3, 31)
    with time_machine.travel(dt.datetime(2018, 4, 1, 10, tzinfo=CST), tick=False):
        for user, url in ((cast["taiyuan"], reverse("tasks:mytasks")),
                          (cast["taiyuan"], reverse("tasks:detail", args=[task12.pk])),
                          (cast["office"], reverse("tasks:ledger") + "?q=" + task12.title)):
            client.force_login(user)
            page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert re.search(r"(?<!\d)1 day overdue", page) and not re.search(r"(?<!\d)1 days", page), url
            if url == reverse("tasks:mytasks"):
                assert re.search(r"\b(?:[2-9]|\d\d+) days overdue", page)  # and plural for the rest


def test_my_tasks_flags_supervision_and_says_why_a_task_was_reopened(client, cast, plan, task12):
    """Issue 18: 我的任务 did not flag 挂牌督办, 通报 or 回头看; a reopened task said nothing of why."""
    from tasks.models import SupervisionKind
    from tasks.supervision import supervision_issue

    office = cast["office"]
    supervision_issue(actor=office, kind=SupervisionKind.LISTED, title="进度滞后", task=task12,
                      requirements="限期整改", time_limit=dt.date(2099, 1, 31))
    supervision_issue(actor=office, kind=SupervisionKind.NOTICE, title="通报批评", task=task12)
    supervision_issue(actor=office, kind=SupervisionKind.UNANNOUNCED_VISIT, title="暗访", task=task12)
    closed = Task.objects.filter(plan=plan, task_units__unit=cast["taiyuan"].unit).exclude(pk=task12.pk).first()
    Task.objects.filter(pk=closed.pk).update(status=TaskStatus.CLOSED, closed_on=dt.date(2018, 6, 1))
    supervision_issue(actor=office, kind=SupervisionKind.LOOK_BACK, title="回头看", task=closed,
                      reopen_task=True, reopen_reason="发现散煤复烧")
    client.force_login(cast["taiyuan"])
    html = client.get(reverse("tasks:mytasks")).content.decode()
    rows = {pk: row for pk, row in re.findall(r'<tr class="[^"]*">\s*<td[^>]*>\d+</td>\s*<td[^>]*><a href="/tasks/(\d+)/">(.*?)</tr>',
                                               html, re.S)}
    assert ">挂牌督办</span>" in rows[str(task12.pk)] and ">通报</span>" in rows[str(task12.pk)]
    assert "暗查暗访" not in rows[str(task12.pk)]
    assert ">回头看</span>" in rows[str(closed.pk)] and "回头看重新打开:发现散煤复烧" in rows[str(closed.pk)]


def test_task_page_shows_the_latest_report_per_unit_and_pages_the_rest(client, cast, task12):
    """Issue 18: the task page listed every unit's every weekly report (18,800 px)."""
    units = [cast["taiyuan"].unit, cast["env"].unit]
    monday = dt.date(2018, 1, 1)
    for week in range(15):
        for unit in units:
            ProgressReport.objects.create(task=task12, unit=unit, week=monday + dt.timedelta(weeks=week),
                                          percent=week, text=f"{unit.name}第{week + 1}周",
                                          reported_at=dt.datetime(2018, 1, 3, 9, tzinfo=CST) + dt.timedelta(weeks=week))
    client.force_login(cast["office"])
    page = client.get(reverse("tasks:detail", args=[task12.pk])).content.decode()
    section = page[page.index('id="reports"'):]
    section = section[:section.index("</section>")]
    latest, earlier = section.split("此前的报告", 1)
    assert "太原市政府第15周" in latest and "省环保厅第15周" in latest and "第14周" not in latest
    assert "共 28 份" in earlier and "第14周" in earlier and earlier.count("<tr>") == 20 + 1  # header + 20
    assert "?reports=2#reports" in earlier and "第1周" not in earlier
    second = client.get(reverse("tasks:detail", args=[task12.pk]), {"reports": 2}).content.decode()
    assert "太原市政府第1周" in second and "省环保厅第1周" in second
    assert client.get(reverse("tasks:detail", args=[task12.pk]), {"reports": "x"}).status_code == 200
