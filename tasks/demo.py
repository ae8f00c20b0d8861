"""Demo data: the Shanxi plan, one user per role, and a simulated history of weekly reports.

Dates are shifted by whole months so that the inspection feedback falls about six months
before today: the dashboards then show a realistic mix of closed, on-track, lagging and
overdue tasks. The history is drawn from a seeded random generator, so every load of the
same day gives the same ledger.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accountability.demo import accountability_demo_load
from rectify.calendar import report_cutoff, report_week
from rectify.models import User
from rectify.roles import Role, roles_ensure
from tasks.models import (
    DeadlineClass,
    Plan,
    ProgressReport,
    Task,
    TaskChange,
    TaskStatus,
    TaskUnit,
    Unit,
)
from tasks.plan_loading import plan_fixture_read, plan_load

DEMO_PASSWORD = "rectify-demo"  # noqa: S105 (printed by make run for the demo users)
FEEDBACK_MONTHS_AGO = 6


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    roles: tuple[Role, ...]
    unit_name: str | None
    note: str


DEMO_USERS = (
    DemoUser("office", "王整改", (Role.OFFICE,), "省整改办", "领导小组办公室:台账、审核、验收、督办"),
    DemoUser("office-head", "赵主任", (Role.OFFICE, Role.OFFICE_HEAD), "省整改办", "办公室负责人"),
    DemoUser("supervisor", "孙督导", (Role.SUPERVISOR,), "省整改办", "整改督导组"),
    DemoUser("leader", "周领导", (Role.LEADER,), None, "领导:只读查看全部"),
    DemoUser("accountability", "吴追责", (Role.ACCOUNTABILITY,), "省纪委省监委", "责任追究组"),
    DemoUser("publicity", "郑宣传", (Role.PUBLICITY,), "省委宣传部", "宣传报道组"),
    DemoUser("liaison-coal", "李煤炭", (Role.LIAISON,), "省煤炭工业厅", "省煤炭工业厅联络员"),
    DemoUser("liaison-env", "陈环保", (Role.LIAISON,), "省环保厅", "省环保厅联络员"),
    DemoUser("liaison-water", "刘水利", (Role.LIAISON,), "省水利厅", "省水利厅联络员"),
    DemoUser("liaison-taiyuan", "张太原", (Role.LIAISON,), "太原市政府", "太原市政府联络员"),
    DemoUser("liaison-datong", "杨大同", (Role.LIAISON,), "大同市政府", "大同市政府联络员"),
)


def demo_shift_months(plan_data: dict, today: dt.date) -> int:
    feedback = dt.date.fromisoformat(plan_data["plan"]["feedback_on"])
    target_index = today.year * 12 + today.month - 1 - FEEDBACK_MONTHS_AGO
    return target_index - (feedback.year * 12 + feedback.month - 1)


def demo_users_ensure() -> list[DemoUser]:
    groups = roles_ensure()
    units = {u.name: u for u in Unit.objects.all()}
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"full_name": spec.full_name, "unit": units.get(spec.unit_name or ""),
                      "email": f"{spec.username}@demo.rectify.local"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if Role.OFFICE in spec.roles:
                user.is_staff = True
            user.save()
        user.groups.add(*(groups[r.value] for r in spec.roles))
    demo_unit_heads_ensure()
    return list(DEMO_USERS)


def demo_unit_heads_ensure() -> int:
    """Every unit gets a head (主要负责人) with an address, so that overdue tasks really escalate
    to the unit's head in `make run` (var/mail/). Heads already named are left as they are."""
    units = list(Unit.objects.filter(head_email=""))
    for unit in units:
        unit.head_email = f"head-{unit.code}@demo.rectify.local"
        unit.head_name = unit.head_name or f"{unit.name}主要负责人"
    Unit.objects.bulk_update(units, ["head_email", "head_name"])
    return len(units)


def _fate(rng: random.Random, task: Task, today: dt.date) -> str:
    if task.deadline_class == DeadlineClass.LONG_TERM:
        return "sustaining" if rng.random() < 0.3 else "on_track"
    if task.deadline and task.deadline < today:
        return "closed" if rng.random() < 0.6 else "overdue"
    roll = rng.random()
    if task.deadline_class == DeadlineClass.IMMEDIATE and roll < 0.4:
        return "closed"
    return "lagging" if roll < 0.3 else "on_track"


def _target_percent(fate: str, week: dt.date, start: dt.date, end: dt.date, rng: random.Random) -> int:
    span = max((end - start).days, 7)
    share = min(max((week - start).days / span, 0.0), 1.0)
    pace = {"closed": 1.05, "sustaining": 1.0, "on_track": 1.0, "lagging": 0.6, "overdue": 0.8}[fate]
    return max(0, min(100, round(100 * share * pace + rng.uniform(-4, 4))))


@transaction.atomic
def _long_overdue_example(plan: Plan, today: dt.date) -> int | None:
    """The task the demo leaves open long past its deadline, so that escalation to the unit heads
    and the office really fires in `make run`: the earliest due past the office's threshold."""
    limit = today - dt.timedelta(days=settings.RECTIFY_ESCALATE_OFFICE_AFTER_DAYS)
    task = (plan.tasks.filter(deadline__lte=limit).exclude(deadline_class=DeadlineClass.LONG_TERM)
            .order_by("deadline", "number").first())
    return task.pk if task else None


def history_simulate(plan: Plan, *, today: dt.date, seed: int = 2017) -> int:
    """Weekly reports from two weeks after the feedback up to today; returns reports made."""
    office = User.objects.filter(username="office").first()
    liaisons = {u.unit_id: u for u in User.objects.filter(groups__name=Role.LIAISON)}
    first_week = report_week((plan.feedback_on or plan.issued_on) + dt.timedelta(days=14))
    this_week = report_week(today)
    reports: list[ProgressReport] = []
    changes: list[TaskChange] = []
    tasks = plan.tasks.prefetch_related("task_units__unit", "milestones")
    long_overdue = _long_overdue_example(plan, today)
    for task in tasks:
        rng = random.Random(f"{seed}-{task.number}")
        fate = _fate(rng, task, today)
        if task.pk == long_overdue:
            fate = "overdue"
        end = task.deadline or (first_week + dt.timedelta(days=540))
        if fate == "closed":
            closed_on = min(today - dt.timedelta(days=3), end - dt.timedelta(days=rng.randint(0, 20)))
            end = closed_on - dt.timedelta(days=21)
        finals: dict[int, int] = {}
        for tu in task.task_units.all():
            unit_rng = random.Random(f"{seed}-{task.number}-{tu.unit.code}")
            diligent = unit_rng.random() > 0.2
            week = first_week
            while week <= this_week:
                if fate == "closed" and week > closed_on:
                    break
                cutoff = report_cutoff(week)
                is_current = week == this_week
                skip = unit_rng.random() > (0.95 if diligent else 0.75)
                if is_current and (timezone.localdate(cutoff) > today or unit_rng.random() < 0.4):
                    skip = True
                if not skip:
                    late = unit_rng.random() < (0.05 if diligent else 0.3)
                    at = cutoff + (dt.timedelta(hours=20) if late else -dt.timedelta(hours=unit_rng.randint(2, 40)))
                    percent = _target_percent(fate, week, first_week, end, unit_rng)
                    percent = max(percent, finals.get(tu.unit_id, 0))
                    finals[tu.unit_id] = percent
                    reports.append(ProgressReport(
                        task=task, unit=tu.unit, author=liaisons.get(tu.unit_id), week=week,
                        percent=percent, text=_report_text(percent, fate), reported_at=at,
                        is_late=late,
                    ))
                week += dt.timedelta(days=7)
        counted = [tu.unit_id for tu in task.task_units.all() if tu.role != TaskUnit.Role.SUPPORTING]
        task.progress = round(sum(finals.get(u, 0) for u in counted) / max(len(counted), 1))
        for milestone in task.milestones.all():
            if milestone.due_on < today and (fate in {"closed", "on_track", "sustaining"} or rng.random() < 0.5):
                milestone.done_on = milestone.due_on - dt.timedelta(days=rng.randint(0, 10))
                milestone.save(update_fields=["done_on"])
        if fate in {"closed", "sustaining"}:
            final = TaskStatus.CLOSED if fate == "closed" else TaskStatus.SUSTAINING
            done = closed_on if fate == "closed" else today - dt.timedelta(days=rng.randint(7, 40))
            steps = [
                (TaskStatus.IN_PROGRESS, TaskStatus.SIGNOFF_APPLIED, 20, "申请销号,附佐证材料"),
                (TaskStatus.SIGNOFF_APPLIED, TaskStatus.LEAD_REVIEWED, 16, "牵头单位审核通过"),
                (TaskStatus.LEAD_REVIEWED, TaskStatus.PUBLIC_NOTICE, 12, "办公室验收通过,进入公示"),
                (TaskStatus.PUBLIC_NOTICE, final, 0, "公示期满无异议"),
            ]
            for old, new, days_before, note in steps:
                at = timezone.make_aware(dt.datetime.combine(done - dt.timedelta(days=days_before), dt.time(10)))
                changes.append(TaskChange(task=task, actor=office, at=at, subject="task",
                                          field="status", old=old, new=new, note=note))
            task.status = final
            task.closed_on = done if fate == "closed" else None
            if fate == "closed":
                task.progress = 100
        task.save(update_fields=["progress", "status", "closed_on"])
    ProgressReport.objects.bulk_create(reports, batch_size=2000)
    TaskChange.objects.bulk_create(changes)
    return len(reports)


def _report_text(percent: int, fate: str) -> str:
    if percent >= 100:
        return "已完成整改,佐证材料已整理归档。"
    if percent >= 80:
        return "基本完成整改,正在组织自查验收。"
    if fate == "lagging":
        return "正在推进整改,受资金和施工进度影响,未达序时进度。"
    return "已取得阶段性进展,并按序时进度持续推进。"


def demo_load(*, today: dt.date | None = None, historical: bool = False) -> tuple[Plan, bool]:
    """Load the plan and demo users once; a second call changes nothing."""
    today = today or timezone.localdate()
    data = plan_fixture_read("shanxi-2017")
    shift = 0 if historical else demo_shift_months(data, today)
    with transaction.atomic():
        plan, created = plan_load(data=data, shift_months=shift)
        demo_users_ensure()
        if created:
            history_simulate(plan, today=today if not historical else dt.date(2018, 12, 28))
            accountability_demo_load(today=today if not historical else dt.date(2018, 12, 28))
    if created and not historical:
        # Outside the transaction above: it writes evidence files to storage.
        workspace_demo_seed(plan, today=today)
    return plan, created


# --- Officials' workspace: work waiting in the queues -----------------------------------------

def _demo_png() -> bytes:
    """A real 8×8 green PNG, made here so the demo needs no binary file."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2e\x8b\x57" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def workspace_demo_seed(plan: Plan, *, today: dt.date) -> list[int]:
    """Leave work in the queues, through the real services: one sign-off application awaiting
    the lead unit (省环保厅), one awaiting the office's verification, one pending extension
    request, and one task verified today, in its public notice (on /public/, open to the
    public's objections). Returns the task numbers used (empty if the demo users or tasks are
    missing)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks.extensions import extension_request_create
    from tasks.signoff import signoff_apply, signoff_lead_review, signoff_office_verify

    users = {u.username: u for u in User.objects.filter(username__in=["liaison-taiyuan", "liaison-env", "office"])}
    if len(users) != 3:
        return []
    taiyuan, env, office = users["liaison-taiyuan"], users["liaison-env"], users["office"]
    candidates = list(
        plan.tasks.filter(status=TaskStatus.IN_PROGRESS, task_units__unit=taiyuan.unit,
                          task_units__role=TaskUnit.Role.RESPONSIBLE)
        .filter(task_units__unit=env.unit, task_units__role=TaskUnit.Role.LEAD)
        .exclude(deadline_class=DeadlineClass.LONG_TERM).order_by("number")[:4]
    )
    if len(candidates) < 4:
        return []
    applied, reviewed, extended, in_notice = candidates
    for task in (applied, reviewed, in_notice):
        signoff_apply(task=task, actor=taiyuan, comment="整改任务已完成,现场照片见附件,申请销号。",
                      evidence=[SimpleUploadedFile("整改现场.png", _demo_png(), content_type="image/png")])
    for task in (reviewed, in_notice):
        signoff_lead_review(task=task, actor=env, comment="经审核,材料齐全,同意报办公室验收。")
    signoff_office_verify(task=in_notice, actor=office, comment="经现场核查,整改到位,同意进入销号公示。",
                          today=today)
    proposed = max(extended.deadline or today, today) + dt.timedelta(days=90)
    extension_request_create(task=extended, actor=taiyuan, proposed_deadline=proposed,
                             reason="受冬季施工限制,部分工程需顺延至来年完成。", today=today)
    return [t.number for t in candidates]
