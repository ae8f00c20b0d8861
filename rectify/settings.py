"""Rectify settings: one module, driven by environment variables.

Unset variables fall back to the zero-set-up defaults that `make run` uses:
SQLite under var/, kombu's filesystem broker, e-mails written to var/mail/.
Production sets DATABASE_URL, REDIS_URL, EMAIL_URL, SECRET_KEY and DEBUG=0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rectify.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RECTIFY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "rectify-insecure-development-key-only-for-debug"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "axes",
    "rectify",
    "tasks",
    "accountability",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "rectify.middleware.SessionTimeoutMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rectify.urls"
WSGI_APPLICATION = "rectify.wsgi.application"
ASGI_APPLICATION = "rectify.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rectify.context_processors.queue_status",
                "rectify.context_processors.calendar_status",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}
_database_url = env_url("DATABASE_URL", _DB_SCHEMES)
if _database_url is None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'rectify.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not valid: {exc}") from None
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Several processes (web, worker, beat) share the file: wait, don't fail.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------

AUTH_USER_MODEL = "rectify.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "rectify.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Security -------------------------------------------------------------
# HTTPS is on by default in production (DEBUG off); a deployment that terminates TLS at a
# reverse proxy sets TRUST_X_FORWARDED_PROTO=1 so Django knows the request was secure.

HTTPS = env_bool("HTTPS", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    # __Host- cookies: Secure, Path=/, no Domain: a sibling subdomain cannot plant or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = "__Host-language"
    LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Sessions: idle timeout (default 30 minutes) and an absolute one (default 12 hours).
RECTIFY_SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_MINUTES", 30) * 60
RECTIFY_SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_AGE = RECTIFY_SESSION_ABSOLUTE_SECONDS
# No inline script anywhere: every script is a file the app serves.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # style attributes in server-rendered SVG
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# django-axes: lock a username at one IP after repeated failures, for a cool-off only. The
# client IP is read behind TRUSTED_PROXY_COUNT reverse proxies, so one attacker behind the
# proxy cannot lock everybody out (all requests would otherwise share the proxy's address).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
RECTIFY_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "rectify.security.client_ip"

# --- Language and time ----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "rectify" / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail -----------------------------------------------------------------


def _email_settings() -> dict[str, object]:
    """EMAIL_URL: smtp://user:pass@host:25, smtp+tls://…:587, smtp+ssl://…:465,
    file:///absolute/dir (or file:relative), console:, locmem:. Unset: var/mail/."""
    raw = env_str("EMAIL_URL").strip()
    if not raw:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
        }
    parts = urlsplit(raw)
    if parts.scheme in {"smtp", "smtp+tls", "smtp+ssl"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL={raw!r} has no host")
        try:
            port = parts.port or {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[parts.scheme]
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL={raw!r} has a bad port") from None
        return {
            "EMAIL_BACKEND": "rectify.mail.SMTPBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
            "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
        }
    if parts.scheme == "file":
        path = parts.path or parse_qs(parts.query).get("path", [""])[0]
        if not path:
            raise ImproperlyConfigured(f"EMAIL_URL={raw!r} names no directory")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": path if path.startswith("/") else str(BASE_DIR / path),
        }
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    raise ImproperlyConfigured(
        f"EMAIL_URL={raw!r}: scheme must be smtp, smtp+tls, smtp+ssl, file, console or locmem"
    )


globals().update(_email_settings())
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "整改办 <rectify@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# An SMTP server that hangs must not hold a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# Once a server has the whole message, its answer is awaited this long (RFC 5321 allows 10
# minutes); a time limit firing meanwhile does not abandon the message (rectify/mail.py).
RECTIFY_SMTP_DATA_TIMEOUT = env_int("RECTIFY_SMTP_DATA_TIMEOUT", 60)

# --- Celery -----------------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", {"redis", "rediss"})
RECTIFY_BROKER_VISIBILITY_TIMEOUT = env_int("RECTIFY_BROKER_VISIBILITY_TIMEOUT", 600)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A job taken by a worker that died is handed out again after this long. Every job's time
    # limit and retry countdown stay below it (reports/jobs.py); deliveries do not wait for it
    # at all (the sweeper finds them in the database).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RECTIFY_BROKER_VISIBILITY_TIMEOUT}
else:
    _broker_dir = VAR_DIR / "broker"
    for sub in ("in", "processed"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Defaults for a job without limits of its own; below the visibility timeout, like every job's.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 270
if REDIS_URL and CELERY_TASK_TIME_LIMIT >= RECTIFY_BROKER_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("RECTIFY_BROKER_VISIBILITY_TIMEOUT must exceed every job's time limit (300 s)")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's scheduler writes its heartbeat on each tick (rectify/beat.py).
CELERY_BEAT_SCHEDULER = "rectify.beat:HeartbeatScheduler"
# Liveness (rectify/liveness.py): worker and beat write a heartbeat this often; older than the
# stale limit, the office is told "后台任务未运行" and /healthz answers 503.
RECTIFY_HEARTBEAT_SECONDS = env_int("RECTIFY_HEARTBEAT_SECONDS", 30)
RECTIFY_HEARTBEAT_STALE_SECONDS = env_int("RECTIFY_HEARTBEAT_STALE_SECONDS", 180)
if not 0 < RECTIFY_HEARTBEAT_SECONDS < RECTIFY_HEARTBEAT_STALE_SECONDS:
    raise ImproperlyConfigured("RECTIFY_HEARTBEAT_SECONDS must be positive and below RECTIFY_HEARTBEAT_STALE_SECONDS")
# One place for every schedule, in Asia/Shanghai. Nothing runs 01:00-04:00.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "rectify.jobs.heartbeat", "schedule": crontab(minute="*/5")},
    # Work asked for while Redis was down goes out within a minute of its return.
    "held-jobs-release": {"task": "rectify.jobs.held_jobs_release", "schedule": crontab(minute="*", hour="0,4-23")},
}

# --- Rectify ----------------------------------------------------------------

# Backups (rectify/backup.py): encrypted with this key (32 bytes, URL-safe base64; without it
# nothing is backed up or restored); nightly at 04:30 into RECTIFY_BACKUP_DIR, keeping the newest
# RECTIFY_BACKUP_KEEP.
RECTIFY_BACKUP_KEY = env_str("RECTIFY_BACKUP_KEY", "")
RECTIFY_BACKUP_DIR = env_str("RECTIFY_BACKUP_DIR", str(VAR_DIR / "backups"))
RECTIFY_BACKUP_KEEP = env_int("RECTIFY_BACKUP_KEEP", 14)
if RECTIFY_BACKUP_KEEP < 1:
    raise ImproperlyConfigured("RECTIFY_BACKUP_KEEP must be at least 1")
CELERY_BEAT_SCHEDULE["backup-nightly"] = {
    "task": "rectify.jobs.backup_nightly", "schedule": crontab(hour=4, minute=30),
}

RECTIFY_DEMO_PLAN = "shanxi-2017"
# Weekly reports are due by (weekday, hour): Monday is 0, so Wednesday 18:00 is (2, 18).
RECTIFY_REPORT_CUTOFF = (env_int("RECTIFY_REPORT_CUTOFF_WEEKDAY", 2), env_int("RECTIFY_REPORT_CUTOFF_HOUR", 18))
if not (0 <= RECTIFY_REPORT_CUTOFF[0] <= 6 and 0 <= RECTIFY_REPORT_CUTOFF[1] <= 23):
    raise ImproperlyConfigured("RECTIFY_REPORT_CUTOFF_WEEKDAY must be 0-6 and RECTIFY_REPORT_CUTOFF_HOUR 0-23")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Accountability register (责任追究): a stage open longer than this is overdue in the figures;
# a task overdue longer than the threshold may be raised as a case; uploads are capped.
RECTIFY_ACCOUNTABILITY_STAGE_DAYS = env_int("RECTIFY_ACCOUNTABILITY_STAGE_DAYS", 30)
RECTIFY_ACCOUNTABILITY_OVERDUE_DAYS = env_int("RECTIFY_ACCOUNTABILITY_OVERDUE_DAYS", 90)
RECTIFY_ACCOUNTABILITY_UPLOAD_MAX_MB = env_int("RECTIFY_ACCOUNTABILITY_UPLOAD_MAX_MB", 20)
# --- Officials' workspace: evidence and sign-off (issue 3) ---------------------
# Evidence files (佐证材料): one file at most this big; Office files (zip inside) may unpack
# to at most RECTIFY_EVIDENCE_MAX_UNPACKED bytes, or they are refused as an archive bomb.
RECTIFY_EVIDENCE_MAX_BYTES = env_int("RECTIFY_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
# Video of an on-site check (MP4) is larger than any photo or document.
RECTIFY_EVIDENCE_MAX_VIDEO_BYTES = env_int("RECTIFY_EVIDENCE_MAX_VIDEO_BYTES", 100 * 1024 * 1024)
RECTIFY_EVIDENCE_MAX_UNPACKED = env_int("RECTIFY_EVIDENCE_MAX_UNPACKED", 200 * 1024 * 1024)
RECTIFY_EVIDENCE_MAX_FILES = env_int("RECTIFY_EVIDENCE_MAX_FILES", 10)
# 销号公示: the public notice lasts this many working days (Chinese calendar) after verification.
RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS = env_int("RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS", 7)
if RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS < 1:
    raise ImproperlyConfigured("RECTIFY_SIGNOFF_NOTICE_WORKING_DAYS must be at least 1")
# 公示异议: objections the public may lodge without logging in, at most this many from one
# address per hour and per day, and on one task per day (counted in the database).
RECTIFY_OBJECTION_PER_ADDRESS_HOUR = env_int("RECTIFY_OBJECTION_PER_ADDRESS_HOUR", 3)
RECTIFY_OBJECTION_PER_ADDRESS_DAY = env_int("RECTIFY_OBJECTION_PER_ADDRESS_DAY", 10)
RECTIFY_OBJECTION_PER_TASK_DAY = env_int("RECTIFY_OBJECTION_PER_TASK_DAY", 30)
# Tasks whose public notice has ended are closed from 06:10 (see tasks/jobs.py), and again each
# hour until midnight: a run missed while Redis was down is made up within the hour, and a run
# that finds nothing due changes nothing.
CELERY_BEAT_SCHEDULE["signoff-close-due"] = {
    "task": "tasks.jobs.signoff_close_due_job", "schedule": crontab(hour="6-23", minute=10),
}
# kombu's filesystem transport keeps its exchange table in ./control of whatever directory the
# process started in unless told otherwise: keep it with the rest of the broker under var/.
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"] = str(VAR_DIR / "broker" / "control")

# --- Dispatches, bulletins, reminders (reports/) ------------------------------
# Weekday as in Python (Monday is 0): the dispatch goes out Thursday 09:00 by default.
RECTIFY_DISPATCH_WEEKDAY = env_int("RECTIFY_DISPATCH_WEEKDAY", 3)
RECTIFY_DISPATCH_HOUR = env_int("RECTIFY_DISPATCH_HOUR", 9)
RECTIFY_BULLETIN_HOUR = env_int("RECTIFY_BULLETIN_HOUR", 9)
RECTIFY_REMINDER_HOUR = env_int("RECTIFY_REMINDER_HOUR", 8)
RECTIFY_PUBLICATION_WEEKDAY = env_int("RECTIFY_PUBLICATION_WEEKDAY", 4)
RECTIFY_PUBLICATION_DRAFT_HOUR = env_int("RECTIFY_PUBLICATION_DRAFT_HOUR", 15)
# Reminders: days before a deadline; escalation after so many days overdue.
RECTIFY_DEADLINE_REMINDER_DAYS = (7, 3, 1)
RECTIFY_ESCALATE_HEAD_AFTER_DAYS = env_int("RECTIFY_ESCALATE_HEAD_AFTER_DAYS", 7)
RECTIFY_ESCALATE_OFFICE_AFTER_DAYS = env_int("RECTIFY_ESCALATE_OFFICE_AFTER_DAYS", 14)
# A delivery "claimed" longer than this was lost with its worker. Never handed to a server: the
# sweeper sends it again (safe: a late original finds its claim gone and stops before the end
# of DATA). Handed over without an answer: it becomes "结果不明" and is not sent again by itself.
# It exceeds the send job's hard time limit, so no worker still waits on a server's answer then.
RECTIFY_DELIVERY_SOFT_TIME_LIMIT = env_int("RECTIFY_DELIVERY_SOFT_TIME_LIMIT", 100)
RECTIFY_DELIVERY_TIME_LIMIT = env_int("RECTIFY_DELIVERY_TIME_LIMIT", 120)
RECTIFY_CLAIM_STALE_SECONDS = env_int("RECTIFY_CLAIM_STALE_SECONDS", 150)
# A delivery still pending this long lost its queue message: the sweeper queues it again. Above
# the longest retry backoff (240 s, reports/jobs.py), so a retry's wait is never cut short.
RECTIFY_PENDING_REQUEUE_SECONDS = env_int("RECTIFY_PENDING_REQUEUE_SECONDS", 600)
if not 0 < RECTIFY_DELIVERY_SOFT_TIME_LIMIT < RECTIFY_DELIVERY_TIME_LIMIT:
    raise ImproperlyConfigured("RECTIFY_DELIVERY_SOFT_TIME_LIMIT must be below RECTIFY_DELIVERY_TIME_LIMIT")
for _name in ("RECTIFY_DISPATCH_HOUR", "RECTIFY_BULLETIN_HOUR", "RECTIFY_REMINDER_HOUR",
              "RECTIFY_PUBLICATION_DRAFT_HOUR"):
    if not (0 <= globals()[_name] <= 23) or 1 <= globals()[_name] < 4:
        raise ImproperlyConfigured(f"{_name} must be an hour 0-23 outside 01:00-04:00 (maintenance window)")
for _name in ("RECTIFY_DISPATCH_WEEKDAY", "RECTIFY_PUBLICATION_WEEKDAY"):
    if not 0 <= globals()[_name] <= 6:
        raise ImproperlyConfigured(f"{_name} must be 0 (Monday) to 6 (Sunday)")


def _cron_weekday(python_weekday: int) -> int:
    """Celery's crontab counts Sunday as 0; Python's weekday() counts Monday as 0."""
    return (python_weekday + 1) % 7


CELERY_BEAT_SCHEDULE.update({
    # Daily: the dispatch is due on Thursday, or on the next working day when that is a holiday
    # (rectify/calendar.py); the job itself knows whether today is the day.
    "reports-dispatch-weekly": {
        "task": "reports.jobs.dispatch_weekly",
        "schedule": crontab(minute=0, hour=RECTIFY_DISPATCH_HOUR),
    },
    # Daily: the job itself knows whether today is the month's first working day.
    "reports-bulletin-monthly": {
        "task": "reports.jobs.bulletin_monthly",
        "schedule": crontab(minute=0, hour=RECTIFY_BULLETIN_HOUR),
    },
    "reports-reminders-daily": {
        "task": "reports.jobs.reminders_daily",
        "schedule": crontab(minute=30, hour=RECTIFY_REMINDER_HOUR),
    },
    "reports-publication-draft": {
        "task": "reports.jobs.publication_draft_weekly",
        "schedule": crontab(minute=0, hour=RECTIFY_PUBLICATION_DRAFT_HOUR,
                            day_of_week=_cron_weekday(RECTIFY_DISPATCH_WEEKDAY)),
    },
    # Catch-up: whatever fell due while beat was down goes out now, once.
    "reports-catch-up": {
        "task": "reports.jobs.catch_up",
        "schedule": crontab(minute="7,22,37,52", hour="0,4-23"),
    },
    "reports-sweep-deliveries": {
        "task": "reports.jobs.deliveries_sweep",
        "schedule": crontab(minute="*", hour="0,4-23"),
    },
})
