"""A short mixed load against gunicorn and a private PostgreSQL: no server error, no lost report.

Liaisons file reports with evidence, leaders read dashboards, the office exports — at once.
Every report that got a success answer must be in the database afterwards, with its evidence.
"""

from __future__ import annotations

import os

import psycopg
import pytest

from bench.load import load_run
from tests.rectify.test_faults import app_env, app_prepare, gunicorn_start, private_postgres  # noqa: F401 (fixture)

pytestmark = pytest.mark.services

LOAD_SECONDS = float(os.environ.get("RECTIFY_LOAD_SECONDS", "30"))
LIAISONS = ["liaison-coal", "liaison-env", "liaison-water", "liaison-taiyuan", "liaison-datong"]


def test_mixed_load_loses_no_report(private_postgres, tmp_path):  # noqa: F811
    url, _data = private_postgres
    env = app_env(url, tmp_path)
    app_prepare(env)
    server, base = gunicorn_start(env, workers=3)
    try:
        with psycopg.connect(url) as db:
            evidence_before = db.execute("SELECT count(*) FROM tasks_evidence").fetchone()[0]
        stats = load_run(base_url=base, seconds=LOAD_SECONDS, liaisons=LIAISONS,
                         leaders=["leader", "supervisor"], office=["office"], password="rectify-demo")
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert stats.other_errors == []
    assert stats.server_errors == [], stats.server_errors[:10]
    figures = stats.figures(LOAD_SECONDS)
    assert {"report_file", "overview", "league", "ledger", "export"} <= set(figures), figures
    assert stats.reports_succeeded > 0
    with psycopg.connect(url) as db:
        for (task_id, username), text in stats.reports_ok.items():
            row = db.execute(
                "SELECT r.text FROM tasks_progressreport r JOIN rectify_user u ON u.unit_id = r.unit_id"
                " WHERE r.task_id = %s AND u.username = %s ORDER BY r.week DESC LIMIT 1",
                (task_id, username),
            ).fetchone()
            assert row is not None and row[0] == text, (task_id, username)
        evidence_after = db.execute("SELECT count(*) FROM tasks_evidence").fetchone()[0]
    assert evidence_after - evidence_before == stats.reports_succeeded  # one file per report
    # What was measured, for the record (docs/benchmarks.md has the longer run's figures).
    print({kind: {k: round(v, 1) for k, v in f.items()} for kind, f in figures.items()})
