"""The history seen from the outside: recorded through the API, the admin and the shell, read on
`…/{id}/history/` with the resource's own visibility, on the pages and on /audit/, immutable,
pruned only past the retention period; and deletes of recorded doses refused with 409."""

import datetime as dt

import pgtrigger
import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from pghistory.models import Events

from config.roles import Role
from courses import services
from courses.models import Course, Dose, Patient
from history.services import history_prune
from history.tasks import prune
from inventory.models import Presentation
from tests.courses.helpers import seven_doses
from tests.factories import PatientFactory, UserFactory

on_postgres = pytest.mark.usefixtures("postgres")


@pytest.fixture
def course(formulary, physician, ward, today):
    return seven_doses("ceruloplasmin-postop", physician, ward, today)


def _api_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@on_postgres
def test_course_hold_through_the_api_is_in_its_history(course, physician, nurse, today):
    client = _api_for(physician)
    response = client.post(
        f"/api/v1/courses/{course.pk}/hold/",
        {"reason": "neutropenia, review Monday"},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert response.status_code == 200, response.content
    history = _api_for(nurse).get(f"/api/v1/courses/{course.pk}/history/")
    assert history.status_code == 200
    held = [
        e
        for e in history.json()["results"]
        if e["model"] == "courses.Course" and e["label"] == "update"
    ][0]
    assert held["username"] == physician.username and held["user_id"] == physician.pk
    assert held["action"] == "course.hold" and held["reason"] == "neutropenia, review Monday"
    assert held["url"] == f"/api/v1/courses/{course.pk}/hold/"
    assert held["request_id"] == "req-42"
    assert held["changes"]["status"] == {"before": "active", "after": "on_hold"}
    # The course's history includes every dose's events (here: their planning).
    assert {e["model"] for e in history.json()["results"]} >= {
        "courses.Course",
        "courses.CoursePhase",
        "courses.Dose",
    }


@on_postgres
def test_dose_status_changes_are_recorded_with_the_recorder(course, nurse):
    dose = course.doses.order_by("sequence").first()
    response = _api_for(nurse).post(
        f"/api/v1/doses/{dose.pk}/hold/", {"reason": "fever 39 °C", "replace": False}, format="json"
    )
    assert response.status_code == 200, response.content
    history = _api_for(nurse).get(f"/api/v1/doses/{dose.pk}/history/").json()["results"]
    change = next(e for e in history if e["label"] == "update" and "status" in e["changes"])
    assert change["changes"]["status"] == {"before": "scheduled", "after": "held"}
    assert change["username"] == nurse.username and change["reason"] == "fever 39 °C"
    assert change["action"] == "dose.not_given"


@on_postgres
def test_a_nurse_sees_only_her_wards_histories(course, roles, other_ward):
    stranger = UserFactory(roles=[Role.NURSE])
    other_ward.members.add(stranger)
    client = _api_for(stranger)
    assert client.get(f"/api/v1/courses/{course.pk}/history/").status_code == 404
    assert client.get(f"/api/v1/patients/{course.patient_id}/history/").status_code == 404
    dose = course.doses.first()
    assert client.get(f"/api/v1/doses/{dose.pk}/history/").status_code == 404


@on_postgres
def test_presentation_gtin_change_through_the_api(formulary, pharmacist_client, viewer_client):
    presentation = Presentation.objects.order_by("pk").first()
    old = presentation.gtin
    response = pharmacist_client.patch(
        f"/api/v1/presentations/{presentation.pk}/", {"gtin": "04600000000992"}, format="json"
    )
    assert response.status_code == 200, response.content
    history = viewer_client.get(f"/api/v1/presentations/{presentation.pk}/history/").json()
    change = history["results"][0]
    assert change["changes"]["gtin"] == {"before": old, "after": "04600000000992"}
    assert change["username"] == pharmacist_client.user.username


@on_postgres
@pytest.mark.parametrize(
    "resource", ["protocols", "products", "presentations", "wards", "locations", "lots"]
)
def test_every_resource_has_a_history_endpoint(
    resource, formulary, ward, viewer_client, receive, cerulo, fridge, django_assert_max_num_queries
):
    receive(cerulo, fridge, 5)
    first = viewer_client.get(f"/api/v1/{resource}/").json()["results"][0]
    with django_assert_max_num_queries(8):
        response = viewer_client.get(f"/api/v1/{resource}/{first['id']}/history/")
    assert response.status_code == 200
    assert response.json()["results"][-1]["label"] == "insert"


@on_postgres
def test_admin_edit_is_recorded_with_the_admin_user(client, ward):
    boss = get_user_model().objects.create_superuser("boss", "b@h.test", "pw")
    client.force_login(boss)
    patient = PatientFactory(ward=ward, weight_kg=False)
    form = {
        "mrn": patient.mrn,
        "name": "Renamed In Admin",
        "birth_date": str(patient.birth_date),
        "sex": patient.sex,
        "ward": ward.pk,
        "protein_drug_allergy": "on",
        "weights-TOTAL_FORMS": "0",
        "weights-INITIAL_FORMS": "0",
        "weights-2-TOTAL_FORMS": "0",
        "weights-2-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/courses/patient/{patient.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    event = Events.objects.tracks(patient).order_by("-pgh_id").first()
    assert event.pgh_context["user"] == boss.pk
    assert event.pgh_context["url"] == f"/admin/courses/patient/{patient.pk}/change/"
    assert event.pgh_diff["protein_drug_allergy"] == [False, True]
    assert event.pgh_context["action"] == "patient.save"


@on_postgres
def test_a_change_from_the_shell_or_raw_sql_is_recorded_too(ward):
    patient = PatientFactory(ward=ward, weight_kg=False)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE courses_patient SET name = 'Raw SQL' WHERE id = %s", [patient.pk])
    event = Events.objects.tracks(patient).order_by("-pgh_id").first()
    assert event.pgh_label == "update" and event.pgh_diff["name"][1] == "Raw SQL"
    assert event.pgh_context is None  # no request, no service: nobody to name


@on_postgres
def test_history_rows_cannot_be_updated_or_deleted(ward):
    PatientFactory(ward=ward, weight_kg=False)
    for sql in (
        "UPDATE courses_patientevent SET name = 'forged'",
        "DELETE FROM courses_patientevent",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert Events.objects.across("courses.PatientEvent").count() == 1


def _patient_aged(ward, days: int):
    """A new patient whose recorded insert is back-dated `days` (the test lifts the append-only
    trigger the way the prune does)."""
    patient = PatientFactory(ward=ward, weight_kg=False)
    with pgtrigger.ignore("courses.PatientEvent:append_only"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE courses_patientevent SET pgh_created_at = now() - make_interval(days => %s)"
            " WHERE pgh_obj_id = %s",
            [days, patient.pk],
        )
    return patient


@on_postgres
def test_prune_deletes_only_events_older_than_the_retention(ward):
    old = _patient_aged(ward, 40)
    recent = PatientFactory(ward=ward, weight_kg=False)
    with override_settings(HISTORY_RETENTION_DAYS=30):
        assert history_prune() == 1
    assert not Events.objects.tracks(old).exists()
    assert Events.objects.tracks(recent).exists()
    with override_settings(HISTORY_RETENTION_DAYS=30):
        assert history_prune() == 0
    # And the trigger is back in force after the prune.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM courses_patientevent")


@on_postgres
def test_the_beat_task_prunes_past_the_retention_and_zero_keeps_everything(ward):
    old = _patient_aged(ward, 400)
    with override_settings(HISTORY_RETENTION_DAYS=0):
        assert prune.apply().get() == 0
    assert Events.objects.tracks(old).exists()
    with override_settings(HISTORY_RETENTION_DAYS=365):
        assert prune.apply().get() == 1
    assert not Events.objects.tracks(old).exists()


def _page_client(user):
    client = Client()
    client.force_login(user)
    return client


@on_postgres
def test_pages_show_the_history(course, physician, receive, cerulo, fridge):
    services.course_hold(
        course=course, user=physician, on=timezone.localdate(), reason="platelets low"
    )
    client = _page_client(physician)
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert 'id="history"' in page and "platelets low" in page and "on_hold" in page
    page = client.get(f"/patients/{course.patient_id}/").content.decode()
    assert 'id="history"' in page and "courses.Patient" in page
    lot = receive(cerulo, fridge, 3)
    page = client.get(f"/stock/lots/{lot.pk}/").content.decode()
    assert 'id="history"' in page and "courses.Patient" not in page and "inventory.Lot" in page


@on_postgres
def test_audit_page_filters_by_user_and_date(course, physician, nurse, roles, today):
    services.course_hold(course=course, user=physician, on=today, reason="by the physician")
    dose = course.doses.order_by("sequence").first()
    services.dose_record_not_given(
        replace=False,
        dose=dose,
        status="refused",
        user=nurse,
        now=dose.scheduled_at,
        reason="by the nurse",
    )
    auditor = UserFactory(roles=[Role.VIEWER])
    client = _page_client(auditor)
    page = client.get("/audit/", {"user": nurse.pk, "start": str(today), "end": str(today)})
    text = page.content.decode()
    assert page.status_code == 200 and "by the nurse" in text and "by the physician" not in text
    yesterday = today - dt.timedelta(days=1)
    text = client.get("/audit/", {"end": str(yesterday)}).content.decode()
    assert "No change in this selection." in text
    bad = client.get("/audit/", {"start": "not-a-date"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()
    assert _page_client(nurse).get("/audit/").status_code == 403


def test_without_postgres_the_surfaces_say_nothing_is_recorded(
    course, physician, settings, django_db_blocker
):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite pass checks this")
    response = _api_for(physician).get(f"/api/v1/courses/{course.pk}/history/")
    assert response.status_code == 200 and response.json()["results"] == []
    page = _page_client(physician).get(f"/courses/{course.pk}/").content.decode()
    assert "History is recorded on PostgreSQL only" in page


# --- Deleting through the API: recorded doses and their courses answer 409 ----------------------


def test_api_refuses_to_delete_a_course_with_a_recorded_dose(course, physician, nurse):
    dose = course.doses.order_by("sequence").first()
    services.dose_record_not_given(
        replace=False, dose=dose, status="missed", user=nurse, now=dose.scheduled_at, reason="away"
    )
    response = _api_for(physician).delete(f"/api/v1/courses/{course.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "protected"
    assert "cancel it instead" in response.json()["error"]["message"]
    assert Course.objects.filter(pk=course.pk).exists() and Dose.objects.filter(pk=dose.pk).exists()


def test_api_deletes_a_course_prescribed_in_error(course, physician, nurse):
    assert _api_for(nurse).delete(f"/api/v1/courses/{course.pk}/").status_code == 403
    assert _api_for(physician).delete(f"/api/v1/courses/{course.pk}/").status_code == 204
    assert not Course.objects.filter(pk=course.pk).exists()
    assert Patient.objects.filter(pk=course.patient_id).exists()


def test_api_never_deletes_a_dose(course, pharmacist_client):
    dose = course.doses.first()
    response = pharmacist_client.delete(f"/api/v1/doses/{dose.pk}/")
    assert response.status_code == 409 and response.json()["error"]["status"] == 409
    assert Dose.objects.filter(pk=dose.pk).exists()


@on_postgres
def test_admin_history_buttons_show_the_recorded_changes(client, formulary, roles, ward):
    from courses.models import Protocol

    boss = get_user_model().objects.create_superuser("boss", "b@h.test", "pw")
    client.force_login(boss)
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    page = client.get(f"/admin/courses/protocol/{protocol.pk}/history/")
    assert page.status_code == 200 and "courses.ProtocolPhase" in page.content.decode()
    nurse = UserFactory(roles=[Role.NURSE])
    page = client.get(f"/admin/auth/user/{nurse.pk}/history/").content.decode()
    assert "role.add" in page
