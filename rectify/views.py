from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from rectify.roles import Role
from tasks.permissions import user_is_office


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where its work is: a liaison on their unit's tasks, the office on its
    queue, leaders (and everyone else who reads the whole ledger) on the ledger."""
    user = request.user
    if user_is_office(user):
        return redirect("tasks:office_queue")
    if user.unit_id and user.has_role(Role.LIAISON):
        return redirect("tasks:mytasks")
    return redirect("tasks:ledger")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the process manager and `make run`: the app answers and the DB is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
