"""The office keeps the ledger in the admin; its writes go through the services."""

import pytest
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from rectify.models import User
from tasks.models import Task, TaskChange, TaskUnit, Unit

pytestmark = pytest.mark.django_db


def formset_data(task=None, units=(), milestones=()):
    data = {
        "task_units-TOTAL_FORMS": str(len(units)), "task_units-INITIAL_FORMS": "0",
        "task_units-MIN_NUM_FORMS": "1", "task_units-MAX_NUM_FORMS": "1000",
        "milestones-TOTAL_FORMS": str(len(milestones)), "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0", "milestones-MAX_NUM_FORMS": "1000",
    }
    for i, (unit, role) in enumerate(units):
        data.update({f"task_units-{i}-unit": str(unit.pk), f"task_units-{i}-role": role,
                     f"task_units-{i}-responsible_person": "责任人"})
    for i, (title, due) in enumerate(milestones):
        data.update({f"milestones-{i}-title": title, f"milestones-{i}-due_on": due})
    return data


def new_task(plan, **extra):
    data = {"plan": str(plan.pk), "number": "61", "title": "新增任务", "deadline_text": "2018年6月底前",
            "deadline": "2018-06-30", "deadline_class": "BY_DEADLINE", "status": "IN_PROGRESS",
            "target": "", "actions": "", "leading_official": ""}
    data.update(extra)
    return data


def test_office_adds_a_task_with_units_and_milestones(client, plan, office_user):
    client.force_login(office_user)
    env, ty = Unit.objects.get(name="省环保厅"), Unit.objects.get(name="太原市政府")
    data = new_task(plan) | formset_data(units=[(env, "LEAD"), (ty, "RESPONSIBLE")],
                                        milestones=[("方案印发", "2018-03-31")])
    response = client.post(reverse("admin:tasks_task_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Task.objects.get(plan=plan, number=61)
    assert task.task_units.get(role="LEAD").unit == env
    assert task.milestones.count() == 1
    assert TaskChange.objects.filter(task=task, field="created", actor=office_user).exists()


@pytest.mark.parametrize(
    ("units", "milestones", "message"),
    [
        ("two-leads", [], "只能有一个牵头单位"),
        ("no-lead", [], "必须有一个牵头单位"),
        ("ok", [("太晚", "2018-07-31")], "节点日期不能晚于"),
    ],
)
def test_admin_refuses_bad_tasks_in_chinese(client, plan, office_user, units, milestones, message):
    client.force_login(office_user)
    env, ty = Unit.objects.get(name="省环保厅"), Unit.objects.get(name="太原市政府")
    unit_rows = {"two-leads": [(env, "LEAD"), (ty, "LEAD")], "no-lead": [(env, "RESPONSIBLE")],
                 "ok": [(env, "LEAD")]}[units]
    before = (Task.objects.count(), TaskUnit.objects.count())
    response = client.post(reverse("admin:tasks_task_add"), new_task(plan) | formset_data(units=unit_rows, milestones=milestones))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Task.objects.count(), TaskUnit.objects.count()) == before


def test_admin_edit_goes_to_history_and_search_finds_chinese(client, plan, office_user):
    client.force_login(office_user)
    task = plan.tasks.get(number=1)
    url = reverse("admin:tasks_task_change", args=[task.pk])
    data = {
        "title": "改过的标题", "problem": task.problem_id, "measure": task.measure_id,
        "leading_official": task.leading_official, "target": task.target, "actions": task.actions,
        "deadline_text": task.deadline_text, "deadline": task.deadline or "",
        "deadline_class": task.deadline_class, "original_deadline": "",
    }
    for prefix, rows, fields in (
        ("task_units", list(task.task_units.all()), ("unit", "role", "responsible_person")),
        ("milestones", list(task.milestones.all()), ("title", "due_on", "done_on")),
    ):
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-task"] = task.pk
            for name in fields:
                value = getattr(row, f"{name}_id", None) if name == "unit" else getattr(row, name)
                data[f"{prefix}-{i}-{name}"] = "" if value is None else value
    data["rendered_state"] = rendered_post(client, url)["rendered_state"]  # as the page was rendered
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    assert TaskChange.objects.filter(task=task, field="title", new="改过的标题", actor=office_user).exists()
    result = client.get(reverse("admin:tasks_task_changelist"), {"q": "改过"})
    assert "改过的标题" in result.content.decode()


def test_leader_and_liaison_cannot_use_the_admin(client, plan, leader, coal_liaison):
    for user in (leader, coal_liaison):
        client.force_login(user)
        response = client.get(reverse("admin:tasks_task_changelist"))
        assert response.status_code == 302 and "login" in response["Location"]


# --- Optimistic locking of the admin's change forms (issue 17, item 1) ----------------------


def rendered_post(client, url: str) -> dict:
    """What a browser would post back from the change page as rendered: every input's value."""
    response = client.get(url)
    assert response.status_code == 200
    forms = [response.context["adminform"].form]
    data: dict = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            if isinstance(field.widget, MultiWidget):  # e.g. a split date and time
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{form.add_prefix(name)}_{i}"] = "" if part is None else str(part)
                continue
            if isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[form.add_prefix(name)] = "" if value is None else value
    return data


def test_stale_admin_edit_is_refused_and_shows_what_changed(client, plan, office_user):
    """Two office users open task 1; the first saves a title, the second (from the stale page)
    a target: the second is refused, the title stays, and nothing goes to the history as theirs."""
    second = User.objects.create_user(username="office2", password="pw-for-tests", is_staff=True,
                                      unit=office_user.unit)
    second.groups.add(*office_user.groups.all())
    task = plan.tasks.get(number=1)
    url = reverse("admin:tasks_task_change", args=[task.pk])
    client.force_login(office_user)
    first_page = rendered_post(client, url)
    other = Client()
    other.force_login(second)
    stale_page = rendered_post(other, url)

    response = client.post(url, first_page | {"title": "第一人改的标题"})
    assert response.status_code == 302
    response = other.post(url, stale_page | {"target": "第二人改的目标"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "已被他人修改" in html and "第一人改的标题" in html
    task.refresh_from_db()
    assert task.title == "第一人改的标题" and task.target != "第二人改的目标"
    assert not TaskChange.objects.filter(task=task, actor=second).exists()

    # Reopened, the second user's change is theirs alone: only the target is written and recorded.
    response = other.post(url, rendered_post(other, url) | {"target": "第二人改的目标"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.target) == ("第一人改的标题", "第二人改的目标")
    assert set(TaskChange.objects.filter(task=task, actor=second).values_list("field", flat=True)) == {"target"}


def test_stale_admin_edit_of_parts_and_milestones_is_refused(client, plan, office_user):
    task = plan.tasks.get(number=1)
    url = reverse("admin:tasks_task_change", args=[task.pk])
    client.force_login(office_user)
    stale = rendered_post(client, url)
    first = task.task_units.order_by("position").first()
    TaskUnit.objects.filter(pk=first.pk).update(responsible_person="另一位责任人")
    response = client.post(url, stale | {"title": "改标题"})
    assert response.status_code == 200 and "另一位责任人" in response.content.decode()
    assert plan.tasks.get(number=1).title == task.title


def test_stale_unit_edit_is_refused_and_a_page_without_its_state_too(client, plan, office_user):
    client.force_login(office_user)
    unit = Unit.objects.get(name="省煤炭工业厅")
    url = reverse("admin:tasks_unit_change", args=[unit.pk])
    stale = rendered_post(client, url)
    Unit.objects.filter(pk=unit.pk).update(head_email="new-head@example.test")
    response = client.post(url, stale | {"head_name": "张三"})
    assert response.status_code == 200 and "new-head@example.test" in response.content.decode()
    unit.refresh_from_db()
    assert unit.head_name != "张三"
    page = rendered_post(client, url)
    del page["rendered_state"]
    response = client.post(url, page | {"head_name": "张三"})
    assert response.status_code == 200 and "页面已过期" in response.content.decode()
    response = client.post(url, rendered_post(client, url) | {"head_name": "张三"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert (unit.head_name, unit.head_email) == ("张三", "new-head@example.test")


def test_user_and_region_admin_edits_are_guarded_too(client, plan, office_user, coal_liaison):
    office_user.is_superuser = True  # the users admin needs the auth permissions
    office_user.save()
    client.force_login(office_user)
    url = reverse("admin:rectify_user_change", args=[coal_liaison.pk])
    stale = rendered_post(client, url)
    User.objects.filter(pk=coal_liaison.pk).update(email="moved@example.test")
    response = client.post(url, stale | {"full_name": "改名"})
    assert response.status_code == 200 and "moved@example.test" in response.content.decode()
    response = client.post(url, rendered_post(client, url) | {"full_name": "改名"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    coal_liaison.refresh_from_db()
    assert (coal_liaison.full_name, coal_liaison.email) == ("改名", "moved@example.test")


# --- History of admin edits to units, regions, plans, users and roles (issue 17, item 6) -------


@pytest.fixture
def office_head(plan):
    from django.contrib.auth.models import Group

    from rectify.roles import Role

    head = User.objects.create_user(username="head", password="pw-for-tests", is_staff=True,
                                    unit=Unit.objects.get(code="sx-zgb"))
    head.groups.add(*(Group.objects.get_or_create(name=r.value)[0] for r in (Role.OFFICE, Role.OFFICE_HEAD)))
    return head


def test_admin_edits_that_decide_access_keep_old_and_new_values(client, plan, office_user, office_head,
                                                                coal_liaison):
    from django.contrib.auth.models import Group

    from rectify.models import AdminChange
    from tasks.models import Region

    client.force_login(office_user)
    unit = Unit.objects.get(name="省煤炭工业厅")
    old_email = unit.head_email
    url = reverse("admin:tasks_unit_change", args=[unit.pk])
    page = rendered_post(client, url)
    page.update({"head_email": "new-head@example.test", "aliases-TOTAL_FORMS": str(int(page["aliases-TOTAL_FORMS"]) + 1),
                 f"aliases-{page['aliases-TOTAL_FORMS']}-alias": "山西煤炭工业厅(测试别名)"})
    response = client.post(url, page)
    assert response.status_code == 302, (response.context["adminform"].form.errors,
                                         [f.errors for f in response.context["inline_admin_formsets"][0].formset])
    region = Region.objects.get(name="昔阳县")
    url = reverse("admin:tasks_region_change", args=[region.pk])
    assert client.post(url, rendered_post(client, url) | {"name": "昔阳县(改)"}).status_code == 302

    superuser = User.objects.create_superuser(username="root", password="pw-for-tests")
    client.force_login(superuser)
    url = reverse("admin:rectify_user_change", args=[coal_liaison.pk])
    office = Group.objects.get(name="office")
    page = rendered_post(client, url)
    page["groups"] = [*page.get("groups", []), str(office.pk)]
    assert client.post(url, page | {"is_staff": "on"}).status_code == 302
    url = reverse("admin:auth_group_change", args=[office.pk])
    page = rendered_post(client, url)
    page["permissions"] = page["permissions"][:-1]
    assert client.post(url, page).status_code == 302
    url = reverse("admin:auth_user_password_change", args=[coal_liaison.pk])
    assert client.post(url, {"password1": "Zq-new-pass-1234", "password2": "Zq-new-pass-1234"}).status_code == 302

    rows = {(r.model, r.field, r.old, r.new, r.actor_name) for r in AdminChange.objects.all()}
    assert ("tasks.Unit", "主要负责人邮箱", old_email, "new-head@example.test", "office") in rows
    assert ("tasks.Unit", "单位别名", "", "山西煤炭工业厅(测试别名)", "office") in {(m, f.split("·")[0], o, n, a) for m, f, o, n, a in rows}
    assert ("tasks.Region", "名称", "昔阳县", "昔阳县(改)", "office") in rows
    user_rows = {(f, o, n) for m, f, o, n, a in rows if m == "rectify.User" and a == "root"}
    assert ("工作人员状态", "否", "是") in user_rows
    assert any(f == "组" and "office" in n and "office" not in o for f, o, n in user_rows)
    assert ("密码", "******", "******") in user_rows  # changed, never the hash
    assert not any(c.new.startswith(("pbkdf2", "argon2")) for c in AdminChange.objects.all())
    assert any(m == "auth.Group" and f == "权限" for m, f, o, n, a in rows)

    # Shown to the office head only, and nobody edits it.
    history = reverse("admin:rectify_adminchange_changelist")
    client.force_login(office_head)
    response = client.get(history)
    assert response.status_code == 200 and "new-head@example.test" in response.content.decode()
    for user in (office_user, superuser):
        client.force_login(user)
        assert client.get(history).status_code == 403
    client.force_login(office_head)
    entry = AdminChange.objects.first()
    assert client.post(reverse("admin:rectify_adminchange_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403


ADMIN_CHANGE_FORMS = ["tasks_task", "tasks_unit", "tasks_region", "tasks_plan", "tasks_problem", "tasks_measure",
                      "rectify_user", "auth_group"]


def _admin_object(name, plan, coal_liaison):
    from django.contrib.auth.models import Group

    from tasks.models import Measure, Problem, Region

    return {"tasks_task": lambda: plan.tasks.get(number=1), "tasks_unit": lambda: coal_liaison.unit,
            "tasks_region": lambda: Region.objects.get(name="昔阳县"), "tasks_plan": lambda: plan,
            "tasks_problem": lambda: Problem.objects.filter(plan=plan).first(),
            "tasks_measure": lambda: Measure.objects.filter(plan=plan).first(),
            "rectify_user": lambda: User.objects.create_user(username="target", unit=coal_liaison.unit),
            "auth_group": lambda: Group.objects.get(name="office")}[name]()


@pytest.mark.parametrize("name", ADMIN_CHANGE_FORMS)
def test_admin_change_form_permission_matrix(client, plan, office_user, leader, coal_liaison, name):
    """Anonymous, liaison and leader: to the login page, nothing written. A GET on the change
    form never writes. The office: each form renders with its rendered state (the guard)."""
    obj = _admin_object(name, plan, coal_liaison)
    url = reverse(f"admin:{name}_change", args=[obj.pk])
    before = (TaskChange.objects.count(), type(obj).objects.filter(pk=obj.pk).values().first())
    for user in (None, coal_liaison, leader):
        client.logout()
        if user:
            client.force_login(user)
        for response in (client.get(url), client.post(url, {"name": "x", "title": "x"})):
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (user, url)
    client.force_login(office_user)
    response = client.get(url)
    if name == "auth_group":  # roles: superusers only
        assert response.status_code == 403
    elif name == "rectify_user":  # the office reads users, may not change them
        assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
        assert client.post(url, rendered_post(client, url) | {"is_staff": "on"}).status_code == 403
    else:
        assert response.status_code == 200 and 'name="rendered_state"' in response.content.decode()
    assert (TaskChange.objects.count(), type(obj).objects.filter(pk=obj.pk).values().first()) == before


def test_stale_refusal_escapes_what_it_shows(client, plan, office_user):
    client.force_login(office_user)
    unit = Unit.objects.get(name="省煤炭工业厅")
    url = reverse("admin:tasks_unit_change", args=[unit.pk])
    stale = rendered_post(client, url)
    Unit.objects.filter(pk=unit.pk).update(head_name='<script>alert("x")</script><b>粗</b>')
    html = client.post(url, stale | {"full_name": "改"}).content.decode()
    assert "已被他人修改" in html
    assert "<script>alert" not in html and "<b>粗</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html or "&lt;script&gt;" in html


@pytest.mark.django_db(transaction=True)
def test_admin_saves_outside_a_test_transaction(client, plan, coal_liaison, office_user):
    """As in production (autocommit, no test transaction around the request): the row lock of
    the guard and the password change's history work, on PostgreSQL too."""
    from rectify.models import AdminChange

    client.force_login(office_user)
    url = reverse("admin:tasks_unit_change", args=[coal_liaison.unit.pk])
    assert client.post(url, rendered_post(client, url) | {"head_name": "李四"}).status_code == 302
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    client.force_login(root)
    url = reverse("admin:auth_user_password_change", args=[coal_liaison.pk])
    assert client.post(url, {"password1": "Zq-new-pass-1234", "password2": "Zq-new-pass-1234"}).status_code == 302
    assert set(AdminChange.objects.values_list("field", flat=True)) == {"主要负责人", "密码"}


def test_a_stale_user_form_never_shows_the_password_hash(client, plan, coal_liaison):
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    client.force_login(root)
    url = reverse("admin:rectify_user_change", args=[coal_liaison.pk])
    stale = rendered_post(client, url)
    coal_liaison.set_password("Zq-another-pass-99")
    coal_liaison.save()
    html = client.post(url, stale | {"full_name": "改名"}).content.decode()
    assert "已被他人修改" in html and coal_liaison.password not in html
