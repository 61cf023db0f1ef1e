"""Folders under VAR_DIR, made by the processes that use them — never by importing settings."""

from pathlib import Path


def var_dirs_ensure() -> None:
    """The SQLite file's folder and the filesystem broker's folders, when they are in use.

    Called by manage.py, config.wsgi and the Celery processes (worker_init / beat_init)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and database["NAME"] != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
