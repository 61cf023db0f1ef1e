"""The doses API's rows (`RowsSerializer`): DRF's generic field lookup planned once per list, with
the same JSON as DRF's own `to_representation` for every kind of field it plans."""

import datetime as dt
import json

import pytest
from rest_framework import serializers

from courses import selectors
from courses.models import Dose
from courses.serializers import CourseSerializer, DoseListSerializer, RowsSerializer
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _doses(physician, nurse_client, ward, today):
    """A course with a dose given (recorded by, lot, given amount) and the rest scheduled."""
    ward.members.add(nurse_client.user)
    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"count": 7, "dose": "2"}],
    )
    first = course.doses.order_by("sequence").first()
    Dose.objects.filter(pk=first.pk).update(scheduled_at=first.scheduled_at - dt.timedelta(days=3))
    response = nurse_client.post(
        f"/api/v1/doses/{first.pk}/administer/", {"reason": "Recorded late (test)"}, format="json"
    )
    assert response.status_code == 200, response.content
    return course, list(selectors.doses_visible(physician).filter(course=course))


def _generic(monkeypatch, make):
    with monkeypatch.context() as patch:
        patch.setattr(
            RowsSerializer, "to_representation", serializers.ModelSerializer.to_representation
        )
        return make().data


def test_dose_rows_are_what_drf_writes_field_by_field(
    monkeypatch, physician, nurse_client, ward, stocked, formulary, today
):
    _course, doses = _doses(physician, nurse_client, ward, today)
    lean = DoseListSerializer(doses, many=True)
    assert len(lean.data) == len(doses) > 1
    assert lean.data[0]["recorded_by"] and lean.data[0]["status"] == "given"
    generic = _generic(monkeypatch, lambda: DoseListSerializer(doses, many=True))
    assert json.dumps(lean.data, sort_keys=False) == json.dumps(generic, sort_keys=False)
    kinds = {name: kind for name, kind, _target in lean.child._row_plan()}
    # The plan takes the short ways where it may, and DRF's for relations and nested shapes.
    assert kinds["amount"] == kinds["scheduled_at"] == kinds["vials"] == "column"
    assert kinds["preparation"] == kinds["amount_label"] == "method"
    assert kinds["patient"] == kinds["course"] == kinds["recorded_by"] == kinds["phase"] == "field"


def test_a_courses_nested_doses_are_what_drf_writes(
    monkeypatch, physician, nurse_client, ward, stocked, formulary, today
):
    course, _doses_ = _doses(physician, nurse_client, ward, today)
    course = selectors.courses_visible(physician).get(pk=course.pk)
    lean = CourseSerializer(course).data
    generic = _generic(monkeypatch, lambda: CourseSerializer(course))
    assert json.dumps(lean) == json.dumps(generic)
