"""The demo loads a few cases at different stages, one made public with an approved summary."""

from __future__ import annotations

import pytest

from accountability.demo import accountability_demo_load
from accountability.models import Case, PublicResult, Stage
from accountability.selectors import bulletin_figures, public_results
from tasks.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_load_creates_cases_once():
    demo_load()
    stages = dict(Case.objects.values_list("reference", "stage"))
    assert len(stages) == 4
    assert set(stages.values()) == {Stage.CLUE, Stage.PROPOSAL_REVIEW, Stage.EXECUTION, Stage.PUBLIC}
    assert PublicResult.objects.get().status == PublicResult.Status.APPROVED
    [entry] = public_results()
    assert "person_names" not in entry and entry["persons_count"] == 2
    assert bulletin_figures().persons_total == 4
    # every demo case walked its stages through the services, each step in the trail
    public = Case.objects.get(stage=Stage.PUBLIC)
    assert public.stage_records.count() == 6
    assert accountability_demo_load() == 0  # a second call changes nothing
    assert Case.objects.count() == 4
