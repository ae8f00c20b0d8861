"""The league charts (issue 18, "hard to use"): each has a visible title, and its bars show the
figure the table below is sorted by, in the table's order."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from tasks.dashboards import snapshot_cache_clear

pytestmark = pytest.mark.django_db


def chart_of(html: str) -> tuple[str, list[tuple[str, str]]]:
    """(the visible title, [(label, value)] of the bars) of the page's league chart."""
    section = html.split('aria-labelledby="league-chart-title"', 1)[1].split("</section>", 1)[0]
    title = re.search(r'<h2 id="league-chart-title"[^>]*>([^<]+)</h2>', section).group(1)
    bars = re.findall(r"<title>([^<]+)</title>[^<]*</text><rect[^>]*/><text[^>]*>([^<]+)</text>", section)
    return title, bars


def table_names(html: str) -> list[str]:
    body = html.split('<table class="league">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<tr>\s*<td>(.*?)(?:<br>|</td>)", body, re.S)]


@pytest.mark.parametrize("name", ["tasks:league_units", "tasks:league_regions"])
@pytest.mark.parametrize(("sort", "figure"), [
    ("", "逾期"), ("-overdue", "逾期"), ("-lagging", "未达序时进度"), ("-compliance", "按时报送率"),
    ("compliance", "按时报送率"), ("-tasks", "任务"), ("name", "逾期"),
])
def test_the_chart_is_titled_and_shows_the_figure_the_table_is_sorted_by(client, office_user, plan, name, sort,
                                                                          figure, calendar_read):
    snapshot_cache_clear()
    client.force_login(office_user)
    with time_machine.travel("2018-06-01 10:00 +0800", tick=False):
        html = client.get(reverse(name), {"sort": sort} if sort else {}).content.decode()
    title, bars = chart_of(html)
    assert title.startswith(f"{figure}:") and "与表格排序一致" in title
    names = table_names(html)
    assert bars and [label for label, _v in bars] == names[:len(bars)]
    if sort == "-compliance":
        values = [float(v) for _l, v in bars]
        assert values == sorted(values, reverse=True)
