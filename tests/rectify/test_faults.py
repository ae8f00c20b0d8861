"""Faults against the real services, each on a private instance started by the test.

PostgreSQL restarted under traffic: the app (gunicorn, as in production) recovers by itself,
with no request answered by a server error once the database is back.

Redis stopped under gunicorn and a worker: every page still answers, the office is told, the
work it asks for is kept in the database, and it is done once when Redis is back.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from bench.load import TASK_LINK, VERSION, Client, Stats, multipart, tiny_png
from tests.helpers import missing_service, wait_until
from tests.reports_helpers import mails_written

pytestmark = pytest.mark.services

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*cmd: str) -> subprocess.CompletedProcess:
    # initdb and pg_ctl refuse to run as root; the machine's postgres account runs them.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path]]:
    if not (PG_BIN / "initdb").exists():
        missing_service(f"needs PostgreSQL server binaries in {PG_BIN}")
    data = Path(tempfile.mkdtemp(prefix="rectify-pg-"))
    shutil.chown(data, "postgres") if os.geteuid() == 0 else None
    port = free_port()
    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start", "-l", str(data / "log"))
    try:
        as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "rectify")
        yield f"postgres://postgres@127.0.0.1:{port}/rectify", data
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[dict]:
    """A Redis of the test's own on a free loopback port, which the test may stop and restart."""
    server = shutil.which("redis-server")
    if server is None:
        missing_service("needs redis-server on PATH")
    port = free_port()
    state: dict = {"url": f"redis://127.0.0.1:{port}/0", "proc": None}

    def start() -> None:
        state["proc"] = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: _redis_answers(port), timeout=20), "private Redis did not start"

    def stop() -> None:
        state["proc"].terminate()
        state["proc"].wait(timeout=20)

    state.update(start=start, stop=stop)
    start()
    try:
        yield state
    finally:
        if state["proc"].poll() is None:
            stop()


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback test server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # no answer at all (not a server error page)


def app_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production-like process (DEBUG off) on the given database."""
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY": "fault-test",
           "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "rectify.settings",
           "RECTIFY_VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media"),
           "CELERY_TASK_ALWAYS_EAGER": "0", "REDIS_URL": "", **extra}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def app_prepare(env: dict[str, str]) -> None:
    """Migrate, collect static files and load the Shanxi plan with its demo users and history."""
    for args in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"], ["load_demo", "--quiet-logins"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, check=True,
                       timeout=600)


def gunicorn_start(env: dict[str, str], workers: int = 2, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (the process holds it)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rectify.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--timeout", "60"],
        cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    # The web server's own health (no worker or beat runs in these tests): database only.
    assert wait_until(lambda: get(f"{base}/healthz?check=database") == 200, timeout=60), "gunicorn did not start"
    return server, base


def test_app_recovers_by_itself_after_postgres_restarts(private_postgres, tmp_path):
    url, data = private_postgres
    env = app_env(url, tmp_path)
    app_prepare(env)
    server, base = gunicorn_start(env)
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    options = f"-p {url.rsplit(':', 1)[1].split('/')[0]} -k {data} -c listen_addresses=127.0.0.1"
    stats = Stats()
    leader = Client(base, stats)
    seen: list[tuple[str, int, str]] = []  # (phase, status, body start) of every request under traffic
    phase = ["up"]
    stop = threading.Event()

    def traffic() -> None:
        # A logged-in leader reads dashboards and the ledger without pause through the restart.
        paths = ["/tasks/overview/", "/tasks/?status=IN_PROGRESS", "/tasks/league/units/", "/healthz?check=database"]
        n = 0
        while not stop.is_set():
            status, _, body = leader.request("page", paths[n % len(paths)])
            seen.append((phase[0], status, body[:2000]))
            n += 1

    try:
        assert leader.login("leader", "rectify-demo")
        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        assert wait_until(lambda: len(seen) >= 10, timeout=60)

        phase[0] = "down"
        as_postgres(*pg_ctl, "-m", "fast", "-w", "stop")
        # While the database is gone, pages say so (503, in Chinese) instead of a bare 500.
        assert wait_until(lambda: sum(1 for p, s, _ in seen if p == "down" and s == 503) >= 5, timeout=60)
        as_postgres(*pg_ctl, "-o", options, "-w", "start", "-l", str(data / "log"))
        phase[0] = "back"
        # Once the database is back, requests succeed without restarting the app: the dropped
        # connections are noticed (CONN_HEALTH_CHECKS) and replaced; the session survived.
        assert wait_until(lambda: sum(1 for p, s, _ in seen if p == "back" and s == 200) >= 20, timeout=60)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    statuses = Counter((p, s) for p, s, _ in seen)
    assert {s for _, s, _ in seen} <= {200, 503}, statuses
    unavailable = next(body for p, s, body in seen if s == 503)
    assert "数据库暂时无法连接" in unavailable
    # After the first successful answer, every answer is a success.
    back = [s for p, s, _ in seen if p == "back"]
    assert 200 in back and set(back[back.index(200):]) == {200}, statuses


BANNER = "消息队列(Redis)当前不可用"


def test_redis_down_pages_work_work_is_kept_and_done_once_when_it_returns(
        private_postgres, private_redis, tmp_path):
    url, _data = private_postgres
    maildir = tmp_path / "mail"
    env = app_env(url, tmp_path, REDIS_URL=private_redis["url"], EMAIL_URL=f"file://{maildir}")
    app_prepare(env)
    server, base = gunicorn_start(env, log=tmp_path / "gunicorn.log")
    processes = [server]

    def celery(*args: str) -> Path:
        log_path = tmp_path / f"celery-{args[0]}.log"
        with open(log_path, "w") as log:
            processes.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "rectify", *args],
                                              cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT))
        return log_path

    worker_log = celery("worker", "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat",
                        "--without-mingle", "--without-gossip")
    try:
        _redis_outage_walk(base=base, database_url=url, private_redis=private_redis, maildir=maildir,
                           worker_log=worker_log, beat_start=lambda: celery("beat", "--loglevel", "INFO"))
    finally:
        for proc in reversed(processes):
            proc.terminate()
            proc.wait(timeout=30)


def _redis_outage_walk(*, base, database_url, private_redis, maildir, worker_log, beat_start) -> None:
    stats = Stats()
    office, leader, liaison = Client(base, stats), Client(base, stats), Client(base, stats)
    for client, username in ((office, "office"), (leader, "leader"), (liaison, "liaison-coal")):
        assert client.login(username, "rectify-demo"), username
    status, _, html = office.request("archive", "/reports/")
    assert status == 200 and BANNER not in html

    private_redis["stop"]()

    # Every page still answers, for every role; the office is told on each of its pages.
    _, _, mine = liaison.request("mine", "/tasks/mine/")
    task_id = int(TASK_LINK.search(mine).group(1))
    pages = {
        office: ["/reports/", "/tasks/queue/", "/tasks/", "/tasks/overview/", "/tasks/supervision/",
                 f"/tasks/{task_id}/", "/tasks/export.xlsx", "/public/", "/admin/"],
        leader: ["/tasks/overview/", "/tasks/league/units/", "/tasks/league/regions/", "/tasks/timeline/",
                 "/tasks/?status=IN_PROGRESS&sort=deadline", "/reports/"],
        liaison: ["/tasks/mine/", f"/tasks/{task_id}/", f"/tasks/{task_id}/report/", "/public/"],
    }
    for client, paths in pages.items():
        for path in paths:
            status, _, html = client.request("page", path)
            assert status == 200, (path, status)
            if client is liaison:
                assert BANNER not in html, path
    # Each process re-checks the queue every few seconds (rectify/queue.py).
    for path in ("/reports/", "/tasks/queue/", "/tasks/"):
        assert wait_until(lambda path=path: BANNER in office.request("page", path)[2], timeout=30), path

    # A liaison files a report with evidence: it needs no queue and is stored.
    _, _, form = liaison.request("report_form", f"/tasks/{task_id}/report/")
    version = VERSION.search(form)  # absent on a task's first report
    text = "队列中断期间报送的进展"
    body, content_type = multipart(
        {"csrfmiddlewaretoken": liaison.csrf(form), "percent": "40", "text": text,
         "version": version.group(1) if version else ""},
        {"evidence": ("现场照片.png", tiny_png(), "image/png")},
    )
    status, location, _ = liaison.request("report_file", f"/tasks/{task_id}/report/", body, content_type)
    assert status == 302 and location.rstrip("/").endswith(f"/tasks/{task_id}"), status

    # The office's "issue now" is kept (twice asked, once kept) and shown as waiting.
    for _ in range(2):
        _, _, archive = office.request("archive", "/reports/")
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": office.csrf(archive)}).encode()
        status, location, _ = office.request("issue", "/reports/issue/dispatch/", form,
                                             "application/x-www-form-urlencoded")
        assert status == 302 and location.endswith("/reports/"), status
    _, _, archive = office.request("archive", "/reports/")
    assert 'id="held-jobs"' in archive and BANNER in archive
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT count(*) FROM rectify_heldjob WHERE released_at IS NULL").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM reports_report").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM tasks_progressreport WHERE text = %s", (text,)).fetchone()[0] == 1

    assert stats.server_errors == [], stats.server_errors

    # The scheduler starts while Redis is down (it must wait, not die), then Redis comes back:
    # the worker reconnects by itself and beat's every-minute release queues the kept work.
    beat_log = beat_start()
    private_redis["start"]()

    def done() -> bool:
        with psycopg.connect(database_url) as db:
            dispatches = db.execute("SELECT count(*) FROM reports_report WHERE kind = 'dispatch'").fetchone()[0]
            unsent = db.execute("SELECT count(*) FROM reports_delivery WHERE status <> 'sent'").fetchone()[0]
            held = db.execute("SELECT count(*) FROM rectify_heldjob WHERE released_at IS NULL").fetchone()[0]
        return dispatches == 1 and unsent == 0 and held == 0

    assert wait_until(done, timeout=180), worker_log.read_text()[-3000:] + beat_log.read_text()[-2000:]
    with psycopg.connect(database_url) as db:
        dispatches = db.execute("SELECT count(*) FROM reports_report WHERE kind = 'dispatch'").fetchone()[0]
        held = db.execute("SELECT count(*) FROM rectify_heldjob WHERE released_at IS NULL").fetchone()[0]
        deliveries = db.execute("SELECT recipient, subject FROM reports_delivery").fetchall()
    # Beat's catch-up tick (minutes 7, 22, 37, 52) may also fall in this window and send what is
    # due; either way the dispatch exists once and every delivery is one e-mail.
    assert dispatches == 1 and held == 0
    sent = Counter((m["To"], m["Subject"].strip()) for m in mails_written(maildir))
    assert sent == Counter(deliveries) and max(sent.values()) == 1, sent

    # Once the status line's memory lapses, the banner is gone.
    assert wait_until(lambda: BANNER not in office.request("archive", "/reports/")[2], timeout=60)
    assert stats.server_errors == [], stats.server_errors
