import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.views.decorators.http import require_GET

from rectify.liveness import Process, background_stale
from rectify.queue import queue_is_up
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


# Seconds a browser or proxy should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 30
HEALTH_CHECKS = ("database", "broker", "worker", "beat")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker, worker and beat, each "ok" or "down"; 200 only when every one asked
    is fine, else 503 naming what is down. `?check=database` (comma-separated) asks only some:
    a process manager restarting the web server should not do so because the worker died."""
    asked = [c for c in request.GET.get("check", "").split(",") if c] or list(HEALTH_CHECKS)
    unknown = sorted(set(asked) - set(HEALTH_CHECKS))
    if unknown:
        return JsonResponse({"ok": False, "error": f"unknown check: {', '.join(unknown)}"}, status=400)
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        stale = background_stale() if {"worker", "beat"} & set(asked) else []
    except (OperationalError, InterfaceError):
        checks["database"], stale = "down", [Process.WORKER, Process.BEAT]  # unknown counts as down
    if "broker" in asked:
        checks["broker"] = "ok" if queue_is_up() else "down"
    for process in (Process.WORKER, Process.BEAT):
        checks[process.value] = "down" if process in stale else "ok"
    checks = {name: checks[name] for name in HEALTH_CHECKS if name in asked}
    down = [name for name, state in checks.items() if state != "ok"]
    body: dict[str, object] = {"ok": not down, "checks": checks}
    if down:
        body["down"] = down
    if checks.get("database") == "down":
        body["message"] = "数据库暂时无法连接"
    response = JsonResponse(body, status=503 if down else 200, json_dumps_params={"ensure_ascii": False})
    if checks.get("database") == "down":
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


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

