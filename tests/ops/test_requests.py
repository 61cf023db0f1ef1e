"""Request ids, the 503 for a lost database, and no patient identifiers in the logs."""

import logging

import pytest
from django.db import connection, connections

from config.roles import Role
from tests.factories import UserFactory


def test_a_request_id_is_kept_when_sane_and_made_when_absent(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="ward-gw-42.7")
    assert given["X-Request-ID"] == "ward-gw-42.7"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert made["X-Request-ID"] != "<script>" and len(made["X-Request-ID"]) == 32


def test_api_errors_carry_the_request_id(pharmacist_client):
    response = pharmacist_client.post("/api/v1/lots/receive/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_database_connection_was_killed_gets_a_503_in_the_error_shape(
    postgres, roles, cerulo, fridge
):
    from rest_framework.test import APIClient

    from inventory.models import Lot

    client = APIClient()
    client.force_authenticate(UserFactory(roles=[Role.PHARMACIST]))
    assert client.get("/api/v1/products/").status_code == 200
    pid = connection.connection.info.backend_pid
    # Another session ends this one, as a failover or an operator's pg_terminate_backend does.
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for the end
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            assert cursor.fetchone() == (0,)
    finally:
        killer.close()
    try:
        response = client.post(
            "/api/v1/lots/receive/",
            {
                "presentation_id": cerulo.pk,
                "location_id": fridge.pk,
                "quantity": 5,
                "lot_number": "X1",
                "expiry_date": "2099-01-31",
            },
            format="json",
        )
        assert response.status_code == 503, response.json()
        error = response.json()["error"]
        assert error["code"] == "database_unavailable" and error["status"] == 503
        assert error["request_id"] == response["X-Request-ID"]
        assert response["Retry-After"] == "5"
    finally:
        connection.close()  # what Django does at the end of a real request (tests disconnect it)
    assert client.get("/api/v1/products/").status_code == 200  # the next request succeeds
    assert not Lot.objects.exists()


def test_request_log_lines_name_no_patient(caplog, physician_client, ward):
    """Create a patient and fetch it back through the API: no log line holds the name or MRN."""
    caplog.set_level(logging.DEBUG)
    created = physician_client.post(
        "/api/v1/patients/",
        {"name": "Zelda Quixote-Marlowe", "mrn": "MRN-7731904", "ward": ward.code,
         "birth_date": "1970-01-01"},
        format="json",
    )  # fmt: skip
    search = physician_client.get("/api/v1/patients/?search=Zelda Quixote-Marlowe")
    assert search.status_code == 200
    assert created.status_code == 201, created.json()
    physician_client.get(f"/api/v1/patients/{created.json()['id']}/")
    request_lines = [r for r in caplog.records if r.name == "config.request"]
    assert len(request_lines) >= 2
    for record in caplog.records:
        text = record.getMessage() + " " + str(record.__dict__)
        assert "Zelda" not in text and "Quixote" not in text and "7731904" not in text
