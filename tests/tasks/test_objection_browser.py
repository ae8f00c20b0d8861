"""A member of the public objects to a sign-off in its notice, in a real Chromium; the office answers.

Screenshots go to docs/screenshots/ (desktop 1280px, and 390px phone width).
"""

import datetime as dt

import pytest
from django.utils import timezone

from rectify.calendar import report_week
from reports import services
from tasks.models import Objection, Task, TaskStatus
from tasks.signoff import signoff_apply, signoff_lead_review, signoff_office_verify
from tests.cast import example_user
from tests.helpers import screenshot
from tests.workspace_files import png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("evidence_storage")]

OBJECTION = "村东煤矸石堆场仍未覆盖,大风天扬尘严重,整改没有到位。"


def test_a_member_of_the_public_lodges_an_objection_and_the_office_answers_it(
        page, live_server, plan, taiyuan_liaison, env_liaison, office_user, tmp_path):
    task = Task.objects.get(plan=plan, number=12)
    signoff_apply(task=task, actor=taiyuan_liaison, comment="已全部完成", evidence=[png()])
    signoff_lead_review(task=task, actor=env_liaison, comment="同意")
    signoff_office_verify(task=task, actor=office_user, comment="验收合格")

    # The week's publication, approved, shows it as 公示中 with its last day.
    last_week = report_week(timezone.localdate()) - dt.timedelta(days=7)
    publication, _ = services.publication_draft(week=last_week)
    services.publication_approve(publication=publication, user=example_user("publicity"))

    # The public: no login, from the public page to the task's notice.
    page.goto(f"{live_server.url}/public/")
    row = page.locator("article.public tr", has_text=task.title)
    assert "公示中" in row.inner_text() and "正在推进整改" not in row.inner_text()
    notices = page.locator("#notices")
    assert notices.get_by_text(f"{task.number}. {task.title}", exact=True).is_visible()
    assert notices.get_by_text("公示至").is_visible()
    screenshot(page, "public-notices")
    notices.get_by_role("link", name="提出异议").first.click()
    assert page.locator("h1").inner_text() == "对销号公示提出异议"
    assert page.get_by_text(plan.title).is_visible()
    honeypot = page.locator("input[name=website]").bounding_box()
    assert honeypot["x"] + honeypot["width"] <= 0  # off screen: the honeypot is not for people
    page.get_by_label("联系方式(电话或电子邮箱)").fill("13900001111")
    page.get_by_label("异议内容(事实和理由)").fill("太短")
    page.get_by_role("button", name="提交异议").click()
    assert page.get_by_text("异议内容至少10个字").is_visible()  # explained, kept, nothing written
    assert page.get_by_label("联系方式(电话或电子邮箱)").input_value() == "13900001111"
    assert not Objection.objects.exists()
    page.get_by_label("异议内容(事实和理由)").fill(OBJECTION)
    page.keyboard.press("Tab")
    page.get_by_role("button", name="提交异议").click()
    assert page.get_by_text("您的异议已收到").is_visible()
    screenshot(page, "public-objection-sent")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/public/notices/{task.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, "public-objection-phone")
    (objection,) = Objection.objects.all()
    assert (objection.contact, objection.text) == ("13900001111", OBJECTION)

    # The office: on its queue, answered there; upheld, the task goes back to work.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/tasks/queue/")
    item = page.locator(f"#objection-{objection.pk}")
    assert item.get_by_text(OBJECTION).is_visible() and item.get_by_text("13900001111").is_visible()
    screenshot(page, "office-queue-objection")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "office-queue-objection-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.goto(f"{live_server.url}/tasks/{task.pk}/#objections")
    assert page.locator("#objections").get_by_text(OBJECTION).is_visible()
    page.screenshot(path=str(tmp_path / "task-page-objection-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(tmp_path / "task-page-objection.png"), full_page=True)
    page.goto(f"{live_server.url}/tasks/queue/")
    item.get_by_label("答复").fill("经现场复核,反映情况属实,退回整改。")
    item.get_by_role("button", name="答复:异议成立,退回整改").click()
    assert page.get_by_text("异议成立,已答复并退回整改").is_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
