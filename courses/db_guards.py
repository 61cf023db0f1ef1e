"""Database guards that SQLite loses when a migration rebuilds a table.

SQLite has no ALTER for most schema changes: Django copies the table into a new one, and the
copy has none of the old table's triggers. Migration 0004 installs the "a recorded dose is never
deleted" trigger; any later migration that adds a field to `courses_dose` (0005, 0009, …) drops
it on SQLite. So on SQLite the trigger is (re)installed after every `migrate`, whatever ran.
PostgreSQL keeps triggers through ALTER TABLE; migration 0004 is enough there.
"""

RECORDED = "('given', 'held', 'refused', 'missed')"

SQLITE_DOSE_KEPT = (
    "DROP TRIGGER IF EXISTS courses_dose_recorded_kept;",
    f"""
CREATE TRIGGER courses_dose_recorded_kept
    BEFORE DELETE ON courses_dose
    FOR EACH ROW WHEN OLD.status IN {RECORDED}
BEGIN
    SELECT RAISE(ABORT, 'courses_dose: a recorded dose is never deleted (cancel the course)');
END;
""",
)


def reinstall_sqlite_triggers(using="default", **kwargs):
    """post_migrate receiver: put back the triggers a SQLite table rebuild dropped."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if "courses_dose" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in SQLITE_DOSE_KEPT:
            cursor.execute(statement)
