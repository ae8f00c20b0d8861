"""axe-core on every main page of every role, desktop and phone (issue 18).

WCAG 2.1 AA colour contrast, form labels and landmarks: zero violations. The ledger shipped
with every row painted in its warning-light colour although a test screenshotted it every run;
this is the check that would have caught it. axe-core comes bundled in the PyPI package
`axe-playwright-python` (no CDN). One login per role, one page load per page and viewport.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from accountability.models import Case
from tasks.dashboards import snapshot_cache_clear
from tasks.demo import DEMO_PASSWORD, demo_load
from tasks.models import Task, TaskStatus, Unit
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The rules behind "colour contrast, labels and landmarks" (axe-core 4.x rule ids).
RULES = [
    "color-contrast",
    "label", "select-name", "button-name", "input-button-name", "link-name",
    "aria-input-field-name", "form-field-multiple-labels", "label-title-only", "image-alt",
    "svg-img-alt", "document-title", "html-has-lang", "page-has-heading-one",
    "landmark-one-main", "region", "landmark-unique", "landmark-banner-is-top-level",
    "landmark-main-is-top-level", "landmark-contentinfo-is-top-level",
    "landmark-complementary-is-top-level", "landmark-no-duplicate-banner",
    "landmark-no-duplicate-main", "landmark-no-duplicate-contentinfo",
]
AXE_OPTIONS = {"runOnly": {"type": "rule", "values": RULES}, "resultTypes": ["violations"]}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Every role's main pages: what its navigation offers, where it lands, and a task page.
ROLE_PAGES = {
    "liaison-taiyuan": ["/tasks/mine/", "/tasks/", "/tasks/{task}/", "/tasks/{task}/report/",
                        "/tasks/overview/", "/tasks/units/{unit}/", "/tasks/supervision/"],
    "office": ["/tasks/queue/", "/tasks/", "/tasks/{task}/", "/tasks/overview/",
               "/tasks/league/units/", "/tasks/league/regions/", "/tasks/timeline/",
               "/tasks/supervision/", "/tasks/supervision/new/", "/reports/", "/reports/outbox/",
               "/reports/publications/"],
    "supervisor": ["/tasks/", "/tasks/{task}/", "/tasks/overview/", "/tasks/supervision/",
                   "/reports/"],
    "leader": ["/tasks/", "/tasks/{task}/", "/tasks/overview/", "/tasks/league/units/",
               "/tasks/timeline/", "/reports/"],
    "accountability": ["/accountability/", "/accountability/{case}/", "/accountability/new/",
                       "/accountability/figures/", "/accountability/log/", "/tasks/", "/tasks/{task}/"],
    "publicity": ["/accountability/publication/", "/reports/publications/", "/tasks/"],
    None: ["/accounts/login/", "/public/", "/public/notices/{notice}/"],
}


def demo_login(page, base: str, username: str) -> None:
    """Log a demo user in (demo_load made them, with the demo password)."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _violations(page, axe: Axe) -> list[str]:
    found = []
    for v in axe.run(page, options=AXE_OPTIONS).response["violations"]:
        for node in v["nodes"][:3]:
            found.append(f"{v['id']}: {node['target']} {node.get('failureSummary', '')[:160]!r}")
    return found


def test_every_main_page_of_every_role_passes_axe(browser, live_server):
    snapshot_cache_clear()
    demo_load()
    # A task of 太原市政府, so that its liaison may open it and report on it too.
    task = Task.objects.filter(task_units__unit__name="太原市政府").order_by("number").first()
    ids = {"task": task.pk, "unit": Unit.objects.get(name="太原市政府").pk,
           "case": Case.objects.order_by("pk").first().pk,
           # the objection form of the task the demo leaves in its public notice (销号公示)
           "notice": Task.objects.get(status=TaskStatus.PUBLIC_NOTICE).pk}
    axe = Axe()
    problems: dict[str, list[str]] = {}
    for username, paths in ROLE_PAGES.items():
        storage = None
        for viewport_name, viewport in VIEWPORTS.items():
            context = browser.new_context(locale="zh-CN", viewport=viewport, storage_state=storage)
            page = context.new_page()
            page.set_default_timeout(20_000)
            if username and storage is None:
                demo_login(page, live_server.url, username)
                storage = context.storage_state()
            for path in paths:
                path = path.format(**ids)
                response = page.goto(f"{live_server.url}{path}")
                key = f"{username or 'public'} {viewport_name} {path}"
                if response.status != 200:
                    problems[key] = [f"HTTP {response.status}"]
                    continue
                if found := _violations(page, axe):
                    problems[key] = found
            context.close()
    assert not problems, "axe violations:\n" + "\n".join(
        f"{key}\n  " + "\n  ".join(found) for key, found in problems.items())


def test_ledger_rows_are_not_painted_in_their_light_and_the_light_is_a_labelled_badge(
        page, live_server):
    """Issue 18 item 1: `<tr class="light-red">` matched the badge's `.light-red` rule, so every
    row was solid red/green/grey/blue and its links and grey text unreadable."""
    snapshot_cache_clear()
    demo_load()
    demo_login(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/tasks/")
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == 50
    backgrounds = set(page.eval_on_selector_all(
        "table.ledger tbody tr, table.ledger tbody td",
        "els => els.map(e => getComputedStyle(e).backgroundColor)"))
    assert backgrounds <= {"rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"}, backgrounds
    lights = page.locator("table.ledger tbody td .light")
    assert lights.count() == 50
    # Long unit and official lists are folded: 50 rows were 26,000 px tall with every official.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 12_000, f"the ledger is {height}px tall"
    labels = {lights.nth(i).inner_text() for i in range(50)}
    assert labels and all(label.startswith(("红灯", "黄灯", "绿灯", "已销号", "长期坚持")) for label in labels)
    screenshot(page, "ledger")
