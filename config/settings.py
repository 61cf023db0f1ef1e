"""Project settings, read from the environment.

Safe by default: without `DJANGO_DEBUG=1` these are production settings, and they refuse to start
without `DJANGO_SECRET_KEY` (a deployment that forgets a variable must not serve debug pages with
patient data or sign sessions with a public key). `DJANGO_DEBUG=1` (what `make run` exports) gives
the embedded set-up: a SQLite file, a Celery broker on the filesystem and e-mail written to files,
so the demo needs no outside service. Production sets `DJANGO_SECRET_KEY`, `DJANGO_ALLOWED_HOSTS`,
`DATABASE_URL`, `REDIS_URL` (or `CELERY_BROKER_URL`) and the SMTP variables; see the README.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

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


DEBUG = env_bool("DJANGO_DEBUG", False)

_DEV_SECRET = "insecure-development-key-only-for-the-embedded-demo-setup-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set (or DJANGO_DEBUG=1 for the embedded demo only)"
    )

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
    # Our AppConfigs for knox, axes and pghistory, and config.libraries after auth, axes and
    # knox: the libraries' admin screens in our words (config/libraries/__init__.py).
    "config.libraries.apps.KnoxConfig",
    "config.libraries.apps.AxesConfig",
    "config.libraries.apps.LibrariesConfig",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "config.libraries.apps.PghistoryConfig",
    "history",
    "inventory",
    "notifications",
    "courses",
]

MIDDLEWARE = [
    # First: every response, a redirect or an error included, carries the request id and is logged.
    "config.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # serves our own static assets, no CDN
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # Accept-Language, then LANGUAGE_CODE
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.i18n.UserLanguageMiddleware",  # a signed-in user's own language wins
    "history.context.HistoryMiddleware",  # who/which request for the history (PostgreSQL)
    "config.accounts.SessionIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into its answer
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
                "config.context_processors.write_refused",
                "config.health.context_processors.service_banner",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL (needed for row locks under
# many concurrent web/worker processes); the default is a SQLite file for the embedded set-up.
# Persistent connections: Django keeps one connection per thread for CONN_MAX_AGE seconds. Under
# gunicorn's sync workers (one thread per process) and Celery's prefork pool that is one
# connection per process, so size max_connections ≥ web processes × threads + worker concurrency
# + beat + headroom; the health check drops a connection the server closed instead of failing the
# next request on it. The development server starts a thread per request, each holding its own
# connection for CONN_MAX_AGE: in debug the default is 0 (close after each request).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0" if DEBUG else "60")),
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
# --- Accounts (config/accounts.py) -------------------------------------------------------------
# Sign-in lockout (django-axes) on every password entry point: the API token, the login page and
# the admin. LOGIN_FAILURE_LIMIT failures for one username, or from one client address, lock
# that username or address for LOGIN_LOCKOUT_MINUTES (the right password is refused meanwhile).
# The attempts live in the database that every web process shares and that the admin lists.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.accounts.client_ip"
AXES_VERBOSE = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure listed in the admin, "locked out" marked
AXES_SENSITIVE_PARAMETERS = []  # the log names the username and address; a password never
# API tokens (django-rest-knox, hashed at rest): expire after this long unused, and this long
# after issue whatever the use. A sensor gateway posting every minute signs in again weekly.
API_TOKEN_IDLE_MINUTES = int(os.environ.get("API_TOKEN_IDLE_MINUTES", "480"))
API_TOKEN_MAX_HOURS = int(os.environ.get("API_TOKEN_MAX_HOURS", "168"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(minutes=API_TOKEN_IDLE_MINUTES),
    "AUTO_REFRESH": True,  # each use moves the expiry to now + the idle limit …
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=API_TOKEN_MAX_HOURS),  # … never past this
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",  # clients keep sending `Authorization: Token <key>`
    "USER_SERIALIZER": None,
}
# Shared ward computers: a browser session unused this long is signed out.
SESSION_IDLE_TIMEOUT_MINUTES = int(os.environ.get("SESSION_IDLE_TIMEOUT_MINUTES", "15"))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Languages (config/i18n.py) -----------------------------------------------------------------
# Pages, forms, e-mails, API error messages and command output in English or Ukrainian. A signed-in
# user's own choice (Settings page) wins, then the browser's Accept-Language, then LANGUAGE_CODE.
# The default is English so that machine clients of the API (which send no Accept-Language) and
# the logs keep English; a Ukrainian hospital sets LANGUAGE_CODE=uk and every ward tablet whose
# browser asks for Ukrainian gets it anyway. English is British English (day-month-year dates).
# One catalogue for the whole project (config/locale/uk); `make install` compiles it.
LANGUAGES = [("en-gb", "English"), ("uk", "Українська")]
LANGUAGE_CODE = (os.environ.get("LANGUAGE_CODE") or "en-gb").strip().lower()
LANGUAGE_CODE = "en-gb" if LANGUAGE_CODE == "en" else LANGUAGE_CODE
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True

# --- Time: the hospital's own zone; doses are planned in it ------------------------------------
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        # STATIC_COMPRESS=0: hashed names without the gzip/brotli copies (collectstatic takes
        # minutes compressing the API docs' bundles with brotli; the stress run skips that).
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_COMPRESS", True)
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
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

# --- History (django-pghistory; recorded by PostgreSQL triggers) --------------------------------
# Event rows are append-only (a trigger refuses UPDATE/DELETE); `manage.py history_prune` is the
# one path that deletes them, and only those older than HISTORY_RETENTION_DAYS.
PGHISTORY_APPEND_ONLY = True
# The triggers (capture and append-only) are installed by `migrate` itself, after the tables:
# pgtrigger's migration operations would have to live in django.contrib.auth's migrations for the
# user table and cannot target the membership (many-to-many) tables at all.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HISTORY_RETENTION_DAYS = int(os.environ.get("HISTORY_RETENTION_DAYS", str(10 * 365)))

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # No OPTIONS metadata (405): the OpenAPI schema describes the API, and DRF's metadata answers
    # before object scoping and per-action role checks run (the access matrix found a nurse of
    # another ward reading the description of a course's endpoint).
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    # DRF's defaults, JSON refusing NUL characters (config.api.JSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.ContractSchema",
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
    # Tags and operation ids per resource (`lots`, `stock`, …), not one `v1` for everything.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The API reads JSON; form encodings would only be a second, untested way in.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "TAGS": [
        {"name": "auth", "description": "API tokens."},
        {"name": "products", "description": "Products from the leaflets."},
        {"name": "presentations", "description": "Strengths, containers, packs and GTINs."},
        {"name": "protocols", "description": "Regimens from the leaflets, phases nested."},
        {"name": "wards", "description": "Wards and their mailboxes."},
        {"name": "locations", "description": "Fridges, cold rooms and rooms."},
        {"name": "lots", "description": "Lots, receiving, status changes and recipients."},
        {"name": "movements", "description": "The stock ledger (read-only)."},
        {"name": "stock", "description": "Stock counts, forecast and vial-moving actions."},
        {"name": "readings", "description": "Temperature readings."},
        {"name": "excursions", "description": "Temperature excursions and their review."},
        {"name": "patients", "description": "Patients and their weights."},
        {"name": "courses", "description": "Treatment courses: prescribing, status, exports."},
        {"name": "doses", "description": "Doses and their recording."},
        {"name": "notifications", "description": "The e-mail outbox."},
        {"name": "me", "description": "The signed-in user and their calendar feeds."},
        {"name": "calendar", "description": "Calendar feeds, reached by their secret token."},
        {"name": "fhir", "description": "Read-only FHIR R4 resources (application/fhir+json)."},
    ],
    # One schema name per choice set (several models have a `kind` or a `status`).
    "ENUM_NAME_OVERRIDES": {
        "DoseUnitEnum": "courses.models.DoseUnit",
        "CourseStatusEnum": "courses.models.CourseStatus",
        "DoseStatusEnum": "courses.models.DoseStatus",
        "LotStatusEnum": "inventory.models.LotStatus",
        "LocationKindEnum": "inventory.models.LocationKind",
        "MovementKindEnum": "inventory.models.MovementKind",
        "NotificationKindEnum": "notifications.models.NotificationKind",
        "NotificationStatusEnum": "notifications.models.NotificationStatus",
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
            ("sensor-silence", "inventory.sensor_silence_scan", 300),
        ]
    },
    # After midnight's expiry marking, before the pharmacy opens.
    "lots-expire": {"task": "inventory.lots_expire", "schedule": crontab(hour=0, minute=5)},
    "expiry-alerts": {"task": "inventory.expiry_alerts", "schedule": crontab(hour=6, minute=30)},
    # Hourly: a course prescribed at noon can create tomorrow's shortage.
    "shortage-alerts": {"task": "inventory.shortage_alerts", "schedule": crontab(minute=15)},
    # Hourly: vials held for today's and tomorrow's doses (skips doses already holding theirs).
    "doses-reserve": {"task": "courses.doses_reserve_scan", "schedule": crontab(minute=40)},
    # Nightly, when writes are quiet: history past HISTORY_RETENTION_DAYS (default ten years;
    # 0 keeps everything) — the one deletion of history rows.
    "history-prune": {"task": "history.prune", "schedule": crontab(hour=3, minute=20)},
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

# --- Notifications (notifications) ----------------------------------------------------
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
# The daily expiry digest summarises every lot that newly crossed a threshold (counts per
# threshold and presentation) but lists at most this many lots, actionable ones first; the rest
# are "and N more" on the stock page's expiry list. A list of thousands is one nobody reads.
EXPIRY_ALERT_LIST_LIMIT = max(1, int(os.environ.get("EXPIRY_ALERT_LIST_LIMIT", "100")))
EXCURSION_REMINDER_HOURS = int(os.environ.get("EXCURSION_REMINDER_HOURS", "4"))
# The prescribe page lists every patient the prescriber may see up to this many; beyond it, the
# patient is found by name or MRN (a select of a large hospital's patients was megabytes).
PRESCRIBE_PATIENTS_LISTED = max(1, int(os.environ.get("PRESCRIBE_PATIENTS_LISTED", "200")))
# An excursion at a pharmacy fridge quarantines thousands of lots: its e-mails and the cold-chain
# page name at most this many of them; the rest are "and N more" on the stock page (location).
EXCURSION_LOTS_LISTED = max(1, int(os.environ.get("EXCURSION_LOTS_LISTED", "50")))
SHORTAGE_HORIZON_DAYS = int(os.environ.get("SHORTAGE_HORIZON_DAYS", "7"))
# Cold chain: a reading dated more than this ahead of the server clock is refused (a sensor's
# clock running fast must not stamp "latest" readings in the future); a location with a sensor
# that sent no reading for SENSOR_SILENT_MINUTES raises a "sensor silent" alert.
READING_CLOCK_SKEW_MINUTES = int(os.environ.get("READING_CLOCK_SKEW_MINUTES", "5"))
SENSOR_SILENT_MINUTES = int(os.environ.get("SENSOR_SILENT_MINUTES", "60"))

# --- Interoperability: links in e-mails, calendar UIDs, FHIR identifiers ---------------------
# The address people reach the app at: absolute links in e-mails and calendar feeds, FHIR fullUrls.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Right-hand side of calendar UIDs: unique per deployment, so two hospitals' events never merge.
ICAL_UID_DOMAIN = os.environ.get("ICAL_UID_DOMAIN", "") or (
    urlsplit(SITE_URL).hostname or "localhost"
)
# The hospital's own namespace for MRNs (an OID urn or a URL it controls); MRNs are only unique
# within one hospital, so every deployment must say whose numbers they are.
FHIR_PATIENT_IDENTIFIER_SYSTEM = os.environ.get(
    "FHIR_PATIENT_IDENTIFIER_SYSTEM", f"{SITE_URL}/identifiers/mrn"
)
EMAIL_FROM_NAME = os.environ.get("EMAIL_FROM_NAME", "Infusion pharmacy")

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

# --- Clinical checks (courses.checks) ------------------------------------------------------------
# A white-cell count counts for a course only if taken at most this many days before its start
# (design.md); an older or undated count is unknown.
WBC_VALID_DAYS = int(os.environ.get("WBC_VALID_DAYS", "3"))
# A dose prepared by a pharmacist is released to the ward (recorded as given) only after a second
# person has checked its preparation (courses/services/preparation.py).
PREPARATION_DOUBLE_CHECK_REQUIRED = env_bool("PREPARATION_DOUBLE_CHECK_REQUIRED", False)
