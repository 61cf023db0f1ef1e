"""Every GET of the API, called with real objects by a pharmacist and a nurse, answers what the
live schema says (status, content type, body), and every 4xx is in the error shape."""

import pytest
import schemathesis

from tests.api.contract.checks import CHECK_FAILURES, CONTRACT_CHECKS, describe
from tests.api.contract.conftest import api_token

pytestmark = [pytest.mark.django_db, pytest.mark.contract]


def _path_parameters(path: str, pharmacy) -> dict:
    from courses.models import Dose
    from inventory.models import Excursion, Presentation, Product, StockMovement

    ids = {
        "courses": pharmacy["course"].pk,
        "doses": Dose.objects.filter(course=pharmacy["course"]).first().pk,
        "excursions": Excursion.objects.first().pk,
        "locations": pharmacy["fridge"].pk,
        "lots": next(iter(pharmacy["lots"].values())).pk,
        "movements": StockMovement.objects.first().pk,
        "patients": pharmacy["patient"].pk,
        "presentations": Presentation.objects.get(code="betaleukin-0-05ug-ampoule-5").pk,
        "products": Product.objects.first().pk,
        "protocols": pharmacy["course"].protocol_id,
        "readings": pharmacy["fridge"].readings.first().pk,
        "wards": pharmacy["ward"].pk,
    }
    resource = path.removeprefix("/api/v1/").split("/")[0]
    if resource == "fhir":  # Patient, MedicationRequest (a course), MedicationAdministration
        fhir = {
            "Patient": pharmacy["patient"].pk,
            "MedicationRequest": pharmacy["course"].pk,
            "MedicationAdministration": _recorded_dose(pharmacy).pk,
        }
        kind = path.removeprefix("/api/v1/fhir/").split("/")[0]
        return {"id": fhir[kind]} if "{id}" in path else {}
    return {"id": ids[resource]} if "{id}" in path else {}


def _recorded_dose(pharmacy):
    """A held dose: FHIR has a MedicationAdministration only for recorded doses."""
    from django.utils import timezone

    from courses import services
    from courses.models import Dose, DoseStatus

    dose = Dose.objects.filter(course=pharmacy["course"], status=DoseStatus.HELD).first()
    if dose is None:
        dose = services.dose_record_not_given(
            dose=Dose.objects.filter(course=pharmacy["course"]).order_by("-pk").first(),
            status=DoseStatus.HELD,
            user=pharmacy["pharmacist"],
            now=timezone.now(),
            reason="Contract test",
            replace=False,
        )
    return dose


def _notification_id():
    from notifications.models import Notification

    first = Notification.objects.first()
    return first.pk if first else None


@pytest.mark.parametrize("role", ["pharmacist", "nurse"])
def test_every_get_answers_its_schema(wsgi_app, pharmacy, role):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Token {api_token(pharmacy[role].username)}"}
    checked, problems = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        if operation.path.startswith("/api/v1/notifications/{id}"):
            if _notification_id() is None:
                continue
            parameters = {"id": _notification_id()}
        elif operation.path == "/api/v1/calendar/{token}/":
            from courses import services

            _, token = services.calendar_feed_create(user=pharmacy[role])
            parameters = {"token": token}
        else:
            parameters = _path_parameters(operation.path, pharmacy)
        query = {}
        if operation.path.startswith("/api/v1/fhir/") and "{id}" not in operation.path:
            query = {"patient": str(pharmacy["patient"].pk)}  # FHIR searches by patient
        case = operation.Case(path_parameters=parameters, query=query)
        response = case.call(headers=headers)
        checked.append((operation.path, response.status_code))
        try:
            case.validate_response(response, checks=CONTRACT_CHECKS, headers=headers)
        except CHECK_FAILURES as failure:
            problems.append(f"{operation.label} as {role}:\n  - {describe(failure)}")
    assert not problems, "\n\n".join(problems)
    # Not only refusals: the pharmacist reads everything, the nurse all but notifications and
    # recipients (patient identifiers of every ward).
    refused = {path for path, status in checked if status >= 400}
    if role == "pharmacist":
        assert not refused, refused
    else:
        assert refused == {
            "/api/v1/notifications/",
            "/api/v1/notifications/{id}/",
            "/api/v1/lots/{id}/recipients/",
        } - ({"/api/v1/notifications/{id}/"} if _notification_id() is None else set())
    assert len(checked) >= 30
