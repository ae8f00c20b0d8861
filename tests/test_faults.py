"""Faults against the real services, each on a private instance started by the test.

PostgreSQL restarted under traffic: the app (gunicorn, as in production) recovers by itself,
with no request answered by a server error once the database is back.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import missing_service, wait_until

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


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback test server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # no answer at all (not a server error page)


def test_app_recovers_by_itself_after_postgres_restarts(private_postgres, tmp_path):
    url, data = private_postgres
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY": "fault-test",
           "ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "rectify.settings",
           "RECTIFY_VAR_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True, timeout=300)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=settings.BASE_DIR, env=env, check=True,
                   timeout=300)
    subprocess.run([*manage, "load_demo", "--quiet-logins"], cwd=settings.BASE_DIR, env=env, check=True,
                   timeout=300)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rectify.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "30"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: get(f"{base}/healthz") == 200, timeout=60)
        for _ in range(10):
            assert get(f"{base}/healthz") == 200
            assert get(f"{base}/accounts/login/") == 200

        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "restart",
                    "-o", f"-p {url.rsplit(':', 1)[1].split('/')[0]} -k {data} -c listen_addresses=127.0.0.1",
                    "-l", str(data / "log"))

        # Once the database is back, every request succeeds without restarting the app: the
        # dropped connections are noticed (CONN_HEALTH_CHECKS) and replaced.
        statuses = [get(f"{base}/healthz") for _ in range(30)]
        assert statuses == [200] * 30, statuses
        assert get(f"{base}/accounts/login/") == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
