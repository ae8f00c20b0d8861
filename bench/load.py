"""A mixed load on a running Rectify: liaisons filing reports with evidence, leaders reading
dashboards, the office exporting the ledger. Bounded in time, loopback only.

Each client is a thread with its own session (log in through the login form, CSRF token and
all). Liaisons each act for their own unit, so their writes never race each other: at the end
the database must hold, for every (task, unit) a liaison reported on, exactly the text of its
last successful report, and one evidence file per successful report. `load_run` returns the
figures per kind of request and what it saw, for the caller to check against the database.
"""

from __future__ import annotations

import http.cookiejar
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from struct import pack

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TASK_LINK = re.compile(r'href="/tasks/(\d+)/"')
VERSION = re.compile(r'name="version" value="(\d*)"')


def tiny_png() -> bytes:
    """A valid 1×1 PNG, made here: evidence is checked by content."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x2e\x8b\x57")) + chunk(b"IEND", b""))


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)
    # (task id, username) -> text of the last report that got a success response
    reports_ok: dict[tuple[int, str], str] = field(default_factory=dict)
    reports_total: int = 0
    reports_succeeded: int = 0
    reports_refused: int = 0  # answered with the form and a reason (e.g. the task is closed)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, started: float, status: int, url: str) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            if status >= 500 or status == 0:
                self.server_errors.append(f"{status} {url}")

    def figures(self, seconds: float) -> dict[str, dict[str, float]]:
        out = {}
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            out[kind] = {
                "count": len(values),
                "rps": len(values) / seconds,
                "p50_ms": statistics.median(ordered),
                "p95_ms": ordered[max(0, int(len(ordered) * 0.95) - 1)],
            }
        return out


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a 302 is an answer we want to see, not follow


class Client:
    def __init__(self, base_url: str, stats: Stats) -> None:
        self.base = base_url.rstrip("/")
        self.stats = stats
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, kind: str, path: str, data: bytes | None = None,
                content_type: str | None = None) -> tuple[int, str, str]:
        url = self.base + path
        request = urllib.request.Request(url, data=data)  # noqa: S310 (loopback test server)
        if content_type:
            request.add_header("Content-Type", content_type)
        request.add_header("Referer", url)
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as response:
                body = response.read()
                status, location = response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            body, status, location = exc.read(), exc.code, exc.headers.get("Location", "")
        except OSError as exc:
            self.stats.record(kind, started, 0, f"{url}: {exc}")
            return 0, "", ""
        self.stats.record(kind, started, status, url)
        return status, location, body.decode("utf-8", "replace")

    def csrf(self, html: str) -> str:
        match = _CSRF.search(html)
        return match.group(1) if match else ""

    def login(self, username: str, password: str) -> bool:
        _, _, html = self.request("login", "/accounts/login/")
        form = urllib.parse.urlencode({
            "csrfmiddlewaretoken": self.csrf(html), "username": username, "password": password,
        }).encode()
        status, _, _ = self.request("login", "/accounts/login/", form, "application/x-www-form-urlencoded")
        return status == 302


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, mime) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _liaison(base_url: str, username: str, password: str, stats: Stats, until: float) -> None:
    client = Client(base_url, stats)
    if not client.login(username, password):
        stats.other_errors.append(f"{username}: login failed")
        return
    _, _, html = client.request("my_tasks", "/tasks/mine/")
    task_ids = sorted({int(x) for x in TASK_LINK.findall(html)})
    png = tiny_png()
    n = 0
    while time.monotonic() < until and task_ids:
        task_id = task_ids[n % len(task_ids)]
        n += 1
        status, _, form_html = client.request("report_form", f"/tasks/{task_id}/report/")
        if status != 200:
            continue  # e.g. a supporting unit's task it may not report on, or a closed one
        version = VERSION.search(form_html)
        text = f"负载测试进展 {username} {uuid.uuid4().hex[:12]}"
        body, content_type = multipart(
            {"csrfmiddlewaretoken": client.csrf(form_html), "percent": str(n % 101), "text": text,
             "version": version.group(1) if version else ""},
            {"evidence": ("现场照片.png", png, "image/png")},
        )
        status, location, _ = client.request("report_file", f"/tasks/{task_id}/report/", body, content_type)
        with stats.lock:
            stats.reports_total += 1
            if status == 302 and location.rstrip("/").endswith(f"/tasks/{task_id}"):
                stats.reports_ok[(task_id, username)] = text
                stats.reports_succeeded += 1
            elif status == 400:
                stats.reports_refused += 1


def _reader(base_url: str, username: str, password: str, paths: list[tuple[str, str]],
            stats: Stats, until: float) -> None:
    client = Client(base_url, stats)
    if not client.login(username, password):
        stats.other_errors.append(f"{username}: login failed")
        return
    n = 0
    while time.monotonic() < until:
        kind, path = paths[n % len(paths)]
        n += 1
        client.request(kind, path)


LEADER_PATHS = [
    ("overview", "/tasks/overview/"),
    ("league", "/tasks/league/units/"),
    ("ledger", "/tasks/?status=IN_PROGRESS&sort=deadline"),
]
OFFICE_PATHS = [("export", "/tasks/export.xlsx?deadline_class=BY_DEADLINE"), ("queue", "/tasks/queue/")]


def load_run(*, base_url: str, seconds: float, liaisons: list[str], leaders: list[str],
             office: list[str], password: str) -> Stats:
    stats = Stats()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_liaison, args=(base_url, u, password, stats, until)) for u in liaisons]
    threads += [threading.Thread(target=_reader, args=(base_url, u, password, LEADER_PATHS, stats, until))
                for u in leaders]
    threads += [threading.Thread(target=_reader, args=(base_url, u, password, OFFICE_PATHS, stats, until))
                for u in office]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return stats
