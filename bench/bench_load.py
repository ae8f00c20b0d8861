"""`make bench` plugin: several minutes of mixed load on the national-scale ledger.

Five liaisons (of units that lead tasks) file reports with evidence, two leaders read the
dashboards, the office exports the ledger — all at once against the bench's gunicorn. Records
throughput and p95 per kind of request, server errors, and how many successful reports are
missing from the database afterwards (must be 0).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import load_run  # noqa: E402

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "180"))
PASSWORD = "bench-load-Passw0rd"  # noqa: S105 (a throw-away user of the bench database)


def _users() -> tuple[list[str], list[str], list[str]]:
    from django.contrib.auth.models import Group

    from rectify.models import User
    from rectify.roles import Role, roles_ensure
    from tasks.models import TaskUnit

    roles_ensure()

    def ensure(username: str, role: Role, unit_id: int | None = None) -> str:
        user, _ = User.objects.get_or_create(username=username, defaults={"unit_id": unit_id})
        user.set_password(PASSWORD)
        user.unit_id = unit_id
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        return username

    lead_units = list(
        TaskUnit.objects.filter(role=TaskUnit.Role.LEAD).values_list("unit_id", flat=True).distinct()[:5]
    )
    liaisons = [ensure(f"load-liaison-{i}", Role.LIAISON, unit) for i, unit in enumerate(lead_units)]
    leaders = [ensure(f"load-leader-{i}", Role.LEADER) for i in range(2)]
    office = [ensure("load-office", Role.OFFICE)]
    return liaisons, leaders, office


def _lost(reports_ok: dict[tuple[int, str], str]) -> int:
    from rectify.models import User
    from tasks.models import ProgressReport

    units = dict(User.objects.filter(username__startswith="load-").values_list("username", "unit_id"))
    lost = 0
    for (task_id, username), text in reports_ok.items():
        latest = ProgressReport.objects.filter(task_id=task_id, unit_id=units[username]).order_by("-week").first()
        lost += latest is None or latest.text != text
    return lost


def run(results: dict[str, float], context) -> None:  # type: ignore[no-untyped-def]
    liaisons, leaders, office = _users()
    stats = load_run(base_url=context.base_url, seconds=SECONDS, liaisons=liaisons, leaders=leaders,
                     office=office, password=PASSWORD)
    figures = stats.figures(SECONDS)
    for kind, values in figures.items():
        results[f"load_{kind}_rps"] = round(values["rps"], 2)
        results[f"load_{kind}_p95_ms"] = round(values["p95_ms"], 1)
    results["load_server_errors"] = float(len(stats.server_errors))
    results["load_reports_succeeded"] = float(stats.reports_succeeded)
    results["load_reports_refused"] = float(stats.reports_refused)
    results["load_reports_lost"] = float(_lost(stats.reports_ok))
    rows = "\n".join(
        f"| {kind} | {v['count']} | {v['rps']:.1f} | {v['p50_ms']:.0f} | {v['p95_ms']:.0f} |"
        for kind, v in figures.items()
    )
    context.notes.append(
        f"## Mixed load ({SECONDS:.0f} s)\n\n{len(liaisons)} liaisons filing reports with a photo, "
        f"{len(leaders)} leaders reading dashboards and the office exporting, at once.\n\n"
        "| request | count | requests/s | p50 (ms) | p95 (ms) |\n|---|---:|---:|---:|---:|\n"
        f"{rows}\n\nServer errors: {len(stats.server_errors)}. Reports answered with success: "
        f"{stats.reports_succeeded}; refused with the reason on the form (e.g. a closed task): "
        f"{stats.reports_refused}; missing from the database afterwards: {results['load_reports_lost']:.0f}.\n"
    )
    if stats.server_errors or results["load_reports_lost"] or stats.other_errors or not stats.reports_succeeded:
        raise AssertionError(f"load: {stats.server_errors[:5]} {stats.other_errors[:5]}")
