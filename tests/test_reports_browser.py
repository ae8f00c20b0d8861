"""The office's archive, a dispatch and the public page in a real browser, wide and on a phone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from conftest import CHROMIUM, _user, missing_service, screenshot

from rectify.roles import Role
from reports import services
from reports.models import ReportKind
from tasks.demo import history_simulate
from tests.reports_helpers import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/tasks/")


@pytest.fixture
def own_page(live_server):
    """A browser of this test only. The session-wide `browser` fixture keeps Playwright's event
    loop alive after its tests, and Django then refuses the ORM to every later test in the
    session (SynchronousOnlyOperation); a function-scoped one stops its loop on exit."""
    if not Path(CHROMIUM).exists():
        missing_service(f"needs Debian's Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def issued(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    history_simulate(plan, today=dt.date(2018, 10, 20))
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        dispatch, _ = services.report_issue(kind=ReportKind.DISPATCH)
    with time_machine.travel(at(2018, 11, 1, 9, 0), tick=False):
        services.report_issue(kind=ReportKind.BULLETIN)
    publicity = _user("publicity", Role.PUBLICITY)
    publication, _ = services.publication_draft(week=dt.date(2018, 10, 8))
    services.publication_update(publication=publication, intro="本周全省整改工作进展情况如下。")
    services.publication_approve(publication=publication, user=publicity)
    return dispatch


def test_archive_dispatch_and_public_page(issued, own_page, live_server):
    page = own_page
    dispatch = issued
    _login(page, live_server, "office")
    page.click("text=调度与通报")
    assert page.locator("h1").inner_text() == "调度与通报归档"
    assert page.locator("text=立即生成并发送本周调度").is_visible()
    screenshot(page, "reports-archive")
    page.click(f"text={dispatch.title}")
    assert page.locator("article h2", has_text="六、未按时报送").is_visible()
    assert page.locator("td", has_text="coal@example.test").is_visible()
    screenshot(page, "reports-dispatch-detail")
    page.click("text=预览本月通报") if page.locator("text=预览本月通报").count() else page.goto(
        f"{live_server.url}/reports/preview/bulletin/")
    assert page.locator("text=这是预览").is_visible()
    page.goto(f"{live_server.url}/reports/outbox/")
    screenshot(page, "reports-outbox")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/")
    screenshot(page, "reports-archive-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling

    page.context.clear_cookies()
    with time_machine.travel(at(2018, 10, 12, 12, 0), tick=True):
        page.goto(f"{live_server.url}/public/")
    assert page.locator("text=本周全省整改工作进展情况如下。").is_visible()
    assert "example.test" not in page.content()
    screenshot(page, "public-page-phone")
