"""`make run`: migrate, load the demo once, then run web server, worker and beat together.

Ctrl-C (or SIGTERM) stops all three. If one of them dies, the others are stopped too, so a
half-running stack never pretends to be healthy.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tasks.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Run the whole Rectify stack for a local demo: web, Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data.")

    def handle(self, *args, host: str, port: int, no_demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("load_demo", quiet_logins=True)
        backup_key_note = self._demo_backup_key()
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        celery = [python, "-m", "celery", "-A", "rectify"]
        commands = {
            "web": [python, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2",
                       "--hostname", "rectify@%h"],
            "beat": [*celery, "beat", "--loglevel", "INFO",
                     "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        }
        procs = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR) for name, cmd in commands.items()}

        def stop(*_: object) -> None:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    proc.kill()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        # A shell that starts `make run &` hands it SIGINT ignored, and Python then leaves it so:
        # ask for Ctrl-C's KeyboardInterrupt explicitly, so `kill -INT` stops the stack too.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        url = f"http://{host}:{port}/"
        try:
            self._wait_for(url + "healthz?check=database", procs)  # worker and beat report in later
            broker = "Redis" if settings.REDIS_URL else "filesystem broker (var/broker)"
            database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
            self.stdout.write(self.style.SUCCESS(f"\nRectify is running at {url}"))
            self.stdout.write(f"  database: {database}; queue: {broker}; e-mail: {settings.EMAIL_BACKEND}")
            self.stdout.write(f"  demo logins (password for all: {DEMO_PASSWORD}):")
            for user in DEMO_USERS:
                self.stdout.write(f"    {user.username:<16} {user.note}")
            if backup_key_note:
                self.stdout.write(backup_key_note)
            self.stdout.write("  Ctrl-C stops the web server, the worker and the scheduler.\n")
            while all(p.poll() is None for p in procs.values()):
                time.sleep(1)
            dead = [n for n, p in procs.items() if p.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            stop()

    def _demo_backup_key(self) -> str:
        """Without RECTIFY_BACKUP_KEY the nightly backup refuses to run. A local demo gets a key of
        its own in var/ (created once, readable by its owner only), handed to worker and beat;
        production sets the variable and keeps the key away from the backups."""
        if settings.RECTIFY_BACKUP_KEY:
            return ""
        path = settings.VAR_DIR / "demo-backup.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        os.environ["RECTIFY_BACKUP_KEY"] = path.read_text().strip()
        return f"  backups: nightly, encrypted with the demo key in {path} (set RECTIFY_BACKUP_KEY in production)"

    def _wait_for(self, url: str, procs: dict[str, subprocess.Popen]) -> None:
        for _ in range(120):
            if any(p.poll() is not None for p in procs.values()):
                raise SystemExit("A process of the stack exited during start-up; see the log above.")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"The web server did not answer at {url}")
