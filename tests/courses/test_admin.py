"""The admin prescribes through course_create and shows refusals instead of saving."""

import pytest
from django.contrib.auth import get_user_model

from courses.models import Course, Protocol
from tests.factories import PatientFactory


@pytest.fixture
def admin_client_logged(client, db):
    user = get_user_model().objects.create_superuser("boss", "b@h.test", "pw")
    client.force_login(user)
    return client


def _form(patient, today, **extra):
    return {
        "patient": patient.pk,
        "protocol": Protocol.objects.get(code="ceruloplasmin-postop").pk,
        "start_date": str(today),
        "anchors": "{}",
        "administration_time": "09:30",
        "diluent": "nacl_0_9",
        "phases": '[{"dose": "2", "count": 7}]',
        **extra,
    }


def test_admin_prescribes_and_refuses_hard_stops(admin_client_logged, formulary, ward, today):
    patient = PatientFactory(ward=ward)
    response = admin_client_logged.post("/admin/courses/course/add/", _form(patient, today))
    assert response.status_code == 302, response.content[:2000]
    course = Course.objects.get()
    assert course.doses.count() == 7 and course.administration_time.hour == 9

    response = admin_client_logged.post(
        "/admin/courses/course/add/",
        _form(patient, today, phases='[{"dose": "9", "count": 7}]'),
        follow=True,
    )
    assert b"dose_range" in response.content and Course.objects.count() == 1
    assert admin_client_logged.get(f"/admin/courses/course/{course.pk}/change/").status_code == 200
    assert admin_client_logged.get("/admin/courses/dose/").status_code == 200
    assert admin_client_logged.get("/admin/courses/patient/").status_code == 200


# --- Every admin form saves through the services; invalid data is shown and nothing stored ------

import datetime as dt  # noqa: E402
import json  # noqa: E402

from django.db import IntegrityError, transaction  # noqa: E402
from django.forms.models import model_to_dict  # noqa: E402

from courses import services  # noqa: E402
from courses.models import Dose, Patient, PatientWeight, ProtocolPhase  # noqa: E402
from tests.courses.helpers import seven_doses  # noqa: E402


def _patient_form(ward, **extra):
    form = {
        "mrn": "MRN-ADM-1",
        "name": "Admin Patient",
        "birth_date": "1970-01-02",
        "sex": "female",
        "ward": ward.pk,
        # The two weighing inlines: recorded ones (read-only) and a new one.
        "weights-TOTAL_FORMS": "0",
        "weights-INITIAL_FORMS": "0",
        "weights-2-TOTAL_FORMS": "1",
        "weights-2-INITIAL_FORMS": "0",
        "weights-2-0-measured_on": "",
        "weights-2-0-weight_kg": "",
    }
    form.update(extra)
    return form


def test_admin_patient_add_saves_through_the_services(admin_client_logged, ward, today):
    response = admin_client_logged.post(
        "/admin/courses/patient/add/",
        _patient_form(
            ward, **{"weights-2-0-measured_on": str(today), "weights-2-0-weight_kg": "71.5"}
        ),
    )
    assert response.status_code == 302, response.content[:3000]
    patient = Patient.objects.get(mrn="MRN-ADM-1")
    weight = patient.weights.get()
    # recorded_by is set only by patient_weight_record: the inline went through the service.
    assert str(weight.weight_kg) == "71.50" and weight.recorded_by.username == "boss"


def test_admin_patient_born_in_the_future_is_refused(admin_client_logged, ward, today):
    future = today + dt.timedelta(days=400)
    response = admin_client_logged.post(
        "/admin/courses/patient/add/", _patient_form(ward, birth_date=str(future))
    )
    assert response.status_code == 200
    assert b"Cannot be in the future." in response.content
    assert not Patient.objects.exists()


def test_admin_weighing_in_the_future_is_refused(admin_client_logged, ward, today):
    future = today + dt.timedelta(days=3)
    response = admin_client_logged.post(
        "/admin/courses/patient/add/",
        _patient_form(
            ward, **{"weights-2-0-measured_on": str(future), "weights-2-0-weight_kg": "70"}
        ),
    )
    assert response.status_code == 200
    assert b"Cannot be in the future." in response.content
    assert not Patient.objects.exists() and not PatientWeight.objects.exists()


def test_admin_weight_out_of_range_is_refused(admin_client_logged, ward, today):
    response = admin_client_logged.post(
        "/admin/courses/patient/add/",
        _patient_form(
            ward, **{"weights-2-0-measured_on": str(today), "weights-2-0-weight_kg": "900"}
        ),
    )
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not Patient.objects.exists()


def _json(value):
    return json.dumps(value)


def _protocol_form(protocol, **phase_changes):
    """The admin change form of `protocol` as the browser would post it, phase 1 changed."""
    form = {}
    for name, value in model_to_dict(protocol).items():
        if name in {"id", "updated_at"}:
            continue
        if isinstance(value, (list, dict)):
            form[name] = _json(value)
        elif isinstance(value, bool):
            if value:
                form[name] = "on"
        else:
            form[name] = "" if value is None else str(value)
    phases = list(protocol.phases.order_by("order"))
    form.update(
        {
            "phases-TOTAL_FORMS": str(len(phases)),
            "phases-INITIAL_FORMS": str(len(phases)),
            "phases-MIN_NUM_FORMS": "0",
            "phases-MAX_NUM_FORMS": "1000",
        }
    )
    for number, phase in enumerate(phases):
        values = model_to_dict(phase)
        if number == 0:
            values.update(phase_changes)
        for name, value in values.items():
            key = f"phases-{number}-{name}"
            if name == "protocol":
                form[key] = str(protocol.pk)
            elif isinstance(value, (list, dict)):
                form[key] = _json(value)
            else:
                form[key] = "" if value is None else str(value)
    return form


def test_admin_protocol_change_saves_through_protocol_save(admin_client_logged, formulary):
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    response = admin_client_logged.post(
        f"/admin/courses/protocol/{protocol.pk}/change/",
        _protocol_form(protocol, count_max=9),
    )
    assert response.status_code == 302, response.content[:3000]
    assert protocol.phases.get(order=1).count_max == 9


def test_admin_per_kg_phase_without_dose_min_is_refused(admin_client_logged, formulary):
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    phase = protocol.phases.get(order=1)
    assert phase.dose_basis == "per_kg"
    before = model_to_dict(phase)
    response = admin_client_logged.post(
        f"/admin/courses/protocol/{protocol.pk}/change/",
        _protocol_form(protocol, dose_min=None, count_max=9),
    )
    assert response.status_code == 200
    assert b"A fixed or per-kg dose rule needs dose_min and dose_max." in response.content
    assert model_to_dict(ProtocolPhase.objects.get(pk=phase.pk)) == before


def test_admin_fixed_phase_in_mg_per_kg_is_refused(admin_client_logged, formulary):
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    response = admin_client_logged.post(
        f"/admin/courses/protocol/{protocol.pk}/change/",
        _protocol_form(protocol, dose_basis="fixed", count_max=9),
    )
    assert response.status_code == 200
    assert b"needs a per-kg unit" in response.content
    assert protocol.phases.get(order=1).dose_basis == "per_kg"


def test_admin_protocol_refused_by_the_service_is_shown(
    admin_client_logged, formulary, physician, ward, today
):
    """Removing a phase that a course uses: refused on the form (its courses protect it)."""
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    protocol = course.protocol
    form = _protocol_form(protocol)
    form["phases-0-DELETE"] = "on"
    response = admin_client_logged.post(
        f"/admin/courses/protocol/{protocol.pk}/change/", form, follow=True
    )
    assert b"protected related objects" in response.content
    assert protocol.phases.count() == 1


# --- Recorded doses and the courses that have them are never deleted ---------------------------


def _record_one(course, user):
    dose = course.doses.order_by("sequence").first()
    services.dose_record_not_given(
        replace=False, dose=dose, status="held", user=user, now=dose.scheduled_at, reason="fever"
    )
    return dose


def test_admin_never_deletes_a_course_with_a_recorded_dose(
    admin_client_logged, formulary, physician, nurse, ward, today
):
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    dose = _record_one(course, nurse)
    assert admin_client_logged.get(f"/admin/courses/course/{course.pk}/delete/").status_code == 403
    response = admin_client_logged.post(
        "/admin/courses/course/",
        {"action": "delete_selected", "_selected_action": [course.pk], "post": "yes"},
    )
    assert response.status_code in {200, 302, 403}
    assert Course.objects.filter(pk=course.pk).exists()
    # A single dose is never offered for deletion, recorded or not.
    assert admin_client_logged.get(f"/admin/courses/dose/{dose.pk}/delete/").status_code == 403
    assert Dose.objects.filter(pk=dose.pk, status="held").exists()


def test_admin_deletes_an_unrecorded_course_through_the_service(
    admin_client_logged, formulary, physician, ward, today
):
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    response = admin_client_logged.post(
        f"/admin/courses/course/{course.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Course.objects.filter(pk=course.pk).exists() and not Dose.objects.exists()


def test_database_refuses_to_delete_a_recorded_dose(formulary, physician, nurse, ward, today):
    """The trigger (PostgreSQL and SQLite) holds below every code path, the shell included."""
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    dose = _record_one(course, nurse)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dose.objects.filter(pk=dose.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.filter(pk=course.pk).delete()
    assert Dose.objects.filter(pk=dose.pk).exists() and Course.objects.filter(pk=course.pk).exists()
    # An unrecorded dose is not protected by the trigger (it goes with a course deleted in error).
    Dose.objects.filter(pk=course.doses.filter(status="scheduled").first().pk).delete()


def test_admin_protocol_refused_by_the_service_rolls_back_and_says_why(
    admin_client_logged, formulary, physician, ward, today
):
    """A valid form the service refuses (a phase still used by a course left out of the post):
    the whole save is rolled back — the protocol's own fields too — and the reason shown."""
    from tests.courses.helpers import prescribe

    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-osteomyelitis-chronic",
        physician,
        today,
        phases=[{"pattern": {"kind": "every_n_days", "n": 3}, "count": 2}, {"count": 3}],
    )
    protocol = course.protocol
    form = _protocol_form(protocol)
    form["indication"] = "Changed in the admin"
    for key in [key for key in form if key.startswith("phases-1-")]:
        del form[key]
    form["phases-TOTAL_FORMS"] = form["phases-INITIAL_FORMS"] = "1"
    response = admin_client_logged.post(
        f"/admin/courses/protocol/{protocol.pk}/change/", form, follow=True
    )
    assert b"used by prescribed courses and cannot be removed" in response.content
    protocol.refresh_from_db()
    assert protocol.indication != "Changed in the admin" and protocol.phases.count() == 2
