"""The bench's query counter counts under production settings, however long the process ran."""

import pytest
from django.db import connection

from bench.harness import QueryCounter, _queries

pytestmark = pytest.mark.django_db


def _three_queries():
    with connection.cursor() as cursor:
        for n in range(3):
            cursor.execute("SELECT %s", [n])


def test_counts_every_statement_once_the_query_log_is_full(settings):
    settings.DEBUG = False
    # A long bench run leaves connection.queries_log at its 9,000-entry cap.
    connection.queries_log.extend({"sql": "", "time": "0"} for _ in range(9_000))
    assert len(connection.queries_log) == connection.queries_log.maxlen

    assert _queries(_three_queries) == 3
    with QueryCounter() as counted:
        _three_queries()
        # executemany counts once; a DML statement that touches nothing (SQLite refuses a SELECT).
        connection.cursor().executemany(
            "UPDATE django_migrations SET app = app WHERE id = %s", [[-1], [-2]]
        )
    assert len(counted) == 4


def test_counts_nothing_outside_its_block():
    with QueryCounter() as counted:
        pass
    _three_queries()
    assert len(counted) == 0
