"""A short mixed load against gunicorn and a private PostgreSQL: no server error, no lost report.

Liaisons file reports with evidence, leaders read dashboards, the office exports — at once.
Every report that got a success answer must be in the database afterwards, with its evidence.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings

from bench.load import load_run
from tests.conftest import wait_until
from tests.test_faults import free_port, get, private_postgres  # noqa: F401 (fixture)

pytestmark = pytest.mark.services

LOAD_SECONDS = float(os.environ.get("RECTIFY_LOAD_SECONDS", "30"))
LIAISONS = ["liaison-coal", "liaison-env", "liaison-water", "liaison-taiyuan", "liaison-datong"]


def test_mixed_load_loses_no_report(private_postgres, tmp_path):  # noqa: F811
    url, _data = private_postgres
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY": "load-test",
           "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "rectify.settings",
           "RECTIFY_VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media"),
           "CELERY_TASK_ALWAYS_EAGER": "0", "REDIS_URL": ""}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    for args in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"], ["load_demo", "--quiet-logins"]):
        subprocess.run([*manage, *args], cwd=settings.BASE_DIR, env=env, check=True, timeout=600)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rectify.wsgi", "-b", f"127.0.0.1:{port}", "-w", "3",
         "--timeout", "60"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: get(f"{base}/healthz") == 200, timeout=60)
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
