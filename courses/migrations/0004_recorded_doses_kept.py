"""A recorded dose (given, held, refused, missed) is never deleted, whatever path tries it.

The ledger points at doses by a plain reference ("dose:<id>"), so no foreign key can protect
them; this trigger refuses the DELETE of a recorded dose row — and so the delete of a course
that has one (Django deletes the course's doses first). PostgreSQL and SQLite alike.
"""

from django.db import migrations

RECORDED = "('given', 'held', 'refused', 'missed')"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION courses_dose_recorded_kept() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN {RECORDED} THEN
        RAISE EXCEPTION 'courses_dose %: a recorded dose is never deleted (cancel the course)',
            OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER courses_dose_recorded_kept
    BEFORE DELETE ON courses_dose
    FOR EACH ROW EXECUTE FUNCTION courses_dose_recorded_kept();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS courses_dose_recorded_kept ON courses_dose;
DROP FUNCTION IF EXISTS courses_dose_recorded_kept();
"""
SQLITE = f"""
CREATE TRIGGER courses_dose_recorded_kept
    BEFORE DELETE ON courses_dose
    FOR EACH ROW WHEN OLD.status IN {RECORDED}
BEGIN
    SELECT RAISE(ABORT, 'courses_dose: a recorded dose is never deleted (cancel the course)');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS courses_dose_recorded_kept;"


def _run(postgres: str, sqlite: str):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgres, params=None)
        elif vendor == "sqlite":
            schema_editor.execute(sqlite, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("courses", "0003_history_and_invariants")]

    operations = [migrations.RunPython(_run(POSTGRES, SQLITE), _run(POSTGRES_DROP, SQLITE_DROP))]
