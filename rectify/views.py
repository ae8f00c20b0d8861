import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect
from django.template import loader
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


# Seconds a browser or proxy should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A database that cannot be reached (restarting, failing over) is not a bug in
    the request: answer 503 with Retry-After and say so in Chinese; anything else is a 500.
    Neither page touches the session, the user or the database."""
    failure = sys.exc_info()[1]
    if isinstance(failure, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())

