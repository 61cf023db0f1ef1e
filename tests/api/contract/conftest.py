"""Fixtures for the contract tests: the real WSGI app, real tokens, and a pharmacy with data.

Outside tools (schemathesis, a generated client) call the WSGI application in-process, inside
the test's transaction, with tokens obtained through the API's own login endpoint — the way an
integrator would, so the tests keep working whatever issues and stores the tokens.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse
from rest_framework.test import APIClient

from config.roles import Role
from tests.factories import (
    PatientFactory,
    StorageLocationFactory,
    UserFactory,
    receive_every_presentation,
)

PASSWORD = "contract-test-password"  # noqa: S105 - a test user's password


@pytest.fixture
def wsgi_app(db):
    """The project's WSGI application, sharing the test's database transaction.

    Django closes "old" connections around every request; inside a test that would close the
    connection holding the test's transaction, so — as Django's own test client does — the
    handlers are disconnected while a request runs (the test client reconnects them after each
    of its own requests, hence per request).
    """
    from config.wsgi import application

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = application(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


def api_token(username: str) -> str:
    """Log in through the API's token endpoint, as a client would, and return the token."""
    response = APIClient().post(
        reverse("api:api-token"), {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    return response.json()["token"]


@pytest.fixture
def pharmacy(formulary, roles, today):
    """A ward with a nurse, a pharmacist, a stocked ward fridge, a patient on the ward with a
    prescribed course, and a closed temperature excursion — so that every GET has something to
    answer with."""
    from courses.services import course_create
    from inventory.services import readings_ingest
    from tests.factories import WardFactory

    ward = WardFactory(code="ward-7c", name="Ward 7C")
    pharmacist = UserFactory(username="contract-pharmacist", roles=[Role.PHARMACIST])
    nurse = UserFactory(username="contract-nurse", roles=[Role.NURSE])
    physician = UserFactory(username="contract-physician", roles=[Role.PHYSICIAN])
    for user in (pharmacist, nurse, physician):
        user.set_password(PASSWORD)
        user.save()
    ward.members.add(nurse)
    fridge = StorageLocationFactory(code="ward-7c-fridge", ward=ward, min_c=2, max_c=8)
    lots = receive_every_presentation(fridge, quantity=40, prefix="C", user=pharmacist, on=today)
    patient = PatientFactory(ward=ward, mrn="C-0001")
    from courses.models import Protocol

    course = course_create(
        patient=patient,
        protocol=Protocol.objects.get(code="ceruloplasmin-postop"),
        user=physician,
        on=today,
        phases=[{"dose": Decimal("2"), "count": 7}],
    )
    now = datetime.datetime.now(datetime.UTC)
    readings_ingest(
        readings=[
            {
                "location_id": fridge.pk,
                "sensor_id": "contract-sensor",
                "taken_at": now - datetime.timedelta(minutes=minutes),
                "temperature_c": Decimal(temperature),
            }
            for minutes, temperature in ((90, 5), (60, 12), (30, 5))
        ],
        user=pharmacist,
    )
    return {
        "ward": ward,
        "pharmacist": pharmacist,
        "nurse": nurse,
        "physician": physician,
        "fridge": fridge,
        "lots": lots,
        "patient": patient,
        "course": course,
    }
