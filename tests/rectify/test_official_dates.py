"""Dates as officials write them (issue 18): 2026年11月24日, 11月24日 in dense tables, never ISO."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from rectify.dates import date_official
from tasks.models import SupervisionKind, Task
from tasks.services import milestone_save, task_report_progress
from tasks.supervision import supervision_issue

pytestmark = pytest.mark.django_db
CST = dt.timezone(dt.timedelta(hours=8))
ISO = re.compile(r"\b(?:19|20)\d\d-\d\d-\d\d\b")


def test_the_officials_forms_of_a_date():
    day = dt.date(2026, 11, 24)
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=CST), tick=False):
        assert date_official(day) == "2026年11月24日"
        assert date_official(day, "short") == "11月24日"
        assert date_official(day, "table") == "11月24日"  # this year: the year goes without saying
        assert date_official(dt.date(2025, 11, 24), "table") == "2025年11月24日"
        at = dt.datetime(2026, 11, 24, 1, 5, tzinfo=dt.UTC)  # 09:05 in Shanghai
        assert date_official(at, "long_time") == "2026年11月24日 09:05"
        assert date_official(at, "table_time") == "11月24日 09:05"
        assert date_official("2026-11-24") == "2026年11月24日"  # as frozen in a snapshot
        assert date_official("长期坚持") == "长期坚持" and date_official(None) == ""
        with translation.override("en"):
            assert date_official(day) == "November 24, 2026"
        rendered = Template('{% load official_dates %}{{ d|official_date }} {{ d|official_date:"short" }}').render(
            Context({"d": day}))
        assert rendered == "2026年11月24日 11月24日"


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_page_a_person_reads_shows_an_iso_date(client, plan, office_user, leader, taiyuan_liaison):
    task = Task.objects.get(plan=plan, number=12)
    task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40,
                         text="推进中")
    supervision_issue(actor=office_user, kind=SupervisionKind.LISTED, title="进度滞后", task=task,
                      requirements="限期整改", time_limit=dt.date(2099, 1, 31))
    milestone_save(task=task, actor=office_user, title="完成摸底", due_on=dt.date(2018, 2, 1))  # in the history
    pages = {
        office_user: [reverse("tasks:ledger"), reverse("tasks:detail", args=[task.pk]),
                      reverse("tasks:office_queue"), reverse("tasks:supervision_list"),
                      reverse("tasks:unit", args=[taiyuan_liaison.unit_id]), reverse("reports:archive"),
                      reverse("reports:outbox")],
        leader: [reverse("tasks:ledger"), reverse("tasks:overview")],
        taiyuan_liaison: [reverse("tasks:mytasks"), reverse("tasks:detail", args=[task.pk]),
                          reverse("tasks:report", args=[task.pk])],
    }
    found = {}
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            if hits := ISO.findall(_visible_text(response.content.decode())):
                found[f"{user.username} {url}"] = hits[:3]
    assert not found, found
