"""Who may see what of the register, in one place; pages, downloads, exports and admin ask here.

- Open cases (read them, their persons, documents and log): the accountability group and the
  office head. Everyone else gets 404, as if the case did not exist.
- Handle cases (every write): the accountability group only.
- Figures (aggregates without names): leaders, the office, the office head, the group.
- Approve public summaries: the publicity group, who see only the summary proposed for release.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from accountability.models import Case, CaseAccessLog
from rectify.roles import Role

CASE_READER_ROLES = (Role.ACCOUNTABILITY, Role.OFFICE_HEAD)
CASE_HANDLER_ROLES = (Role.ACCOUNTABILITY,)
FIGURES_ROLES = (Role.ACCOUNTABILITY, Role.OFFICE_HEAD, Role.OFFICE, Role.LEADER)
PUBLICITY_ROLES = (Role.PUBLICITY,)


def _has(user: Any, roles: tuple[Role, ...]) -> bool:
    # Superusers get no pass here: the register is open to named roles only.
    return bool(user is not None and user.is_authenticated and user.has_role(*roles))


def user_may_open_cases(user: Any) -> bool:
    return _has(user, CASE_READER_ROLES)


def user_may_handle_cases(user: Any) -> bool:
    return _has(user, CASE_HANDLER_ROLES)


def user_may_see_figures(user: Any) -> bool:
    return _has(user, FIGURES_ROLES)


def user_may_review_publication(user: Any) -> bool:
    return _has(user, PUBLICITY_ROLES)


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """Every case the user may open: all of them for the readers, none for anyone else."""
    cases = Case.objects.all()
    return cases if user_may_open_cases(user) else cases.none()


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def access_record(
    request: HttpRequest, *, action: str, granted: bool, case: Case | None = None,
    requested: str = "",
) -> CaseAccessLog:
    user = request.user if request.user.is_authenticated else None
    return CaseAccessLog.objects.create(
        user=user, username=user.get_username() if user else "", case=case,
        requested=requested[:100] or (case.reference if case else ""), action=action,
        granted=granted, path=request.get_full_path()[:300], ip=_client_ip(request),
    )


def case_open(request: HttpRequest, pk: Any, *, action: str = CaseAccessLog.Action.VIEW) -> Case:
    """The case `pk` if the user may open it (logged), else Http404 (the refusal logged too).

    A refused guess names the case it hit, if any, so the group can see who went looking.
    """
    requested = f"case:{pk}"
    try:
        case = cases_visible_to(request.user).get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        hit = Case.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        access_record(request, action=action, granted=False, case=hit, requested=requested)
        raise Http404(_("没有找到该页面。")) from None
    access_record(request, action=action, granted=True, case=case, requested=requested)
    return case


def refuse(request: HttpRequest, *, action: str, requested: str) -> Http404:
    """Log a refused look at the register (lists, exports, logs) and return the 404 to raise."""
    access_record(request, action=action, granted=False, requested=requested)
    return Http404(_("没有找到该页面。"))
