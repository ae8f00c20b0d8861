"""Reads for dispatches, bulletins, reminders and the public page.

Compiling reads the whole ledger in a fixed number of queries (tasks, their units, their
milestones, one week's or one month's reports aggregated in the database): the count does not
grow with the number of tasks. The result is a plain, JSON-ready dict: the frozen snapshot
stored on the `Report` row and rendered into the e-mail, the archive page and the xlsx.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accountability.selectors import BulletinFigures, bulletin_figures
from rectify.calendar import (
    bulletin_period_parse,
    bulletin_reviewed_month,
    publication_day,
    report_cutoff,
    week_expects_reports,
)
from rectify.models import User
from rectify.roles import Role
from reports.models import Delivery, Publication, Report, ReportKind
from tasks.lights import task_days_overdue, task_expected_progress, task_is_lagging, task_light
from tasks.models import (
    FINISHED_STATUSES,
    SUPERVISION_KINDS_UNANNOUNCED,
    Plan,
    ProgressReport,
    Region,
    SupervisionAction,
    Task,
    TaskChange,
    TaskStatus,
    TaskUnit,
)
from tasks.signoff import notice_ends_subquery

logger = logging.getLogger(__name__)

Snapshot = dict[str, Any]
ARCHIVE_ROLES = (Role.OFFICE, Role.OFFICE_HEAD)
# The supervision group reads the archive like leaders (issue 18); only the office runs it.
ARCHIVE_READ_ROLES = (*ARCHIVE_ROLES, Role.SUPERVISOR, Role.LEADER)


def _json_ready(value: object) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


# --- Who may see what -----------------------------------------------------------------------


def user_runs_reports(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*ARCHIVE_ROLES))


def user_reads_reports(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*ARCHIVE_READ_ROLES))


def user_approves_publications(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(Role.PUBLICITY))


def reports_visible_to(user: User) -> QuerySet[Report]:
    reports = Report.objects.all()
    return reports if user_reads_reports(user) else reports.none()


def deliveries_visible_to(user: User) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.all()
    return deliveries if user_reads_reports(user) else deliveries.none()


def report_archive(*, user: User, kind: str | None = None) -> QuerySet[Report]:
    reports = reports_visible_to(user).defer("snapshot", "body_text", "body_html", "xlsx")
    if kind:
        reports = reports.filter(kind=kind)
    return reports.annotate(
        n_deliveries=Count("deliveries"),
        n_sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
        n_failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        n_uncertain=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.UNCERTAIN)),
    ).order_by("-created_at", "-id")


def outbox(*, user: User, status: str | None = None) -> QuerySet[Delivery]:
    deliveries = deliveries_visible_to(user).select_related("report", "unit", "reminder", "digest")
    deliveries = deliveries.defer("report__snapshot", "report__body_text", "report__body_html",
                                  "report__xlsx", "reminder__context")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


# --- Recipients ------------------------------------------------------------------------------


def _users_with_roles(*roles: Role) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, groups__name__in=[r.value for r in roles])
        .exclude(email="").distinct().order_by("email")
    )


def recipients_office() -> list[tuple[str, str]]:
    return [(u.email, str(u)) for u in _users_with_roles(Role.OFFICE, Role.OFFICE_HEAD)]


def recipients_leaders() -> list[tuple[str, str]]:
    return [(u.email, str(u)) for u in _users_with_roles(Role.LEADER)]


def recipients_liaisons_by_unit() -> dict[int, list[tuple[str, str]]]:
    by_unit: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for user in _users_with_roles(Role.LIAISON).filter(unit__isnull=False):
        by_unit[user.unit_id].append((user.email, str(user)))
    return dict(by_unit)


# --- The ledger as rows -----------------------------------------------------------------------


class LedgerUnit(NamedTuple):
    unit_id: int
    role: str
    name: str
    city: str | None


def _ledger_tasks(plan: Plan) -> list[Task]:
    """Every task of the plan with its milestones (prefetched, for the lights) and its units as
    plain tuples in `task.ledger_units`: 3 queries, and no model instance per task unit, which
    at national scale (10,000 task units) is most of the time a prefetch would take."""
    tasks = list(Task.objects.filter(plan=plan).prefetch_related("milestones").order_by("number"))
    by_task: dict[int, list[LedgerUnit]] = defaultdict(list)
    for row in (
        TaskUnit.objects.filter(task__plan=plan)
        .values_list("task_id", "unit_id", "role", "unit__name", "unit__region__level",
                     "unit__region__name", "unit__region__parent__name")
        .order_by("task_id", "position", "id")
    ):
        task_id, unit_id, role, name, level, region, parent = row
        city = region if level == Region.Level.CITY else parent if level == Region.Level.COUNTY else None
        by_task[task_id].append(LedgerUnit(unit_id, role, name, city))
    for task in tasks:
        task.ledger_units = by_task.get(task.pk, [])
    return tasks


def _task_row(task: Task, today: dt.date) -> dict[str, Any]:
    units = task.ledger_units
    light = task_light(task, today)
    return {
        "id": task.pk,
        "number": task.number,
        "title": task.title,
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "deadline_text": task.deadline_text,
        "deadline_class": task.get_deadline_class_display(),
        "status": task.status,
        "status_display": task.get_status_display(),
        "progress": task.progress,
        "expected": task_expected_progress(task, today),
        "light": light.value,
        "light_display": str(light.label),
        "overdue_days": task_days_overdue(task, today),
        "lagging": task_is_lagging(task, today),
        "closed_on": task.closed_on.isoformat() if task.closed_on else None,
        "lead": next((tu.name for tu in units if tu.role == TaskUnit.Role.LEAD), ""),
        "responsible": [tu.name for tu in units if tu.role == TaskUnit.Role.RESPONSIBLE],
        "supporting": [tu.name for tu in units if tu.role == TaskUnit.Role.SUPPORTING],
        "unit_ids": [tu.unit_id for tu in units],
        "answerable_unit_ids": [tu.unit_id for tu in units if tu.role != TaskUnit.Role.SUPPORTING],
    }


def _ref(row: dict[str, Any]) -> dict[str, Any]:
    """A task as a list entry names it: number, title, lead unit, numbers that matter."""
    keys = ("id", "number", "title", "lead", "deadline", "deadline_text", "progress", "expected",
            "overdue_days", "status_display", "unit_ids")
    return {k: row[k] for k in keys}


def _units_of(tasks: Iterable[Task]) -> dict[str, dict[str, Any]]:
    units: dict[str, dict[str, Any]] = {}
    for task in tasks:
        for tu in task.ledger_units:
            units.setdefault(str(tu.unit_id), {"id": tu.unit_id, "name": tu.name, "city": tu.city})
    return units


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    finished = sum(1 for r in rows if r["status"] in FINISHED_STATUSES)
    return {
        "tasks": len(rows),
        "finished": finished,
        "closed": sum(1 for r in rows if r["status"] == TaskStatus.CLOSED),
        "open": len(rows) - finished,
        "overdue": sum(1 for r in rows if r["light"] == "red"),
        "lagging": sum(1 for r in rows if r["lagging"]),
        "red": sum(1 for r in rows if r["light"] == "red"),
        "yellow": sum(1 for r in rows if r["light"] == "yellow"),
        "green": sum(1 for r in rows if r["light"] == "green"),
    }


# --- Supervision actions ------------------------------------------------------------------------


def supervision_actions_between(*, plan: Plan, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """督办 actions recorded in the window (`until` excluded), or lifted on one of its days, for
    the dispatch: against a task of the plan, or against a unit alone. An action lifted by the
    window's last day says so (已解除), even when it was lifted the day it was issued."""
    first_day = timezone.localdate(since)
    last_day = timezone.localdate(until - dt.timedelta(microseconds=1))
    actions = (
        SupervisionAction.objects
        .filter(Q(created_at__gt=since, created_at__lt=until)
                | Q(lifted_on__gte=first_day, lifted_on__lte=last_day, created_at__lt=until))
        .filter(Q(task__plan=plan) | Q(task__isnull=True, unit__isnull=False))
        .select_related("task", "unit").order_by("created_at", "id")
    )
    return [
        {
            "task_id": a.task_id,
            "number": a.task.number if a.task else None,
            "title": a.task.title if a.task else a.title,
            # The action's own 事由 when the entry is named by its task; never the title twice.
            "reason": a.title if a.task and a.title != a.task.title else "",
            "kind": a.get_kind_display(),
            "kind_code": a.kind,
            "unit_id": a.unit_id,
            "unit": a.unit.name if a.unit else "",
            "requirements": a.requirements[:300],
            "time_limit": a.time_limit.isoformat() if a.time_limit else None,
            "at": a.created_at.isoformat(),
            "lifted_on": a.lifted_on.isoformat() if a.lifted_on and a.lifted_on <= last_day else None,
        }
        for a in actions
    ]


def _unannounced(entry: dict[str, Any]) -> bool:
    """An unannounced visit (暗查暗访) is not announced to the unit visited. Snapshots frozen
    before `kind_code` was recorded name the kind in the official language (Chinese)."""
    if "kind_code" in entry:
        return entry["kind_code"] in SUPERVISION_KINDS_UNANNOUNCED
    return entry.get("kind") == "暗查暗访"


def accountability_progress(*, as_of: dt.date) -> dict[str, int]:
    """The register's figures as the bulletin prints them: label → number."""
    figures: BulletinFigures = bulletin_figures(as_of=as_of)
    rows: dict[str, int] = {"问题线索(件)": figures.cases_total}
    rows.update({f"{label}(件)": n for _, label, n in figures.cases_by_stage})
    rows["被问责人员(人)"] = figures.persons_total
    rows.update({f"{label}干部(人)": n for _, label, n in figures.persons_by_rank if n})
    rows.update({f"{label}(人)": n for _, label, n in figures.persons_by_outcome if n})
    rows[f"阶段办理超过{figures.stage_limit_days}天(件)"] = figures.overdue_total
    rows["结果已向社会公开(件)"] = figures.published_total
    return rows

def _closed_at_cutoff_or_after(
    tasks: list[Task], status_rows: list[dict[str, Any]], *, cutoff: dt.datetime, as_of: dt.datetime,
) -> set[int]:
    """Tasks that were closed (销号) when the week's reports fell due, or were closed between
    then and `as_of`, or are closed now: the status at the cut-off is the `old` of the first
    status change after it (else the current status)."""
    closed = {t.pk for t in tasks if t.status == TaskStatus.CLOSED}
    seen: set[int] = set()
    for change in status_rows:
        if change["at"] <= cutoff:
            continue
        if change["task_id"] not in seen:
            seen.add(change["task_id"])
            if change["old"] == TaskStatus.CLOSED:
                closed.add(change["task_id"])
        if change["at"] <= as_of and change["new"] == TaskStatus.CLOSED:
            closed.add(change["task_id"])
    return closed


def dispatch_compile(*, plan: Plan, week: dt.date, as_of: dt.datetime, since: dt.datetime) -> Snapshot:
    """周调度: the ledger as of `as_of`, and what changed since `since` (the last dispatch)."""
    today = timezone.localdate(as_of)
    since_day = timezone.localdate(since)
    tasks = _ledger_tasks(plan)
    rows = [_task_row(t, today) for t in tasks]
    by_id = {r["id"]: r for r in rows}

    previous_percent = (
        ProgressReport.objects.filter(task_id=OuterRef("task_id"), unit_id=OuterRef("unit_id"),
                                      week__lt=OuterRef("week"))
        .order_by("-week").values("percent")[:1]
    )
    week_reports = list(
        ProgressReport.objects.filter(task__plan=plan, week=week)
        .annotate(previous=Subquery(previous_percent))
        .values("task_id", "unit_id", "percent", "previous", "is_late", "text")
        .order_by("task_id", "unit_id")
    )
    units = _units_of(tasks)
    moved = []
    filed: set[tuple[int, int]] = set()
    late: dict[int, list[int]] = defaultdict(list)
    for rep in week_reports:
        row = by_id.get(rep["task_id"])
        if row is None:
            continue
        filed.add((rep["task_id"], rep["unit_id"]))
        if rep["is_late"]:
            late[rep["unit_id"]].append(row["number"])
        if rep["previous"] != rep["percent"] and (rep["previous"] is not None or rep["percent"] > 0):
            moved.append({
                "task_id": row["id"], "number": row["number"], "title": row["title"],
                "unit_id": rep["unit_id"], "unit": units.get(str(rep["unit_id"]), {}).get("name", ""),
                "from": rep["previous"], "to": rep["percent"], "text": rep["text"][:200],
            })

    # The dispatch tells of its own week: Monday 00:00 to the next Monday (or `as_of`, if
    # earlier). What happened after it is the next dispatch's. One query of status changes
    # from the week's start serves sections 三 and the "who had to report" below.
    week_start = timezone.make_aware(dt.datetime.combine(week, dt.time()))
    window_end = min(as_of, week_start + dt.timedelta(days=7))
    status_rows = list(
        TaskChange.objects.filter(task__plan=plan, subject="task", field="status", at__gte=week_start)
        .values("task_id", "old", "new", "at", "note").order_by("at", "id")
    )
    closed_in_week = _closed_at_cutoff_or_after(tasks, status_rows, cutoff=report_cutoff(week),
                                                as_of=as_of)

    missing: dict[int, list[int]] = defaultdict(list)
    expected = 0
    expects_reports = week_expects_reports(week)
    for task in tasks:
        if task.pk in closed_in_week or not expects_reports:
            # A task closed at the cut-off (or since) owes no report for the week, even if a
            # 回头看 reopened it before the dispatch; a holiday week has no day to report on.
            continue
        for tu in task.ledger_units:
            expected += 1
            if (task.pk, tu.unit_id) not in filed:
                missing[tu.unit_id].append(task.number)
    units_missing = sorted(
        ({"unit_id": uid, "unit": units[str(uid)]["name"], "missing": sorted(nums),
          "late": sorted(late.get(uid, []))} for uid, nums in missing.items()),
        key=lambda u: (-len(u["missing"]), u["unit"]),
    )
    units_late = sorted(
        ({"unit_id": uid, "unit": units[str(uid)]["name"], "late": sorted(nums)}
         for uid, nums in late.items() if uid not in missing),
        key=lambda u: u["unit"],
    )

    status_changes = [c for c in status_rows if c["at"] < window_end]
    labels = {value: str(label) for value, label in TaskStatus.choices}
    changes = [
        {"task_id": c["task_id"], "number": by_id[c["task_id"]]["number"],
         "title": by_id[c["task_id"]]["title"], "old": labels.get(c["old"], c["old"]),
         "new": labels.get(c["new"], c["new"]), "at": c["at"], "note": c["note"],
         "unit_ids": by_id[c["task_id"]]["unit_ids"]}
        for c in status_changes if c["task_id"] in by_id
    ]
    closed_ids = {c["task_id"] for c in status_changes if c["new"] in FINISHED_STATUSES}
    last_day = timezone.localdate(window_end - dt.timedelta(microseconds=1))
    closed_ids |= {r["id"] for r in rows
                   if r["closed_on"] and week <= dt.date.fromisoformat(r["closed_on"]) <= last_day}
    closed = [_ref(by_id[i]) for i in sorted(closed_ids, key=lambda i: by_id[i]["number"])
              if by_id[i]["status"] in FINISHED_STATUSES]
    newly_overdue = [
        _ref(r) for r in rows
        if r["overdue_days"] > 0 and dt.date.fromisoformat(r["deadline"]) >= since_day
    ]

    return _json_ready({
        "kind": ReportKind.DISPATCH.value,
        "plan": {"id": plan.pk, "title": plan.title},
        "week": week,
        "week_end": week + dt.timedelta(days=6),
        "cutoff": report_cutoff(week),
        "reports_expected": expects_reports,
        "as_of": as_of,
        "since": since,
        "totals": {**_totals(rows), "reports_expected": expected, "reports_filed": len(filed),
                   "reports_late": sum(len(v) for v in late.values()),
                   "units_missing": len(units_missing), "moved": len(moved)},
        "moved": moved,
        "status_changes": changes,
        "closed": closed,
        "newly_overdue": newly_overdue,
        "overdue": [_ref(r) for r in rows if r["overdue_days"] > 0],
        "lagging": [_ref(r) for r in rows if r["lagging"] and r["overdue_days"] == 0],
        "units_missing": units_missing,
        "units_late": units_late,
        "supervision": supervision_actions_between(plan=plan, since=week_start, until=window_end),
        "units": units,
        "tasks": rows,
    })


def dispatch_unit_section(snapshot: Snapshot, unit_id: int) -> Snapshot:
    """What one unit's liaisons receive: only the entries that concern their unit."""
    task_ids = {r["id"] for r in snapshot["tasks"] if unit_id in r["unit_ids"]}

    def concerns(entry: dict[str, Any]) -> bool:
        # A supervision entry always has the key "unit_id" (None when it targets a task only).
        return entry.get("unit_id") == unit_id or (
            entry.get("unit_id") is None and entry.get("task_id", entry.get("id")) in task_ids)

    section = {k: v for k, v in snapshot.items() if k not in {"tasks", "units"}}
    section.update({
        "unit": snapshot["units"].get(str(unit_id), {"id": unit_id, "name": ""}),
        "moved": [m for m in snapshot["moved"] if m["unit_id"] == unit_id],
        "status_changes": [c for c in snapshot["status_changes"] if c["task_id"] in task_ids],
        "closed": [t for t in snapshot["closed"] if t["id"] in task_ids],
        "newly_overdue": [t for t in snapshot["newly_overdue"] if t["id"] in task_ids],
        "overdue": [t for t in snapshot["overdue"] if t["id"] in task_ids],
        "lagging": [t for t in snapshot["lagging"] if t["id"] in task_ids],
        "units_missing": [u for u in snapshot["units_missing"] if u["unit_id"] == unit_id],
        "units_late": [u for u in snapshot["units_late"] if u["unit_id"] == unit_id],
        "supervision": [s for s in snapshot["supervision"] if concerns(s) and not _unannounced(s)],
        "tasks": [r for r in snapshot["tasks"] if r["id"] in task_ids],
    })
    section["totals"] = {
        **_totals(section["tasks"]), "units_missing": len(section["units_missing"]),
        "moved": len(section["moved"]),
    }
    return section


def dispatch_units_with_tasks(snapshot: Snapshot) -> list[int]:
    return sorted({uid for r in snapshot["tasks"] for uid in r["unit_ids"]})


# --- Monthly bulletin -------------------------------------------------------------------------

# Ranking score, shown on the bulletin: completion 40%, reporting 30%, no overdue/lagging 30%.
SCORE_WEIGHTS = {"finished": 40, "reporting": 30, "on_schedule": 30}


def _score(stats: dict[str, Any]) -> float:
    tasks = stats["tasks"] or 1
    open_tasks = stats["tasks"] - stats["finished"]
    problem_rate = (stats["overdue"] + stats["lagging"]) / open_tasks if open_tasks else 0.0
    return round(
        SCORE_WEIGHTS["finished"] * stats["finished"] / tasks
        + SCORE_WEIGHTS["reporting"] * stats["report_rate"]
        + SCORE_WEIGHTS["on_schedule"] * (1 - min(problem_rate, 1.0)),
        1,
    )


def _rank(entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    entries.sort(key=lambda e: (-e["score"], e["overdue"], e[key]))
    for i, entry in enumerate(entries, start=1):
        entry["rank"] = i
    return entries


def bulletin_compile(*, plan: Plan, period: str, as_of: dt.datetime, number: int) -> Snapshot:
    """月通报: rankings of units and cities, overdue and lagging tasks, change on last month."""
    today = timezone.localdate(as_of)
    year, _month = bulletin_period_parse(period)
    month_first, month_last = bulletin_reviewed_month(period)
    weeks = []
    week = month_first - dt.timedelta(days=month_first.weekday())
    if week < month_first:
        week += dt.timedelta(days=7)
    while week <= month_last:
        if report_cutoff(week) <= as_of and week_expects_reports(week):
            weeks.append(week)
        week += dt.timedelta(days=7)

    tasks = _ledger_tasks(plan)
    rows = [_task_row(t, today) for t in tasks]
    units = _units_of(tasks)
    filed = {
        r["unit_id"]: r for r in
        ProgressReport.objects.filter(task__plan=plan, week__in=weeks)
        .values("unit_id").annotate(filed=Count("id"), late=Count("id", filter=Q(is_late=True)))
        .order_by("unit_id")
    }

    def blank() -> dict[str, Any]:
        return {"task_ids": set(), "finished": 0, "overdue": 0, "lagging": 0, "expected": 0,
                "filed": 0, "late": 0}

    per_unit: dict[int, dict[str, Any]] = defaultdict(blank)
    per_city: dict[str, dict[str, Any]] = defaultdict(blank)
    for task in tasks:
        for tu in task.ledger_units:
            stats = per_unit[tu.unit_id]
            if task.status != TaskStatus.CLOSED:
                stats["expected"] += len(weeks)
            if tu.role == TaskUnit.Role.SUPPORTING:
                continue  # supporting units report, but do not answer for the task
            stats["task_ids"].add(task.pk)
        answerable = [tu for tu in task.ledger_units if tu.role != TaskUnit.Role.SUPPORTING]
        for city in {tu.city for tu in answerable} - {None}:
            per_city[city]["task_ids"].add(task.pk)
    for uid, stats in per_unit.items():
        stats["filed"] = filed.get(uid, {}).get("filed", 0)
        stats["late"] = filed.get(uid, {}).get("late", 0)
        city = units[str(uid)]["city"]
        if city:
            for k in ("expected", "filed", "late"):
                per_city[city][k] += stats[k]
    by_id = {r["id"]: r for r in rows}

    def finish(stats: dict[str, Any]) -> dict[str, Any]:
        ids = stats.pop("task_ids")
        stats["tasks"] = len(ids)
        stats["finished"] = sum(1 for i in ids if by_id[i]["status"] in FINISHED_STATUSES)
        stats["overdue"] = sum(1 for i in ids if by_id[i]["overdue_days"] > 0)
        stats["lagging"] = sum(1 for i in ids if by_id[i]["lagging"] and by_id[i]["overdue_days"] == 0)
        stats["report_rate"] = round(min(stats["filed"] / stats["expected"], 1.0), 3) if stats["expected"] else 1.0
        stats["score"] = _score(stats)
        return stats

    unit_ranking = _rank(
        [{"unit_id": uid, "unit": units[str(uid)]["name"], **finish(s)}
         for uid, s in per_unit.items() if s["task_ids"]],
        "unit",
    )
    city_ranking = _rank([{"city": c, **finish(s)} for c, s in per_city.items()], "city")
    totals = _totals(rows)
    totals["on_time"] = sum(
        1 for t in tasks if t.status in FINISHED_STATUSES and t.closed_on and t.measured_deadline
        and t.closed_on <= t.measured_deadline
    )

    previous = (
        Report.objects.filter(kind=ReportKind.BULLETIN, plan=plan, period__lt=period)
        .order_by("-period").only("period", "year", "number", "snapshot").first()
    )
    change = None
    if previous is not None:
        before = previous.snapshot
        ranks_before = {u["unit_id"]: u["rank"] for u in before.get("unit_ranking", [])}
        change = {
            "previous": previous.issue_label,
            "totals": {k: totals[k] - before["totals"].get(k, 0) for k in totals if k in before["totals"]},
            "ranks": {str(u["unit_id"]): ranks_before[u["unit_id"]] - u["rank"]
                      for u in unit_ranking if u["unit_id"] in ranks_before},
        }
        for u in unit_ranking:
            u["rank_change"] = change["ranks"].get(str(u["unit_id"]))

    accountability = accountability_progress(as_of=today)

    return _json_ready({
        "kind": ReportKind.BULLETIN.value,
        "plan": {"id": plan.pk, "title": plan.title},
        "period": period,
        "year": year,
        "number": number,
        "issue_label": f"{year}年第{number}期",
        "month_first": month_first,
        "month_last": month_last,
        "weeks": weeks,
        "as_of": as_of,
        "totals": totals,
        "score_weights": SCORE_WEIGHTS,
        "unit_ranking": unit_ranking,
        "city_ranking": city_ranking,
        "overdue": sorted((_ref(r) for r in rows if r["overdue_days"] > 0), key=lambda r: -r["overdue_days"]),
        "lagging": [_ref(r) for r in rows if r["lagging"] and r["overdue_days"] == 0],
        "accountability": accountability,
        "change": change,
        "units": units,
        "tasks": rows,
    })


# Of the register's figures a liaison is told only what the public page shows too; the rest is
# for the roles that may open /accountability/figures/ (they get the whole bulletin).
ACCOUNTABILITY_PUBLIC_FIGURES = ("结果已向社会公开(件)",)


def bulletin_unit_section(snapshot: Snapshot, unit_id: int) -> Snapshot:
    """What one unit's liaisons receive of a bulletin: the overall totals, their own unit's
    ranking row and tasks (what the ledger export gives them), and the register's public count."""
    task_ids = {r["id"] for r in snapshot["tasks"] if unit_id in r["unit_ids"]}
    section = {k: v for k, v in snapshot.items() if k not in {"tasks", "units"}}
    change = snapshot.get("change")
    section.update({
        "unit": snapshot["units"].get(str(unit_id), {"id": unit_id, "name": ""}),
        "unit_ranking": [u for u in snapshot["unit_ranking"] if u["unit_id"] == unit_id],
        "city_ranking": [],
        "overdue": [t for t in snapshot["overdue"] if t["id"] in task_ids],
        "lagging": [t for t in snapshot["lagging"] if t["id"] in task_ids],
        "accountability": {k: v for k, v in (snapshot.get("accountability") or {}).items()
                           if k in ACCOUNTABILITY_PUBLIC_FIGURES},
        "change": change and {**change, "ranks": {k: v for k, v in change.get("ranks", {}).items()
                                                   if k == str(unit_id)}},
        "tasks": [r for r in snapshot["tasks"] if r["id"] in task_ids],
    })
    return section


def report_unit_section(*, kind: str, snapshot: Snapshot, unit_id: int) -> Snapshot:
    """A unit's part of a dispatch or bulletin: what its liaisons are sent, text and annex."""
    if kind == ReportKind.DISPATCH:
        return dispatch_unit_section(snapshot, unit_id)
    return bulletin_unit_section(snapshot, unit_id)


# --- Public disclosure -----------------------------------------------------------------------

PUBLIC_STATUS = {
    TaskStatus.PUBLIC_NOTICE: "公示中",
    TaskStatus.CLOSED: "已完成整改",
    TaskStatus.SUSTAINING: "已完成整改并长期坚持",
}
PUBLIC_IN_PROGRESS = "正在推进整改"


def publication_compile(*, plan: Plan, week: dt.date) -> Snapshot:
    """What the public page may show, and nothing more: no people, contacts or report texts.

    Closed tasks appear as closed only once their public notice (公示) is over, i.e. when
    the office has closed them; a task in its notice period shows as 公示中, with the notice's
    last day: the public may object until then (see tasks/objections.py).
    """
    tasks = list(
        Task.objects.filter(plan=plan)
        .annotate(notice_ends=notice_ends_subquery())
        .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")))
        .order_by("number")
    )
    rows = []
    for t in tasks:
        lead = next((tu.unit.name for tu in t.task_units.all() if tu.role == TaskUnit.Role.LEAD), "")
        in_notice = t.status == TaskStatus.PUBLIC_NOTICE and t.notice_ends is not None
        rows.append({
            "number": t.number, "title": t.title, "lead": lead, "deadline_text": t.deadline_text,
            "status": PUBLIC_STATUS.get(t.status, PUBLIC_IN_PROGRESS),
            "notice_ends_on": t.notice_ends.isoformat() if in_notice else None,
            "closed_on": t.closed_on.isoformat() if t.status == TaskStatus.CLOSED and t.closed_on else None,
        })
    closed = [r for r in rows if r["closed_on"]]
    return {
        "plan": plan.title,
        "week": week.isoformat(),
        "publish_on": publication_day(week).isoformat(),
        "totals": {"tasks": len(rows),
                   "finished": sum(1 for r in rows if r["status"] in FINISHED_PUBLIC_STATUSES),
                   "in_notice": sum(1 for r in rows if r["notice_ends_on"]),
                   "closed": len(closed)},
        "tasks": rows,
        "in_notice": [r for r in rows if r["notice_ends_on"]],
        "closed": closed,
    }


FINISHED_PUBLIC_STATUSES = frozenset(PUBLIC_STATUS[s] for s in FINISHED_STATUSES)


def publication_public_latest(*, today: dt.date) -> Publication | None:
    """The one publication the public page shows: the latest approved one already due."""
    return (
        Publication.objects.filter(status=Publication.Status.APPROVED, publish_on__lte=today)
        .order_by("-publish_on", "-week").first()
    )


def publications_for_review(*, user: User) -> QuerySet[Publication]:
    pubs = Publication.objects.defer("snapshot").order_by("-week")
    return pubs if (user_approves_publications(user) or user_runs_reports(user)) else pubs.none()
