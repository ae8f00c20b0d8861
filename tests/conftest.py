"""Shared test fixtures: the plan, a named cast of users, and the real-service switches.

Helpers live in tests/helpers.py, the cast in tests/cast.py, the plan's replay in
tests/plan_replay.py, factories in tests/factories.py; import them as `from tests.X import …`.

RECTIFY_REQUIRE_SERVICES=1 (set by .ci/run) turns a missing PostgreSQL, Redis, Celery worker
or browser into a failure; without it (a laptop) those tests skip and say why.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from rectify.models import User
from rectify.roles import Role, roles_ensure
from tasks.models import Plan, Unit
from tasks.plan_loading import plan_fixture_read

# Helpers are imported from tests.helpers; the names stay here too for `from conftest import …`.
from tests.cast import example_user, user_create
from tests.helpers import (  # noqa: F401
    BASE_DIR,
    CHROMIUM,
    REQUIRE_SERVICES,
    SCREENSHOTS,
    missing_service,
    screenshot,
    wait_until,
)
from tests.plan_replay import PlanSnapshot, plan_snapshot_take


@pytest.fixture
def postgres(db) -> None:
    if connection.vendor != "postgresql":
        missing_service("needs PostgreSQL: set DATABASE_URL=postgres://… (make test-services)")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing_service("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def real_broker():
    """Jobs sent from this test go to the broker for a real worker, as in production (the test
    settings otherwise run them in-process)."""
    from rectify.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_process(celery_worker_factory) -> subprocess.Popen:
    """One real `celery worker` process on Redis, sharing the test database; its log is at
    `.log_path`."""
    return celery_worker_factory()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing_service(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Any Content-Security-Policy violation (an inline script, a foreign asset) fails the test.
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not violations, f"CSP violations: {violations}"


# --- The plan and the cast -------------------------------------------------------------------


@pytest.fixture(scope="session")
def plan_data() -> dict:
    return plan_fixture_read("shanxi-2017")


@pytest.fixture(scope="session")
def plan_snapshot(django_db_setup, django_db_blocker, plan_data) -> PlanSnapshot:
    """The plan's rows, recorded once per session by a real (rolled-back) `plan_load`."""
    with django_db_blocker.unblock():
        return plan_snapshot_take(data=plan_data)


@pytest.fixture
def plan(db, plan_snapshot) -> Plan:
    """The Shanxi 2017 plan, as `plan_load` writes it, replayed in a few bulk inserts."""
    roles_ensure()
    return plan_snapshot.replay()


def _user(username: str, role: Role, unit: Unit | None = None, **extra) -> User:
    """A one-off user outside the cast (kept for older tests; new ones use cast.example_user)."""
    return user_create(username, role, unit=unit, **extra)


# The cast (tests/cast.py), by the fixture names the tests ask for.


@pytest.fixture
def coal_liaison(plan) -> User:
    return example_user("coal")


@pytest.fixture
def taiyuan_liaison(plan) -> User:
    return example_user("taiyuan")


@pytest.fixture
def env_liaison(plan) -> User:
    """Liaison of 省环保厅, the lead unit of many tasks (e.g. 12, where 太原市政府 is responsible)."""
    return example_user("env")


@pytest.fixture
def office_user(plan) -> User:
    return example_user("office")


@pytest.fixture
def office_head(plan) -> User:
    """The office's head: office staff who may also read the accountability register."""
    return example_user("head")


@pytest.fixture
def supervisor(plan) -> User:
    return example_user("supervisor")


@pytest.fixture
def leader(plan) -> User:
    return example_user("leader")


@pytest.fixture
def acc_officer(plan) -> User:
    return example_user("acc")


@pytest.fixture
def publicity_officer(plan) -> User:
    return example_user("pub")


@pytest.fixture
def outsider(plan) -> User:
    return example_user("outsider")


@pytest.fixture
def superuser(plan) -> User:
    return example_user("root")


# --- Officials' workspace (issue 3) ------------------------------------------------------------


@pytest.fixture
def evidence_storage(settings, tmp_path) -> Path:
    """Uploaded evidence goes to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


# Playwright's sync API keeps an asyncio loop registered on the main thread from the moment the
# (session-wide) browser starts; Django then refuses every ORM call of the tests that follow,
# although they are plain synchronous calls. The project has no async code for this to hide.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
@pytest.fixture
def celery_worker_factory(redis_url: str, transactional_db, tmp_path):
    """Start (and restart) real `celery worker` processes on Redis sharing the test database,
    each with extra environment (e.g. EMAIL_URL=file:///… to count the e-mails it sends).
    Logs go to files under tmp_path, never to an unread pipe that could fill and block."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        missing_service("a worker process cannot share the in-memory SQLite test database; use PostgreSQL")
    started: list[tuple[subprocess.Popen, object]] = []

    def environment(extra_env: dict[str, str] | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "rectify.test_settings",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            **(extra_env or {}),
        }

    def start(extra_env: dict[str, str] | None = None, pool: tuple[str, ...] = ("--pool", "solo")) -> subprocess.Popen:
        """`pool=("--pool", "prefork", "--concurrency", "1")` where time limits must be enforced
        (the solo pool has none)."""
        n = len(started)
        log_path = tmp_path / f"worker-{n}.log"
        log = open(log_path, "w")  # noqa: SIM115 (closed at teardown)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rectify", "worker", *pool,
             "--loglevel", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip",
             "--hostname", f"test-worker-{n}@%h"],
            cwd=BASE_DIR, env=environment(extra_env), stdout=log, stderr=subprocess.STDOUT, text=True,
        )
        proc.log_path = log_path  # type: ignore[attr-defined]
        started.append((proc, log))
        return proc

    start.env = environment  # type: ignore[attr-defined]  (for other processes on the same stack, e.g. beat)
    yield start
    for proc, log in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A request in English leaves English active in
    the thread (LocaleMiddleware activates it and nothing resets it), and code outside a request
    (services, jobs) speaks whatever language is active."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _dashboard_snapshots_cleared():
    """Dashboards keep snapshots in the process, keyed by a fingerprint of the ledger; test
    databases roll back and reuse ids, so every test starts without them."""
    from tasks.dashboards import snapshot_cache_clear

    snapshot_cache_clear()
    yield
    snapshot_cache_clear()


@pytest.fixture(autouse=True)
def _calendar_cache_cleared():
    """The working calendar keeps the office's holiday table in the process; test databases
    roll back, so every test reads its own."""
    from rectify.calendar import calendar_cache_clear

    calendar_cache_clear()
    yield
    calendar_cache_clear()


@pytest.fixture
def calendar_read(db):
    """The working calendar read before a query count starts: one query, once a minute per
    process, whatever the number of rows (rectify/calendar.py)."""
    from rectify.calendar import is_working_day

    is_working_day(dt.date(2018, 1, 1))


@pytest.fixture(scope="session", autouse=True)
def _translations_compiled():
    """`make test` compiles the catalogs first; a bare `pytest` gets them compiled here, so the
    English pages never silently fall back to Chinese for want of a .mo file."""
    from django.utils.translation import trans_real

    from rectify.management.commands.compile_translations import translations_compile

    if translations_compile():
        trans_real._translations.clear()  # catalogs read before the .mo existed


# --- Markers ---------------------------------------------------------------------------------

# A test that asks for one of these fixtures needs that service, whatever its file says: the
# marker is given here so that `-m "not services and not browser"` (make test-fast, the parallel
# pass of make test) can never pick up a test that starts a process or needs a real service.
SERVICE_FIXTURES = {"postgres", "redis_url", "celery_worker_factory", "celery_worker_process"}
BROWSER_FIXTURES = {"browser", "page"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & SERVICE_FIXTURES:
            item.add_marker(pytest.mark.services)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
