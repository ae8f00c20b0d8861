from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where its work is; for now everyone starts at the ledger."""
    return redirect("tasks:ledger")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the process manager and `make run`: the app answers and the DB is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
