"""`make bench` at tiny size, in-process on the test database, so the harness never rots.

Not a speed test (nothing here asserts a time): it proves that every figure of issue 14 is still
measured — the pages, API, engine, prescribing, dispensing (one and 16 threads), ingest, alerts,
e-mail and memory figures — each with a number, and that the run leaves the generated stock as
it found it (the ledger still equals the levels).
"""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from bench import harness
from courses.management.commands.generate_data import MARKER_TABLE
from inventory.selectors import ledger_mismatches

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = {
    "today_ward",
    "today_ward_html",
    "today_ward_options",
    "today_all",
    "cold_chain_7d",
    "course_page",
    "api_doses",
    "api_doses_queries",
    "api_lots",
    "expiry_list",
    "expiry_scan",
    "shortage_counter",
    "engine",
    "prescribing",
    "prescribing_single",
    "dispense_one",
    "dispense_one_locks",
    "threads_small",
    "threads_busy",
    "ingest",
    "excursion_open",
    "excursion_release",
    "excursion_discard",
    "expiry_alerts_task",
    "rss_worker",
    "mail",
    "rss_web",
}


@pytest.fixture
def tiny_data(postgres):
    call_command("generate_data", size="tiny", seed=3)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")


def test_generate_data_is_valid_and_seeded(tiny_data):
    from courses.models import Course, Dose
    from inventory.models import Lot, StockLevel, TemperatureReading

    assert ledger_mismatches() == []
    assert Course.objects.count() == 12 and Dose.objects.count() > 12 * 5
    assert Lot.objects.count() == 70 and StockLevel.objects.count() >= 70
    assert TemperatureReading.objects.count() > 3_000
    # The same size and seed again: recognised, nothing added.
    call_command("generate_data", size="tiny", seed=3)
    assert Lot.objects.count() == 70


def test_tiny_bench_run_writes_every_figure(tiny_data, tmp_path):
    figures = harness.run(size="tiny", seed=3, runs=1, timeout=60, scale=0.01)
    harness.write_results(figures, size="tiny", seed=3, directory=tmp_path)

    rows = json.loads((tmp_path / "latest.json").read_text())
    assert {row["key"] for row in rows} == FIGURES
    for row in rows:
        assert isinstance(row["value"], int | float), row
        assert row["value"] >= 0, row
        assert set(row) >= {"figure", "value", "unit", "floor", "ratio", "target", "met"}
        assert row["floor"] is None or isinstance(row["floor"], int | float), row
    by_key = {row["key"]: row for row in rows}
    assert by_key["threads_small"]["note"].find("oversell 0") != -1
    table = (tmp_path / "latest.md").read_text()
    assert table.count("\n| ") == len(FIGURES) + 1  # header + one line a figure
    # Rolled back or taken back out: the generated stock is as it was.
    assert ledger_mismatches() == []
