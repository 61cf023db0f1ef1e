"""Issue 12 — a cold chain that cannot be blinded.

Each test reproduces one reported defect: a reading from the future, one sensor's clock gating
another's, a batch with two values for one sensor and time, a silent sensor, and an out-of-range
reading answered 500 when the broker is unreachable although everything was committed.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory import alerts, services
from inventory.models import Excursion, LotStatus, TemperatureReading
from notifications.models import Notification, NotificationKind
from tests.factories import StorageLocationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 12, 0))


def _reading(location, at, celsius, sensor="s1"):
    return {
        "location_id": location.pk,
        "sensor_id": sensor,
        "taken_at": at,
        "temperature_c": Decimal(celsius),
    }


def _minutes(m):
    return NOW + datetime.timedelta(minutes=m)


def test_a_reading_from_the_future_is_refused_and_later_readings_still_open_an_excursion(
    pharmacist_client, receive, cerulo, fridge
):
    """Reported: 9999-12-31 5 °C accepted, then 25 °C and 30 °C opened no excursion."""
    lot = receive(cerulo, fridge, 3)
    body = {
        "location": fridge.pk,
        "sensor_id": "gw-1",
        "taken_at": "9999-12-31T23:59:59Z",
        "temperature_c": "5",
    }
    response = pharmacist_client.post("/api/v1/readings/", body, format="json")
    assert response.status_code == 400, response.content
    assert "2199-12-31" in response.json()["error"]["fields"]["taken_at"][0]  # config.dates
    an_hour_ahead = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    response = pharmacist_client.post(
        "/api/v1/readings/", {**body, "taken_at": an_hour_ahead}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "in the future" in response.json()["error"]["fields"]["taken_at"][0]
    assert not TemperatureReading.objects.exists()

    now = timezone.now()
    for minutes, celsius in [(-2, "25"), (-1, "30")]:
        at = (now + datetime.timedelta(minutes=minutes)).isoformat()
        response = pharmacist_client.post(
            "/api/v1/readings/",
            {**body, "taken_at": at, "temperature_c": celsius},
            format="json",
        )
        assert response.status_code == 201, response.content
    excursion = Excursion.objects.get()
    assert (excursion.status, excursion.max_c) == ("open", Decimal("30"))
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED


def test_clock_skew_allowance_is_a_setting(receive, cerulo, fridge, settings):
    settings.READING_CLOCK_SKEW_MINUTES = 5
    services.readings_ingest(readings=[_reading(fridge, _minutes(4), "5")], now=NOW)
    with pytest.raises(ValidationError) as refused:
        services.readings_ingest(readings=[_reading(fridge, _minutes(6), "5", "s2")], now=NOW)
    assert "taken_at" in refused.value.message_dict


def test_a_reading_dated_before_2000_is_refused(fridge):
    at = timezone.make_aware(datetime.datetime(1970, 1, 1))
    with pytest.raises(ValidationError) as refused:
        services.readings_ingest(readings=[_reading(fridge, at, "5")], now=NOW)
    assert "check the sensor's clock" in refused.value.message_dict["taken_at"][0]


def test_one_sensors_fast_clock_does_not_gate_another_sensors_readings(receive, cerulo, fridge):
    """Reported: a sensor an hour fast hid a second sensor's 25 °C reading."""
    receive(cerulo, fridge, 3)
    services.readings_ingest(
        readings=[_reading(fridge, _minutes(60), "5", sensor="fast")], now=_minutes(60)
    )
    services.readings_ingest(
        readings=[_reading(fridge, _minutes(10), "25", sensor="true")], now=_minutes(60)
    )
    excursion = Excursion.objects.get()
    assert (excursion.status, excursion.started_at) == ("open", _minutes(10))


def test_a_legacy_far_future_reading_blinds_only_its_own_sensor(receive, cerulo, fridge):
    """A reading stored before the bound existed stays the latest of its own sensor only."""
    receive(cerulo, fridge, 3)
    TemperatureReading.objects.create(
        location=fridge,
        sensor_id="broken",
        taken_at=timezone.make_aware(datetime.datetime(9999, 12, 31, 23, 59)),
        temperature_c=Decimal("5"),
    )
    services.readings_ingest(readings=[_reading(fridge, _minutes(0), "25", "s1")], now=NOW)
    assert Excursion.objects.get().status == "open"


def test_the_excursion_ends_only_when_every_reporting_sensor_is_back_in_range(
    receive, cerulo, fridge
):
    receive(cerulo, fridge, 3)
    services.readings_ingest(
        readings=[
            _reading(fridge, _minutes(0), "5", "top"),
            _reading(fridge, _minutes(0), "5", "bottom"),
            _reading(fridge, _minutes(10), "12", "top"),
            _reading(fridge, _minutes(11), "5", "bottom"),  # the other sensor is still out
        ],
        now=_minutes(120),
    )
    excursion = Excursion.objects.get()
    assert excursion.status == "open"
    services.readings_ingest(
        readings=[_reading(fridge, _minutes(20), "6", "top")], now=_minutes(120)
    )
    excursion.refresh_from_db()
    assert (excursion.status, excursion.ended_at) == ("closed", _minutes(20))
    assert excursion.minutes_out_of_range == 10


def test_two_values_for_one_sensor_and_time_in_a_batch_are_refused(pharmacist_client, fridge):
    at = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    one = {"location": fridge.pk, "sensor_id": "s1", "taken_at": at, "temperature_c": "5"}
    response = pharmacist_client.post(
        "/api/v1/readings/", [one, {**one, "temperature_c": "25"}], format="json"
    )
    assert response.status_code == 400, response.content
    assert "one value at a time" in response.json()["error"]["fields"]["1.temperature_c"][0]
    assert not TemperatureReading.objects.exists()


def test_a_stored_reading_resent_with_another_value_is_refused(fridge):
    services.readings_ingest(readings=[_reading(fridge, _minutes(0), "5")], now=NOW)
    with pytest.raises(ValidationError) as refused:
        services.readings_ingest(readings=[_reading(fridge, _minutes(0), "25")], now=NOW)
    assert "already stored with 5" in refused.value.message_dict["temperature_c"][0]
    assert TemperatureReading.objects.get().temperature_c == Decimal("5")


def test_a_retried_reading_is_answered_the_same_way_and_stored_once(pharmacist_client, fridge):
    at = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    body = {"location": fridge.pk, "sensor_id": "s1", "taken_at": at, "temperature_c": "5"}
    first = pharmacist_client.post("/api/v1/readings/", body, format="json")
    again = pharmacist_client.post("/api/v1/readings/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 201)
    assert (first.json()["created"], again.json()["created"], again.json()["duplicates"]) == (
        1,
        0,
        1,
    )
    assert TemperatureReading.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_out_of_range_reading_answers_success_when_the_broker_is_unreachable(
    pharmacist_client, receive, cerulo, fridge
):
    """Reported: 500 although the reading, excursion and alert were committed."""
    from config.celery import app

    receive(cerulo, fridge, 3)
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app._after_fork()  # drop the pools built for the previous broker
    try:
        response = pharmacist_client.post(
            "/api/v1/readings/",
            {
                "location": fridge.pk,
                "sensor_id": "s1",
                "taken_at": (timezone.now() - datetime.timedelta(minutes=1)).isoformat(),
                "temperature_c": "12",
            },
            format="json",
        )
    finally:
        app.conf.broker_url = previous
        app._after_fork()
    assert response.status_code == 201, response.content
    assert len(response.json()["excursions"]) == 1
    assert Notification.objects.filter(kind=NotificationKind.EXCURSION_ALERT).count() == 1


def test_a_silent_sensor_raises_one_alert_per_silence(fridge, pharmacist, settings):
    settings.SENSOR_SILENT_MINUTES = 60
    quiet = StorageLocationFactory(code="never-had-a-sensor")
    services.readings_ingest(readings=[_reading(fridge, _minutes(0), "5")], now=NOW)
    assert alerts.sensor_silence_alerts_enqueue(now=_minutes(59)) == 0
    assert alerts.sensor_silence_alerts_enqueue(now=_minutes(61)) == 1
    assert alerts.sensor_silence_alerts_enqueue(now=_minutes(90)) == 0  # the same silence
    notification = Notification.objects.get(kind=NotificationKind.SENSOR_SILENT)
    assert notification.subject_id == str(fridge.pk) and notification.recipients
    assert fridge.name in notification.subject and "61 min" in notification.subject
    assert not Notification.objects.filter(subject_id=str(quiet.pk)).exists()
    # Readings resume, then stop again: a new silence, a new alert.
    services.readings_ingest(readings=[_reading(fridge, _minutes(100), "5")], now=_minutes(100))
    assert alerts.sensor_silence_alerts_enqueue(now=_minutes(170)) == 1
    assert Notification.objects.filter(kind=NotificationKind.SENSOR_SILENT).count() == 2


def test_the_sensor_silence_scan_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "inventory.sensor_silence_scan" in tasks
