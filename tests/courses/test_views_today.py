"""The Today page: a day's doses by ward and hour, recorded with one click."""

import datetime as dt

import pytest
from django.utils import timezone

from courses.models import Dose, DoseStatus
from inventory.models import StockLevel
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _course_now(patient, physician, today, code="biocerulin-general", **choices):
    """A course whose first dose is due now (on time, so no reason is needed to give it)."""
    now = timezone.localtime()
    choices.setdefault("phases", [{"pattern": {"kind": "daily"}, "dose": "80"}])
    return prescribe(
        patient,
        code,
        physician,
        today,
        administration_time=dt.time(now.hour, now.minute),
        **choices,
    )


def _first_dose(course) -> Dose:
    return course.doses.order_by("sequence").first()


def _on_hand(lot) -> int:
    return sum(StockLevel.objects.filter(lot=lot).values_list("on_hand", flat=True))


@pytest.fixture
def course(stocked, ward, physician, today):
    return _course_now(PatientFactory(ward=ward, name="Ada Lovelace"), physician, today)


def test_today_lists_the_days_doses_with_preparation_and_fefo_lot(client, nurse, course, stocked):
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "Ward 3A" in page
    assert "Ada Lovelace" in page and course.patient.mrn in page
    assert "1 × 100 mg vial (20 mg waste)" in page
    # 80 mg of a 100 mg vial in 200 ml (leaflet 000): give 160 ml, discard 40 ml.
    assert "Give 160 ml of 200 ml at 30 drops/min" in page and "discard 40 ml" in page
    assert "one 200 ml bag of 5% glucose: 0.5 mg/ml" in page
    lot = stocked["biocerulin-100mg-vial-5"].lot_number
    # The FEFO lot is suggested beside the scan box, never typed into it: submitting the form
    # must not record a lot nobody scanned.
    assert f"Suggested: lot {lot}" in page
    assert 'value="" placeholder="Scan the vial you take"' in page
    assert 'class="badge status-due"' in page


def test_fefo_suggests_the_earliest_expiring_usable_lot(
    client, nurse, course, receive, ward, today, pharmacist
):
    from inventory.models import Presentation
    from inventory.services import lot_quarantine
    from tests.factories import StorageLocationFactory

    vial = Presentation.objects.get(code="biocerulin-100mg-vial-5")
    fridge = StorageLocationFactory(ward=ward)
    receive(vial, fridge, 3, lot_number="SOON", expiry_days=10)
    held = receive(vial, fridge, 3, lot_number="HELDBACK", expiry_days=5)
    lot_quarantine(lot_id=held.pk, user=pharmacist, on=today, reason="test")
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "Suggested: lot SOON" in page
    assert "HELDBACK" not in page  # quarantined: not usable, not offered


def test_nurse_records_a_dose_given_and_stock_goes_down(client, nurse, course, stocked):
    lot = stocked["biocerulin-100mg-vial-5"]
    before = _on_hand(lot)
    dose = _first_dose(course)
    client.force_login(nurse)
    response = client.post(
        "/", {"dose": dose.pk, "action": "given", "lot_number": lot.lot_number, "reason": ""}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#dose-{dose.pk}")
    dose.refresh_from_db()
    assert dose.status == DoseStatus.GIVEN
    assert dose.lot_number == lot.lot_number and dose.dispensed
    assert dose.recorded_by == nurse
    assert _on_hand(lot) == before - 1
    page = client.get(response["Location"]).content.decode()
    assert "recorded as given from lot" in page
    assert 'class="badge status-given"' in page


def test_held_without_a_reason_shows_the_error_in_place_and_keeps_the_input(client, nurse, course):
    dose = _first_dose(course)
    client.force_login(nurse)
    response = client.post(
        "/", {"dose": dose.pk, "action": "held", "lot_number": "TYPED-LOT", "reason": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Say why the dose was not given." in page
    assert 'value="TYPED-LOT"' in page
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED


def test_held_with_a_reason_is_recorded(client, nurse, course):
    dose = _first_dose(course)
    client.force_login(nurse)
    client.post(
        "/", {"dose": dose.pk, "action": "held", "reason": "Febrile 39.2 °C", "replace": "yes"}
    )
    dose.refresh_from_db()
    assert (dose.status, dose.reason, dose.replaced) == (DoseStatus.HELD, "Febrile 39.2 °C", True)


def test_given_far_from_time_needs_a_reason(client, nurse, course):
    dose = _first_dose(course)
    late = (timezone.localtime(dose.scheduled_at) - dt.timedelta(hours=3)).time()
    client.force_login(nurse)
    response = client.post(
        "/",
        {"dose": dose.pk, "action": "given", "given_time": late.strftime("%H:%M"), "reason": ""},
    )
    page = response.content.decode()
    if timezone.localtime(dose.scheduled_at).hour < 3:  # three hours earlier was yesterday
        pytest.skip("the scheduled time is too close to midnight for this check")
    assert "from the scheduled time: say why" in page
    assert f'value="{late.strftime("%H:%M")}"' in page


def test_insufficient_stock_is_shown_on_the_row(client, nurse, ward, physician, today, formulary):
    course = _course_now(PatientFactory(ward=ward), physician, today)  # no stock received
    dose = _first_dose(course)
    client.force_login(nurse)
    response = client.post("/", {"dose": dose.pk, "action": "given", "lot_number": ""})
    assert response.status_code == 200
    assert "Insufficient stock" in response.content.decode()
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED


def test_nurse_sees_only_her_wards(client, nurse, course, other_ward, physician, today):
    other = _course_now(
        PatientFactory(ward=other_ward, name="Other Ward Patient"), physician, today
    )
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "Ada Lovelace" in page and "Other Ward Patient" not in page
    # …and cannot record, or even find, another ward's dose.
    response = client.post("/", {"dose": _first_dose(other).pk, "action": "held", "reason": "x"})
    assert response.status_code == 404


def test_others_filter_by_ward(client, pharmacist, course, other_ward, physician, today):
    _course_now(PatientFactory(ward=other_ward, name="Other Ward Patient"), physician, today)
    client.force_login(pharmacist)
    page = client.get("/").content.decode()
    assert "Ada Lovelace" in page and "Other Ward Patient" in page
    page = client.get("/", {"ward": other_ward.code}).content.decode()
    assert "Ada Lovelace" not in page and "Other Ward Patient" in page


def test_date_picker_shows_another_day(client, nurse, course, today):
    client.force_login(nurse)
    tomorrow = client.get("/", {"date": (today + dt.timedelta(days=1)).isoformat()})
    assert "Ada Lovelace" in tomorrow.content.decode()  # a daily course: dose 2 is tomorrow
    assert 'class="badge status-planned"' in tomorrow.content.decode()
    far = client.get("/", {"date": (today + dt.timedelta(days=60)).isoformat()})
    assert "No doses on this day" in far.content.decode()


def test_overdue_doses_are_counted_and_listed(client, nurse, ward, physician, today, formulary):
    patient = PatientFactory(ward=ward, name="Late Patient")
    course = _course_now(patient, physician, today)
    Dose.objects.filter(pk=_first_dose(course).pk).update(
        scheduled_at=timezone.now() - dt.timedelta(hours=3)
    )
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "<strong>1</strong>Overdue doses" in page
    overdue = client.get("/", {"show": "overdue"}).content.decode()
    assert "Late Patient" in overdue and 'class="badge status-overdue"' in overdue


def test_counters_link_to_the_pages_that_explain_them(client, nurse, course):
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert 'href="/?show=overdue"' in page
    assert 'href="/cold-chain/"' in page and 'href="/stock/"' in page


def test_viewer_and_physician_cannot_record(client, course, roles):
    dose = _first_dose(course)
    for role in ("viewer", "physician"):
        client.force_login(UserFactory(roles=[role]))
        page = client.get("/").content.decode()
        assert "Ada Lovelace" in page and 'value="given"' not in page
        response = client.post("/", {"dose": dose.pk, "action": "held", "reason": "x"})
        assert response.status_code == 403
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED


def test_signed_out_goes_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("patients", [2, 8])
def test_today_query_count_stays_flat(
    client,
    pharmacist,
    stocked,
    ward,
    other_ward,
    physician,
    today,
    patients,
    django_assert_max_num_queries,
):
    for i in range(patients):
        _course_now(PatientFactory(ward=ward if i % 2 else other_ward), physician, today)
    client.force_login(pharmacist)
    client.get("/")  # warm the session and the role cache
    # 17: the page (its COUNT comes from the wards' totals), the lots offered at the wards,
    # the suggestions' stock in two reads (first-expiry picks anywhere; levels at the wards).
    with django_assert_max_num_queries(17):
        response = client.get("/")
    assert response.content.decode().count('class="dose-row') == patients
