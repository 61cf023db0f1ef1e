"""E-mails are rendered when they are sent, each copy in its reader's language, over real SMTP.

A ward mailbox reads its ward's language (LANGUAGE_CODE when the ward has none); a person reads
the language chosen on the Settings page (LANGUAGE_CODE when none). One alert to readers of two
languages goes out as one message per language, each with its own stable Message-ID.
"""

import datetime as dt

import pytest
from django.utils import timezone

from config.roles import Role
from courses import alerts
from notifications.models import Notification, NotificationKind, NotificationPreference
from notifications.services import notifications_send_due
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory, UserFactory
from tests.notifications.conftest import enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward_mailbox(ward):
    ward.email = "ward-3a@hospital.test"
    ward.save()
    return ward


@pytest.fixture
def course(formulary, physician, ward_mailbox):
    """A daily course starting today at 10:00 (the hospital's zone, UTC here)."""
    patient = PatientFactory(ward=ward_mailbox, name="Olena Kovalenko", mrn="H-22310007")
    return prescribe(
        patient,
        "ceruloplasmin-postop",
        physician,
        timezone.localdate(),
        phases=[{"dose": "3", "count": 7}],
    )


def at(hour: int) -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time(hour), tzinfo=dt.UTC)


def by_recipient(smtp) -> dict:
    return {message["To"].addresses[0].addr_spec: message for message in smtp.messages}


def subject_of(message) -> str:
    return str(message["Subject"]).strip()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_a_digest_to_a_ukrainian_reading_ward_is_ukrainian(smtp, course, ward_mailbox, nurse):
    ward_mailbox.language = "uk"
    ward_mailbox.save()
    assert alerts.ward_digests_enqueue(now=at(8)) == 1
    digest = Notification.objects.get(kind=NotificationKind.WARD_DIGEST)
    assert "infusion today" in digest.subject  # the record, in the site's language (English)

    assert notifications_send_due(now=at(8)).sent == 1
    copies = by_recipient(smtp)
    assert set(copies) == {"ward-3a@hospital.test", nurse.email}

    ukrainian = copies["ward-3a@hospital.test"]
    assert subject_of(ukrainian).startswith("Ward 3A: сьогодні 1 інфузія, ")
    text = text_of(ukrainian)
    assert text.startswith("Ward 3A: 1 інфузія — ")
    assert "Час указано за місцевим часом лікарні." in text
    assert "внутрішньовенно крапельно" in text.lower()
    assert "Більше не отримувати ці зведення: " in text
    assert '<html lang="uk">' in html_of(ukrainian) and "Препарат, доза, флакони" in html_of(
        ukrainian
    )
    assert "infusion" not in text and "Times are" not in text

    english = copies[nurse.email]  # the nurse chose no language: the site's, English
    assert subject_of(english).startswith("Ward 3A: 1 infusion today, ")
    assert "Times are the hospital's local time." in text_of(english)
    assert "Stop receiving these digests: " in text_of(english)


def test_an_escalation_to_an_english_reading_pharmacist_is_english(
    smtp,
    course,
    ward_mailbox,
    nurse,
    settings,
):
    settings.LANGUAGE_CODE = "uk"  # a Ukrainian hospital: the ward mailbox and nurse read Ukrainian
    pharmacist = UserFactory(roles=[Role.PHARMACIST], email="pharmacist@hospital.test")
    NotificationPreference.objects.create(user=pharmacist, language="en-gb")

    assert alerts.doses_overdue_enqueue(now=at(17)) == 1  # 10:00 dose, 7 h late: escalated
    escalation = Notification.objects.get()
    assert escalation.kind == NotificationKind.DOSE_MISSED_ESCALATION
    assert escalation.subject.startswith("Пропущена доза (")  # the record: the site's language
    assert notifications_send_due(now=at(17)).sent == 1

    assert len(smtp.messages) == 2  # one message per language
    by_language = {
        "en" if "Missed dose" in subject_of(message) else "uk": message for message in smtp.messages
    }
    english, ukrainian = by_language["en"], by_language["uk"]
    assert [a.addr_spec for a in english["To"].addresses] == ["pharmacist@hospital.test"]
    assert sorted(a.addr_spec for a in ukrainian["To"].addresses) == sorted(
        [nurse.email, "ward-3a@hospital.test"]
    )
    assert subject_of(english).startswith("Missed dose (")
    assert "still not recorded" in subject_of(english)
    assert "More than 6 hours have passed. Pharmacy: check with the ward" in text_of(english)
    assert "Пропущена доза" not in text_of(english)
    assert subject_of(ukrainian).startswith("Пропущена доза (")
    assert "Минуло понад 6 годин. Аптеко: з’ясуйте з відділенням" in text_of(ukrainian)
    assert english["Message-ID"] != ukrainian["Message-ID"]


def test_a_retry_renders_the_same_message_again(smtp, course, ward_mailbox):
    ward_mailbox.language = "uk"
    ward_mailbox.save()
    alerts.ward_digests_enqueue(now=at(8))
    notifications_send_due(now=at(8))
    first = by_recipient(smtp)["ward-3a@hospital.test"]
    Notification.objects.update(status="pending", next_attempt_at=at(8))
    smtp.clear()
    assert notifications_send_due(now=at(8)).sent == 1
    again = by_recipient(smtp)["ward-3a@hospital.test"]
    assert text_of(again) == text_of(first) and html_of(again) == html_of(first)
    assert again["Message-ID"] == first["Message-ID"]


def test_a_row_stored_before_rendering_moved_to_send_time_goes_out_as_stored(smtp):
    notification, _ = enqueue(recipients=["ward-3a@hospital.test"])
    Notification.objects.filter(pk=notification.pk).update(
        context=None, subject="Stored subject", body_text="Stored text\n", body_html="<p>x</p>"
    )
    assert notifications_send_due(now=timezone.now()).sent == 1
    [message] = smtp.messages
    assert subject_of(message) == "Stored subject" and text_of(message).strip() == "Stored text"
