"""Production settings: `check --deploy` clean, hardened cookies, sessions that end, lockouts."""

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

PROD_ENV = {
    "DEBUG": "0", "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "rectify.example.gov.cn", "DJANGO_SETTINGS_MODULE": "rectify.settings",
}


def manage(*args, **env):
    # Only what a production host would have: none of the test run's own switches.
    leaked = {"HTTPS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_URL"}
    full = {k: v for k, v in os.environ.items() if k not in leaked} | PROD_ENV | env
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=full,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_and_headers():
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
            "s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)")
    result = manage("shell", "--no-imports", "-c", code)
    assert result.stdout.strip().splitlines()[-1].split() == ["__Host-sessionid", "__Host-csrftoken", "True", "31536000", "True"], result.stderr


@pytest.mark.django_db
def test_csp_has_no_inline_script(client):
    header = client.get(reverse("login"))["Content-Security-Policy"]
    script = next(d for d in header.split(";") if d.strip().startswith("script-src"))
    assert script.split() == ["script-src", "'self'"]
    assert "frame-ancestors 'none'" in header


@pytest.mark.django_db
def test_idle_and_absolute_session_timeouts(client, office_user):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        client.force_login(office_user)
        assert client.get(reverse("tasks:ledger")).status_code == 200
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("tasks:ledger")).status_code == 200  # still active
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("tasks:ledger"))
        assert response.status_code == 302 and reverse("login") in response["Location"]
        # Absolute: active every 20 minutes, still ended after 12 hours.
        client.force_login(office_user)
        for _ in range(12 * 3 + 3):
            traveller.shift(dt.timedelta(minutes=20))
            last = client.get(reverse("tasks:ledger"))
        assert last.status_code == 302


@pytest.mark.django_db
def test_deactivated_user_is_logged_out_at_once(client, office_user):
    client.force_login(office_user)
    assert client.get(reverse("tasks:ledger")).status_code == 200
    get_user_model().objects.filter(pk=office_user.pk).update(is_active=False)
    response = client.get(reverse("tasks:ledger"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def _login(client, username, password, ip, forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_brute_force_locks_username_at_that_ip_for_a_cool_off(client, office_user):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "office", "wrong", "10.0.0.9")
        locked = _login(client, "office", "pw-for-tests", "10.0.0.9")
        assert locked.status_code == 429 and "暂时锁定" in locked.content.decode()
        # The same official from another address, and another official from this one, get in.
        assert _login(client, "office", "pw-for-tests", "10.0.0.10").status_code == 302
        client.logout()
        traveller.shift(settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1))
        assert _login(client, "office", "pw-for-tests", "10.0.0.9").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_address_counts(client, office_user, settings):
    settings.RECTIFY_TRUSTED_PROXY_COUNT = 1
    proxy = "192.0.2.1"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "office", "wrong", proxy, forwarded="198.51.100.7")
    assert _login(client, "office", "pw-for-tests", proxy, forwarded="198.51.100.7").status_code == 429
    # A forged X-Forwarded-For does not help: the proxy appends the address it really saw.
    forged = "203.0.113.50, 198.51.100.7"
    assert _login(client, "office", "pw-for-tests", proxy, forwarded=forged).status_code == 429
    # Everyone else behind the same proxy is unaffected.
    assert _login(client, "office", "pw-for-tests", proxy, forwarded="198.51.100.8").status_code == 302


@pytest.mark.parametrize(
    ("trusted", "forwarded", "remote", "client"),
    [
        (0, "1.1.1.1", "8.8.8.8", "8.8.8.8"),  # no proxy: the header is the client's own words
        (1, "", "8.8.8.8", "8.8.8.8"),
        (1, "9.9.9.9", "10.0.0.2", "9.9.9.9"),
        (1, "1.1.1.1, 9.9.9.9", "10.0.0.2", "9.9.9.9"),  # forged entry on the left ignored
        (2, "1.1.1.1, 9.9.9.9, 172.16.0.5", "10.0.0.2", "9.9.9.9"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(rf, settings, trusted, forwarded, remote, client):
    from rectify.security import client_ip

    settings.RECTIFY_TRUSTED_PROXY_COUNT = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == client


@pytest.mark.django_db
def test_reading_pages_does_not_write_the_session(client, office_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(office_user)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("tasks:ledger"))
        client.get(reverse("tasks:ledger"))
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert writes == []
