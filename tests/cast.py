"""The cast: every user the tests log in as, defined once and asked for by name.

Zulip's `example_user("hamlet")`: a test or fixture says `example_user("coal")` and gets the
liaison of the coal bureau, created on first use in that test (the plan must be loaded: units
are looked up by name or code). The named fixtures in conftest.py (`coal_liaison`,
`office_user`, `acc_officer`, …) are one line each over this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group

from rectify.models import User
from rectify.roles import Role
from tasks.models import Unit

PASSWORD = "pw-for-tests"


@dataclass(frozen=True)
class Member:
    roles: tuple[Role, ...] = ()
    unit: dict[str, str] | None = None  # Unit lookup, e.g. {"name": "省煤炭工业厅"}
    full_name: str | None = None  # None: the username
    email: str | None = None  # None: <username>@example.test
    flags: dict[str, Any] = field(default_factory=dict)  # is_staff, is_superuser


CAST: dict[str, Member] = {
    # liaisons (责任单位联络员)
    "coal": Member((Role.LIAISON,), {"name": "省煤炭工业厅"}),
    "taiyuan": Member((Role.LIAISON,), {"name": "太原市政府"}),
    "env": Member((Role.LIAISON,), {"name": "省环保厅"}),  # lead unit of many tasks (e.g. 12)
    # the office, its head, the supervision group, leaders
    "office": Member((Role.OFFICE,), {"code": "sx-zgb"}, flags={"is_staff": True}),
    "head": Member((Role.OFFICE, Role.OFFICE_HEAD), {"code": "sx-zgb"}, email="", flags={"is_staff": True}),
    "office-head": Member((Role.OFFICE_HEAD,), {"code": "sx-zgb"}),  # the head role alone
    "supervisor": Member((Role.SUPERVISOR,), full_name="督导", email=""),
    "leader": Member((Role.LEADER,)),
    # the accountability and publicity groups
    "acc": Member((Role.ACCOUNTABILITY,), {"name": "省纪委省监委"}, email=""),
    "acc-reader": Member((Role.ACCOUNTABILITY,)),  # in the group, without a unit
    "pub": Member((Role.PUBLICITY,), {"name": "省委宣传部"}, email=""),
    "publicity": Member((Role.PUBLICITY,)),  # in the group, without a unit
    # no role at all, and the superuser
    "outsider": Member(full_name="", email=""),
    "root": Member(full_name="", email="r@x.test", flags={"is_staff": True, "is_superuser": True}),
}


def user_create(username: str, *roles: Role, unit: Unit | None = None, full_name: str | None = None,
                email: str | None = None, **flags: Any) -> User:
    """A user outside the table (a one-off in one test); prefer `example_user`."""
    user = User.objects.create_user(
        username=username, password=PASSWORD, unit=unit,
        full_name=username if full_name is None else full_name,
        email=f"{username}@example.test" if email is None else email, **flags,
    )
    if roles:
        user.groups.add(*(Group.objects.get_or_create(name=role.value)[0] for role in roles))
    return user


def example_user(name: str) -> User:
    """The cast member `name` (see CAST), created the first time a test asks for it."""
    member = CAST[name]
    existing = User.objects.filter(username=name).first()
    if existing is not None:
        return existing
    unit = Unit.objects.get(**member.unit) if member.unit else None
    return user_create(name, *member.roles, unit=unit, full_name=member.full_name, email=member.email,
                       **member.flags)
