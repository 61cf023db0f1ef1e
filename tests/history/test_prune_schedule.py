"""History pruning runs from beat, as a registered task (what it deletes: test_surfaces.py)."""

from django.conf import settings

from config.celery import app
from history.tasks import prune


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker and beat do at start: autodiscovery
    unknown = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }
    assert unknown == {}


def test_history_prune_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["history-prune"]
    assert entry["task"] == prune.name == "history.prune"
    assert len(entry["schedule"].hour) == 1 and len(entry["schedule"].minute) == 1
    # Auditors read years back: the default keeps ten years.
    assert settings.HISTORY_RETENTION_DAYS >= 3650
