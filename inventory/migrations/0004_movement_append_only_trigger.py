"""PostgreSQL refuses UPDATE and DELETE on the stock ledger, whatever code path tries them."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION inventory_stockmovement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inventory_stockmovement is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS inventory_stockmovement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_stockmovement_append_only();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_stock_ledger_temperature")]

    operations = [migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP))]
