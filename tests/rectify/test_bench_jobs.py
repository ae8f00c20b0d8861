import pytest

from bench.bench_jobs import run

pytestmark = pytest.mark.django_db


def test_bench_jobs_records_compile_times_and_query_counts(plan):
    results: dict = {}
    run(results, context=None)
    assert results["jobs_tasks"] == 60 and results["jobs_plans"] == 1
    for kind in ("dispatch", "bulletin"):
        assert results[f"{kind}_compile_s"] > 0
        assert 0 < results[f"{kind}_compile_queries"] <= 12
        assert results[f"{kind}_xlsx_bytes"] > 1000
