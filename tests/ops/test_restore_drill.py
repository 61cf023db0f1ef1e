"""The restore drill (`manage.py restore_drill`) against this run's test database: a real
pg_dump, pg_restore into a scratch database it makes, `check` and `migrate --check` there, row
counts compared table by table, and the scratch database gone afterwards."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from inventory.models import Product

pytestmark = pytest.mark.ops


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_restore_drill_restores_checks_and_counts_every_table(postgres, formulary, stocked):
    products = Product.objects.count()
    assert products > 0
    target = f"{connection.settings_dict['NAME']}_drill"
    assert target not in _databases()
    out = StringIO()
    call_command("restore_drill", target=target, stdout=out)
    output = out.getvalue()
    assert "manage.py check: ok" in output and "manage.py migrate --check: ok" in output
    tables, rows, differ = map(
        int, re.search(r"(\d+) tables, (\d+) rows compared; (\d+) differ", output).groups()
    )
    assert tables > 20 and differ == 0
    assert rows >= products  # every table counted, the formulary and stock among them
    assert "restore drill passed" in output
    assert target not in _databases(), "the scratch database was dropped"


@pytest.mark.django_db(transaction=True)
def test_the_restore_drill_refuses_to_restore_over_its_source(postgres):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scratch database"):
        call_command("restore_drill", target=connection.settings_dict["NAME"])
