"""The one write of the history: pruning what is older than the retention period.

Event rows are append-only: pgtrigger's "append_only" trigger on every event table refuses
UPDATE and DELETE (each row carries its own context — who, which request, why — so there is no
shared context row to protect). `history_prune` is the only code that lifts the trigger, for its
own transaction, through the session-level switch it reads (`pgtrigger.ignore`), and it deletes
nothing younger than `HISTORY_RETENTION_DAYS` (0 keeps everything: nothing is ever deleted).
Beat runs it daily (`history-prune`); the default retention is ten years, since auditors read the
history long after the courses it records.

What this protects against: every application path (admin, API, shell code using the ORM,
a mistaken bulk delete). What it does not: a database session that sets the same switches or
drops the triggers. Where that matters, run the application as a database role that owns no
table (no ALTER/TRIGGER/DROP) and prune as the owner.
"""

import datetime as dt

import pgtrigger
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from history.context import enabled
from history.selectors import event_models


@transaction.atomic
def history_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the events older than HISTORY_RETENTION_DAYS; returns how many (0 keeps all)."""
    if not enabled() or settings.HISTORY_RETENTION_DAYS <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.HISTORY_RETENTION_DAYS)
    models = event_models()
    deleted = 0
    with pgtrigger.ignore(*(f"{model._meta.label}:append_only" for model in models)):
        for model in models:
            deleted += model.objects.filter(pgh_created_at__lt=cutoff).delete()[0]
    return deleted
