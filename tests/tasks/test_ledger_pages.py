import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_goes_to_login(client, plan):
    for url in [reverse("home"), reverse("tasks:ledger"), reverse("tasks:detail", args=[plan.tasks.first().pk])]:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_office_sees_all_sixty_liaison_only_their_unit(client, plan, office_user, taiyuan_liaison):
    client.force_login(office_user)
    response = client.get(reverse("tasks:ledger"))
    assert response.context["total"] == 60
    assert len(response.context["rows"]) == 50  # first page of 50
    client.force_login(taiyuan_liaison)
    response = client.get(reverse("tasks:ledger"))
    own = set(plan.tasks.filter(task_units__unit=taiyuan_liaison.unit).values_list("pk", flat=True))
    assert response.context["total"] == len(own) and 0 < len(own) < 60
    page = response.content.decode()
    shown = {t.pk for t in plan.tasks.all() if f'href="/tasks/{t.pk}/"' in page}
    assert shown == own
    other = plan.tasks.exclude(pk__in=own).first()
    assert client.get(reverse("tasks:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("tasks:detail", args=[min(own)])).status_code == 200


def test_user_without_role_sees_nothing(client, outsider, plan):
    client.force_login(outsider)
    assert client.get(reverse("tasks:ledger")).context["total"] == 0
    assert client.get(reverse("tasks:detail", args=[plan.tasks.first().pk])).status_code == 404


def test_healthz(client, db):
    # Issue 16: /healthz reports each part (jobs run in-process here, so worker and beat are fine).
    assert client.get("/healthz").json() == {
        "ok": True, "checks": {"database": "ok", "broker": "ok", "worker": "ok", "beat": "ok"}}


def test_login_page_is_chinese_and_english_available(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "登录整改台账" in page and "English" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("role", ["office", "office_head", "supervisor", "leader", "publicity",
                                  "accountability"])
def test_every_ledger_wide_role_reads_every_task(client, plan, role):
    """Issue 18 item 4: the accountability group saw an empty ledger and 404 on the task its own
    case links to."""
    from rectify.roles import Role
    from tests.conftest import _user

    client.force_login(_user(f"reader-{role}", Role(role)))
    assert client.get(reverse("tasks:ledger")).context["total"] == 60
    task = plan.tasks.order_by("-number").first()
    assert client.get(reverse("tasks:detail", args=[task.pk])).status_code == 200
