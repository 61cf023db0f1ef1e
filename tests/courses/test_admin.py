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
