"""How a model's history is captured: one decorator, used by every tracked model.

django-pghistory installs PostgreSQL triggers that copy the row into an event table on every
INSERT, UPDATE and DELETE, whatever wrote it (the admin, the API, the shell, a migration, raw
SQL). `PGHISTORY_APPEND_ONLY` (settings) adds a pgtrigger "append_only" trigger to each event
table, so an event can never be updated or deleted — except by `history_prune`, see services.py.

Each event row carries its own context (who, which request, action, reason) as JSON, written
with the row: an event never depends on a shared, updatable context row.

On SQLite (the embedded demo and the second test pass) there are no triggers: nothing is
recorded, and the history surfaces say so.
"""

import pghistory
from django.db import models
from django.db.models.fields.json import KeyTransform

# Columns that change on every save and say nothing a reader of the history needs.
NOISE = ("updated_at",)


def audit_indexes(model_name: str) -> list[models.Index]:
    """The indexes the audit page reads each event table by (history.selectors.AuditTrail).

    Newest first, and one user's newest first: the page is a merge of these index scans that
    stops after the page, instead of building every event of every table to sort them. The user
    index is on the very expression the filter compiles to (`pgh_context -> 'user'`).
    """
    name = model_name.lower()
    return [
        models.Index(fields=["pgh_created_at", "pgh_id"], name=f"{name}_time_idx"),
        models.Index(
            KeyTransform("user", "pgh_context"),
            "pgh_created_at",
            "pgh_id",
            name=f"{name}_user_idx",
        ),
    ]


def track(*trackers, exclude: tuple[str, ...] = (), model_name: str = "", **kwargs):
    """Record every insert, update (when a tracked column changed) and delete of the model —
    or only the events of `trackers` when given (a membership: added, removed)."""

    def decorator(model):
        names = {field.name for field in model._meta.local_fields}
        skipped = [name for name in (*NOISE, *exclude) if name in names]
        # pghistory's own default name, made explicit so the indexes can be named after it.
        name = model_name or f"{model._meta.object_name}Event"
        every_change = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
        return pghistory.track(
            *(trackers or every_change),
            exclude=skipped,
            context_field=pghistory.ContextJSONField(),
            model_name=name,
            meta={"indexes": audit_indexes(name)},
            **kwargs,
        )(model)

    return decorator
