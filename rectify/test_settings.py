"""Settings for the test suite: the real settings with test-only secrets and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("EMAIL_URL", "locmem:")
# The test client and live server speak plain HTTP; production settings are checked by
# `manage.py check --deploy` in tests/test_production_settings.py.
os.environ.setdefault("HTTPS", "0")

from rectify.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Jobs queued from tests run in-process unless a test talks to a real worker (that worker's
# environment sets CELERY_TASK_ALWAYS_EAGER=0; see the celery_worker_process fixture).
from rectify.env import env_bool  # noqa: E402

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# A test worker may use a test-only e-mail backend (a slow or failing one).
if os.environ.get("RECTIFY_TEST_EMAIL_BACKEND"):
    EMAIL_BACKEND = os.environ["RECTIFY_TEST_EMAIL_BACKEND"]

# django-axes logs every login at INFO; in tests that drowns the failures worth reading.
LOGGING["loggers"] = {"axes": {"level": "WARNING"}}  # noqa: F405
