import pytest

from config.roles import Role
from inventory.models import Ward
from notifications.models import NotificationPreference
from notifications.selectors import role_recipients, ward_recipients
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward():
    ward = Ward.objects.create(code="ward-3a", name="Ward 3A", email="ward-3a@hospital.test")
    nurse = UserFactory(username="nina", roles=[Role.NURSE])
    opted_out = UserFactory(username="otto", roles=[Role.NURSE])
    NotificationPreference.objects.create(user=opted_out, receive_digests=False)
    physician = UserFactory(username="phil", roles=[Role.PHYSICIAN])
    gone = UserFactory(username="gina", roles=[Role.NURSE], is_active=False)
    no_mail = UserFactory(username="noah", roles=[Role.NURSE], email="")
    ward.members.add(nurse, opted_out, physician, gone, no_mail)
    UserFactory(username="elsewhere", roles=[Role.NURSE])  # a nurse of another ward
    return ward


def test_ward_alerts_reach_its_active_nurses_and_its_mailbox(ward):
    assert ward_recipients(ward) == [
        "nina@hospital.test",
        "otto@hospital.test",
        "ward-3a@hospital.test",
    ]


def test_digests_honour_the_opt_out_but_the_ward_mailbox_stays(ward):
    assert ward_recipients(ward, digest=True) == ["nina@hospital.test", "ward-3a@hospital.test"]


def test_other_roles_and_every_member(ward):
    assert ward_recipients(ward, role=Role.PHYSICIAN) == [
        "phil@hospital.test",
        "ward-3a@hospital.test",
    ]
    assert "phil@hospital.test" in ward_recipients(ward, role=None)


def test_role_recipients_and_their_digest_opt_out():
    UserFactory(username="pia", roles=[Role.PHARMACIST])
    quiet = UserFactory(username="paul", roles=[Role.PHARMACIST, Role.VIEWER])
    NotificationPreference.objects.create(user=quiet, receive_digests=False)
    UserFactory(username="nora", roles=[Role.NURSE])
    # An excursion alert (digest=False) cannot be declined.
    assert role_recipients(Role.PHARMACIST) == ["paul@hospital.test", "pia@hospital.test"]
    assert role_recipients(Role.PHARMACIST, digest=True) == ["pia@hospital.test"]


def test_a_ward_without_mailbox_or_staff_has_nobody():
    assert ward_recipients(Ward.objects.create(code="empty", name="Empty")) == []
