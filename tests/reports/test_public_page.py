"""The public page (信息公开) as the public reads it: the plan's title and a data date (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from reports import services
from tests.cast import example_user
from tests.reports_helpers import at

pytestmark = pytest.mark.django_db


def test_the_public_page_names_the_plan_and_the_date_of_its_data(client, plan):
    page = client.get(reverse("public:home")).content.decode()
    assert plan.title in page  # even before anything is published

    with time_machine.travel(at(2018, 10, 10, 9), tick=False):
        publication, _ = services.publication_draft(week=dt.date(2018, 10, 8))
        services.publication_approve(publication=publication, user=example_user("publicity"))
    with time_machine.travel(at(2018, 10, 12, 12), tick=False):
        page = client.get(reverse("public:home")).content.decode()
    assert plan.title in page
    assert "数据截至2018年10月10日" in page
