"""Session lifetime: an idle timeout and an absolute one, both enforced on the server."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

_STARTED, _SEEN = "rectify_started", "rectify_seen"
# Refresh the "last seen" stamp at most this often, so reading pages doesn't write the
# session row on every request.
_TOUCH_EVERY = 60


def session_stamp(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """On login (the `user_logged_in` signal): the session's clock starts now."""
    now = time.time()
    request.session[_STARTED] = request.session[_SEEN] = now


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            if _STARTED not in request.session:  # a session from before this middleware
                session_stamp(None, request)
            idle = now - request.session[_SEEN] > settings.RECTIFY_SESSION_IDLE_SECONDS
            too_old = now - request.session[_STARTED] > settings.RECTIFY_SESSION_ABSOLUTE_SECONDS
            if idle or too_old:
                logout(request)
                messages.info(request, _("登录已超时,请重新登录。") if idle else _("登录时间过长,请重新登录。"))
                return redirect_to_login(request.get_full_path())
            if now - request.session[_SEEN] > _TOUCH_EVERY:
                request.session[_SEEN] = now
        return self.get_response(request)
