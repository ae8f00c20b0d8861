"""Helpers every test may use, imported one way: `from tests.helpers import wait_until`.

(Fixtures live in tests/conftest.py; the cast in tests/cast.py; factories in tests/factories.py.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("RECTIFY_REQUIRE_SERVICES") == "1"
BASE_DIR = Path(settings.BASE_DIR)
CHROMIUM = os.environ.get("RECTIFY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = BASE_DIR / "docs" / "screenshots"


def missing_service(reason: str) -> None:
    """Fail in CI, skip elsewhere: a real-service test must never pass by not running."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)  # polling a real process from a test; not a timing assertion
    return False
