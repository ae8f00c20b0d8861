"""The office's archive, a dispatch and the public page in a real browser, wide and on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from reports import services
from reports.models import ReportKind
from tasks.demo import history_simulate
from tests.cast import example_user
from tests.helpers import screenshot
from tests.reports_helpers import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/"))  # the office lands on its queue, others on the ledger


@pytest.fixture
def own_page(page):
    """The shared browser page (see tests/conftest.py); kept under this name for the tests below."""
    return page


@pytest.fixture
def issued(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    history_simulate(plan, today=dt.date(2018, 10, 20))
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        dispatch, _ = services.report_issue(kind=ReportKind.DISPATCH)
    with time_machine.travel(at(2018, 11, 1, 9, 0), tick=False):
        services.report_issue(kind=ReportKind.BULLETIN)
    publicity = example_user("publicity")
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
