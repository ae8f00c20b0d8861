"""Session lifetime: an idle timeout and an absolute one, both enforced on the server."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

_STARTED, _SEEN = "rectify_started", "rectify_seen"
# Refresh the "last seen" stamp at most this often, so reading pages doesn't write a session
# row on every request.
_TOUCH_EVERY = 60


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(_STARTED, now)
            seen = request.session.get(_SEEN, now)
            idle = now - seen > settings.RECTIFY_SESSION_IDLE_SECONDS
            too_old = now - started > settings.RECTIFY_SESSION_ABSOLUTE_SECONDS
            if idle or too_old:
                logout(request)
                messages.info(request, "登录已超时,请重新登录。" if idle else "登录时间过长,请重新登录。")
                return redirect_to_login(request.get_full_path())
            if now - seen > _TOUCH_EVERY or _SEEN not in request.session:
                request.session[_SEEN] = now
        return self.get_response(request)
