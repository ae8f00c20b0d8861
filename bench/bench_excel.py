"""Bench: importing generated ledgers (10,000 and 100,000 rows) and exporting 100,000 rows,
each next to the floor of the same stack measured in the same run.

The floor is what no importer can beat on this stack: openpyxl's read-only read of the same
file plus one bulk insert of the same rows, and nothing else. Each measurement runs in its
own Python process, so its peak memory (ru_maxrss) is its own; the process's resident size
right after start-up is reported too, so the growth is visible.

`run(results, context)` is called by bench/run.py against the bench database; this file
also runs alone against DATABASE_URL:

    DATABASE_URL=postgres://… DEBUG=1 python bench/bench_excel.py
    RECTIFY_BENCH_EXCEL_SIZES=1000,5000 …   # a quick run
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

DEFAULT_SIZES = (10_000, 100_000)
PLAN_ISSUED = dt.date(2017, 12, 19)
HEADER = ["序号", "整改问题", "整改目标", "具体整治措施", "牵头单位", "整改实施主体", "配合单位",
          "完成时限", "整治进度(%)", "备注"]
LEADS = ["省环保厅", "省发改委", "省国土厅", "省住建厅", "省水利厅", "省煤炭厅", "省林业厅", "环保厅"]
RESPONSIBLE = [
    "太原市政府", "大同市政府、朔州市政府", "昔阳、和顺、灵石、介休、寿阳县(市)委、县(市)政府",
    "太原、大同、朔州、运城市委、市政府", "省环保厅;省水利厅\n省林业厅", "晋中市政府，长治市政府",
    "各市政府",
]
SUPPORTING = ["", "省财政厅", "省公安厅、省统计局", "省气象局"]


def _deadline(rng: random.Random) -> Any:
    choice = rng.randrange(8)
    year = rng.choice([2018, 2019, 2020])
    month = rng.randint(1, 12)
    return [
        f"{year}年{month}月底前", f"{year}年底前", "年内", "立行立改", "长期坚持",
        dt.datetime(year, month, 15),  # noqa: DTZ001 (Excel date cells are naive)
        43281 + rng.randrange(700), f"{year}年{month}月{rng.randint(1, 28)}日前",
    ][choice]


def ledger_generate(path: Path, rows: int, *, seed: int = 2017) -> None:
    """A ledger as provinces keep it: aliased headers, units by name, mixed deadline wording."""
    from openpyxl import Workbook

    rng = random.Random(seed)  # noqa: S311 (reproducible test data)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(["山西省中央环境保护督察反馈问题整改台账"])
    ws.append(HEADER)
    for n in range(1, rows + 1):
        ws.append([
            n, f"问题{n}:某地存在环境问题,需按督察反馈意见整改", f"目标{n}:完成整改并建立长效机制",
            f"1.排查问题{n}。\n2.制定整改方案。\n3.组织验收。", rng.choice(LEADS), rng.choice(RESPONSIBLE),
            rng.choice(SUPPORTING), _deadline(rng), f"{rng.randrange(0, 101)}%", "",
        ])
    wb.save(path)


# --- Measurements, each in its own process -------------------------------------------------------


def _rss_mb() -> float:
    """Peak resident memory of this process, in MiB.

    VmHWM belongs to the process image, so it starts afresh at exec; ru_maxrss would carry
    the parent's peak over from the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(mode: str, file: str, plan_code: str) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from openpyxl import load_workbook

    from tasks.exporting import ledger_workbook_write
    from tasks.importing import ledger_import, ledger_source_open
    from tasks.models import DeadlineClass, Plan, Task

    # DEBUG=1 would keep the SQL of every bulk statement in connection.queries: not what runs
    # in production, and it would be counted as the importer's memory.
    settings.DEBUG = False
    plan = Plan.objects.get(code=plan_code)
    connection.ensure_connection()
    baseline = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    extra: dict[str, Any] = {}
    if mode == "floor":
        wb = load_workbook(file, read_only=True)
        ws = wb.worksheets[0]
        objs = [
            Task(plan=plan, number=row[0], title=str(row[1])[:200], target=row[2] or "",
                 actions=row[3] or "", deadline_text=str(row[7])[:100], deadline_class=DeadlineClass.LONG_TERM)
            for row in ws.iter_rows(min_row=3, values_only=True)
            if row and isinstance(row[0], int)
        ]
        wb.close()
        Task.objects.bulk_create(objs, batch_size=2000)
        rows = len(objs)
    elif mode == "import":
        result = ledger_import(source=ledger_source_open(file), plan=plan, dry_run=False)
        if not result.applied:
            raise SystemExit(f"import failed: {result.errors[:5]}")
        rows = len(result.rows)
        extra = {"new": result.counts["new"], "changed": result.counts["changed"],
                 "unchanged": result.counts["unchanged"]}
    elif mode == "export":
        rows = ledger_workbook_write(tasks=plan.tasks.all(), out=file, today=timezone.localdate())
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu, "peak_mb": _rss_mb(), "baseline_mb": baseline,
            **extra}


def _database_url() -> str | None:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db["ENGINE"].endswith("sqlite3") and str(db["NAME"]) not in {"", ":memory:"} and "memory" not in str(db["NAME"]):
        return f"sqlite:///{db['NAME']}"
    return None


def _measure(mode: str, file: Path, plan_code: str) -> dict[str, Any]:
    url = _database_url()
    if url is None:
        raise RuntimeError("bench_excel needs a database another process can open (not in-memory SQLite)")
    env = {**os.environ, "DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "rectify.settings")}
    proc = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, __file__, "--child", mode, str(file), plan_code],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench_excel {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _bench_plan(code: str) -> Any:
    from tasks.models import Plan, Region, Unit
    from tasks.plan_loading import plan_fixture_read, plan_load, regions_load, units_load

    data = plan_fixture_read("shanxi-2017")
    if not Unit.objects.filter(code=data["units"][0]["code"]).exists():
        # The generated ledgers name Shanxi's units: bring its regions, units and aliases in,
        # also into the national bench database, whose provinces are synthetic.
        if Region.objects.filter(level=Region.Level.PROVINCE).exists():
            units_load(data["units"], regions_load(data["regions"]))
        else:
            plan_load(data=data)
    region = Region.objects.get(code="140000")
    return Plan.objects.create(code=code, title=f"Bench {code}", issued_on=PLAN_ISSUED, region=region)


def _drop_plan(plan: Any) -> None:
    from tasks.models import Task, TaskChange, TaskUnit, Unit

    # Plain DELETEs: Django's cascade collector would load 100,000 tasks into memory first.
    TaskChange.objects.filter(task__plan=plan)._raw_delete(TaskChange.objects.db)
    TaskUnit.objects.filter(task__plan=plan)._raw_delete(TaskUnit.objects.db)
    Task.objects.filter(plan=plan)._raw_delete(Task.objects.db)
    plan.delete()
    Unit.objects.filter(code__startswith="import-", task_units__isnull=True).delete()


def _sizes(context: Any) -> tuple[int, ...]:
    raw = os.environ.get("RECTIFY_BENCH_EXCEL_SIZES")
    if raw:
        return tuple(int(x) for x in raw.split(","))
    sizes = getattr(context, "excel_sizes", None) or (context.get("excel_sizes") if isinstance(context, dict) else None)
    return tuple(sizes or DEFAULT_SIZES)


def _label(rows: int) -> str:
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def run(results: dict, context: Any) -> None:
    sizes = _sizes(context)
    tag = f"{os.getpid()}-{int(time.time())}"
    with tempfile.TemporaryDirectory(prefix="bench-excel-") as tmp:
        workdir = Path(tmp)
        for index, rows in enumerate(sizes):
            label = _label(rows)
            file = workdir / f"ledger-{label}.xlsx"
            started = time.perf_counter()
            ledger_generate(file, rows)
            results[f"excel_{label}_file_mb"] = round(file.stat().st_size / 1048576, 2)
            results[f"excel_{label}_generate_seconds"] = round(time.perf_counter() - started, 2)

            floor_plan = _bench_plan(f"bench-floor-{label}-{tag}")
            import_plan = _bench_plan(f"bench-import-{label}-{tag}")
            try:
                floor = _measure("floor", file, floor_plan.code)
                imported = _measure("import", file, import_plan.code)
                assert imported["new"] == rows, imported
                floor_rate = floor["rows"] / floor["seconds"]
                import_rate = imported["rows"] / imported["seconds"]
                first = index == 0
                suffix = "" if first else f"_{label}"
                results[f"import_floor{suffix}_rows_per_s"] = round(floor_rate)
                results[f"import_floor_{label}_peak_mb"] = round(floor["peak_mb"], 1)
                results[f"import_{label}_rows_per_s"] = round(import_rate)
                results[f"import_{label}_seconds"] = round(imported["seconds"], 2)
                results[f"import_{label}_cpu_seconds"] = round(imported["cpu_seconds"], 2)
                results[f"import_floor_{label}_cpu_seconds"] = round(floor["cpu_seconds"], 2)
                results[f"import_{label}_peak_mb"] = round(imported["peak_mb"], 1)
                results[f"import_{label}_baseline_mb"] = round(imported["baseline_mb"], 1)
                results[f"import{suffix}_vs_floor_ratio"] = round(import_rate / floor_rate, 3)
                if first:
                    again = _measure("import", file, import_plan.code)
                    assert again["unchanged"] == rows, again
                    results[f"reimport_{label}_rows_per_s"] = round(again["rows"] / again["seconds"])
                    results[f"reimport_{label}_changes"] = again["new"] + again["changed"]
                if index == len(sizes) - 1:
                    out = workdir / "export.xlsx"
                    exported = _measure("export", out, import_plan.code)
                    results[f"export_{label}_rows_per_s"] = round(exported["rows"] / exported["seconds"])
                    results[f"export_{label}_seconds"] = round(exported["seconds"], 2)
                    results[f"export_{label}_cpu_seconds"] = round(exported["cpu_seconds"], 2)
                    results[f"export_{label}_peak_mb"] = round(exported["peak_mb"], 1)
                    results[f"export_{label}_baseline_mb"] = round(exported["baseline_mb"], 1)
            finally:
                _drop_plan(floor_plan)
                _drop_plan(import_plan)


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], sys.argv[4])))  # noqa: T201
        return
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    django.setup()
    results: dict[str, Any] = {}
    run(results, None)
    print(json.dumps(results, indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
