"""Selectors for the dashboards: overview, league tables, ledger (台账), timeline, unit page.

Everything is computed from one *snapshot* of a plan as it stood at the end of a day
(`as_of`): the tasks' status, deadlines and closing date as of that day are rebuilt from the
change history (TaskChange rows written after the day are undone), progress from the weekly
reports of weeks up to that day, lights from `tasks/lights.py`. A snapshot takes a fixed
number of queries whatever the size of the ledger and is cached, keyed by the day and by a
fingerprint of the ledger (read in the same query as the plan), so a write anywhere shows on the
next request.

Scope: every figure is computed over the tasks the user may see (`tasks_visible_to`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from django import forms
from django.core.paginator import Page, Paginator
from django.core.validators import slug_re
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from rectify.calendar import last_due_week, report_week, week_expects_reports
from rectify.calendar import reporting_start as calendar_reporting_start
from rectify.dates import date_official
from rectify.models import User
from rectify.search import search_terms
from tasks.lights import Light, task_days_overdue, task_expected_progress, task_is_lagging, task_light
from tasks.models import (
    FINISHED_STATUSES,
    SUPERVISION_KINDS_UNANNOUNCED,
    DeadlineClass,
    Measure,
    Milestone,
    Plan,
    Problem,
    ProgressReport,
    Region,
    SupervisionAction,
    Task,
    TaskChange,
    TaskStatus,
    TaskUnit,
    Unit,
)
from tasks.selectors import tasks_visible_to, user_sees_whole_ledger

SNAPSHOT_CACHE_SECONDS = 300
# Units that answer for a task: they report weekly and are ranked. Supporting units help.
ANSWERING_ROLES = (TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE)
HISTORY_FIELDS = ("status", "deadline", "original_deadline", "closed_on")
LEDGER_PAGE_SIZE = 50


class AsOfError(ValueError):
    """The requested day cannot be shown; str() is the message for the official."""


# --- The snapshot ---------------------------------------------------------------------------


class MilestoneFact(NamedTuple):
    title: str
    due_on: dt.date
    done_on: dt.date | None


class _TaskFacts:
    """What tasks/lights.py reads of a task, as it stood on a day (duck-typed like Task)."""

    __slots__ = ("status", "deadline", "progress", "_milestones")

    def __init__(self, status: str, deadline: dt.date | None, progress: int,
                 milestones: list[MilestoneFact]) -> None:
        self.status, self.deadline, self.progress, self._milestones = status, deadline, progress, milestones

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def milestones(self) -> _TaskFacts:
        return self

    def all(self) -> list[MilestoneFact]:
        return self._milestones


@dataclass(slots=True)
class TaskState:
    """One task as it stood at the end of the snapshot's day."""

    id: int
    number: int
    title: str
    deadline_text: str
    deadline_class: str
    problem_id: int | None
    measure_id: int | None
    status: str
    deadline: dt.date | None
    original_deadline: dt.date | None
    closed_on: dt.date | None
    finished_on: dt.date | None
    progress: int
    expected: int
    light: str
    lagging: bool
    days_overdue: int
    units: tuple[tuple[int, str], ...]  # (unit_id, role)
    milestones: list[MilestoneFact]
    supervision: tuple[str, ...] = ()  # kinds of the actions active on the day

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def overdue(self) -> bool:
        return self.light == Light.RED

    @property
    def supervised(self) -> bool:
        return bool(self.supervision)

    @property
    def measured_deadline(self) -> dt.date | None:
        """As Task.measured_deadline: on-time counts against the original deadline."""
        return self.original_deadline or self.deadline

    @property
    def on_time(self) -> bool | None:
        """Finished by the original deadline; None while not finished or without a date."""
        if not self.finished or self.measured_deadline is None or self.finished_on is None:
            return None
        return self.finished_on <= self.measured_deadline

    def due_within(self, as_of: dt.date, days: int) -> bool:
        return (not self.finished and self.deadline is not None
                and 0 <= (self.deadline - as_of).days <= days)

    def get_status_display(self) -> str:
        return str(TaskStatus(self.status).label)

    def get_light_display(self) -> str:
        return str(Light(self.light).label)

    def get_deadline_class_display(self) -> str:
        return str(DeadlineClass(self.deadline_class).label)

    @property
    def supervision_labels(self) -> str:
        from tasks.models import SupervisionKind

        return "、".join(str(SupervisionKind(k).label) for k in self.supervision)


@dataclass
class Snapshot:
    plan_id: int
    as_of: dt.date
    states: dict[int, TaskState]
    report_start: dt.date  # the first week reports were due
    units: dict[int, tuple[str, int]]  # unit_id → (name, region_id)
    regions: dict[int, tuple[str, str, str, str]]  # region_id → (code, name, level, path)
    problems: dict[int, str]
    measures: dict[int, str]
    unit_supervision: dict[int, tuple[str, ...]]  # unit_id → kinds of actions active on the day
    status_events: dict[int, list[tuple[dt.date, bool]]]  # task_id → (day, finished after it)
    initially_finished: dict[int, bool] = field(default_factory=dict)
    plan_start: dt.date | None = None
    # Results derived from this snapshot (a scope's overview, league, filtered rows), kept with it.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def reports(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(task_id, unit_id) → (reports filed on time, reports due), answering units only.
        One query, made the first time a page needs it (the league tables and unit pages)."""
        result: dict[tuple[int, int], tuple[int, int]] = snapshot_memo(
            self, ("reports",), lambda: _reports_build(self))
        return result


MEMO_ENTRIES = 128  # page bodies are ~60 kB at national scale: a few MB per snapshot at most


def snapshot_memo(snapshot: Snapshot, key: tuple[Any, ...], compute: Any) -> Any:
    """`compute()` once per snapshot and key; bounded so odd filter combinations cannot pile up.
    Memoized values may hold translated labels, so the interface language is part of every key."""
    key = (get_language(), *key)
    try:
        return snapshot.memo[key]
    except KeyError:
        pass
    value = compute()
    if len(snapshot.memo) < MEMO_ENTRIES:
        snapshot.memo[key] = value
    return value


class ScopedStates(list):  # type: ignore[type-arg]
    """The tasks a user may see, with a token naming that scope for `snapshot_memo`."""

    token: str = ""


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0)))


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def reporting_start(plan: Plan) -> dt.date:
    return calendar_reporting_start(plan.issued_on)


def as_of_parse(raw: str | None, *, plan: Plan) -> dt.date:
    """The day a dashboard is shown as of: today unless asked; never before the plan's history
    starts (the inspection's feedback) or later than today."""
    today = timezone.localdate()
    if not raw:
        return today
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise AsOfError(_("“截至日期”格式不对,应为“年-月-日”,例如 2018-06-30。")) from None
    if day > today:
        raise AsOfError(_("“截至日期”不能晚于今天(%(today)s):未来的台账还没有发生。") % {"today": date_official(today)})
    if day < plan.history_starts_on:
        raise AsOfError(_("“截至日期”不能早于整改工作开始的日期(%(start)s,督察反馈),那时还没有台账。")
                        % {"start": date_official(plan.history_starts_on)})
    return day


_FINGERPRINT = ("fp_tasks", "fp_task_at", "fp_change", "fp_report", "fp_milestone", "fp_task_unit",
                "fp_supervision_at")


def plans_with_fingerprint() -> QuerySet[Plan]:
    """Plans annotated with what changes whenever anything a dashboard shows is written.

    Every service records a TaskChange; the admin saves the task (updated_at); reports,
    milestones, units and supervision actions have their own markers.
    """
    def last(qs: QuerySet[Any], name: str) -> Subquery:
        return Subquery(qs.order_by(f"-{name}").values(name)[:1])

    return Plan.objects.annotate(
        fp_tasks=Count("tasks"),
        fp_task_at=Max("tasks__updated_at"),
        fp_change=last(TaskChange.objects.all(), "id"),
        fp_report=last(ProgressReport.objects.all(), "id"),
        fp_milestone=last(Milestone.objects.all(), "id"),
        fp_task_unit=last(TaskUnit.objects.all(), "id"),
        fp_supervision_at=last(SupervisionAction.objects.all(), "updated_at"),
    )


def ledger_fingerprint(plan: Plan) -> tuple[Any, ...]:
    """The plan's fingerprint: read with the plan by `plan_for` (no query), else one query."""
    if not hasattr(plan, _FINGERPRINT[0]):
        plan = plans_with_fingerprint().get(pk=plan.pk)
    return tuple(getattr(plan, name) for name in _FINGERPRINT)


# Snapshots are kept in this process, unpickled: at national scale (3,100 tasks) unpickling one
# from a shared cache costs more than the page itself. Bounded, and short-lived as a safety net.
_SNAPSHOTS: OrderedDict[str, tuple[float, Snapshot]] = OrderedDict()
_SNAPSHOTS_LOCK = threading.Lock()
SNAPSHOTS_KEPT = 8


def snapshot_cache_clear() -> None:
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS.clear()


def snapshot_get(*, plan: Plan, as_of: dt.date) -> Snapshot:
    """The plan as it stood at the end of `as_of`, cached while the ledger does not change."""
    fingerprint = ledger_fingerprint(plan)
    digest = hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:32]
    key = f"{plan.pk}:{as_of.isoformat()}:{timezone.localdate().isoformat()}:{digest}"
    now = time.monotonic()
    with _SNAPSHOTS_LOCK:
        hit = _SNAPSHOTS.get(key)
        if hit is not None and now - hit[0] < SNAPSHOT_CACHE_SECONDS:
            _SNAPSHOTS.move_to_end(key)
            return hit[1]
    snapshot = snapshot_build(plan=plan, as_of=as_of)
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[key] = (now, snapshot)
        while len(_SNAPSHOTS) > SNAPSHOTS_KEPT:
            _SNAPSHOTS.popitem(last=False)
    return snapshot


def snapshot_build(*, plan: Plan, as_of: dt.date) -> Snapshot:
    today = timezone.localdate()
    cutoff = _day_end(as_of)
    tasks = list(Task.objects.filter(plan=plan).order_by("number").values_list(
        "id", "number", "title", "deadline_text", "deadline_class", "problem_id", "measure_id",
        "status", "deadline", "original_deadline", "closed_on", "progress",
    ))
    milestones: dict[int, list[MilestoneFact]] = defaultdict(list)
    for task_id, title, due_on, done_on in Milestone.objects.filter(task__plan=plan).order_by(
            "due_on", "id").values_list("task_id", "title", "due_on", "done_on"):
        milestones[task_id].append(MilestoneFact(title, due_on, done_on))
    task_units: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, unit_id, role in TaskUnit.objects.filter(task__plan=plan).order_by(
            "task_id", "position", "id").values_list("task_id", "unit_id", "role"):
        task_units[task_id].append((unit_id, role))

    # The history: undo what was written after the day; remember when tasks were finished.
    undo: dict[tuple[int, str], str] = {}
    status_events: dict[int, list[tuple[dt.date, bool]]] = defaultdict(list)
    initially_finished: dict[int, bool] = {}
    finished_at: dict[int, dt.date] = {}
    for task_id, at, name, old, new in TaskChange.objects.filter(
            task__plan=plan, subject="task", field__in=HISTORY_FIELDS).order_by(
            "task_id", "at", "id").values_list("task_id", "at", "field", "old", "new"):
        if at >= cutoff:
            undo.setdefault((task_id, name), old)
        if name == "status":
            day = timezone.localdate(at)
            initially_finished.setdefault(task_id, old in FINISHED_STATUSES)
            status_events[task_id].append((day, new in FINISHED_STATUSES))
            if at < cutoff and new in FINISHED_STATUSES and old not in FINISHED_STATUSES:
                finished_at[task_id] = day

    progress_then: dict[int, int] | None = None
    if as_of < today:
        progress_then = _progress_as_of(plan=plan, as_of=as_of)

    task_supervision: dict[int, list[str]] = defaultdict(list)
    unit_supervision: dict[int, list[str]] = defaultdict(list)
    for task_id, unit_id, kind in SupervisionAction.objects.filter(
            Q(task__plan=plan) | Q(task__isnull=True), issued_on__lte=as_of).filter(
            Q(lifted_on__isnull=True) | Q(lifted_on__gt=as_of)).order_by(
            "issued_on", "id").values_list("task_id", "unit_id", "kind"):
        if task_id is not None:
            task_supervision[task_id].append(kind)
        elif unit_id is not None:
            unit_supervision[unit_id].append(kind)

    states: dict[int, TaskState] = {}
    for (task_id, number, title, deadline_text, deadline_class, problem_id, measure_id, status,
         deadline, original_deadline, closed_on, progress) in tasks:
        if (task_id, "status") in undo:
            status = undo[(task_id, "status")]
        if (task_id, "deadline") in undo:
            deadline = _parse_date(undo[(task_id, "deadline")])
        if (task_id, "original_deadline") in undo:
            original_deadline = _parse_date(undo[(task_id, "original_deadline")])
        if (task_id, "closed_on") in undo:
            closed_on = _parse_date(undo[(task_id, "closed_on")])
        if progress_then is not None:
            progress = progress_then.get(task_id, 0)
        finished = status in FINISHED_STATUSES
        finished_on = (closed_on or finished_at.get(task_id)) if finished else None
        if status == TaskStatus.CLOSED:
            progress = 100
        facts = _TaskFacts(status, deadline, progress, milestones.get(task_id, []))
        light = task_light(facts, as_of)  # type: ignore[arg-type]
        states[task_id] = TaskState(
            id=task_id, number=number, title=title, deadline_text=deadline_text,
            deadline_class=deadline_class, problem_id=problem_id, measure_id=measure_id,
            status=status, deadline=deadline, original_deadline=original_deadline,
            closed_on=closed_on, finished_on=finished_on, progress=progress,
            expected=task_expected_progress(facts, as_of),  # type: ignore[arg-type]
            light=light, lagging=task_is_lagging(facts, as_of),  # type: ignore[arg-type]
            days_overdue=task_days_overdue(facts, as_of),  # type: ignore[arg-type]
            units=tuple(task_units.get(task_id, ())), milestones=milestones.get(task_id, []),
            supervision=tuple(task_supervision.get(task_id, ())),
        )

    return Snapshot(
        plan_id=plan.pk, as_of=as_of, states=states, report_start=reporting_start(plan),
        units={pk: (name, region_id) for pk, name, region_id in Unit.objects.filter(
            task_units__task__plan=plan).order_by().distinct().values_list("id", "name", "region_id")},
        regions={pk: (code, name, level, path) for pk, code, name, level, path in
                 Region.objects.values_list("id", "code", "name", "level", "path")},
        problems={pk: f"{ordinal}{title}" for pk, ordinal, title in
                  Problem.objects.filter(plan=plan).values_list("id", "ordinal", "title")},
        measures={pk: f"{number}.{heading}" for pk, number, heading in
                  Measure.objects.filter(plan=plan).values_list("id", "number", "heading")},
        unit_supervision={k: tuple(v) for k, v in unit_supervision.items()},
        status_events=dict(status_events), initially_finished=initially_finished,
        plan_start=plan.history_starts_on,
    )


def _reports_build(snapshot: Snapshot) -> dict[tuple[int, int], tuple[int, int]]:
    start, last_week = snapshot.report_start, last_due_week(snapshot.as_of)
    # A holiday week with no working day to report on (国庆) is due from nobody.
    weeks = [start + dt.timedelta(days=7 * i) for i in range(max((last_week - start).days // 7 + 1, 0))]
    holiday_weeks = [w for w in weeks if not week_expects_reports(w)]
    on_time: dict[tuple[int, int], int] = {}
    if last_week >= start:
        for task_id, unit_id, n in ProgressReport.objects.filter(
                # A report on time was filed before its week's cut-off, hence before the day's end.
                task__plan_id=snapshot.plan_id, week__gte=start, week__lte=last_week, is_late=False,
        ).exclude(week__in=holiday_weeks).values_list("task_id", "unit_id").annotate(n=Count("id")).order_by():
            on_time[(task_id, unit_id)] = n
    reports: dict[tuple[int, int], tuple[int, int]] = {}
    for s in snapshot.states.values():
        # Reports due: every answering unit, every week from the start until the task closed.
        stop = last_week
        if s.status == TaskStatus.CLOSED and s.finished_on is not None:
            stop = min(stop, report_week(s.finished_on) - dt.timedelta(days=7))
        due = (stop - start).days // 7 + 1 if stop >= start else 0
        due -= sum(1 for w in holiday_weeks if w <= stop)
        for unit_id, role in s.units:
            if role in ANSWERING_ROLES:
                reports[(s.id, unit_id)] = (min(on_time.get((s.id, unit_id), 0), due), due)
    return reports


def _progress_as_of(*, plan: Plan, as_of: dt.date) -> dict[int, int]:
    """Each task's percent on a past day: the mean of its answering units' latest reports of
    weeks up to that day (the rule of tasks.services._rolled_up_progress), in one query."""
    latest = ProgressReport.objects.filter(
        task_id=OuterRef("task_id"), unit_id=OuterRef("unit_id"), week__lte=as_of,
    ).order_by("-week").values("percent")[:1]
    sums: dict[int, list[int]] = defaultdict(list)
    for task_id, percent in TaskUnit.objects.filter(
            task__plan=plan, role__in=ANSWERING_ROLES).annotate(
            percent=Coalesce(Subquery(latest, output_field=IntegerField()), Value(0))).values_list(
            "task_id", "percent"):
        sums[task_id].append(percent)
    return {task_id: round(sum(p) / len(p)) for task_id, p in sums.items()}


# --- Scope -----------------------------------------------------------------------------------


def visible_states(*, user: User, plan: Plan, snapshot: Snapshot) -> ScopedStates:
    """The snapshot's tasks the user may see, in plan order (one query unless the user sees the
    whole ledger)."""
    if user_sees_whole_ledger(user):
        scope_key = "all"
        ids = None
    else:
        ids = frozenset(tasks_visible_to(user).filter(plan=plan).values_list("pk", flat=True))
        scope_key = "ids:" + hashlib.sha256(repr(sorted(ids)).encode()).hexdigest()[:24]

    def compute() -> ScopedStates:
        if ids is None:
            scoped = ScopedStates(snapshot.states.values())
        else:  # a unit's own view never shows an unannounced visit (暗查暗访) against it
            scoped = ScopedStates(_without_unannounced(s) for s in snapshot.states.values() if s.id in ids)
        scoped.token = scope_key
        return scoped

    result: ScopedStates = snapshot_memo(snapshot, ("visible", scope_key), compute)
    return result


def _without_unannounced(state: TaskState) -> TaskState:
    if not SUPERVISION_KINDS_UNANNOUNCED.intersection(state.supervision):
        return state
    return replace(state, supervision=tuple(k for k in state.supervision
                                            if k not in SUPERVISION_KINDS_UNANNOUNCED))


def _memo(states: list[TaskState], snapshot: Snapshot, key: tuple[Any, ...], compute: Any) -> Any:
    token = getattr(states, "token", "")
    return snapshot_memo(snapshot, (*key, token), compute) if token else compute()


# --- Overview --------------------------------------------------------------------------------


@dataclass
class Overview:
    as_of: dt.date
    total: int
    by_status: list[tuple[str, str, int]]  # (value, label, n)
    by_class: list[tuple[str, str, int]]
    by_problem: list[tuple[int, str, int]]
    by_measure: list[tuple[int, str, int]]
    by_light: list[tuple[str, str, int]]
    finished: int
    overdue: int
    due_7: int
    due_30: int
    lagging: int
    supervised: int
    due_by_now: int
    on_time: int
    trend: list[tuple[dt.date, int, int, int]]  # (week end, closed, open, due by the plan)

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.due_by_now, 1) if self.due_by_now else None


def dashboard_overview(*, states: list[TaskState], snapshot: Snapshot) -> Overview:
    result: Overview = _memo(states, snapshot, ("overview",), lambda: _overview(states, snapshot))
    return result


def _overview(states: list[TaskState], snapshot: Snapshot) -> Overview:
    as_of = snapshot.as_of
    status_n = Counter(s.status for s in states)
    class_n = Counter(s.deadline_class for s in states)
    light_n = Counter(s.light for s in states)
    problem_n = Counter(s.problem_id for s in states if s.problem_id)
    measure_n = Counter(s.measure_id for s in states if s.measure_id)
    due_by_now = [s for s in states if s.measured_deadline and s.measured_deadline <= as_of]
    return Overview(
        as_of=as_of, total=len(states),
        by_status=[(v, str(label), status_n[v]) for v, label in TaskStatus.choices],
        by_class=[(v, str(label), class_n[v]) for v, label in DeadlineClass.choices],
        by_problem=[(pk, name, problem_n[pk]) for pk, name in snapshot.problems.items() if problem_n[pk]],
        by_measure=[(pk, name, measure_n[pk]) for pk, name in snapshot.measures.items() if measure_n[pk]],
        by_light=[(v, str(label), light_n[v]) for v, label in Light.choices],
        finished=sum(1 for s in states if s.finished),
        overdue=light_n[Light.RED],
        due_7=sum(1 for s in states if s.due_within(as_of, 7)),
        due_30=sum(1 for s in states if s.due_within(as_of, 30)),
        lagging=sum(1 for s in states if s.lagging),
        supervised=sum(1 for s in states if s.supervised),
        due_by_now=len(due_by_now),
        on_time=sum(1 for s in due_by_now if s.on_time),
        trend=dashboard_trend(states=states, snapshot=snapshot),
    )


def dashboard_trend(*, states: list[TaskState], snapshot: Snapshot) -> list[tuple[dt.date, int, int, int]]:
    """Week by week from the plan's issue to its last deadline: closed, open, and how many the
    plan said should be done by then. Weeks after `as_of` carry only the plan's line (-1)."""
    start = report_week(min(snapshot.plan_start or snapshot.as_of, snapshot.as_of))
    deadlines = [s.measured_deadline for s in states if s.measured_deadline]
    end = max([snapshot.as_of, *deadlines])
    weeks = (end - start).days // 7 + 1
    weeks = min(weeks, 520)  # ten years of weeks is already a very long plan
    ends = [start + dt.timedelta(days=7 * i + 6) for i in range(weeks)]

    def index_of(day: dt.date) -> int:
        return max(0, (day - start).days // 7)

    closed_delta = [0] * (weeks + 1)
    planned_delta = [0] * (weeks + 1)
    for s in states:
        if s.measured_deadline:
            planned_delta[min(index_of(s.measured_deadline), weeks)] += 1
        events = snapshot.status_events.get(s.id)
        finished = snapshot.initially_finished.get(s.id, s.finished if not events else False)
        if finished:
            closed_delta[0] += 1
        for day, now_finished in events or ():
            if day > snapshot.as_of or now_finished == finished:
                continue
            closed_delta[min(index_of(day), weeks)] += 1 if now_finished else -1
            finished = now_finished
    rows = []
    closed = planned = 0
    for i, week_end in enumerate(ends):
        closed += closed_delta[i]
        planned += planned_delta[i]
        if week_end - dt.timedelta(days=6) > snapshot.as_of:
            rows.append((week_end, -1, -1, planned))
        else:
            rows.append((week_end, closed, len(states) - closed, planned))
    return rows


# --- League tables ---------------------------------------------------------------------------


@dataclass
class LeagueRow:
    key: str  # unit id or region code
    name: str
    tasks: int = 0
    lead: int = 0
    closed: int = 0
    overdue: int = 0
    lagging: int = 0
    supervised: int = 0
    reports_on_time: int = 0
    reports_due: int = 0
    days_overdue_total: int = 0
    unit_supervision: tuple[str, ...] = ()
    region_code: str = ""  # for unit rows: drill into the unit; for region rows: into the region
    has_children: bool = False

    @property
    def unit_supervision_announced(self) -> tuple[str, ...]:
        """What a unit's own view shows: never an unannounced visit (暗查暗访) against it."""
        return tuple(k for k in self.unit_supervision if k not in SUPERVISION_KINDS_UNANNOUNCED)

    @property
    def compliance(self) -> float | None:
        return round(100 * self.reports_on_time / self.reports_due, 1) if self.reports_due else None

    @property
    def avg_days_overdue(self) -> float | None:
        return round(self.days_overdue_total / self.overdue, 1) if self.overdue else None

    def add(self, state: TaskState, *, lead: bool = False) -> None:
        self.tasks += 1
        self.lead += lead
        self.closed += state.finished
        self.overdue += state.overdue
        self.lagging += state.lagging
        self.supervised += state.supervised
        self.days_overdue_total += state.days_overdue


LEAGUE_SORTS = {
    "name": lambda r: r.name, "tasks": lambda r: r.tasks, "closed": lambda r: r.closed,
    "overdue": lambda r: r.overdue, "lagging": lambda r: r.lagging,
    "supervised": lambda r: r.supervised,
    "compliance": lambda r: -1 if r.compliance is None else r.compliance,
    "days": lambda r: -1 if r.avg_days_overdue is None else r.avg_days_overdue,
}


def league_sort(rows: list[LeagueRow], sort: str | None) -> tuple[list[LeagueRow], str]:
    """Sort by a known column ("-overdue" descending); anything else falls back to the default."""
    sort = sort or "-overdue"
    key = sort.lstrip("-")
    if key not in LEAGUE_SORTS:
        sort, key = "-overdue", "overdue"
    rows = sorted(rows, key=lambda r: r.name)  # stable tie-break by name
    return sorted(rows, key=LEAGUE_SORTS[key], reverse=sort.startswith("-")), sort


def league_units(*, states: list[TaskState], snapshot: Snapshot, only_unit_id: int | None = None) -> list[LeagueRow]:
    """One row per answering unit (lead or responsible). Rows are shared through the memo:
    callers sort copies of the list, never change a row."""
    result: list[LeagueRow] = _memo(states, snapshot, ("league_units", only_unit_id),
                                    lambda: _league_units(states, snapshot, only_unit_id))
    return result


def _league_units(states: list[TaskState], snapshot: Snapshot, only_unit_id: int | None) -> list[LeagueRow]:
    rows: dict[int, LeagueRow] = {}
    reports = snapshot.reports
    for s in states:
        for unit_id, role in s.units:
            if role not in ANSWERING_ROLES or (only_unit_id and unit_id != only_unit_id):
                continue
            row = rows.get(unit_id)
            if row is None:
                name, region_id = snapshot.units.get(unit_id, ("?", 0))
                row = rows[unit_id] = LeagueRow(
                    key=str(unit_id), name=name, region_code=snapshot.regions.get(region_id, ("",))[0],
                    unit_supervision=snapshot.unit_supervision.get(unit_id, ()),
                )
            row.add(s, lead=role == TaskUnit.Role.LEAD)
            on_time, due = reports.get((s.id, unit_id), (0, 0))
            row.reports_on_time += on_time
            row.reports_due += due
    return list(rows.values())


@dataclass
class RegionLeague:
    region: tuple[str, str, str, str] | None  # the region drilled into (code, name, level, path)
    total: LeagueRow
    rows: list[LeagueRow]
    ancestors: list[tuple[str, str]]  # (code, name) from the root down to the region


def league_regions(*, states: list[TaskState], snapshot: Snapshot, region_code: str | None) -> RegionLeague:
    result: RegionLeague = _memo(states, snapshot, ("league_regions", region_code),
                                 lambda: _league_regions(states, snapshot, region_code))
    return result


def _league_regions(states: list[TaskState], snapshot: Snapshot, region_code: str | None) -> RegionLeague:
    """Tasks rolled up the region tree (Region.path prefixes): the children of `region_code`
    (the roots when not given, or the single root's children), each counting a task once when
    any of its answering units sits in that subtree. Units of the region itself (e.g. the
    provincial departments) make their own row."""
    by_code = {code: (pk, code, name, level, path) for pk, (code, name, level, path) in snapshot.regions.items()}
    unit_paths = {uid: snapshot.regions.get(rid, ("", "", "", ""))[3] for uid, (_, rid) in snapshot.units.items()}
    used_paths = {p for p in unit_paths.values() if p}
    region = None
    if region_code:
        if region_code not in by_code:
            raise LookupError(region_code)
        region = by_code[region_code]
    else:
        roots = {p.split("/")[0] for p in used_paths}
        if len(roots) == 1:
            region = by_code.get(next(iter(roots)))
    prefix = region[4] if region else ""
    depth = prefix.count("/")
    children: dict[str, LeagueRow] = {}
    own_row = LeagueRow(key=region[1] if region else "", name=_("%(name)s本级") % {"name": region[2]} if region else "")
    total = LeagueRow(key=region[1] if region else "", name=region[2] if region else _("全部"))
    reports = snapshot.reports
    for s in states:
        touched: dict[int, LeagueRow] = {}
        for unit_id, role in s.units:
            if role not in ANSWERING_ROLES:
                continue
            path = unit_paths.get(unit_id, "")
            if not path.startswith(prefix):
                continue
            parts = path.split("/")
            child_code = parts[depth] if len(parts) > depth + 1 else ""
            row = own_row
            if child_code:
                row = children.get(child_code) or children.setdefault(child_code, LeagueRow(
                    key=child_code, name=by_code[child_code][2] if child_code in by_code else child_code,
                    region_code=child_code))
            touched[id(row)] = row
            on_time, due = reports.get((s.id, unit_id), (0, 0))
            row.reports_on_time += on_time
            row.reports_due += due
            total.reports_on_time += on_time
            total.reports_due += due
        for row in touched.values():  # a task counts once per row, however many of its units
            row.add(s)
        if touched:
            total.add(s)
    for code, row in children.items():
        row.has_children = any(p.startswith(by_code[code][4]) and p != by_code[code][4] for p in used_paths) \
            if code in by_code else False
    rows = list(children.values())
    if own_row.tasks:
        rows.insert(0, own_row)
    ancestors: list[tuple[str, str]] = []
    if region:
        for code in region[4].strip("/").split("/"):
            if code in by_code:
                ancestors.append((code, by_code[code][2]))
    return RegionLeague(region=region[1:] if region else None, total=total, rows=rows, ancestors=ancestors)


# --- The ledger (台账) -------------------------------------------------------------------------

FLAG_CHOICES = [
    ("", gettext_lazy("全部")),
    ("overdue", gettext_lazy("逾期")),
    ("lagging", gettext_lazy("未达序时进度")),
    ("open", gettext_lazy("未完成")),
    ("finished", gettext_lazy("已完成")),
    ("on_time", gettext_lazy("按期完成")),
    ("late_done", gettext_lazy("超期完成")),
]
DUE_CHOICES = [("", gettext_lazy("不限")), ("7", gettext_lazy("7天内到期")), ("30", gettext_lazy("30天内到期")),
               ("past", gettext_lazy("已到原定时限"))]
SUPERVISED_CHOICES = [("", gettext_lazy("不限")), ("1", gettext_lazy("督办中")), ("0", gettext_lazy("未督办"))]
SORT_CHOICES = [
    ("number", gettext_lazy("序号")), ("deadline", gettext_lazy("整改时限")),
    ("-progress", gettext_lazy("完成率(高→低)")), ("progress", gettext_lazy("完成率(低→高)")),
    ("light", gettext_lazy("预警灯(红→绿)")), ("-days", gettext_lazy("逾期天数")),
]
_LIGHT_ORDER = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.SUSTAINING: 3, Light.CLOSED: 4}


class LedgerFilterForm(forms.Form):
    """The ledger's filters. Choices come from the snapshot, so validating costs no query."""

    q = forms.CharField(label=gettext_lazy("搜索"), required=False, max_length=100)
    # Unit, region, problem and measure are checked against the snapshot (see _snapshot_choice):
    # 400 units as ChoiceField choices cost more to set up on every request than the page.
    unit = forms.CharField(label=gettext_lazy("牵头或责任单位"), required=False, max_length=20)
    region = forms.CharField(label=gettext_lazy("地区"), required=False, max_length=20)
    own = forms.BooleanField(label=gettext_lazy("仅本级单位"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                               choices=[("", gettext_lazy("全部")), *TaskStatus.choices])
    deadline_class = forms.ChoiceField(label=gettext_lazy("整改类型"), required=False,
                                       choices=[("", gettext_lazy("全部")), *DeadlineClass.choices])
    light = forms.ChoiceField(label=gettext_lazy("预警灯"), required=False,
                              choices=[("", gettext_lazy("全部")), *Light.choices])
    flag = forms.ChoiceField(label=gettext_lazy("情况"), required=False, choices=FLAG_CHOICES)
    problem = forms.CharField(label=gettext_lazy("督察反馈问题"), required=False, max_length=20)
    measure = forms.CharField(label=gettext_lazy("重点举措"), required=False, max_length=20)
    due = forms.ChoiceField(label=gettext_lazy("到期"), required=False, choices=DUE_CHOICES)
    supervised = forms.ChoiceField(label=gettext_lazy("督办"), required=False, choices=SUPERVISED_CHOICES)
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=SORT_CHOICES)
    as_of = forms.CharField(label=gettext_lazy("截至日期"), required=False, max_length=20)

    SNAPSHOT_CHOICES = ("unit", "region", "problem", "measure")

    def __init__(self, data: Mapping[str, Any], *, snapshot: Snapshot) -> None:
        super().__init__(data)
        self.snapshot = snapshot
        self.snapshot_choices: dict[str, list[tuple[Any, str]]] = snapshot_memo(
            snapshot, ("filter_choices",), lambda: _filter_choices(snapshot))

    def _snapshot_choice(self, name: str) -> Any:
        value = self.cleaned_data.get(name) or ""
        if not value:
            return None
        for choice, _label in self.snapshot_choices[name]:
            if str(choice) == value:
                return choice
        raise forms.ValidationError(_("“%(v)s”不是可选的值。") % {"v": value[:20]}, code="invalid_choice")

    def clean_unit(self) -> Any:
        return self._snapshot_choice("unit")

    def clean_region(self) -> Any:
        return self._snapshot_choice("region")

    def clean_problem(self) -> Any:
        return self._snapshot_choice("problem")

    def clean_measure(self) -> Any:
        return self._snapshot_choice("measure")

    def as_filter_fields(self) -> SafeString:
        """The filters as labelled inputs, built here: Django's select widgets render each option
        through a template, which costs more than the whole page with 400 units."""
        parts = []
        for name, bound in self._bound_items():
            if name == "own":
                if bound.value():
                    parts.append('<input type="hidden" name="own" value="1">')
                continue
            value = bound.value()
            value = "" if value is None else str(value)
            field = bound.field
            if isinstance(field, forms.ChoiceField) or name in self.SNAPSHOT_CHOICES:
                choices = self.snapshot_choices.get(name) or getattr(field, "choices", [])
                options = snapshot_memo(self.snapshot, ("filter_options", name), lambda c=choices: [
                    (str(v), f'<option value="{escape(v)}">{escape(label)}</option>') for v, label in c])
                html = "".join(
                    option.replace("<option ", "<option selected ", 1) if v == value else option
                    for v, option in options)
                search = (f' data-search="{escape(_("输入名称筛选单位"))}"' if name == "unit" else "")
                control = f'<select name="{name}" id="id_{name}"{search}>{html}</select>'
            else:
                kind = "date" if name == "as_of" else "search" if name == "q" else "text"
                control = (f'<input type="{kind}" name="{name}" id="id_{name}" value="{escape(value)}"'
                           f' maxlength="{getattr(field, "max_length", 100) or 100}">')
            parts.append(f'<label for="id_{name}">{escape(field.label)}{control}</label>')
        return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


def _filter_choices(snapshot: Snapshot) -> dict[str, list[tuple[Any, str]]]:
    names = {code: name for code, name, _l, _p in snapshot.regions.values()}
    region_codes: dict[str, str] = {}
    for _n, rid in snapshot.units.values():  # every region a unit sits in, and its ancestors
        for code in snapshot.regions.get(rid, ("", "", "", ""))[3].strip("/").split("/"):
            if code in names:
                region_codes[code] = names[code]
    return {
        "unit": [("", _("全部")), *sorted(((pk, name) for pk, (name, _r) in snapshot.units.items()),
                                         key=lambda c: c[1])],
        "region": [("", _("全部")), *sorted(region_codes.items())],
        "problem": [("", _("全部")), *snapshot.problems.items()],
        "measure": [("", _("全部")), *snapshot.measures.items()],
    }


def _filters_valid(form: LedgerFilterForm) -> dict[str, Any]:
    """The valid filters only: a nonsense value is reported on the form and ignored."""
    form.is_valid()
    return {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k not in form.errors}


def states_filter(*, states: Iterable[TaskState], filters: Mapping[str, Any], snapshot: Snapshot) -> list[TaskState]:
    as_of = snapshot.as_of
    out = []
    region_prefix = ""
    if filters.get("region"):
        for code, _name, _level, path in snapshot.regions.values():
            if code == filters["region"]:
                region_prefix = path
    unit_paths = {uid: snapshot.regions.get(rid, ("", "", "", ""))[3] for uid, (_n, rid) in snapshot.units.items()}
    own = bool(filters.get("own"))
    for s in states:
        if filters.get("unit") and not any(
                uid == filters["unit"] and role in ANSWERING_ROLES for uid, role in s.units):
            continue
        if region_prefix and not any(
                unit_paths.get(uid, "") == region_prefix if own else unit_paths.get(uid, "").startswith(region_prefix)
                for uid, role in s.units if role in ANSWERING_ROLES):
            continue
        if filters.get("status") and s.status != filters["status"]:
            continue
        if filters.get("deadline_class") and s.deadline_class != filters["deadline_class"]:
            continue
        if filters.get("light") and s.light != filters["light"]:
            continue
        if filters.get("problem") and s.problem_id != filters["problem"]:
            continue
        if filters.get("measure") and s.measure_id != filters["measure"]:
            continue
        flag = filters.get("flag")
        if flag and not {
            "overdue": s.overdue, "lagging": s.lagging, "open": not s.finished, "finished": s.finished,
            "on_time": s.on_time is True, "late_done": s.on_time is False,
        }[flag]:
            continue
        due = filters.get("due")
        if due in ("7", "30") and not s.due_within(as_of, int(due)):
            continue
        if due == "past" and not (s.measured_deadline and s.measured_deadline <= as_of):
            continue
        supervised = filters.get("supervised")
        if supervised and s.supervised != (supervised == "1"):
            continue
        out.append(s)
    return out


def states_sort(states: list[TaskState], sort: str | None) -> list[TaskState]:
    far = dt.date(9999, 12, 31)
    keys = {
        "deadline": lambda s: (s.deadline or far, s.number),
        "-progress": lambda s: (-s.progress, s.number),
        "progress": lambda s: (s.progress, s.number),
        "light": lambda s: (_LIGHT_ORDER.get(s.light, 9), -s.days_overdue, s.number),
        "-days": lambda s: (-s.days_overdue, s.number),
    }
    return sorted(states, key=keys.get(sort or "number", lambda s: s.number))


def _search_ids(*, user: User, plan: Plan, q: str, as_of: dt.date) -> set[int]:
    """Chinese full-text search in one query: each term of the query (segmented, see
    rectify/search.py, so "关闭煤矿" means "关闭" and "煤矿") must appear in the title, target,
    actions, deadline wording, a unit's name or a progress report filed by the day shown.
    Parameters, never SQL built from input."""
    tasks = tasks_visible_to(user).filter(plan=plan)
    reports = ProgressReport.objects.filter(task__plan=plan, reported_at__lt=_day_end(as_of))
    for term in search_terms(q):
        tasks = tasks.filter(
            Q(title__icontains=term) | Q(target__icontains=term) | Q(actions__icontains=term)
            | Q(deadline_text__icontains=term)
            | Q(pk__in=TaskUnit.objects.filter(unit__name__icontains=term).values("task_id"))
            | Q(pk__in=reports.filter(text__icontains=term).values("task_id"))
        )
    return set(tasks.values_list("pk", flat=True))


@dataclass
class LedgerResult:
    form: LedgerFilterForm
    snapshot: Snapshot
    states: list[TaskState]  # every filtered row, sorted
    as_of_error: str = ""
    scope_token: str = ""  # names the tasks the user may see (see visible_states)


def ledger_states(*, user: User, plan: Plan, params: Mapping[str, Any]) -> LedgerResult:
    """The ledger's filtered, sorted rows as they stood on the requested day."""
    as_of_error = ""
    try:
        as_of = as_of_parse(params.get("as_of"), plan=plan)
    except AsOfError as exc:
        as_of, as_of_error = timezone.localdate(), str(exc)
    snapshot = snapshot_get(plan=plan, as_of=as_of)
    form = LedgerFilterForm(params, snapshot=snapshot)
    filters = _filters_valid(form)
    visible = visible_states(user=user, plan=plan, snapshot=snapshot)
    key = tuple(sorted((k, str(v)) for k, v in filters.items() if k not in ("q", "as_of") and v not in (None, "")))
    states = _memo(visible, snapshot, ("ledger", key), lambda: states_sort(
        states_filter(states=visible, filters=filters, snapshot=snapshot), filters.get("sort")))
    q = (filters.get("q") or "").strip()
    if q:
        found = _search_ids(user=user, plan=plan, q=q, as_of=snapshot.as_of)
        states = [s for s in states if s.id in found]
    return LedgerResult(form=form, snapshot=snapshot, states=list(states), as_of_error=as_of_error,
                        scope_token=visible.token)


def ledger_filter(*, user: User, params: Mapping[str, Any]) -> tuple[QuerySet[Task], LedgerFilterForm]:
    """Exactly the rows the ledger shows for these parameters, in its order, as a queryset
    (for the Excel export). The rows carry today's values; `ledger_states` gives the values as
    of the requested day."""
    from django.db.models import Case, When

    plan = plan_for(params)
    if plan is None:
        return Task.objects.none(), LedgerFilterForm(params, snapshot=_EMPTY_SNAPSHOT)
    result = ledger_states(user=user, plan=plan, params=params)
    ids = [s.id for s in result.states]
    tasks = tasks_visible_to(user).filter(pk__in=ids)
    if ids:
        tasks = tasks.annotate(ledger_position=Case(
            *[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], output_field=IntegerField(),
        )).order_by("ledger_position")
    return tasks, result.form


def ledger_page(*, result: LedgerResult, page_number: str | None) -> tuple[Page, bool]:
    """The page asked for; a page past the end (or nonsense) shows the last (or first) one."""
    paginator = Paginator(result.states, LEDGER_PAGE_SIZE)
    try:
        number = int(page_number or 1)
        clamped = not 1 <= number <= paginator.num_pages
    except (TypeError, ValueError):
        number, clamped = 1, bool(page_number)
    return paginator.get_page(min(max(number, 1), paginator.num_pages)), clamped


@dataclass
class LedgerRow:
    state: TaskState
    task: Task
    lead: list[TaskUnit]
    responsible: list[str]
    supporting: list[str]
    persons: list[str]


def ledger_rows(*, page: Page) -> list[LedgerRow]:
    """The page's tasks with their units and measure: two queries whatever the page size."""
    ids = [s.id for s in page.object_list]
    tasks = Task.objects.filter(pk__in=ids).select_related("measure", "problem").prefetch_related(
        Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("position", "id")))
    by_id = {t.pk: t for t in tasks}
    rows = []
    for s in page.object_list:
        task = by_id.get(s.id)
        if task is None:
            continue
        units = list(task.task_units.all())
        rows.append(LedgerRow(
            state=s, task=task, lead=[tu for tu in units if tu.role == TaskUnit.Role.LEAD],
            responsible=[tu.unit.name for tu in units if tu.role == TaskUnit.Role.RESPONSIBLE],
            supporting=[tu.unit.name for tu in units if tu.role == TaskUnit.Role.SUPPORTING],
            persons=[tu.responsible_person for tu in units if tu.responsible_person],
        ))
    return rows


def plan_for(params: Mapping[str, Any]) -> Plan | None:
    """The plan shown: ?plan=<code> if it exists, else the latest one."""
    plans = plans_with_fingerprint()
    code = str(params.get("plan") or "")
    # Plan codes are slugs; anything else (a NUL character would crash PostgreSQL) names no plan.
    if code and len(code) <= 40 and slug_re.fullmatch(code):
        plan = plans.filter(code=code).first()
        if plan is not None:
            return plan
    return plans.order_by("-issued_on", "-id").first()


_EMPTY_SNAPSHOT = Snapshot(plan_id=0, as_of=dt.date(2000, 1, 1), states={}, report_start=dt.date(2000, 1, 1),
                           units={}, regions={},
                           problems={}, measures={}, unit_supervision={}, status_events={})
