"""Project settings, read from the environment.

With no environment at all the project runs embedded: a SQLite file, a Celery broker on the
filesystem and e-mail written to files, so `make run` needs no outside service. Production sets
`DJANGO_SECRET_KEY`, `DJANGO_DEBUG=0`, `DJANGO_ALLOWED_HOSTS`, `DATABASE_URL`, `REDIS_URL` (or
`CELERY_BROKER_URL`) and the SMTP variables; see the README.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET = "insecure-development-key-only-for-the-embedded-demo-setup-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.health",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "inventory",
    "inventory.notifications",
    "courses",
]

MIDDLEWARE = [
    # First: every response, a redirect or an error included, carries the request id and is logged.
    "config.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # serves our own static assets, no CDN
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "config.health.context_processors.service_banner",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL (needed for row locks under
# many concurrent web/worker processes); the default is a SQLite file for the embedded set-up.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The file's folder is made by the entry points (manage.py, wsgi.py, the Celery processes:
    # config.paths), never here: importing settings has no effect on the filesystem.
    # SQLite: wait for the writer lock instead of failing at once when web and worker both write.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when configured, so every web process shares it) ----------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Time: the hospital's own zone; doses are planned in it ------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production: DJANGO_DEBUG=0) ------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
# Probes of load balancers and monitoring speak plain HTTP to the app's own port.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))  # one shift

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Infusion pharmacy API",
    "DESCRIPTION": "Formulary, treatment courses, doses and vial stock. Every 4xx answers "
    '`{"error": {"status", "code", "message", "fields", "request_id"}}`; a lost database '
    "connection answers 503 in the same shape.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files: no CDN on a ward network
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set (several models have a `kind` or a `status`).
    "ENUM_NAME_OVERRIDES": {
        "DoseUnitEnum": "courses.models.DoseUnit",
        "CourseStatusEnum": "courses.models.CourseStatus",
        "DoseStatusEnum": "courses.models.DoseStatus",
        "LotStatusEnum": "inventory.models.LotStatus",
        "LocationKindEnum": "inventory.models.LocationKind",
        "MovementKindEnum": "inventory.models.MovementKind",
        "NotificationKindEnum": "inventory.notifications.models.NotificationKind",
        "NotificationStatusEnum": "inventory.notifications.models.NotificationStatus",
    },
}

# --- Celery --------------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport (no service to run). Production: Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery" / "broker"  # made by config.paths.var_dirs_ensure
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # Redis: a message not acknowledged within this time is delivered again (acks_late tasks).
    # RabbitMQ ignores it: an unacknowledged message goes back when the worker's channel closes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# One queue name per deployment (or per test run, so parallel runs never take each other's tasks).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
# A task is acknowledged when it has finished, not when it starts: a worker stopped or killed in
# the middle leaves it to be delivered again (every task here is safe to run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# The schedule store is a file kept by the one beat process (see README "Exactly one beat"); its
# folder is made by the scheduler itself when it opens it, whatever the broker. The scheduler also
# records beat's heartbeat, which /readyz and the pharmacists' banner read.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULER = "config.health.beat:Scheduler"
# Beat wakes (and records its heartbeat) at least this often (the second name is the one
# `celery beat` itself reads).
CELERY_BEAT_MAX_INTERVAL = CELERY_BEAT_MAX_LOOP_INTERVAL = 30
# --- Health (config.health) --------------------------------------------------------------------
# Beat records a tick at least every HEALTH_BEAT_INTERVAL_SECONDS; a worker runs the heartbeat
# task as often. Either is reported down once its last record is older than two intervals.
HEALTH_BEAT_INTERVAL_SECONDS = int(os.environ.get("HEALTH_BEAT_INTERVAL_SECONDS", "60"))
HEALTH_PING_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_PING_TIMEOUT_SECONDS", "2"))


def _every(task: str, seconds: int) -> dict:
    # `expires`: a tick that waited behind a busy worker until the next one is dropped, not piled.
    return {
        "task": task,
        "schedule": float(seconds),
        "options": {"expires": max(seconds - 5, seconds / 2)},
    }


NOTIFICATION_SEND_INTERVAL_SECONDS = int(os.environ.get("NOTIFICATION_SEND_INTERVAL_SECONDS", "60"))


CELERY_BEAT_SCHEDULE: dict = {
    # A worker's heartbeat, read by the pharmacists' banner without pinging on every page.
    "health-worker-heartbeat": _every("health.worker_heartbeat", HEALTH_BEAT_INTERVAL_SECONDS),
    # Reminders are rows found by this scan, not ETA messages; a tick that finds nothing is cheap,
    # and `expires` drops ticks that queued up behind a busy worker instead of piling them.
    # NOTIFICATION_SEND_INTERVAL_SECONDS: shorter in the outage test and the stress run.
    "notifications-send-due": _every("notifications.send_due", NOTIFICATION_SEND_INTERVAL_SECONDS),
    # The alert scans select what is due and enqueue rows with unique keys, then wake the sender:
    # running one twice (or from two beat schedulers) stores nothing twice.
    **{
        name: _every(task, seconds)
        for name, task, seconds in [
            ("dose-reminders", "courses.dose_reminders_scan", 60),
            # Each ward at its own digest_time: the scan sends the ones that have come due.
            ("ward-digests", "courses.ward_digests_scan", 60),
            ("doses-overdue", "courses.doses_overdue_scan", 300),
            ("excursion-reminders", "inventory.excursion_reminders_scan", 300),
        ]
    },
    # After midnight's expiry marking, before the pharmacy opens.
    "lots-expire": {"task": "inventory.lots_expire", "schedule": crontab(hour=0, minute=5)},
    "expiry-alerts": {"task": "inventory.expiry_alerts", "schedule": crontab(hour=6, minute=30)},
    # Hourly: a course prescribed at noon can create tomorrow's shortage.
    "shortage-alerts": {"task": "inventory.shortage_alerts", "schedule": crontab(minute=15)},
    # Hourly: vials held for today's and tomorrow's doses (skips doses already holding theirs).
    "doses-reserve": {"task": "courses.doses_reserve_scan", "schedule": crontab(minute=40)},
}

# --- E-mail --------------------------------------------------------------------------------------
# EMAIL_HOST set → SMTP; otherwise messages are written as files to var/mail (the embedded demo).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
else:
    EMAIL_BACKEND = os.environ.get(
        "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "pharmacy@hospital.invalid")

# --- Notifications (inventory.notifications) ----------------------------------------------------
NOTIFICATION_BATCH_SIZE = int(os.environ.get("NOTIFICATION_BATCH_SIZE", "200"))  # per connection
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "6"))
NOTIFICATION_RETRY_BASE_SECONDS = int(os.environ.get("NOTIFICATION_RETRY_BASE_SECONDS", "60"))
NOTIFICATION_RETRY_MAX_SECONDS = int(os.environ.get("NOTIFICATION_RETRY_MAX_SECONDS", "3600"))
# A claimed batch belongs to its worker this long; a killed worker's rows are re-sent after it.
NOTIFICATION_CLAIM_LEASE_SECONDS = int(os.environ.get("NOTIFICATION_CLAIM_LEASE_SECONDS", "300"))
# One run stops claiming after this; it must end inside the task's soft time limit.
NOTIFICATION_TIME_BUDGET_SECONDS = int(os.environ.get("NOTIFICATION_TIME_BUDGET_SECONDS", "150"))
NOTIFICATION_TASK_SOFT_TIME_LIMIT = int(os.environ.get("NOTIFICATION_TASK_SOFT_TIME_LIMIT", "240"))
NOTIFICATION_MESSAGE_ID_DOMAIN = os.environ.get(
    "NOTIFICATION_MESSAGE_ID_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
)

# --- Domain alerts (courses.alerts, inventory.alerts) -----------------------------------------
# A reminder still goes out this long after the dose time (a late scan); older doses are left to
# the overdue alert instead of reminding about a dose that is long past.
DOSE_REMINDER_LATE_MINUTES = int(os.environ.get("DOSE_REMINDER_LATE_MINUTES", "30"))
# ISMP "Acceptable Administration Times for Scheduled Medications": daily, weekly and less
# frequent doses within 2 hours of the scheduled time. Past it a dose is overdue (the ward is
# alerted) and recording it needs a reason.
DOSE_OVERDUE_HOURS = int(os.environ.get("DOSE_OVERDUE_HOURS", "2"))
DOSE_ESCALATION_HOURS = int(os.environ.get("DOSE_ESCALATION_HOURS", "6"))  # then the pharmacists
# Doses unrecorded for longer than escalation + this are not alerted (a first start, an outage).
DOSE_ALERT_WINDOW_HOURS = int(os.environ.get("DOSE_ALERT_WINDOW_HOURS", "24"))
EXPIRY_ALERT_DAYS = sorted(
    (int(days) for days in env_list("EXPIRY_ALERT_DAYS", "90,30,7")), reverse=True
)
EXCURSION_REMINDER_HOURS = int(os.environ.get("EXCURSION_REMINDER_HOURS", "4"))
SHORTAGE_HORIZON_DAYS = int(os.environ.get("SHORTAGE_HORIZON_DAYS", "7"))

# --- Logging -------------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (request lines, task lines, everything else), each
# with the request id of the request or task it belongs to. config/logging.py.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Our request lines replace Django's own (which repeat 4xx/5xx without the request id).
    "loggers": {"django.request": {"level": "ERROR"}},
}

# A dose prepared by a pharmacist is released to the ward (recorded as given) only after a second
# person has checked its preparation (courses/services/preparation.py).
PREPARATION_DOUBLE_CHECK_REQUIRED = env_bool("PREPARATION_DOUBLE_CHECK_REQUIRED", False)
