"""Reads of the ledger, always filtered by what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from rectify.models import User
from rectify.roles import Role
from tasks.models import Plan, Task, TaskUnit, Unit

# Roles that read every task of every unit. The accountability group reads the ledger too: its
# cases link to tasks (issue 18).
LEDGER_WIDE_ROLES = (Role.OFFICE, Role.OFFICE_HEAD, Role.SUPERVISOR, Role.LEADER, Role.PUBLICITY,
                     Role.ACCOUNTABILITY)


def user_sees_whole_ledger(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*LEDGER_WIDE_ROLES))


def tasks_visible_to(user: User) -> QuerySet[Task]:
    """Every task the user may read: all of them for the office and leaders, their unit's
    tasks (as lead, responsible or supporting unit) for a liaison, none for anyone else."""
    tasks = Task.objects.all()
    if not user.is_authenticated:
        return tasks.none()
    if user_sees_whole_ledger(user):
        return tasks
    if user.unit_id and user.has_role(Role.LIAISON):
        own = TaskUnit.objects.filter(unit_id=user.unit_id).values("task_id")
        return tasks.filter(pk__in=own)
    return tasks.none()


def task_list(*, user: User, plan: Plan | None = None) -> QuerySet[Task]:
    """The ledger rows with what a list page shows, in a fixed number of queries."""
    tasks = tasks_visible_to(user).select_related("measure", "problem", "plan")
    if plan is not None:
        tasks = tasks.filter(plan=plan)
    return tasks.prefetch_related("task_units__unit").order_by("plan_id", "number")


def plan_current() -> Plan | None:
    return Plan.objects.order_by("-issued_on").first()


def unit_names() -> list[str]:
    """Every unit's short name, for the pickers that suggest units as one types (one query)."""
    return list(Unit.objects.order_by("name").values_list("name", flat=True))
