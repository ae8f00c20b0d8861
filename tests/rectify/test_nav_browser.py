"""The navigation on a phone folds into a menu; on a desktop it is all there (issue 18)."""

from __future__ import annotations

import pytest

from tests.helpers import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _header_height(page) -> float:
    return page.evaluate("document.querySelector('header.topbar').getBoundingClientRect().height")


def test_the_phone_menu_is_folded_opens_from_the_keyboard_and_the_desktop_shows_it_all(
        page, live_server, office_user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url("**/tasks/**")

    page.goto(f"{live_server.url}/tasks/queue/")
    nav = page.get_by_role("navigation", name="主菜单")
    assert nav.get_by_role("link", name="台账").is_visible()  # desktop: no click needed
    assert _header_height(page) < 100
    screenshot(page, "nav-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/tasks/queue/")
    assert not nav.get_by_role("link", name="台账").is_visible()
    assert _header_height(page) < 80  # was some 330 px of links on a phone
    screenshot(page, "nav-phone-folded")
    page.locator("header.topbar summary").focus()
    page.keyboard.press("Enter")
    assert nav.get_by_role("link", name="台账").is_visible()
    assert page.get_by_role("button", name="退出").is_visible()
    screenshot(page, "nav-phone-open")
    page.keyboard.press("Tab")  # the first link takes the focus next
    assert page.evaluate("document.activeElement.textContent.trim()") == "台账"
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks/")
