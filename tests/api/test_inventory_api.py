import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import Pagination
from inventory.models import Excursion, LotStatus, StockMovement
from inventory.services import readings_ingest
from tests.factories import PresentationFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db

GTIN = "07032069804988"


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "fields", "request_id"}
    assert body["error"]["status"] == status
    return body["error"]


@pytest.fixture
def stocked(receive, cerulo, fridge):
    """Two lots of ceruloplasmin in the pharmacy fridge: 5 expiring in 20 days, 5 in 200."""
    return {
        "early": receive(cerulo, fridge, 5, lot_number="EARLY", expiry_days=20),
        "late": receive(cerulo, fridge, 5, lot_number="LATE", expiry_days=200),
    }


def _receipt(cerulo, fridge, today, **extra):
    return {
        "presentation_id": cerulo.pk,
        "lot_number": "NEW-1",
        "expiry_date": str(today + datetime.timedelta(days=300)),
        "quantity": 10,
        "location_id": fridge.pk,
        **extra,
    }


def test_anonymous_is_refused(anon_client):
    assert _error(anon_client.get("/api/v1/lots/"), 401)["code"] == "not_authenticated"


def test_pharmacist_receives_by_fields_and_by_scan(pharmacist_client, cerulo, fridge, today):
    response = pharmacist_client.post(
        "/api/v1/lots/receive/", _receipt(cerulo, fridge, today), format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["quantity"]) == ("receipt", 10)
    PresentationFactory(code="cerulo-ampoules", gtin=GTIN)
    expiry = today + datetime.timedelta(days=400)
    scan = f"(01){GTIN}(17){expiry:%y%m%d}(10)SCAN-7"
    response = pharmacist_client.post(
        "/api/v1/lots/receive/",
        {"gs1": scan, "quantity": 3, "location_id": fridge.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    lot = pharmacist_client.get("/api/v1/lots/?lot_number=SCAN-7").json()["results"][0]
    assert (lot["expiry_date"], lot["on_hand"], lot["gtin"]) == (str(expiry), 3, GTIN)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -2}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "ten"}, "quantity"),
        ({"location_id": 999999}, "location_id"),
        ({"presentation_id": 999999}, "presentation_id"),
        ({"expiry_date": "2020-01-01"}, "expiry_date"),
        ({"expiry_date": "31/12/2030"}, "expiry_date"),
        ({"lot_number": "HAS SPACE"}, "lot_number"),
        ({"lot_number": ""}, "lot_number"),
        ({"gs1": "not a code"}, "gs1"),
        ({"gs1": f"(01){GTIN}(17)300100(10)X"}, "lot_number"),  # typed ≠ scanned
    ],
)
def test_receive_bad_input_is_400_naming_the_field(
    pharmacist_client, cerulo, fridge, today, change, field
):
    error = _error(
        pharmacist_client.post(
            "/api/v1/lots/receive/", _receipt(cerulo, fridge, today, **change), format="json"
        ),
        400,
    )
    assert field in error["fields"]
    assert not StockMovement.objects.exists()


def test_receive_scan_of_unknown_gtin(pharmacist_client, fridge):
    body = {"gs1": f"(01){GTIN}(17)300100(10)X", "quantity": 1, "location_id": fridge.pk}
    error = _error(pharmacist_client.post("/api/v1/lots/receive/", body, format="json"), 400)
    assert "Unknown GTIN" in error["fields"]["gs1"][0]


def test_receive_missing_fields(pharmacist_client):
    error = _error(pharmacist_client.post("/api/v1/lots/receive/", {}, format="json"), 400)
    assert {"quantity", "location_id"} <= set(error["fields"])


def test_receive_into_out_of_range_location(pharmacist_client, cerulo, today):
    room = StorageLocationFactory(code="room", kind="room", min_c=15, max_c=25)
    error = _error(
        pharmacist_client.post(
            "/api/v1/lots/receive/", _receipt(cerulo, room, today), format="json"
        ),
        400,
    )
    assert "storage range" in error["fields"]["location_id"][0]


@pytest.mark.parametrize("client_name", ["viewer_client", "nurse_client", "physician_client"])
def test_only_pharmacists_receive_transfer_and_change_status(
    request, client_name, stocked, cerulo, fridge, today
):
    client = request.getfixturevalue(client_name)
    lot = stocked["early"]
    other = StorageLocationFactory(code="ward")
    for url, body in [
        ("/api/v1/lots/receive/", _receipt(cerulo, fridge, today)),
        (
            "/api/v1/stock/transfer/",
            {
                "lot_id": lot.pk,
                "from_location_id": fridge.pk,
                "to_location_id": other.pk,
                "quantity": 1,
            },
        ),
        (f"/api/v1/lots/{lot.pk}/quarantine/", {"reason": "x"}),
        (f"/api/v1/lots/{lot.pk}/recall/", {"reason": "x"}),
        ("/api/v1/locations/", {"code": "x", "name": "x", "kind": "room", "min_c": 1, "max_c": 2}),
    ]:
        assert _error(client.post(url, body, format="json"), 403)["code"] == "permission_denied"


@pytest.mark.parametrize("client_name", ["viewer_client", "physician_client"])
def test_viewers_do_not_dispense(request, client_name, stocked, cerulo):
    client = request.getfixturevalue(client_name)
    body = {"presentation_id": cerulo.pk, "quantity": 1}
    _error(client.post("/api/v1/stock/dispense/", body, format="json"), 403)


def test_nurse_dispenses_fefo_and_reads(nurse_client, stocked, cerulo):
    response = nurse_client.post(
        "/api/v1/stock/dispense/",
        {"presentation_id": cerulo.pk, "quantity": 6, "reference": "rx:1", "recipient": "MRN 1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [(m["lot_number"], m["quantity"]) for m in response.json()] == [
        ("EARLY", 5),
        ("LATE", 1),
    ]
    error = _error(
        nurse_client.post(
            "/api/v1/stock/dispense/", {"presentation_id": cerulo.pk, "quantity": 5}, format="json"
        ),
        400,
    )
    assert error["fields"]["quantity"][0].startswith("Insufficient stock")
    assert error["code"] == "insufficient_stock"  # the service's own code reaches the client
    assert error["message"].startswith("quantity: Insufficient stock")
    stock = nurse_client.get("/api/v1/stock/").json()
    assert [(r["on_hand"], r["usable"]) for r in stock] == [(4, 4)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 1}, "presentation_id"),
        ({"presentation_id": 1}, "quantity"),
        ({"presentation_id": 999999, "quantity": 1}, "presentation_id"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": 1, "lot_id": 999999}, "lot_id"),
        ({"quantity": 1, "location_id": "fridge"}, "location_id"),
    ],
)
def test_dispense_bad_input(nurse_client, stocked, cerulo, body, field):
    if field != "presentation_id":
        body = {"presentation_id": cerulo.pk, **body}
    error = _error(nurse_client.post("/api/v1/stock/dispense/", body, format="json"), 400)
    assert field in error["fields"]


def test_movements_are_read_only(pharmacist_client, stocked):
    movement = StockMovement.objects.first()
    url = f"/api/v1/movements/{movement.pk}/"
    assert pharmacist_client.get(url).status_code == 200
    for method in ("put", "patch", "delete"):
        _error(getattr(pharmacist_client, method)(url, {"quantity": 1}, format="json"), 405)
    _error(pharmacist_client.post("/api/v1/movements/", {}, format="json"), 405)
    assert StockMovement.objects.get(pk=movement.pk).quantity == movement.quantity


def test_lists_and_filters_with_bounded_queries(
    viewer_client, stocked, cerulo, fridge, django_assert_max_num_queries
):
    ward = StorageLocationFactory(code="ward-3a-fridge")
    with django_assert_max_num_queries(4):
        lots = viewer_client.get("/api/v1/lots/").json()
    assert [(lot["lot_number"], lot["on_hand"]) for lot in lots["results"]] == [
        ("EARLY", 5),
        ("LATE", 5),
    ]
    soon = viewer_client.get("/api/v1/lots/?expiring_within_days=30").json()["results"]
    assert [lot["lot_number"] for lot in soon] == ["EARLY"]
    assert viewer_client.get(f"/api/v1/lots/?location={ward.pk}").json()["count"] == 0
    assert (
        viewer_client.get(f"/api/v1/lots/?product={cerulo.product_id}&status=available").json()[
            "count"
        ]
        == 2
    )
    _error(viewer_client.get("/api/v1/lots/?expiring_within_days=-3"), 400)
    _error(viewer_client.get("/api/v1/lots/?status=lost"), 400)
    with django_assert_max_num_queries(4):
        movements = viewer_client.get(
            f"/api/v1/movements/?kind=receipt&location={fridge.pk}"
        ).json()
    assert movements["count"] == 2
    _error(viewer_client.get("/api/v1/lots/999999/"), 404)


def test_quarantine_release_recall_and_recipients(pharmacist_client, nurse_client, stocked, cerulo):
    lot = stocked["early"]
    nurse_client.post(
        "/api/v1/stock/dispense/",
        {
            "presentation_id": cerulo.pk,
            "quantity": 1,
            "reference": "rx:7",
            "recipient": "MRN 0042",
        },
        format="json",
    )
    url = f"/api/v1/lots/{lot.pk}/"
    assert (
        "reason"
        in _error(pharmacist_client.post(url + "quarantine/", {}, format="json"), 400)["fields"]
    )
    assert (
        pharmacist_client.post(url + "quarantine/", {"reason": "QA"}, format="json").status_code
        == 200
    )
    assert pharmacist_client.get(url).json()["status"] == LotStatus.QUARANTINED
    assert (
        pharmacist_client.post(url + "release/", {"reason": "QA ok"}, format="json").status_code
        == 200
    )
    _error(pharmacist_client.post(url + "release/", {"reason": "again"}, format="json"), 400)
    assert (
        pharmacist_client.post(
            url + "recall/", {"reason": "Maker recall"}, format="json"
        ).status_code
        == 200
    )
    recipients = pharmacist_client.get(url + "recipients/").json()
    assert [(r["reference"], r["recipient"], r["quantity"]) for r in recipients] == [
        ("rx:7", "MRN 0042", 1)
    ]
    _error(
        pharmacist_client.post("/api/v1/lots/999999/quarantine/", {"reason": "x"}, format="json"),
        404,
    )


def test_transfer_reserve_release_adjust_waste_return(
    pharmacist_client, stocked, cerulo, fridge, today
):
    lot = stocked["late"]
    ward = StorageLocationFactory(code="ward")
    ok = pharmacist_client.post(
        "/api/v1/stock/transfer/",
        {"lot_id": lot.pk, "from_location_id": fridge.pk, "to_location_id": ward.pk, "quantity": 2},
        format="json",
    )
    assert [m["on_hand_delta"] for m in ok.json()] == [-2, 2]
    reserve = {"presentation_id": cerulo.pk, "quantity": 2, "on": str(today), "reference": "rx:1"}
    assert (
        pharmacist_client.post("/api/v1/stock/reserve/", reserve, format="json").status_code == 201
    )
    released = pharmacist_client.post(
        "/api/v1/stock/release-reservation/", {"reference": "rx:1"}, format="json"
    )
    assert released.json() == {"released": 2}
    at_ward = {"lot_id": lot.pk, "location_id": ward.pk}
    assert (
        pharmacist_client.post(
            "/api/v1/stock/waste/", {**at_ward, "quantity": 1, "reason": "dropped"}, format="json"
        ).status_code
        == 201
    )
    assert (
        "reason"
        in _error(
            pharmacist_client.post(
                "/api/v1/stock/waste/", {**at_ward, "quantity": 1}, format="json"
            ),
            400,
        )["fields"]
    )
    assert (
        pharmacist_client.post(
            "/api/v1/stock/adjust/",
            {**at_ward, "quantity_delta": 1, "reason": "found"},
            format="json",
        ).status_code
        == 201
    )
    _error(
        pharmacist_client.post(
            "/api/v1/stock/adjust/",
            {**at_ward, "quantity_delta": -50, "reason": "count"},
            format="json",
        ),
        400,
    )
    stock = {
        r["location_code"]: r["on_hand"] for r in pharmacist_client.get("/api/v1/stock/").json()
    }
    assert stock == {"pharmacy-fridge": 8, "ward": 2}


def test_readings_excursion_and_resolve(pharmacist_client, viewer_client, stocked, fridge):
    t0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)

    def reading(minutes, celsius):
        return {
            "location": fridge.pk,
            "sensor_id": "fridge-probe-1",
            "taken_at": (t0 + datetime.timedelta(minutes=minutes)).isoformat(),
            "temperature_c": celsius,
        }

    one = pharmacist_client.post("/api/v1/readings/", reading(0, "5.0"), format="json")
    assert one.json() == {"created": 1, "duplicates": 0, "excursions": []}
    batch = pharmacist_client.post(
        "/api/v1/readings/",
        [reading(10, "9.5"), reading(20, "10.5"), reading(30, "6")],
        format="json",
    )
    assert batch.status_code == 201, batch.content
    (excursion,) = batch.json()["excursions"]
    assert (excursion["status"], excursion["max_c"], excursion["minutes_out_of_range"]) == (
        "closed",
        "10.50",
        20,
    )
    assert (
        pharmacist_client.get(f"/api/v1/lots/{stocked['early'].pk}/").json()["status"]
        == "quarantined"
    )
    _error(viewer_client.post("/api/v1/readings/", reading(40, "5"), format="json"), 403)
    url = f"/api/v1/excursions/{excursion['id']}/resolve/"
    _error(viewer_client.post(url, {"resolution": "release", "reason": "x"}, format="json"), 403)
    assert (
        "resolution"
        in _error(
            pharmacist_client.post(url, {"resolution": "ignore", "reason": "x"}, format="json"), 400
        )["fields"]
    )
    resolved = pharmacist_client.post(
        url, {"resolution": "release", "reason": "stable"}, format="json"
    )
    assert resolved.json()["status"] == "resolved"
    assert Excursion.objects.get().resolution == "release"
    assert viewer_client.get("/api/v1/excursions/?unresolved=true").json()["count"] == 0


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        ({"temperature_c": "70"}, "temperature_c"),
        ({"temperature_c": "41F"}, "temperature_c"),  # wrong unit: °C only
        ({"temperature_c": None}, "temperature_c"),
        ({"location": 999999}, "location"),
        ({"taken_at": "yesterday"}, "taken_at"),
        ({"sensor_id": ""}, "sensor_id"),
    ],
)
def test_bad_readings(pharmacist_client, fridge, reading, field):
    body = {
        "location": fridge.pk,
        "sensor_id": "s1",
        "taken_at": "2026-03-02T08:00:00Z",
        "temperature_c": "5",
        **reading,
    }
    assert (
        field
        in _error(pharmacist_client.post("/api/v1/readings/", body, format="json"), 400)["fields"]
    )


def test_bad_reading_in_a_batch_writes_nothing(pharmacist_client, fridge):
    good = {
        "location": fridge.pk,
        "sensor_id": "s1",
        "taken_at": "2026-03-02T08:00:00Z",
        "temperature_c": "5",
    }
    bad = {**good, "taken_at": "2026-03-02T08:10:00Z", "temperature_c": "-80"}
    _error(pharmacist_client.post("/api/v1/readings/", [good, bad], format="json"), 400)
    assert pharmacist_client.get("/api/v1/readings/").json()["results"] == []


# --- Readings in cursor pages ------------------------------------------------------------------


@pytest.fixture
def many_readings(fridge):
    """7 readings a minute apart at two locations, three of them at the same minute."""
    other = StorageLocationFactory(code="cold-room")
    t0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    readings = [
        {
            "location_id": location.pk,
            "sensor_id": sensor,
            "taken_at": t0 + datetime.timedelta(minutes=minute),
            "temperature_c": Decimal("5.0"),
        }
        for location, sensor, minute in [
            (fridge, "a", 0),
            (fridge, "a", 1),
            (fridge, "a", 2),
            (fridge, "b", 2),
            (other, "a", 2),
            (fridge, "a", 3),
            (other, "a", 4),
        ]
    ]
    readings_ingest(readings=readings)
    return readings


def test_readings_come_in_cursor_pages_newest_first(viewer_client, many_readings):
    """Following `next` reads every reading once, newest first (ties by id), in pages of at most
    `page_size`; `previous` leads back; no `count` is computed."""
    url, seen, pages = "/api/v1/readings/?page_size=2", [], []
    while url:
        body = viewer_client.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        assert len(body["results"]) <= 2
        pages.append(body)
        seen += [(r["taken_at"], r["id"]) for r in body["results"]]
        url = body["next"]
    assert len(seen) == len(many_readings) == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    back = viewer_client.get(pages[-1]["previous"]).json()["results"]
    assert back == pages[-2]["results"]
    # Filters and the cursor together.
    location = many_readings[-1]["location_id"]
    first = viewer_client.get(f"/api/v1/readings/?location={location}&page_size=1").json()
    assert [r["location"] for r in first["results"]] == [location]
    rest = viewer_client.get(first["next"]).json()
    assert [r["location"] for r in rest["results"]] == [location] and rest["next"] is None


def test_readings_page_size_is_bounded_and_a_bad_cursor_is_404(viewer_client, many_readings):
    assert Pagination.max_page_size == 500
    body = viewer_client.get("/api/v1/readings/?page_size=100000").json()
    assert len(body["results"]) == len(many_readings) and body["next"] is None
    assert _error(viewer_client.get("/api/v1/readings/?cursor=nonsense"), 404)["code"] == (
        "not_found"
    )


def test_readings_in_numbered_pages_when_asked_for_a_page(viewer_client, many_readings):
    """Clients written for numbered pages keep them (and `count`) by naming `page`."""
    body = viewer_client.get("/api/v1/readings/?page=2&page_size=3").json()
    assert body["count"] == len(many_readings)
    assert len(body["results"]) == 3 and "page=3" in body["next"] and "page" in body["previous"]


def test_readings_list_queries_do_not_grow_with_readings(viewer_client, fridge):
    t0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    counts = []
    for start, n in ((0, 3), (3, 300)):
        readings_ingest(
            readings=[
                {
                    "location_id": fridge.pk,
                    "sensor_id": "s1",
                    "taken_at": t0 + datetime.timedelta(minutes=start + m),
                    "temperature_c": Decimal("4.5"),
                }
                for m in range(n)
            ]
        )
        viewer_client.get("/api/v1/readings/")  # warm-up: a first request also fills caches
        with CaptureQueriesContext(connection) as queries:
            body = viewer_client.get("/api/v1/readings/?page_size=100").json()
        counts.append(len(queries))
        assert len(body["results"]) == min(start + n, 100)
        with CaptureQueriesContext(connection) as queries:
            viewer_client.get(body["next"] or "/api/v1/readings/")
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_lots_list_totals_do_not_grow_the_queries(viewer_client, receive, cerulo, fridge):
    """Each lot's on-hand and reserved vials over its locations, summed for the page's lots."""
    ward_fridge = StorageLocationFactory(code="ward-fridge")
    counts = []
    for batch in (2, 30):
        for k in range(batch):
            lot = receive(cerulo, fridge, 3, lot_number=f"B{batch}-{k}", expiry_days=30 + k)
            receive(cerulo, ward_fridge, 2, lot_number=lot.lot_number, expiry_days=30 + k)
        viewer_client.get("/api/v1/lots/")  # warm-up: a first request also fills caches
        with CaptureQueriesContext(connection) as queries:
            body = viewer_client.get("/api/v1/lots/?page_size=500").json()
        counts.append(len(queries))
        assert {(r["on_hand"], r["reserved"]) for r in body["results"]} == {(5, 0)}
    assert counts[0] == counts[1]


def test_forecast_endpoint(viewer_client, stocked, today):
    response = viewer_client.get(f"/api/v1/stock/forecast/?start={today}&days=30")
    assert response.status_code == 200
    (row,) = response.json()["presentations"]
    assert row["usable_at_start"] == 10
    assert row["expiring_unused"][0]["lot_number"] == "EARLY"
    _error(viewer_client.get("/api/v1/stock/forecast/?days=0"), 400)
    _error(viewer_client.get("/api/v1/stock/forecast/?start=tomorrow"), 400)


def test_locations_crud_without_delete(pharmacist_client):
    body = {
        "code": "cold-room-1",
        "name": "Cold room",
        "kind": "cold_room",
        "min_c": "2",
        "max_c": "8",
    }
    created = pharmacist_client.post("/api/v1/locations/", body, format="json")
    assert created.status_code == 201, created.content
    assert (
        "min_c"
        in _error(
            pharmacist_client.post(
                "/api/v1/locations/", {**body, "code": "x", "min_c": "9"}, format="json"
            ),
            400,
        )["fields"]
    )
    _error(pharmacist_client.delete(f"/api/v1/locations/{created.json()['id']}/"), 405)


def test_catalogue_writes_go_through_the_services_the_admin_uses(
    postgres, pharmacist_client, cerulo
):
    """The API keeps the admin's rules (a GTIN's check digit) and its history names the action
    and the user, as an admin save does (inventory.services.catalogue)."""
    from biip.checksums import gs1_standard_check_digit
    from pghistory.models import Events

    from inventory.models import Presentation, StorageLocation

    body = "0209999900001"
    good = body + str(gs1_standard_check_digit(body))
    bad = body + str((gs1_standard_check_digit(body) + 1) % 10)
    url = f"/api/v1/presentations/{cerulo.pk}/"
    refused = pharmacist_client.patch(url, {"gtin": bad}, format="json")
    assert refused.status_code == 400 and "gtin" in refused.json()["error"]["fields"]
    assert Presentation.objects.get(pk=cerulo.pk).gtin != bad
    assert pharmacist_client.patch(url, {"gtin": good}, format="json").status_code == 200
    created = pharmacist_client.post(
        "/api/v1/locations/",
        {"code": "api-fridge", "name": "API fridge", "kind": "fridge", "min_c": "2", "max_c": "8"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    location = StorageLocation.objects.get(code="api-fridge")
    for obj, action in [(Presentation.objects.get(pk=cerulo.pk), "presentation.save"),
                        (location, "location.save")]:  # fmt: skip
        contexts = [event.pgh_context for event in Events.objects.tracks(obj)]
        assert {"action": action, "user": pharmacist_client.user.pk} in [
            {"action": c.get("action"), "user": c.get("user")} for c in contexts if c
        ], contexts


@pytest.mark.parametrize(
    "url, body, field",
    [
        ("/api/v1/locations/", {"min_c": "-500", "max_c": "8"}, "min_c"),  # −5.0 typed as −500
        ("/api/v1/locations/", {"min_c": "2", "max_c": "80"}, "max_c"),
        ("/api/v1/products/", {"storage_min_c": "-60", "storage_max_c": "8"}, "storage_min_c"),
        ("/api/v1/products/", {"storage_max_c": "150"}, "storage_max_c"),
    ],
)
def test_storage_ranges_outside_what_a_sensor_can_read_are_refused(
    pharmacist_client, url, body, field
):
    """A storage range is within the readings' plausible band (−50 to 60 °C): one outside it is a
    typing error, and no reading could ever be checked against it."""
    from inventory.models import Product, StorageLocation

    base = (
        {"code": "x-room", "name": "X room", "kind": "room"}
        if "locations" in url
        else {
            "code": "xproduct",
            "name": "X",
            "active_substance": "x",
            "shelf_life_months": 24,
            "leaflet_file": "x.txt",
        }  # fmt: skip
    )
    error = _error(pharmacist_client.post(url, {**base, **body}, format="json"), 400)
    assert field in error["fields"], error
    assert not StorageLocation.objects.filter(code="x-room").exists()
    assert not Product.objects.filter(code="xproduct").exists()
