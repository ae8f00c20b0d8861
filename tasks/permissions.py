"""Who may act on a task. Reads go through `tasks.selectors.tasks_visible_to`; these answer
the next question — of the users who may see a task, who may change what."""

from __future__ import annotations

from rectify.models import User
from rectify.roles import Role
from tasks.models import Task, TaskUnit

# The office keeps the ledger, verifies and closes; supervisors and leaders only read here.
OFFICE_ROLES = (Role.OFFICE, Role.OFFICE_HEAD)
# Units that answer for (a part of) a task and may apply for sign-off or an extension.
ANSWERING_ROLES = frozenset({TaskUnit.Role.LEAD, TaskUnit.Role.RESPONSIBLE})


def user_is_office(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active
                and (user.is_superuser or user.has_role(*OFFICE_ROLES)))


def task_unit_role(task: Task, user: User) -> str | None:
    """The role (LEAD/RESPONSIBLE/SUPPORTING) of the user's unit on the task, if a liaison."""
    if not (user.is_authenticated and user.unit_id and user.has_role(Role.LIAISON)):
        return None
    cache = getattr(task, "_unit_roles", None)
    if cache is None:
        cache = dict(task.task_units.values_list("unit_id", "role"))
        task._unit_roles = cache
    return cache.get(user.unit_id)


def user_may_report(task: Task, user: User) -> bool:
    return task_unit_role(task, user) is not None


def user_answers_for(task: Task, user: User) -> bool:
    return task_unit_role(task, user) in ANSWERING_ROLES


def user_is_lead_liaison(task: Task, user: User) -> bool:
    return task_unit_role(task, user) == TaskUnit.Role.LEAD
