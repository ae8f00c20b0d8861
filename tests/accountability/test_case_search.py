"""The register's search segments Chinese like the ledger's (issue 18 item 10): "违规审批采矿"
finds what "违规 审批 采矿" finds; unit and person names are searched too."""

from __future__ import annotations

import pytest

from accountability.selectors import CaseFilters, case_list
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)

pytestmark = pytest.mark.django_db


def refs(user, q):
    return set(case_list(user=user, filters=CaseFilters(q=q)).values_list("reference", flat=True))


def test_case_search_needs_no_spaces(case, acc_officer):
    assert refs(acc_officer, "违规审批采矿") == refs(acc_officer, "违规 审批 采矿") == {case.reference}
    assert refs(acc_officer, "晋中市政府违规") == {case.reference}  # a unit's name and the text
    assert refs(acc_officer, "违规审批 不存在的词") == set()
    assert refs(acc_officer, "移交问题清单第9项") == {case.reference}
