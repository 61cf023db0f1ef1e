"""A sensor gateway's batch of readings (issue 14: 10,000 readings a request).

The batch path parses in plain Python, inserts in one statement and tracks each location's
excursion in one walk. What it must keep: the same excursions, quarantines and alerts as the
same readings sent one a request, the same acceptance and refusals as DRF's fields, and a number
of queries that does not grow with the readings.
"""

import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers as drf

from inventory.models import Excursion, MovementKind, StockMovement, TemperatureReading
from inventory.serializers import ReadingSerializer, readings_parse
from notifications.models import Notification, NotificationKind
from tests.factories import StorageLocationFactory

pytestmark = pytest.mark.django_db

# (minutes, °C, sensor) on a 2–8 °C fridge: in range; out (opens); further out (extends); the
# second sensor out too; the first back while the second is still out (stays open); both back
# (closes); out again while unresolved (reopens); back (closes).
FRIDGE = [
    (0, "5.0", "top"),
    (0, "4.8", "bottom"),
    (10, "7.9", "top"),
    (20, "9.5", "top"),
    (30, "11.25", "top"),
    (31, "8.5", "bottom"),
    (40, "6.0", "top"),
    (45, "5.5", "bottom"),
    (60, "5.0", "top"),
    (70, "12.0", "top"),
    (80, "4.0", "top"),
    (90, "3.0", "bottom"),
]
# Another fridge in the same batch: in range throughout, then one reading below 2 °C that is
# still open at the end of the batch.
COLD_ROOM = [(m, "3.5", "probe") for m in range(0, 100, 15)] + [(100, "1.5", "probe")]


def _body(location, rows, start):
    return [
        {
            "location": location.pk,
            "sensor_id": sensor,
            "taken_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
            "temperature_c": celsius,
        }
        for minutes, celsius, sensor in rows
    ]


def _outcome(location):
    """What an ingest leaves behind at a location, free of ids and the location's name."""
    excursions = [
        (
            e.started_at,
            e.ended_at,
            e.last_reading_at,
            e.limit_min_c,
            e.limit_max_c,
            e.min_c,
            e.max_c,
            e.seconds_out_of_range,
            sorted(lot.lot_number[1:] for lot in e.lots.all()),  # B… / S…
            Notification.objects.filter(
                kind=NotificationKind.EXCURSION_ALERT, subject_id=e.pk
            ).count(),
        )
        for e in Excursion.objects.filter(location=location).order_by("started_at")
    ]
    quarantines = [
        (m.lot.lot_number[1:], m.lot.status, m.quantity, m.effective_date, m.reason.split(": ")[-1])
        for m in StockMovement.objects.filter(location=location, kind=MovementKind.QUARANTINE)
        .select_related("lot")
        .order_by("lot__lot_number")
    ]
    readings = sorted(
        TemperatureReading.objects.filter(location=location).values_list(
            "sensor_id", "taken_at", "temperature_c"
        )
    )
    return excursions, quarantines, readings


def test_one_batch_tracks_excursions_as_one_reading_a_request_does(
    pharmacist_client, receive, cerulo
):
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    places = {}
    for way in ("batch", "single"):
        fridge = StorageLocationFactory(code=f"{way}-fridge")
        cold_room = StorageLocationFactory(code=f"{way}-cold-room")
        prefix = way[0].upper()  # lot numbers are unique per presentation
        receive(cerulo, fridge, 3, lot_number=f"{prefix}F1")
        receive(cerulo, fridge, 2, lot_number=f"{prefix}F2")
        receive(cerulo, cold_room, 4, lot_number=f"{prefix}C1")
        places[way] = (fridge, cold_room)

    fridge, cold_room = places["batch"]
    batch = _body(fridge, FRIDGE, start) + _body(cold_room, COLD_ROOM, start)
    random.Random(14).shuffle(batch)  # a gateway's order is not reading time
    response = pharmacist_client.post("/api/v1/readings/", batch, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["created"], answer["duplicates"]) == (len(batch), 0)
    assert sorted(e["status"] for e in answer["excursions"]) == ["closed", "open"]

    fridge, cold_room = places["single"]
    for location, rows in ((fridge, FRIDGE), (cold_room, COLD_ROOM)):
        for reading in sorted(_body(location, rows, start), key=lambda r: r["taken_at"]):
            response = pharmacist_client.post("/api/v1/readings/", reading, format="json")
            assert response.status_code == 201, response.content

    for batched, single in zip(places["batch"], places["single"], strict=True):
        assert _outcome(batched) == _outcome(single)
    excursions, quarantines, _ = _outcome(places["batch"][0])
    ((started, ended, _, low, high, lowest, highest, seconds, lots, alerts),) = excursions
    assert (started, ended) == (
        start + datetime.timedelta(minutes=20),
        start + datetime.timedelta(minutes=80),
    )
    assert (low, high, lowest, highest) == (
        Decimal("2"),
        Decimal("8"),
        Decimal("8.5"),
        Decimal("12"),
    )
    assert seconds == (45 - 20 + 80 - 70) * 60  # open 20–45, closed 45–70, reopened 70–80
    assert (lots, alerts) == (["F1", "F2"], 1)
    assert [q[:3] for q in quarantines] == [("F1", "quarantined", 3), ("F2", "quarantined", 2)]
    assert _outcome(places["batch"][1])[0][0][1] is None  # the cold room is still out


def test_a_resent_batch_is_counted_as_duplicates_and_changes_nothing(
    pharmacist_client, receive, cerulo
):
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    fridge = StorageLocationFactory(code="resent")
    receive(cerulo, fridge, 3)
    batch = _body(fridge, FRIDGE, start)
    assert pharmacist_client.post("/api/v1/readings/", batch, format="json").status_code == 201
    before = _outcome(fridge)
    again = pharmacist_client.post("/api/v1/readings/", batch, format="json").json()
    assert (again["created"], again["duplicates"]) == (0, len(batch))
    assert _outcome(fridge) == before


def test_a_sparse_batch_finds_its_stored_readings_too(pharmacist_client, fridge):
    """A reading from months back beside today's: the stored ones are looked up by their times,
    not by reading the months between."""
    now = timezone.now().replace(microsecond=0)
    rows = [
        (0, "5.0", "probe"),
        (200 * 24 * 60, "5.5", "probe"),
        (200 * 24 * 60 + 1, "5.5", "probe"),
    ]
    batch = _body(fridge, rows, now - datetime.timedelta(days=201))
    assert pharmacist_client.post("/api/v1/readings/", batch, format="json").status_code == 201
    again = pharmacist_client.post("/api/v1/readings/", batch, format="json").json()
    assert (again["created"], again["duplicates"]) == (0, 3)
    batch[0]["temperature_c"] = "6.0"
    response = pharmacist_client.post("/api/v1/readings/", batch, format="json")
    assert response.status_code == 400, response.content
    assert "already stored with 5.00" in response.json()["error"]["fields"]["temperature_c"][0]


def _capture(client, body):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/readings/", body, format="json")
    assert response.status_code == 201, response.content
    inserts = [q for q in queries if 'INSERT INTO "inventory_temperaturereading"' in q["sql"]]
    return len(queries) - len(inserts), len(inserts), response.json()


def test_the_queries_of_a_10000_reading_batch_do_not_grow_with_its_readings(
    pharmacist_client, receive, cerulo
):
    """Ten readings and 10,000 of the same shape (in range, then an excursion that opens, closes
    and reopens over and over) take the same queries; the readings go in one INSERT (SQLite
    caps a statement's variables, so Django splits it there)."""
    end = timezone.now().replace(second=0, microsecond=0)
    warm_up = _body(StorageLocationFactory(code="warm-up"), [(-1, "5", "probe")], end)
    _capture(pharmacist_client, warm_up)  # the first request also reads the user's roles
    counts = []
    for size in (10, 10_000):
        location = StorageLocationFactory(code=f"size-{size}")
        receive(cerulo, location, 3, lot_number=f"S{size}")
        rows = [
            (-minutes, "9.5" if minutes % 7 == 3 else "5.0", "probe") for minutes in range(size)
        ]
        other, inserts, answer = _capture(pharmacist_client, _body(location, rows, end))
        assert answer["created"] == size
        (excursion,) = answer["excursions"]
        assert excursion["max_c"] == "9.50"
        counts.append(other)
        if connection.vendor == "postgresql":
            assert inserts == 1
    assert counts[1] == counts[0], counts
    assert counts[0] <= 40, counts  # not one per reading: one per step of the ingest


BASE = {
    "location": None,
    "sensor_id": "s1",
    "taken_at": "2026-03-02T08:00:00Z",
    "temperature_c": "5",
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"location": "LOCATION"},
        {"location": True},
        {"location": 999999},
        {"location": 2**70},
        {"location": "abc"},
        {"location": None},
        {"sensor_id": " s1 "},
        {"sensor_id": "  "},
        {"sensor_id": 5},
        {"sensor_id": "x" * 65},
        {"sensor_id": "é"},
        {"taken_at": "2026-03-02T08:00:00"},  # naive: the server's zone, as DRF does
        {"taken_at": "2026-03-02T10:00:00+02:00"},
        {"taken_at": "2026-03-02T08:00:00+16:00"},
        {"taken_at": "9999-12-31T23:59:59Z"},
        {"taken_at": "yesterday"},
        {"taken_at": "2026-03-02"},
        {"taken_at": None},
        {"temperature_c": "5.0"},
        {"temperature_c": "5.000"},
        {"temperature_c": 5.1},
        {"temperature_c": "0E+5"},
        {"temperature_c": "999.99"},
        {"temperature_c": "1000"},
        {"temperature_c": "NaN"},
        {"temperature_c": "41F"},
        {"temperature_c": ""},
    ],
)
def test_the_batch_parser_accepts_and_refuses_what_drfs_fields_do(fridge, change):
    body = {**BASE, "location": fridge.pk, **change}
    if body["location"] == "LOCATION":
        body["location"] = str(fridge.pk)
    old = ReadingSerializer(data=body)
    try:
        (new,) = readings_parse(body)
    except drf.ValidationError as refused:
        assert not old.is_valid()
        assert {k: [str(m) for m in v] for k, v in refused.detail.items()} == old.errors
        return
    assert old.is_valid(), old.errors
    expected = dict(old.validated_data)
    assert new == {
        "location_id": expected["location"].pk,
        "sensor_id": expected["sensor_id"],
        "taken_at": expected["taken_at"],
        "temperature_c": expected["temperature_c"],
    }
    assert str(new["temperature_c"]) == str(expected["temperature_c"])  # 5.00, as quantized
    assert new["taken_at"].tzinfo == expected["taken_at"].tzinfo


def test_a_bad_batch_is_400_naming_each_item_and_field(pharmacist_client, fridge):
    good = {**BASE, "location": fridge.pk}
    body = [good, 5, {**good, "location": 999999, "temperature_c": "x"}, {**good, "sensor_id": ""}]
    response = pharmacist_client.post("/api/v1/readings/", body, format="json")
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"1", "2.location", "2.temperature_c", "3.sensor_id"}
    assert "object does not exist" in fields["2.location"][0]
    assert not TemperatureReading.objects.exists()
