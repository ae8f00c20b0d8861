"""Who is the client? The address brute-force protection locks, read behind trusted proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting only the last TRUSTED_PROXY_COUNT hops.

    The chain is X-Forwarded-For followed by REMOTE_ADDR. Each trusted proxy appends the
    address it saw, so the entry just left of the trusted ones is the real client; whatever
    a client wrote into the header itself stands further left and is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.RECTIFY_TRUSTED_PROXY_COUNT
    if not trusted:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in forwarded if part] + [remote]
    return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]
