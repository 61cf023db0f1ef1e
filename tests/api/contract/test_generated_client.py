"""A Python client generated from the live schema by openapi-python-client, driving the main
flows: what an integrator gets from the contract alone.

The client is generated at test time (no network: the generator only reads the schema) into a
temporary folder and calls the real WSGI application through httpx, with tokens from the API's
login endpoint. `raise_on_unexpected_status` makes any answer the schema does not document an
error, and every body is parsed into the generated models — which is where a wrong schema
crashes a client.
"""

import datetime
import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from rest_framework.test import APIClient

from tests.api.contract.conftest import api_token

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

PACKAGE = "pharmacy_api_client"


@pytest.fixture
def generated(tmp_path):
    """Generate the client from the live schema and import it; forget it afterwards."""
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema.json()))
    config = tmp_path / "generator.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # The generator reports schema parts it could not turn into code as warnings: none allowed.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _client(package, wsgi_app, username):
    return package.AuthenticatedClient(
        base_url="http://localhost",
        token=api_token(username),
        prefix="Token",
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=wsgi_app)},
    )


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name.split('_')[0]}.{name}")


def test_generated_client_runs_the_main_flows(generated, wsgi_app, pharmacy, today):
    from inventory.models import Presentation, StockMovement

    models = importlib.import_module(f"{PACKAGE}.models")
    pharmacist = _client(generated, wsgi_app, pharmacy["pharmacist"].username)
    nurse = _client(generated, wsgi_app, pharmacy["nurse"].username)

    # List protocols.
    protocols = _api("protocols_list").sync(client=pharmacist, page_size=100)
    codes = {protocol.code for protocol in protocols.results}
    assert "ceruloplasmin-postop" in codes and protocols.count == len(codes)

    # Prescribe a course.
    course = _api("courses_create").sync(
        client=pharmacist,
        body=models.CourseCreateRequest(
            patient=pharmacy["patient"].pk,
            protocol="ceruloplasmin-postop",
            phases=[models.PhaseChoiceRequest(dose="2", count=7)],
        ),
    )
    assert isinstance(course, models.Course)
    assert course.protocol == "ceruloplasmin-postop" and len(course.doses) == 7
    assert course.overridden_by is None and course.doses[0].recorded_by is None

    # List the course's doses (as the ward's nurse).
    doses = _api("doses_list").sync(client=nurse, course=course.id)
    assert doses.count == 7 and {dose.status for dose in doses.results} == {"scheduled"}

    # Receive a lot of the presentation the doses need.
    presentation = Presentation.objects.get(code="ceruloplasmin-100mg-vial-5")
    receipt = _api("lots_receive_create").sync_detailed(
        client=pharmacist,
        body=models.ReceiveRequest(
            presentation_id=presentation.pk,
            lot_number="CLIENT-1",
            expiry_date=today + datetime.timedelta(days=200),
            quantity=10,
            location_id=pharmacy["fridge"].pk,
        ),
    )
    assert receipt.status_code == 201
    assert receipt.parsed.kind == "receipt" and receipt.parsed.lot_number == "CLIENT-1"

    # Record the first dose given (the nurse), from the lot just received.
    first = doses.results[0]
    given = _api("doses_administer_create").sync(
        first.id,
        client=nurse,
        body=models.DoseAdministerRequest(
            lot_id=receipt.parsed.lot, reason="Given at the patient's request (contract test)."
        ),
    )
    assert isinstance(given, models.DoseList)
    assert given.status == "given" and given.recorded_by
    assert StockMovement.objects.filter(reference=f"dose:{first.id}", lot_id=receipt.parsed.lot)

    # Dispense a vial (the nurse).
    dispensed = _api("stock_dispense_create").sync_detailed(
        client=nurse,
        body=models.DispenseRequest(
            presentation_id=presentation.pk,
            quantity=1,
            location_id=pharmacy["fridge"].pk,
            reference="contract-client",
            recipient=pharmacy["patient"].mrn,
        ),
    )
    assert dispensed.status_code == 201
    assert [movement.kind for movement in dispensed.parsed] == ["dispense"]

    # Read the course as FHIR, and the stock forecast.
    bundle = _api("courses_fhir_retrieve").sync(course.id, client=pharmacist)
    assert bundle.resource_type.value == "Bundle" and bundle.entry
    forecast = _api("stock_forecast_retrieve").sync(client=pharmacist, days=14)
    assert isinstance(forecast, models.Forecast)
    assert forecast.start == today and forecast.end == today + datetime.timedelta(days=13)
    needed = {row.presentation_code: row.needed for row in forecast.presentations}
    assert needed.get(presentation.code, 0) > 0

    # A refusal parses as the documented error, not as a crash.
    refused = _api("notifications_list").sync_detailed(client=nurse)
    assert refused.status_code == 403 and refused.parsed.error.code == "permission_denied"
