"""Issue 12 — dates inside sane bounds everywhere: a 400 naming the field, never a 500."""

import pytest
from django.urls import reverse

from config.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BAD_DATES = ["9999-12-31", "0001-01-01"]
BAD_DATETIMES = [
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "2026-03-02T08:00:00+16:00",
    "2026-03-02T08:00:00-16:30",
    "9999-12-31",
]

API_DATE_FILTERS = [
    ("/api/v1/doses/", "date"),
    ("/api/v1/doses/", "start"),
    ("/api/v1/doses/", "end"),
    ("/api/v1/doses/ical/", "date"),
    ("/api/v1/movements/", "effective_from"),
    ("/api/v1/movements/", "effective_to"),
    ("/api/v1/notifications/", "created_from"),
    ("/api/v1/notifications/", "created_to"),
    ("/api/v1/stock/", "on"),
    ("/api/v1/stock/forecast/", "start"),
]
API_DATETIME_FILTERS = [
    ("/api/v1/movements/", "created_after"),
    ("/api/v1/movements/", "created_before"),
    ("/api/v1/readings/", "taken_after"),
    ("/api/v1/readings/", "taken_before"),
]
PAGES = [
    ("today", "date"),
    ("cold-chain", "start"),
    ("cold-chain", "end"),
    ("alerts", "created_from"),
    ("alerts", "created_to"),
    ("stock-forecast-page", "start"),
]


@pytest.mark.parametrize(("url", "param"), API_DATE_FILTERS)
@pytest.mark.parametrize("value", BAD_DATES)
def test_api_date_filters(pharmacist_client, formulary, url, param, value):
    response = pharmacist_client.get(url, {param: value})
    assert response.status_code == 400, (response.status_code, response.content[:300])


@pytest.mark.parametrize(("url", "param"), API_DATETIME_FILTERS)
@pytest.mark.parametrize("value", BAD_DATETIMES)
def test_api_datetime_filters(pharmacist_client, url, param, value):
    response = pharmacist_client.get(url, {param: value})
    assert response.status_code == 400, (response.status_code, response.content[:300])


@pytest.mark.parametrize(("name", "param"), PAGES)
@pytest.mark.parametrize("value", BAD_DATES + BAD_DATETIMES)
def test_pages(client, roles, formulary, name, param, value):
    client.force_login(UserFactory(roles=[Role.PHARMACIST]))
    response = client.get(reverse(name), {param: value, "period": "custom"})
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])


# --- Reported defects: each answered 200 or 500 before ------------------------------------------


def _course(physician, ward, today):
    from tests.courses.helpers import seven_doses

    return seven_doses("ceruloplasmin-postop", physician, ward, today)


@pytest.fixture
def ward_nurse_client(nurse_client, ward):
    ward.members.add(nurse_client.user)
    return nurse_client


@pytest.mark.parametrize(
    "given_at", ["0001-01-01T10:00:00Z", "2000-01-01T10:00:00Z", "2026-03-02T08:00:00+16:00"]
)
def test_a_dose_given_at_an_impossible_time_is_400_and_nothing_dispensed(
    ward_nurse_client, formulary, stocked, physician, ward, today, given_at
):
    """Reported: a dose given at 0001-01-01 was accepted, and its dispense dated 0001-01-01."""
    from inventory.models import StockMovement

    dose = _course(physician, ward, today).doses.order_by("scheduled_at").first()
    response = ward_nurse_client.post(
        f"/api/v1/doses/{dose.id}/administer/",
        {"given_at": given_at, "reason": "entered late"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "given_at" in response.json()["error"]["fields"]
    assert not StockMovement.objects.filter(kind="dispense").exists()


def test_a_hold_until_9999_is_400_and_the_course_stays_resumable(
    physician_client, formulary, physician, ward, today
):
    """Reported: a hold until 9999-12-31 was accepted; resuming then answered 500."""
    course = _course(physician, ward, today)
    url = f"/api/v1/courses/{course.id}"
    far = {"on": "9999-12-31", "reason": "x"}
    response = physician_client.post(f"{url}/hold/", far, format="json")
    assert response.status_code == 400 and "on" in response.json()["error"]["fields"]
    held = physician_client.post(f"{url}/hold/", {"reason": "labs pending"}, format="json")
    assert held.status_code == 200, held.content
    response = physician_client.post(f"{url}/resume/", {"on": "9999-12-31"}, format="json")
    assert response.status_code == 400 and "on" in response.json()["error"]["fields"]
    resumed = physician_client.post(f"{url}/resume/", {}, format="json")
    assert resumed.status_code == 200, resumed.content


def test_a_birth_date_and_a_weight_in_year_1_are_400(physician_client, formulary, ward):
    body = {"mrn": "9010", "name": "A B", "birth_date": "0001-01-01", "ward": ward.code}
    response = physician_client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400 and "birth_date" in response.json()["error"]["fields"]
    created = physician_client.post(
        "/api/v1/patients/", {**body, "birth_date": "1950-05-05"}, format="json"
    )
    assert created.status_code == 201, created.content
    weights = f"/api/v1/patients/{created.json()['id']}/weights/"
    for measured_on in ["0001-01-01", "1949-01-01"]:  # year 1; before the patient was born
        response = physician_client.post(
            weights, {"weight_kg": "70", "measured_on": measured_on}, format="json"
        )
        assert response.status_code == 400, response.content
        assert "measured_on" in response.json()["error"]["fields"]


@pytest.mark.parametrize("taken_at", ["2026-03-02T08:00:00+16:00", "9999-12-31T23:59:59-01:00"])
def test_a_reading_with_an_impossible_offset_or_year_is_400(pharmacist_client, fridge, taken_at):
    body = {"location": fridge.pk, "sensor_id": "s1", "taken_at": taken_at, "temperature_c": "5"}
    response = pharmacist_client.post("/api/v1/readings/", body, format="json")
    assert response.status_code == 400, response.content
    assert "taken_at" in response.json()["error"]["fields"]


def test_the_stock_ledger_refuses_a_movement_dated_year_1(receive, cerulo, fridge, pharmacist):
    import datetime as dt

    from django.core.exceptions import ValidationError

    from inventory import services

    receive(cerulo, fridge, 2)
    with pytest.raises(ValidationError) as refused:
        services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=dt.date(1, 1, 1), user=pharmacist
        )
    assert "on" in refused.value.message_dict


def test_the_today_page_shows_today_for_a_date_out_of_bounds(client, roles, formulary, today):
    client.force_login(UserFactory(roles=[Role.NURSE]))
    response = client.get(reverse("today"), {"date": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["day"] == today
