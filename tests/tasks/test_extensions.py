"""Extension requests (延期申请): the unit asks, the office decides, the original deadline stays."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tasks.extensions import extension_request_create, extension_request_decide
from tasks.models import ExtensionRequest, Task
from tasks.services import StaleEditError

pytestmark = pytest.mark.django_db
TODAY = dt.date(2018, 3, 5)


@pytest.fixture
def task12(plan):
    return Task.objects.get(plan=plan, number=12)


def ask(task, actor, day=dt.date(2018, 6, 30), reason="冬季停工,工期顺延"):
    return extension_request_create(task=task, actor=actor, proposed_deadline=day, reason=reason, today=TODAY)


def test_approval_moves_the_deadline_and_keeps_the_original(task12, taiyuan_liaison, office_user):
    original = task12.deadline
    request = ask(task12, taiyuan_liaison)
    decided = extension_request_decide(request=request, actor=office_user, approve=True, comment="同意")
    task12.refresh_from_db()
    assert decided.status == ExtensionRequest.Status.APPROVED and decided.decided_by == office_user
    assert (task12.deadline, task12.original_deadline) == (dt.date(2018, 6, 30), original)
    assert task12.measured_deadline == original
    assert "经批准延期" in task12.deadline_text
    # A second extension moves the deadline again, but the original stays the first one.
    second = ask(task12, taiyuan_liaison, day=dt.date(2018, 9, 30))
    extension_request_decide(request=second, actor=office_user, approve=True)
    task12.refresh_from_db()
    assert (task12.deadline, task12.original_deadline) == (dt.date(2018, 9, 30), original)
    fields = set(task12.changes.values_list("field", flat=True))
    assert {"deadline", "original_deadline", "proposed_deadline", "status"} <= fields


def test_rejection_needs_a_reason_and_changes_no_deadline(task12, taiyuan_liaison, office_user):
    request = ask(task12, taiyuan_liaison)
    with pytest.raises(ValidationError, match="须说明理由"):
        extension_request_decide(request=request, actor=office_user, approve=False)
    extension_request_decide(request=request, actor=office_user, approve=False, comment="理由不充分")
    task12.refresh_from_db()
    assert task12.original_deadline is None and task12.deadline == dt.date(2018, 3, 31)
    with pytest.raises(StaleEditError, match="已由他人处理"):  # a second office page deciding again
        extension_request_decide(request=request, actor=office_user, approve=True)
    task12.refresh_from_db()
    assert task12.deadline == dt.date(2018, 3, 31)


@pytest.mark.parametrize(("day", "reason", "message"), [
    (dt.date(2018, 3, 1), "x", "须晚于现行时限"),
    (dt.date(2018, 6, 30), "   ", "请填写延期理由"),
])
def test_bad_requests_are_refused(task12, taiyuan_liaison, day, reason, message):
    with pytest.raises(ValidationError, match=message):
        ask(task12, taiyuan_liaison, day=day, reason=reason)
    assert not ExtensionRequest.objects.exists()


def test_one_pending_request_per_task_and_only_the_right_people(task12, taiyuan_liaison, env_liaison,
                                                                 coal_liaison, leader, office_user):
    request = ask(task12, taiyuan_liaison)
    with pytest.raises(ValidationError, match="已有一项待审批"):
        ask(task12, env_liaison)
    for actor in (coal_liaison, leader, office_user):
        with pytest.raises(PermissionDenied):
            ask(task12, actor)
    for actor in (taiyuan_liaison, env_liaison, leader):
        with pytest.raises(PermissionDenied):
            extension_request_decide(request=request, actor=actor, approve=True)
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.PENDING
