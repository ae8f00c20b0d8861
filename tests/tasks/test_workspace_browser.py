"""The officials' week in a real Chromium: report with a file, apply, review, verify, notice, closed.

Screenshots of every page visited go to docs/screenshots/ (desktop 1280px, and 390px phone width).
"""

import datetime as dt

import pytest
from django.utils import timezone

from tasks.models import Task, TaskStatus
from tasks.signoff import signoff_close_due
from tests.helpers import SCREENSHOTS, screenshot
from tests.workspace_files import pdf_bytes, png, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("evidence_storage")]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/")


def test_liaison_reports_applies_lead_and_office_approve_and_task_closes(
    page, browser, live_server, plan, taiyuan_liaison, env_liaison, office_user, tmp_path
):
    base = live_server.url
    task = Task.objects.get(plan=plan, number=12)
    photo, scan = tmp_path / "整改现场.png", tmp_path / "验收报告.pdf"
    photo.write_bytes(png_bytes(64, 48))
    scan.write_bytes(pdf_bytes())

    # The liaison of 太原市政府 (a responsible unit) logs in and lands on 我的任务.
    page.goto(f"{base}/accounts/login/")
    screenshot(page, "01-login")
    login(page, base, "taiyuan")
    page.wait_for_url("**/tasks/mine/")
    assert page.locator("h1").inner_text().startswith("我的任务")
    row = page.locator("tr", has=page.locator(f'a[href="/tasks/{task.pk}/"]'))
    assert "未报送" in row.inner_text()
    screenshot(page, "02-liaison-my-tasks")

    page.click(f'a[href="/tasks/{task.pk}/"]')
    page.wait_for_url(f"**/tasks/{task.pk}/")
    screenshot(page, "03-task-page")

    # Report with a photo and a PDF.
    page.get_by_role("link", name="报送本单位进展").click()
    page.fill("input[name=percent]", "100")
    page.fill("textarea[name=text]", "已完成全部整改,现场照片和验收报告见附件。<script>alert(1)</script>")
    page.set_input_files("input[name=evidence]", [str(photo), str(scan)])
    screenshot(page, "04-report-form")
    page.get_by_role("button", name="提交报送").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    assert "进展已报送" in page.locator(".flash").inner_text()
    assert page.locator("#evidence").get_by_text("整改现场.png").count() == 1
    assert "<script>alert(1)</script>" in page.locator("#reports").inner_text()  # shown as text
    download = page.request.get(base + page.locator("#evidence a", has_text="整改现场.png").get_attribute("href"))
    assert download.status == 200 and download.headers["content-disposition"].startswith("attachment")
    assert download.body() == png_bytes(64, 48)
    screenshot(page, "05-task-after-report")

    # Apply for sign-off.
    page.get_by_role("link", name="申请销号").click()
    page.fill("textarea[name=comment]", "整改任务已完成,申请销号。")
    screenshot(page, "06-signoff-apply")
    page.get_by_role("button", name="提交销号申请").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    assert page.locator("#task-status").inner_text() == "已申请销号"
    logout(page)

    # The lead unit (省环保厅) reviews.
    login(page, base, "env")
    page.wait_for_url("**/tasks/mine/")
    assert "审核销号申请" in page.locator("tr", has=page.locator(f'a[href="/tasks/{task.pk}/"]')).inner_text()
    screenshot(page, "07-lead-my-tasks")
    page.click(f'a[href="/tasks/{task.pk}/"]')
    page.fill("form[action$='/signoff/review/'] textarea[name=comment]", "经审核,材料齐全,同意销号。")
    screenshot(page, "08-lead-review")
    page.get_by_role("button", name="牵头单位审核通过").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    assert page.locator("#task-status").inner_text() == "牵头单位已审核"
    logout(page)

    # The office verifies from its queue, recording an on-site check.
    login(page, base, "office")
    page.wait_for_url("**/tasks/queue/")
    assert task.title in page.locator("#to-verify").inner_text()
    screenshot(page, "09-office-queue")
    form = page.locator("#to-verify form[action$='/signoff/verify/']")
    form.locator("textarea[name=comment]").fill("验收合格。")
    form.locator("summary").click()
    form.locator("input[name=onsite_checked_on]").fill(timezone.localdate().isoformat())
    form.locator("textarea[name=onsite_note]").fill("现场核查:设施正常运行。")
    form.get_by_role("button", name="验收通过,进入公示").click()
    page.wait_for_url("**/tasks/queue/")
    assert "验收通过,进入公示期" in page.locator(".flash").inner_text()
    assert task.title in page.locator("#in-notice").inner_text()
    screenshot(page, "10-office-queue-after-verify")
    page.goto(f"{base}/tasks/{task.pk}/")
    assert page.locator("#task-status").inner_text() == "验收通过·公示中"
    screenshot(page, "11-task-in-public-notice")
    logout(page)

    # Time travel: the morning job runs a month later, after the 7 working days of notice.
    assert signoff_close_due(today=timezone.localdate() + dt.timedelta(days=30)) == [task.pk]
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED

    login(page, base, "taiyuan")
    page.wait_for_url("**/tasks/mine/")
    row = page.locator("tr", has=page.locator(f'a[href="/tasks/{task.pk}/"]'))
    assert "已完成整改(销号)" in row.inner_text() and "已销号" in row.inner_text()
    screenshot(page, "12-liaison-my-tasks-closed")
    page.click(f'a[href="/tasks/{task.pk}/"]')
    trail = page.locator("#signoff").inner_text()
    for step in ("申请销号", "牵头单位审核通过", "办公室验收通过", "公示期满销号"):
        assert step in trail
    screenshot(page, "13-task-closed-with-trail")

    # The same pages at a phone's width.
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    try:
        login(mobile, base, "taiyuan")
        mobile.wait_for_url("**/tasks/mine/")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(mobile, "14-phone-my-tasks")
        mobile.screenshot(path=str(SCREENSHOTS / "14-phone-my-tasks-top.png"))  # what the phone shows first
        mobile.goto(f"{base}/tasks/{task.pk}/")
        screenshot(mobile, "15-phone-task-page")
        mobile.screenshot(path=str(SCREENSHOTS / "15-phone-task-page-top.png"))
        mobile.goto(f"{base}/tasks/{Task.objects.get(plan=plan, number=19).pk}/report/")
        screenshot(mobile, "16-phone-report-form")
    finally:
        phone.close()


def test_phone_user_is_warned_before_uploading_a_file_over_the_limit(page, live_server, plan, taiyuan_liaison,
                                                                     settings, tmp_path):
    settings.RECTIFY_EVIDENCE_MAX_BYTES = 1024
    task = Task.objects.get(plan=plan, number=12)
    big = tmp_path / "大照片.png"
    big.write_bytes(png_bytes(200, 200) + b"\x00" * 4096)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server.url, "taiyuan")
    page.goto(f"{live_server.url}/tasks/{task.pk}/report/")
    page.fill("input[name=percent]", "50")
    page.fill("textarea[name=text]", "进展")
    page.set_input_files("input[name=evidence]", [str(big)])
    assert "大照片.png" in page.locator("ul.chosen-files li.error").inner_text()
    page.get_by_role("button", name="提交报送").click()
    # The browser held the form back: no round trip, so no server-side error box either.
    assert "超过大小上限" in page.eval_on_selector("input[name=evidence]", "e => e.validationMessage")
    assert page.locator(".flash.error").count() == 0
    assert not task.reports.exists()
    screenshot(page, "17-phone-report-file-too-big")


def test_lead_returns_an_application_and_office_grants_an_extension(
    page, live_server, plan, taiyuan_liaison, env_liaison, office_user
):
    """The two detours of the officials' week, in the browser: a sign-off application sent back
    with a reason, and an extension asked for (a bad date first), then granted by the office."""
    from tasks.signoff import signoff_apply

    base = live_server.url
    task = Task.objects.get(plan=plan, number=12)
    original_deadline = task.deadline
    signoff_apply(task=task, actor=taiyuan_liaison, evidence=[png()])

    # The lead unit sends it back; a return needs a reason, which the browser asks for first.
    login(page, base, "env")
    page.wait_for_url("**/tasks/mine/")
    page.goto(f"{base}/tasks/{task.pk}/")
    back = page.locator("form.return")
    back.get_by_role("button", name="退回").click()
    assert page.url.endswith(f"/tasks/{task.pk}/")  # not sent: the reason is required
    back.locator("textarea[name=comment]").fill("佐证材料缺少验收报告,请补充后重新申请。")
    back.get_by_role("button", name="退回").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    assert page.locator("#task-status").inner_text() == "正在推进整改"
    screenshot(page, "18-signoff-returned")
    logout(page)

    # The liaison sees why, then asks for more time: a date in the past is refused in Chinese.
    login(page, base, "taiyuan")
    page.wait_for_url("**/tasks/mine/")
    page.goto(f"{base}/tasks/{task.pk}/")
    assert "佐证材料缺少验收报告" in page.locator("#signoff").inner_text()
    page.get_by_role("link", name="申请延期").click()
    page.fill("input[name=proposed_deadline]", (timezone.localdate() - dt.timedelta(days=1)).isoformat())
    page.fill("textarea[name=reason]", "需补充第三方验收。")
    page.get_by_role("button", name="提交延期申请").click()
    assert "申请的新时限须晚于今天" in page.content()
    assert task.extension_requests.count() == 0
    new_deadline = timezone.localdate() + dt.timedelta(days=60)
    page.fill("input[name=proposed_deadline]", new_deadline.isoformat())
    screenshot(page, "19-extension-form")
    page.get_by_role("button", name="提交延期申请").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    assert "延期申请已提交" in page.locator(".flash").inner_text()
    logout(page)

    # The office grants it from its queue.
    login(page, base, "office")
    page.wait_for_url("**/tasks/queue/")
    item = page.locator("#extensions .queue-item", has_text=task.title)
    assert "需补充第三方验收" in item.inner_text()
    item.locator("textarea[name=comment]").fill("同意延期,请按新时限完成。")
    screenshot(page, "20-office-extension-queue")
    item.get_by_role("button", name="批准延期").click()
    page.wait_for_url("**/tasks/queue/")
    assert "延期申请已审批" in page.locator(".flash").inner_text()
    assert page.locator("#extensions .queue-item", has_text=task.title).count() == 0

    task.refresh_from_db()
    assert task.deadline == new_deadline and task.original_deadline == original_deadline
    page.goto(f"{base}/tasks/{task.pk}/")
    assert "同意延期" in page.locator("#extensions").inner_text()
    screenshot(page, "21-task-after-extension")
