"""History pruning runs from beat, as a registered task, and keeps everything when told to."""

import pgtrigger
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings
from pghistory.models import Events

from config.celery import app
from history.tasks import prune
from tests.factories import PatientFactory


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


@pytest.mark.usefixtures("postgres")
def test_the_task_prunes_past_the_retention_and_zero_keeps_everything(ward):
    old = PatientFactory(ward=ward, weight_kg=False)
    with pgtrigger.ignore("courses.PatientEvent:append_only"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_patientevent SET pgh_created_at = now() - interval '400 days'"
            " WHERE pgh_obj_id = %s",
            [old.pk],
        )
    with override_settings(HISTORY_RETENTION_DAYS=0):
        assert prune.apply().get() == 0
    assert Events.objects.tracks(old).exists()
    with override_settings(HISTORY_RETENTION_DAYS=365):
        assert prune.apply().get() == 1
    assert not Events.objects.tracks(old).exists()
