"""Protocol writes that meet prescribed courses: phases updated in place, never half-written."""

import pytest

from courses.models import Protocol, ProtocolPhase
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/protocols/"


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {
        "status",
        "code",
        "message",
        "fields",
        "request_id",
    }
    return body["error"]


def _body(client, of: str, **changes) -> dict:
    """The protocol `of` as the API gives it, ready to send back (with `changes`)."""
    body = client.get(URL, {"code": of}).json()["results"][0]
    return {**{k: v for k, v in body.items() if k != "id"}, **changes}


def _first_phase(body: dict, **changes) -> list[dict]:
    return [{**body["phases"][0], **changes}, *body["phases"][1:]]


def _two_phase(client, code: str) -> Protocol:
    body = _body(client, "ceruloplasmin-postop", code=code)
    body["phases"] = [body["phases"][0], {**body["phases"][0], "name": "continuation"}]
    assert client.post(URL, body, format="json").status_code == 201
    return Protocol.objects.get(code=code)


@pytest.fixture
def postop_in_use(formulary, physician, ward, today):
    prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"dose": "2", "count": 7}],
    )
    return Protocol.objects.get(code="ceruloplasmin-postop")


def test_a_protocol_with_courses_is_updated_in_place(pharmacist_client, postop_in_use):
    phase = postop_in_use.phases.get()
    body = _body(pharmacist_client, postop_in_use.code)
    body["phases"] = _first_phase(body, count_max=12)
    response = pharmacist_client.put(f"{URL}{postop_in_use.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    updated = postop_in_use.phases.get()
    assert (updated.pk, updated.count_max) == (phase.pk, 12)


def test_a_phase_courses_use_cannot_be_removed(
    pharmacist_client, formulary, physician, ward, today
):
    protocol = _two_phase(pharmacist_client, "local-two-phase")
    prescribe(
        PatientFactory(ward=ward),
        protocol.code,
        physician,
        today,
        phases=[{"dose": "2", "count": 7}, {"dose": "2", "count": 7}],
    )
    body = _body(pharmacist_client, protocol.code)
    body["phases"] = body["phases"][:1]
    error = _error(pharmacist_client.put(f"{URL}{protocol.pk}/", body, format="json"), 400)
    assert "phases" in error["fields"] and "2" in error["fields"]["phases"][0]
    assert protocol.phases.count() == 2


def test_an_unused_phase_is_removed(pharmacist_client, formulary):
    protocol = _two_phase(pharmacist_client, "local-two-phase")
    body = _body(pharmacist_client, protocol.code)
    body["phases"] = body["phases"][:1]
    assert pharmacist_client.put(f"{URL}{protocol.pk}/", body, format="json").status_code == 200
    assert list(protocol.phases.values_list("order", flat=True)) == [1]


@pytest.mark.parametrize(
    "phase",
    [
        {"count_min": 0},
        {"patterns": [{"kind": "per_week", "k": 9}]},
        {"patterns": [{"kind": "every_n_days", "n": "2"}]},
        {"patterns": [{"kind": "dates", "min_gap_days": "x"}]},
        {"age_bands": [{"min_months": 6, "max_months": 12}]},
        {"age_bands": [{"min_months": 12, "max_months": 6, "dose": "50"}]},
        {"age_bands": [{"min_months": 6, "max_months": 12, "dose": "-5"}]},
        {
            "age_bands": [
                {"min_months": 12, "max_months": 156, "dose": "100"},
                {"min_months": 6, "max_months": 12, "dose": "50"},
            ]
        },
    ],
)
def test_a_phase_prescribing_could_not_use_is_400(pharmacist_client, formulary, phase):
    body = _body(pharmacist_client, "ceruloplasmin-postop", code="local-bad")
    body["phases"] = _first_phase(body, **phase)
    error = _error(pharmacist_client.post(URL, body, format="json"), 400)
    assert "phases" in error["fields"]
    assert not Protocol.objects.filter(code="local-bad").exists()
    assert not ProtocolPhase.objects.filter(protocol__code="local-bad").exists()
