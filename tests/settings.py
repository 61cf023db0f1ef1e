"""Test settings: the project's settings, on PostgreSQL when reachable (see tests/services.py)."""

import os

import dj_database_url

os.environ.setdefault("DJANGO_DEBUG", "1")

from config.settings import *  # noqa: E402,F403
from config.settings import STORAGES  # noqa: E402
from tests import services  # noqa: E402

_pg = services.database_url()
if _pg:
    DATABASES = {"default": dj_database_url.parse(_pg, conn_max_age=0)}  # noqa: F405
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",  # noqa: F405
            "TEST": {"NAME": ":memory:"},
        }
    }
TEST_ON_POSTGRES = bool(_pg)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
STORAGES = {
    **STORAGES,
    "staticfiles": {  # noqa: F405
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
