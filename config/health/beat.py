"""Beat's scheduler: Celery's file-backed one, made to start anywhere and to report that it runs.

The schedule store is the shelve file `CELERY_BEAT_SCHEDULE_FILENAME`, used by this one process
only; its folder is made here, where it is opened, whatever the broker (it used to be made by the
settings for the filesystem broker only, so beat died on a fresh checkout with Redis).
"""

import time
from pathlib import Path

from celery.beat import PersistentScheduler


class Scheduler(PersistentScheduler):
    def setup_schedule(self):
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()

    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        delay = super().tick(*args, **kwargs)
        from django.conf import settings

        # Half the interval: /readyz calls beat down after two intervals without a record.
        if time.monotonic() - self._last_heartbeat >= settings.HEALTH_BEAT_INTERVAL_SECONDS / 2:
            from config.health.services import heartbeat_record

            if heartbeat_record(name="beat"):
                self._last_heartbeat = time.monotonic()
        return delay
