"""History coverage: for every tracked model, an insert, an update and a delete each write an
event carrying the acting user, and the update's before → after.

Captured by PostgreSQL triggers (django-pghistory): these tests run on PostgreSQL only; the
SQLite pass has no triggers and records nothing (the surfaces say so, see test_surfaces.py).
The changes here are made with the ORM inside `recording(user=…)` — the shell's path; the
request paths (API, admin) are in test_surfaces.py.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from pghistory.models import Events

from config.roles import Role
from courses.models import CoursePhase, Dose, PatientWeight, Protocol, ProtocolPhase
from history.context import recording
from tests.courses.helpers import seven_doses
from tests.factories import (
    LotFactory,
    PatientFactory,
    PresentationFactory,
    ProductFactory,
    StorageLocationFactory,
    UserFactory,
    WardFactory,
)

pytestmark = pytest.mark.usefixtures("postgres")


def _events(model_label, pk):
    return list(
        Events.objects.across(model_label)
        .filter(pgh_obj_id=str(pk))
        .order_by("pgh_id")
        .values("pgh_label", "pgh_diff", "pgh_context")
    )


def _check(model_label, create, update, delete, *, field, actor):
    """create() → obj; update(obj) changes `field`; delete(obj). Returns the three events."""
    with recording(user=actor, reason="coverage"):
        obj = create()
        pk = obj.pk
        before = getattr(obj, field)
        update(obj)
        obj.refresh_from_db()
        after = getattr(obj, field)
        delete(obj)
    events = _events(model_label, pk)
    assert [event["pgh_label"] for event in events] == ["insert", "update", "delete"]
    for event in events:
        assert event["pgh_context"]["user"] == actor.pk
        assert event["pgh_context"]["reason"] == "coverage"
    column = type(obj)._meta.get_field(field).attname
    was, now = events[1]["pgh_diff"][column]
    assert _same(was, before) and _same(now, after), (was, now, before, after)
    return events


def _same(stored, value) -> bool:
    """The event's JSON value equals the model's Python value."""
    if isinstance(value, Decimal):
        return Decimal(str(stored)) == value
    if isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(stored) == value
    if hasattr(value, "pk"):
        return stored == value.pk
    return stored == value


@pytest.fixture
def actor(roles):
    return UserFactory(roles=[Role.PHARMACIST])


def _set(field, value):
    def update(obj):
        setattr(obj, field, value)
        obj.save()

    return update


def _delete(obj):
    obj.delete()


def test_patient(actor, ward):
    _check(
        "courses.PatientEvent",
        lambda: PatientFactory(ward=ward, weight_kg=False),
        _set("septic_shock", True),  # a condition
        _delete,
        field="septic_shock",
        actor=actor,
    )


def test_patient_weight(actor, ward, today):
    patient = PatientFactory(ward=ward, weight_kg=False)
    _check(
        "courses.PatientWeightEvent",
        lambda: PatientWeight.objects.create(
            patient=patient, measured_on=today, weight_kg=Decimal("70")
        ),
        _set("weight_kg", Decimal("71.5")),
        _delete,
        field="weight_kg",
        actor=actor,
    )


def test_protocol(actor, formulary):
    template = Protocol.objects.get(code="ceruloplasmin-postop")

    def create():
        copy = Protocol.objects.get(pk=template.pk)
        copy.pk, copy.code = None, "copy-of-postop"
        copy.save()
        return copy

    _check(
        "courses.ProtocolEvent",
        create,
        _set("indication", "Changed"),
        _delete,
        field="indication",
        actor=actor,
    )


def test_protocol_phase(actor, formulary):
    template = ProtocolPhase.objects.filter(protocol__code="ceruloplasmin-postop").first()

    def create():
        copy = ProtocolPhase.objects.get(pk=template.pk)
        copy.pk, copy.order = None, 9
        copy.save()
        return copy

    _check(
        "courses.ProtocolPhaseEvent",
        create,
        _set("count_max", 9),
        _delete,
        field="count_max",
        actor=actor,
    )


@pytest.fixture
def course(formulary, physician, ward, today):
    return seven_doses("ceruloplasmin-postop", physician, ward, today)


def test_course(formulary, physician, ward, today):
    # course_create records its own acting user (the prescriber). Deleting is allowed only
    # before anything is recorded, as here.
    _check(
        "courses.CourseEvent",
        lambda: seven_doses("ceruloplasmin-postop", physician, ward, today),
        _set("notes", "see the ward round"),
        _delete,
        field="notes",
        actor=physician,
    )


def test_course_phase(actor, course):
    template = course.phases.get()

    def create():
        copy = CoursePhase.objects.get(pk=template.pk)
        copy.pk, copy.order = None, 2
        copy.save()
        return copy

    _check(
        "courses.CoursePhaseEvent",
        create,
        _set("count", 8),
        _delete,
        field="count",
        actor=actor,
    )


def test_dose(actor, course):
    template = course.doses.order_by("sequence").last()

    def create():
        copy = Dose.objects.get(pk=template.pk)
        copy.pk, copy.sequence = None, 99
        copy.save()
        return copy

    _check(
        "courses.DoseEvent",
        create,
        _set("scheduled_at", template.scheduled_at + dt.timedelta(days=1)),
        _delete,  # a scheduled dose; a recorded one cannot be deleted (test_admin.py)
        field="scheduled_at",
        actor=actor,
    )


def test_product(actor):
    _check(
        "inventory.ProductEvent",
        lambda: ProductFactory(code="history-product", name="History product"),
        _set("shelf_life_months", 18),
        _delete,
        field="shelf_life_months",
        actor=actor,
    )


def test_presentation_gtin(actor):
    _check(
        "inventory.PresentationEvent",
        lambda: PresentationFactory(code="history-pres", gtin="04600000000017"),
        _set("gtin", "04600000000024"),
        _delete,
        field="gtin",
        actor=actor,
    )


def test_ward(actor):
    _check(
        "inventory.WardEvent",
        lambda: WardFactory(code="ward-hist", name="Ward H"),
        _set("name", "Ward H (renamed)"),
        _delete,
        field="name",
        actor=actor,
    )


def test_location(actor, ward):
    _check(
        "inventory.StorageLocationEvent",
        lambda: StorageLocationFactory(code="hist-fridge"),
        _set("ward", ward),
        _delete,
        field="ward",
        actor=actor,
    )


def test_lot_and_its_status(actor):
    _check(
        "inventory.LotEvent",
        lambda: LotFactory(lot_number="HIST1"),
        _set("status", "quarantined"),
        _delete,
        field="status",
        actor=actor,
    )


def test_user(actor):
    _check(
        "history.UserEvent",
        lambda: UserFactory(username="hist-user"),
        _set("is_active", False),
        _delete,
        field="is_active",
        actor=actor,
    )


def test_user_password_hash_is_not_copied(actor):
    user = UserFactory(username="hist-pw")
    with recording(user=actor):
        user.set_password("another-one")
        user.save()
    events = _events("history.UserEvent", user.pk)
    assert all("password" not in (event["pgh_diff"] or {}) for event in events)
    assert len(events) == 1  # the insert; a password change alone is not a field we copy


def test_role_and_ward_membership(actor, ward, roles):
    user = UserFactory(username="hist-member")
    nurses = Group.objects.get(name=Role.NURSE)
    with recording(user=actor, reason="joined the ward"):
        user.groups.add(nurses)
        ward.members.add(user)
        user.groups.remove(nurses)
        ward.members.remove(user)
    role_events = list(
        Events.objects.across("history.UserGroupEvent").references(user).order_by("pgh_id")
    )
    assert [e.pgh_label for e in role_events] == ["role.add", "role.remove"]
    assert role_events[0].pgh_data["group_id"] == nurses.pk
    ward_events = list(
        Events.objects.across("inventory.WardMemberEvent").references(user).order_by("pgh_id")
    )
    assert [e.pgh_label for e in ward_events] == ["member.add", "member.remove"]
    assert all(e.pgh_context["user"] == actor.pk for e in role_events + ward_events)
