"""What the workspace views share: loading a task the user may see, and error messages."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from tasks.evidence import ALLOWED_EXTENSIONS
from tasks.models import Task
from tasks.selectors import tasks_visible_to


def visible_task_or_404(request: HttpRequest, pk: int) -> Task:
    # 404, not 403, for a task the user may not see: its existence is not theirs to know.
    return get_object_or_404(tasks_visible_to(request.user), pk=pk)


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def int_or_none(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1  # a tampered version can only be stale


def id_or_none(raw: str | None) -> int | None:
    """An id from a query string, or None. str.isdigit() is no test: it accepts "²", which
    int() refuses."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


def evidence_limits() -> dict[str, int]:
    """What the file inputs tell the browser (the server checks again)."""
    return {"bytes": settings.RECTIFY_EVIDENCE_MAX_BYTES, "files": settings.RECTIFY_EVIDENCE_MAX_FILES,
            "mb": settings.RECTIFY_EVIDENCE_MAX_BYTES // (1024 * 1024),
            "video_bytes": settings.RECTIFY_EVIDENCE_MAX_VIDEO_BYTES,
            "video_mb": settings.RECTIFY_EVIDENCE_MAX_VIDEO_BYTES // (1024 * 1024),
            "accept": ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)}
