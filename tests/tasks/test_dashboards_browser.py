"""A leader in a real browser: overview → league table → a lagging unit → its lagging tasks."""

from __future__ import annotations

import re

import pytest

from tasks.dashboards import snapshot_cache_clear
from tasks.demo import demo_load
from tests.helpers import screenshot
from tests.rectify.test_accessibility_browser import demo_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_reads_the_dashboards_and_drills_into_a_lagging_unit(page, live_server, browser):
    snapshot_cache_clear()
    demo_load()
    demo_login(page, live_server.url, "leader")

    page.goto(f"{live_server.url}/tasks/overview/")
    assert page.locator("h1").first.inner_text().startswith("调度总览")
    figures = {
        f.locator("span").inner_text(): f.locator("strong").inner_text()
        for f in page.locator(".figures .figure").all()
    }
    assert figures["整改任务"] == "60"
    assert int(figures["未达序时进度"]) > 0
    assert page.locator("svg.chart").count() >= 5  # donuts, bars and the trend, drawn by the server
    assert page.locator("form[method=post] button[type=submit]", has_text="解除督办").count() == 0
    screenshot(page, "dashboard-overview")

    # The league table, sorted by lagging tasks, most first.
    page.click(".subnav >> text=单位排名")
    page.click("th >> text=未达序时进度")  # a column sorts most-first on the first click
    assert "sort=-lagging" in page.url
    first = page.locator("table.league tbody tr").first
    lagging = int(first.locator("td").nth(4).inner_text())
    assert lagging > 0
    unit_name = first.locator("td").first.locator("a").inner_text()
    screenshot(page, "dashboard-league-units")

    # Drill into the unit, then into its lagging tasks in the ledger.
    first.locator("td").first.locator("a").click()
    assert page.locator("h1").inner_text().startswith(unit_name)
    screenshot(page, "dashboard-unit-lagging")
    page.click(".figures >> text=未达序时进度")
    assert "flag=lagging" in page.url
    total = int(re.search(r"共 (\d+) 项任务", page.locator("main").inner_text()).group(1))
    assert total == lagging
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == lagging
    for i in range(rows.count()):
        assert "未达序时进度" in rows.nth(i).inner_text()
    screenshot(page, "dashboard-ledger-lagging")

    # The region league and the timeline open from the same navigation.
    page.click(".subnav >> text=地区排名")
    assert page.locator("table.league tbody tr").count() >= 11  # the 11 cities (and the province's own units)
    page.click(".subnav >> text=挂图作战")
    assert page.locator(".timeline svg.chart").count() == 1
    screenshot(page, "dashboard-timeline")

    # On a phone.
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                storage_state=page.context.storage_state())
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}/tasks/overview/")
    assert mobile.locator(".figures .figure").count() == 8
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the overview scrolls sideways on a phone ({width}px)"
    screenshot(mobile, "dashboard-overview-phone")
    phone.close()
