"""A bad environment value stops the process at start-up and names the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

CHECK = [sys.executable, "manage.py", "check"]


def run_with(**env):
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}}
    full.update({"DJANGO_SETTINGS_MODULE": "rectify.settings", "SECRET_KEY": "x", "DEBUG": "1"})
    full.update(env)
    return subprocess.run(CHECK, cwd=settings.BASE_DIR, env=full, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"EMAIL_URL": "pigeon://coop"}, "EMAIL_URL"),
        ({"EMAIL_TIMEOUT": "soon"}, "EMAIL_TIMEOUT"),
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"RECTIFY_DELIVERY_SOFT_TIME_LIMIT": "120", "RECTIFY_DELIVERY_TIME_LIMIT": "100"},
         "RECTIFY_DELIVERY_SOFT_TIME_LIMIT"),
        ({"RECTIFY_HEARTBEAT_SECONDS": "600"}, "RECTIFY_HEARTBEAT_SECONDS"),
        ({"RECTIFY_CLAIM_STALE_SECONDS": "soon"}, "RECTIFY_CLAIM_STALE_SECONDS"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "RECTIFY_BROKER_VISIBILITY_TIMEOUT": "60"},
         "RECTIFY_BROKER_VISIBILITY_TIMEOUT"),
    ],
)
def test_bad_value_refuses_to_start_and_names_the_variable(env, named):
    result = run_with(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_good_values_start():
    result = run_with(DATABASE_URL="sqlite:////tmp/rectify-env-test.sqlite3", EMAIL_URL="smtp+tls://u:p@mail.example:587")
    assert result.returncode == 0, result.stderr


def test_defaults_are_the_documented_ones():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.EMAIL_TIMEOUT > 0
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
