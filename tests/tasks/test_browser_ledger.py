"""A person at the keyboard: log in, see the 60 tasks, open one, on a desktop and a phone."""

import pytest

from tests.helpers import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_logs_in_and_reads_the_ledger(page, live_server, plan, office_user):
    page.goto(f"{live_server.url}/")
    assert "登录" in page.title()
    screenshot(page, "foundation-login")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/tasks/queue/")  # the office lands on its queue
    page.click("nav.mainnav >> text=台账")
    page.wait_for_url(f"{live_server.url}/tasks/")
    assert page.locator("table.ledger tbody tr").count() == 50  # the first page of 60 tasks
    assert "禁煤区" in page.content()
    screenshot(page, "foundation-ledger")
    page.click("text=禁煤区")
    page.wait_for_selector("h1")
    assert "牵头单位" in page.content() and "倒排工期" in page.content()
    screenshot(page, "foundation-task")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/tasks/")
    # The navigation is one scrolling line on a phone, not 330 px of links (issue 18).
    header = page.locator("header.topbar").bounding_box()["height"]
    assert header < 150, f"the header is {header}px tall on a phone"
    screenshot(page, "foundation-ledger-phone")


def test_wrong_password_says_so_in_chinese(page, live_server, plan, office_user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "用户名或密码不正确,请重新输入。"
