"""Stock alert selection at its edges: expiry thresholds, excursions (hook and reminders),
shortages against scheduled demand."""

import datetime
import json
from decimal import Decimal

import pytest
import redis
from django.db import transaction
from django.test import Client
from django.utils import timezone

from config.roles import Role
from inventory import alerts, services
from inventory.demand import DemandLine
from inventory.models import Excursion, Lot
from notifications.models import (
    AlertMarker,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from tests.factories import StorageLocationFactory, UserFactory, WardFactory
from tests.inventory import test_forecast

demand = test_forecast.demand  # the forecast tests' fixture: registered scheduled demand lines

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


# --- Expiry --------------------------------------------------------------------------------------


def listed(notification) -> list[str]:
    return [lot["lot_number"] for lot in notification_context_lots(notification)]


def notification_context_lots(notification):
    # The rendered text is what the pharmacist reads; parse the lot lines back from it.
    return [
        {"lot_number": line[2:].split()[0], "line": line}
        for line in notification.body_text.splitlines()
        if line.startswith("- ")
    ]


def test_expiry_thresholds_at_90_30_7_days_exactly_and_one_day_off(receive, cerulo, fridge, today):
    for days in (91, 90, 31, 30, 8, 7, 0):
        receive(cerulo, fridge, 2, lot_number=f"D{days}", expiry_days=days)
    alert = alerts.expiry_alerts_enqueue(on=today)
    assert alert.key == f"expiry:{today.isoformat()}"
    assert alert.kind == NotificationKind.EXPIRY_ALERT
    assert listed(alert) == ["D0", "D7", "D8", "D30", "D31", "D90"]
    lines = {lot["lot_number"]: lot["line"] for lot in notification_context_lots(alert)}
    assert "(in 90 days, 90 days alert)" in lines["D90"]
    assert "(in 31 days, 90 days alert)" in lines["D31"]
    assert "(in 30 days, 30 days alert)" in lines["D30"]
    assert "(in 8 days, 30 days alert)" in lines["D8"]
    assert "(in 7 days, 7 days alert)" in lines["D7"]
    # A lot first seen at 7 days is marked for 90 and 30 too: it is not listed again for them.
    markers = set(AlertMarker.objects.values_list("key", flat=True))
    lot = {lot.lot_number: lot.pk for lot in Lot.objects.all()}
    assert {f"expiry:lot:{lot['D7']}:{days}d" for days in (90, 30, 7)} <= markers
    assert len(markers) == 1 + 1 + 2 + 2 + 3 + 3


def test_each_lot_is_alerted_once_per_threshold_and_a_second_run_adds_nothing(
    receive, cerulo, fridge, today
):
    receive(cerulo, fridge, 2, lot_number="D91", expiry_days=91)
    receive(cerulo, fridge, 2, lot_number="D31", expiry_days=31)
    first = alerts.expiry_alerts_enqueue(on=today)
    assert listed(first) == ["D31"]
    assert alerts.expiry_alerts_enqueue(on=today) is None
    assert Notification.objects.count() == 1
    # Next day: D91 crosses 90, D31 crosses 30; the 90-day alert of D31 is not repeated.
    second = alerts.expiry_alerts_enqueue(on=today + DAY)
    assert listed(second) == ["D31", "D91"]
    assert "30 days alert" in notification_context_lots(second)[0]["line"]
    assert alerts.expiry_alerts_enqueue(on=today + 2 * DAY) is None


def test_expiry_leaves_out_empty_expired_and_quarantined_lots(
    receive, cerulo, fridge, pharmacist, today
):
    receive(cerulo, fridge, 2, lot_number="OK", expiry_days=20)
    quarantined = receive(cerulo, fridge, 2, lot_number="Q", expiry_days=20)
    services.lot_quarantine(lot_id=quarantined.pk, user=pharmacist, on=today, reason="QA")
    emptied = receive(cerulo, fridge, 1, lot_number="EMPTY", expiry_days=20)
    services.stock_waste(
        location_id=fridge.pk,
        lot_id=emptied.pk,
        quantity=1,
        user=pharmacist,
        on=today,
        reason="broken",
    )
    receive(cerulo, fridge, 2, lot_number="PAST", expiry_days=2)
    assert listed(alerts.expiry_alerts_enqueue(on=today + 3 * DAY)) == ["OK"]


def test_lots_that_expire_before_scheduled_use_are_called_out(
    demand, receive, cerulo, fridge, pharmacist, today
):
    receive(cerulo, fridge, 3, lot_number="UNUSED", expiry_days=5)
    receive(cerulo, fridge, 2, lot_number="USEDUP", expiry_days=40)
    receive(cerulo, fridge, 4, lot_number="PARTLY", expiry_days=60)
    demand.extend(
        DemandLine(presentation_id=cerulo.pk, on=today + n * DAY, quantity=1, reference=f"d{n}")
        for n in (10, 20, 30)
    )  # FEFO: days 10 and 20 take USEDUP, day 30 takes one of PARTLY
    alert = alerts.expiry_alerts_enqueue(on=today)
    lines = {lot["lot_number"]: lot["line"] for lot in notification_context_lots(alert)}
    text = alert.body_text
    assert "No scheduled dose uses it before it expires." in lines_after(text, "UNUSED")
    assert "3 vials will expire unused" in lines_after(text, "PARTLY")
    assert "!" not in lines_after(text, "USEDUP")
    assert set(lines) == {"UNUSED", "USEDUP", "PARTLY"}
    assert "2 lots will expire before scheduled doses use them" in text


def lines_after(text: str, lot_number: str) -> str:
    """The lot's line and its call-out line (if any)."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"- {lot_number} "))
    follow = lines[index + 1] if lines[index + 1].startswith("  !") else ""
    return lines[index] + "\n" + follow


def test_a_digest_over_more_lots_than_the_limit_summarises_lists_the_actionable_and_marks_all(
    demand, receive, cerulo, fridge, today, settings, pharmacist
):
    settings.EXPIRY_ALERT_LIST_LIMIT = 3
    for n in range(2):  # used up by the doses below: listed after the actionable ones
        receive(cerulo, fridge, 1, lot_number=f"SOON{n}", expiry_days=5)
    for n in range(3):
        receive(cerulo, fridge, 2, lot_number=f"MID{n}", expiry_days=20)
    for n in range(3):
        receive(cerulo, fridge, 2, lot_number=f"LATE{n}", expiry_days=60)
    receive(cerulo, fridge, 2, lot_number="LATER", expiry_days=120)  # within no threshold
    demand.append(DemandLine(presentation_id=cerulo.pk, on=today, quantity=2, reference="d"))
    alert = alerts.expiry_alerts_enqueue(on=today)
    # Vials that no scheduled dose uses first, soonest to expire first; then at most 3 lines.
    assert listed(alert) == ["MID0", "MID1", "MID2"]
    text = alert.body_text
    assert alert.subject.startswith("Expiry: 8 lots within 90 days, ")
    assert "Expiry alert, " in text and ": 8 lots newly within an expiry threshold" in text
    assert "  7 days: 2 lots, 2 vials on hand" in text
    assert "  30 days: 3 lots, 6 vials on hand" in text
    assert "  90 days: 3 lots, 6 vials on hand" in text
    assert f"  {cerulo}: 8 lots, 14 vials on hand, 12 vials will expire unused" in text
    assert "6 lots will expire before scheduled doses use them" in text
    assert (
        "And 5 more lots, not listed here (this e-mail lists at most 3): the stock page's expiry "
        "list shows them all." in text
    )
    link = f"{settings.SITE_URL}/stock/?expiring_within_days=90#stock-lots"
    assert f"Expiry list: {link}" in text
    assert f'href="{link}"' in alert.body_html and "And 5 more lots" in alert.body_html
    # Every lot is marked for every threshold it crossed, listed or not: none comes back.
    lot = {lot.lot_number: lot.pk for lot in Lot.objects.all()}
    markers = set(AlertMarker.objects.values_list("key", flat=True))
    assert markers == {
        f"expiry:lot:{lot[number]}:{days}d"
        for number, crossed in [
            *[(f"SOON{n}", (90, 30, 7)) for n in range(2)],
            *[(f"MID{n}", (90, 30)) for n in range(3)],
            *[(f"LATE{n}", (90,)) for n in range(3)],
        ]
        for days in crossed
    }
    assert alerts.expiry_alerts_enqueue(on=today) is None
    # The link shows them all: every lot expiring within 90 days, and no other.
    client = Client()
    client.force_login(pharmacist)
    page = client.get(link.removeprefix(settings.SITE_URL).split("#")[0]).content.decode()
    assert all(number in page for number in lot if number != "LATER")
    assert "LATER" not in page
    for wrong in ("-1", "soon", "99999"):  # refused by the form: the list is shown unfiltered
        response = client.get(f"/stock/?expiring_within_days={wrong}")
        assert response.status_code == 200 and "LATER" in response.content.decode()


def test_the_digest_reads_in_ukrainian_at_send_time(receive, cerulo, fridge, today, settings):
    from notifications.rendering import render

    settings.EXPIRY_ALERT_LIST_LIMIT = 1
    for n in range(3):
        receive(cerulo, fridge, 2, lot_number=f"UK{n}", expiry_days=20)
    alert = alerts.expiry_alerts_enqueue(on=today)
    subject, text, html = render(
        template=alert.template, context=alert.context, subject=alert.subject, language="uk"
    )
    assert "3 серії" in subject
    assert "За порогом сповіщення:" in text and "За формою випуску:" in text
    assert "  30 днів: 3 серії, 6 флаконів у наявності" in text
    assert "І ще 2 серії" in text and "І ще 2 серії" in html
    assert "Список термінів придатності:" in text


def test_expiry_goes_to_pharmacists(receive, cerulo, fridge, pharmacist, today):
    UserFactory(roles=[Role.NURSE])
    receive(cerulo, fridge, 2, expiry_days=7)
    assert alerts.expiry_alerts_enqueue(on=today).recipients == [pharmacist.email]


# --- Excursions ----------------------------------------------------------------------------------

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 8, 0))


def ingest(location, minutes: int, celsius: str):
    return services.readings_ingest(
        readings=[
            {
                "location_id": location.pk,
                "sensor_id": "s1",
                "taken_at": T0 + datetime.timedelta(minutes=minutes),
                "temperature_c": Decimal(celsius),
            }
        ]
    )


@pytest.fixture
def ward_fridge(db, nurse, ward):
    ward.email = "ward-3a@hospital.test"
    ward.save()
    return StorageLocationFactory(code="ward-3a-fridge", ward=ward)


def test_an_opening_excursion_is_alerted_at_once_and_only_once(
    receive, cerulo, ward_fridge, pharmacist, nurse, django_capture_on_commit_callbacks
):
    receive(cerulo, ward_fridge, 3, lot_number="COLD1")
    # Opt-outs cover digests only: an excursion reaches everyone concerned.
    NotificationPreference.objects.create(user=pharmacist, receive_digests=False)
    NotificationPreference.objects.create(user=nurse, receive_digests=False)
    with django_capture_on_commit_callbacks() as callbacks:
        ingest(ward_fridge, 0, "9.5")
    alert = Notification.objects.get()
    excursion = Excursion.objects.get()
    assert alert.kind == NotificationKind.EXCURSION_ALERT
    assert alert.key == f"excursion_alert:excursion:{excursion.pk}"
    assert alert.recipients == sorted([pharmacist.email, nurse.email, "ward-3a@hospital.test"])
    assert "COLD1" in alert.body_text and "9.5 °C" in alert.subject
    assert len(callbacks) == 1, "the sender is woken after the commit"
    with django_capture_on_commit_callbacks() as callbacks:
        ingest(ward_fridge, 10, "11")  # the same excursion, extended
    assert Notification.objects.count() == 1 and callbacks == []


def test_in_range_readings_alert_nothing(receive, cerulo, fridge):
    receive(cerulo, fridge, 3)
    ingest(fridge, 0, "5")
    assert not Notification.objects.exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_ingest_queues_no_alert_and_no_task(redis_url, receive, cerulo, fridge):
    from config.celery import app

    receive(cerulo, fridge, 3)
    queue = redis.Redis.from_url(redis_url)
    waiting = queue.llen("celery")  # the given database is shared, never flushed: count from here
    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    app._after_fork()  # drop the pools built for the previous broker
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            ingest(fridge, 0, "12")
            raise RuntimeError("the gateway's batch failed later on")
        assert not Notification.objects.exists() and not Excursion.objects.exists()
        assert queue.llen("celery") == waiting
        ingest(fridge, 0, "12")  # the control: committed, one alert and one wake-up
        assert Notification.objects.count() == 1
        assert queue.llen("celery") == waiting + 1
        head = queue.lindex("celery", 0)  # LPUSH: the newest message is at the head
        assert json.loads(head)["headers"]["task"] == "notifications.send_due"
        queue.lrem("celery", 1, head)  # take back only what this test put there
    finally:
        app.conf.broker_url = previous
        app._after_fork()


def test_excursion_reminders_every_four_hours_while_unresolved(
    receive, cerulo, ward_fridge, pharmacist, today
):
    receive(cerulo, ward_fridge, 3)
    ingest(ward_fridge, 0, "9.5")
    excursion = Excursion.objects.get()
    start = excursion.started_at
    hours = lambda n: start + datetime.timedelta(hours=n)  # noqa: E731
    assert alerts.excursion_reminders_enqueue(now=hours(4) - datetime.timedelta(seconds=1)) == 0
    assert alerts.excursion_reminders_enqueue(now=hours(4)) == 1
    assert alerts.excursion_reminders_enqueue(now=hours(7)) == 0
    assert alerts.excursion_reminders_enqueue(now=hours(13)) == 1  # slot 3: missed slot 2 skipped
    reminders = Notification.objects.filter(kind=NotificationKind.EXCURSION_REMINDER)
    assert sorted(reminders.values_list("key", flat=True)) == [
        f"excursion_reminder:excursion:{excursion.pk}:1",
        f"excursion_reminder:excursion:{excursion.pk}:3",
    ]
    assert pharmacist.email in reminders.first().recipients
    ingest(ward_fridge, 14 * 60, "5")  # back in range: still unresolved, still reminded
    assert alerts.excursion_reminders_enqueue(now=hours(16)) == 1
    services.excursion_resolve(
        excursion_id=excursion.pk, resolution="release", user=pharmacist, on=today, reason="ok"
    )
    assert alerts.excursion_reminders_enqueue(now=hours(20)) == 0


# --- Shortage ------------------------------------------------------------------------------------


def test_a_shortage_inside_the_horizon_alerts_once_per_presentation_and_first_day(
    demand, receive, cerulo, fridge, pharmacist, today, settings
):
    settings.SHORTAGE_HORIZON_DAYS = 7
    receive(cerulo, fridge, 2)
    demand.append(
        DemandLine(presentation_id=cerulo.pk, on=today + 7 * DAY, quantity=5, reference="x")
    )
    assert alerts.shortage_alerts_enqueue(on=today) == 0  # day 8: outside the 7 days
    demand.append(
        DemandLine(presentation_id=cerulo.pk, on=today + 6 * DAY, quantity=3, reference="y")
    )
    assert alerts.shortage_alerts_enqueue(on=today) == 1
    assert alerts.shortage_alerts_enqueue(on=today) == 0
    alert = Notification.objects.get()
    assert alert.key == f"shortage:presentation:{cerulo.pk}:{(today + 6 * DAY).isoformat()}"
    assert alert.recipients == [pharmacist.email]
    assert "(1 container short)" in alert.subject
    # The next day the first short day is still day 6 of the old run: nothing new.
    assert alerts.shortage_alerts_enqueue(on=today + DAY) == 0
    # A new course brings the shortage forward: a new first day, a new alert.
    demand.append(
        DemandLine(presentation_id=cerulo.pk, on=today + 2 * DAY, quantity=4, reference="z")
    )
    assert alerts.shortage_alerts_enqueue(on=today + DAY) == 1


def test_no_demand_or_enough_stock_alerts_nothing(demand, receive, cerulo, fridge, today):
    receive(cerulo, fridge, 5)
    demand.append(DemandLine(presentation_id=cerulo.pk, on=today + DAY, quantity=5, reference="x"))
    assert alerts.shortage_alerts_enqueue(on=today) == 0


def test_a_ward_without_members_still_reaches_its_mailbox_on_excursions(receive, cerulo):
    ward = WardFactory(code="ward-empty", email="empty@hospital.test")
    location = StorageLocationFactory(code="empty-fridge", ward=ward)
    receive(cerulo, location, 1)
    ingest(location, 0, "20")
    assert "empty@hospital.test" in Notification.objects.get().recipients
