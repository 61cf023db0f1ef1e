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

# Columns that change on every save and say nothing a reader of the history needs.
NOISE = ("updated_at",)


def track(*, exclude: tuple[str, ...] = (), **kwargs):
    """Record every insert, update (when a tracked column changed) and delete of the model."""

    def decorator(model):
        names = {field.name for field in model._meta.local_fields}
        skipped = [name for name in (*NOISE, *exclude) if name in names]
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=skipped,
            context_field=pghistory.ContextJSONField(),
            **kwargs,
        )(model)

    return decorator
