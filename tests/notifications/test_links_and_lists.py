"""E-mail that leads somewhere: real messages from the scans, sent through the loopback SMTP
server and read back with Python's `email` parser (policy=default): absolute links that open
the dose / lot, a From display name, dated subjects, plurals, and for digests List-Id plus a
List-Unsubscribe link (RFC 2369 / 8058 one-click) that works without the admin."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from config.roles import Role
from courses import alerts
from inventory.alerts import expiry_alerts_enqueue
from notifications.models import Notification, NotificationPreference
from notifications.services import notifications_send_due
from tests.courses.test_alerts import T, at_berlin, berlin, dose_at, ward3a  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SITE = "https://pharmacy.hospital-a.example"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.EMAIL_FROM_NAME = "Hospital A pharmacy"
    settings.DEFAULT_FROM_EMAIL = "pharmacy@hospital-a.example"


def _send(smtp) -> list:
    smtp.clear()
    notifications_send_due(now=timezone.now() + dt.timedelta(days=400))
    return smtp.messages


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _path(url: str) -> str:
    assert url.startswith(SITE + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_reminder_is_dated_signed_and_links_to_its_dose(smtp, dose_at, nurse):  # noqa: F811
    dose = dose_at(T)
    alerts.dose_reminders_enqueue(now=T)
    (message,) = _send(smtp)
    assert message["Subject"].strip().startswith("Dose due Wed 10 Jun 2026 at 10:00: Ceruloplasmin")
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Hospital A pharmacy",
        "pharmacy@hospital-a.example",
    )
    assert message["List-Unsubscribe"] is None  # an alert that needs action cannot be left
    link = f"{SITE}/courses/{dose.course_id}/#dose-{dose.pk}"
    assert f"Open: {link}" in _text(message) and f'href="{link}"' in _html(message)
    # The link opens the dose's row for a nurse of the ward.
    browser = Client()
    browser.force_login(nurse)
    page = browser.get(_path(link.split("#")[0]))
    assert page.status_code == 200 and f'id="dose-{dose.pk}"' in page.content.decode()


def test_overdue_and_missed_subjects_name_the_day(smtp, dose_at):  # noqa: F811
    dose_at(T)
    alerts.doses_overdue_enqueue(now=T + dt.timedelta(hours=2))
    alerts.doses_overdue_enqueue(now=T + dt.timedelta(hours=6))
    # .strip(): Django 5.2 folds a long non-ASCII subject right after "Subject:", and Python's
    # parser keeps the fold's space.
    subjects = sorted(m["Subject"].strip() for m in _send(smtp))
    assert subjects[0].startswith("Missed dose (Wed 10 Jun 2026, 10:00): Ceruloplasmin")
    assert subjects[1].startswith("Overdue dose (Wed 10 Jun 2026, 10:00): Ceruloplasmin")


def test_digest_copies_carry_list_headers_and_a_working_one_click_unsubscribe(
    smtp,
    dose_at,  # noqa: F811
    ward3a,  # noqa: F811
    nurse,
):
    other = UserFactory(username="other-nurse", roles=[Role.NURSE])
    ward3a.members.add(other)
    dose_at(at_berlin(T.date(), 11))
    alerts.ward_digests_enqueue(now=at_berlin(T.date(), 7))
    messages = _send(smtp)
    # One copy per recipient, each with its own unsubscribe link.
    by_address = {m["To"].addresses[0].addr_spec: m for m in messages}
    assert sorted(by_address) == sorted([nurse.email, other.email, "ward-3a@hospital.test"])
    assert len({m["Message-ID"] for m in messages}) == 3
    for message in messages:
        assert len(message["To"].addresses) == 1
        assert message["Subject"].strip() == "Ward 3A: 1 infusion today, Wed 10 Jun 2026"
        assert message["List-Id"] == "Ward digests <ward-digests.pharmacy.hospital-a.example>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = message["List-Unsubscribe"].strip().strip("<>")
        assert url in _text(message) and url.startswith(f"{SITE}/alerts/unsubscribe/")
        assert f"{SITE}/?ward=ward-3a&amp;date=2026-06-10" in _html(message)

    url = by_address[nurse.email]["List-Unsubscribe"].strip().strip("<>")
    anonymous = Client(enforce_csrf_checks=True)  # a mail provider: no session, no CSRF token
    preview = anonymous.get(_path(url))
    assert preview.status_code == 200 and nurse.email in preview.content.decode()
    assert not NotificationPreference.objects.filter(user=nurse).exists()  # GET changes nothing
    # RFC 8058: the provider POSTs "List-Unsubscribe=One-Click" to the URL.
    done = anonymous.post(
        _path(url),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200 and 'id="unsubscribed"' in done.content.decode()
    assert NotificationPreference.objects.get(user=nurse).receive_digests is False

    mailbox_url = by_address["ward-3a@hospital.test"]["List-Unsubscribe"].strip().strip("<>")
    assert anonymous.post(_path(mailbox_url)).status_code == 200
    ward3a.refresh_from_db()
    assert ward3a.mailbox_digests is False

    tomorrow = T.date() + dt.timedelta(days=1)
    dose_at(at_berlin(tomorrow, 11))
    alerts.ward_digests_enqueue(now=at_berlin(tomorrow, 7))
    digest = Notification.objects.get(key=f"digest:ward-3a:{tomorrow}")
    assert digest.recipients == [other.email]
    # The opt-out covers digests only: the mailbox and the nurse still get the reminder.
    alerts.dose_reminders_enqueue(now=at_berlin(tomorrow, 11))
    reminder = Notification.objects.filter(kind="dose_reminder").latest("id")
    assert reminder.recipients == sorted([nurse.email, other.email, "ward-3a@hospital.test"])


def test_a_tampered_unsubscribe_link_changes_nothing(nurse):
    response = Client().post("/alerts/unsubscribe/not-a-signed-token/")
    assert response.status_code == 404
    assert not NotificationPreference.objects.exists()


def test_expiry_alert_links_each_lot_and_counts_in_words(smtp, formulary, cerulo, fridge, receive):
    UserFactory(roles=[Role.PHARMACIST], email="pharmacist@hospital-a.example")
    lot = receive(cerulo, fridge, 4, lot_number="EXP-1", expiry_days=20)
    expiry_alerts_enqueue(on=timezone.localdate())
    (message,) = _send(smtp)
    assert message["Subject"].strip().startswith("Expiry: 1 lot within 30 days, ")
    assert f"{SITE}/stock/lots/{lot.pk}/" in _text(message)
    assert f'href="{SITE}/stock/lots/{lot.pk}/"' in _html(message)
    assert "lot(s)" not in _text(message) and "vial(s)" not in _text(message)
