"""Issue 12 — no stock from nothing, and no one else's reservation.

Returns under a reference are serialised on it across locations and capped at what left under
it; `dose:<id>` references are refused on the generic stock actions (API, pages, admin) and
used only by the dose's own recording path (courses.stock passes owner_path=True).
"""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from inventory import selectors, services
from inventory.models import MovementKind, StockLevel, StockMovement
from tests.factories import StorageLocationFactory
from tests.inventory.test_concurrency import _all_at_once


def _net_out(reference: str) -> int:
    """Vials out under a reference: dispensed minus returned (≥ 0 is the invariant)."""
    net = StockMovement.objects.filter(
        reference=reference, kind__in=[MovementKind.DISPENSE, MovementKind.RETURN]
    ).aggregate(net=Sum("on_hand_delta"))["net"]
    return -(net or 0)


@pytest.mark.postgres
def test_parallel_returns_under_one_reference_to_two_locations_give_back_only_what_left(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    """Reported: dispense 1 under R, 10 parallel returns under R to two locations → 2 succeeded."""
    lot = receive(cerulo, fridge, 5)
    other = StorageLocationFactory(code="ward-fridge-2")
    services.stock_dispense(
        presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference="R"
    )
    results = _all_at_once(
        lambda n: services.stock_return(
            lot_id=lot.pk,
            location_id=(fridge if n % 2 else other).pk,
            quantity=1,
            on=today,
            user=pharmacist,
            reference="R",
        ),
        10,
    )
    succeeded = [r for r in results if not isinstance(r, ValidationError)]
    assert len(succeeded) == 1
    assert _net_out("R") == 0
    on_hand = sum(StockLevel.objects.filter(lot=lot).values_list("on_hand", flat=True))
    assert on_hand == 5
    assert selectors.ledger_mismatches() == []


@pytest.mark.django_db
def test_a_return_is_capped_across_locations(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 5)
    other = StorageLocationFactory(code="ward-fridge-2")
    common = {"on": today, "user": pharmacist, "reference": "R"}
    services.stock_dispense(presentation_id=cerulo.pk, quantity=2, **common)
    services.stock_return(lot_id=lot.pk, location_id=other.pk, quantity=1, **common)
    services.stock_return(lot_id=lot.pk, location_id=fridge.pk, quantity=1, **common)
    with pytest.raises(ValidationError) as refused:
        services.stock_return(lot_id=lot.pk, location_id=other.pk, quantity=1, **common)
    assert "Only 0 vials of lot" in refused.value.message_dict["quantity"][0]


def _dose_reservation(cerulo, today, reference="dose:11"):
    # What recording a dose does (courses.stock): the owner's path may use the reference.
    services.stock_reserve(
        presentation_id=cerulo.pk, quantity=2, on=today, reference=reference, owner_path=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("dispense", {"quantity": 1}),
        ("reserve", {"quantity": 1, "on": "today"}),
        ("release-reservation", {}),
        ("waste", {"quantity": 1, "reason": "broken"}),
    ],
)
def test_a_nurse_cannot_use_a_dose_reference_through_the_stock_api(
    nurse_client, pharmacist_client, receive, cerulo, fridge, today, path, extra
):
    """Reported: a nurse of ward 7C dispensed against ward 5B's `dose:11` via the stock API."""
    lot = receive(cerulo, fridge, 5)
    _dose_reservation(cerulo, today)
    body = {"reference": "dose:11", **extra}
    if path in {"dispense", "reserve"}:
        body["presentation_id"] = cerulo.pk
    if path == "reserve":
        body["on"] = str(today)
    if path == "waste":
        body.update(lot_id=lot.pk, location_id=fridge.pk)
    client = pharmacist_client if path in {"reserve", "release-reservation"} else nurse_client
    response = client.post(f"/api/v1/stock/{path}/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "reserved_reference" and "reference" in error["fields"]
    level = StockLevel.objects.get(lot=lot, location=fridge)
    assert (level.on_hand, level.reserved) == (5, 2)  # the dose still holds its vials


@pytest.mark.django_db
def test_a_dose_reference_is_refused_on_return_and_in_any_spelling(
    nurse_client, receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 5)
    for reference in ["dose:11", "DOSE:11", "Dose:11"]:
        response = nurse_client.post(
            "/api/v1/stock/return/",
            {"lot_id": lot.pk, "location_id": fridge.pk, "quantity": 1, "reference": reference},
            format="json",
        )
        assert response.status_code == 400, response.content
        assert "reference" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_the_services_refuse_a_dose_reference_unless_called_from_the_dose_recording(
    receive, cerulo, fridge, pharmacist, today
):
    """The pages and the admin call the same services without owner_path: refused there too."""
    receive(cerulo, fridge, 5)
    _dose_reservation(cerulo, today)
    with pytest.raises(ValidationError) as refused:
        services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference="dose:11"
        )
    assert refused.value.error_dict["reference"][0].code == "reserved_reference"
    moved = services.stock_dispense(
        presentation_id=cerulo.pk,
        quantity=2,
        on=today,
        user=pharmacist,
        reference="dose:11",
        owner_path=True,
    )
    assert sum(m.quantity for m in moved) == 2
    assert services.reservation_release(reference="dose:11", owner_path=True) == 0


@pytest.mark.django_db
def test_other_references_stay_free_on_the_stock_api(nurse_client, receive, cerulo, fridge):
    receive(cerulo, fridge, 5)
    response = nurse_client.post(
        "/api/v1/stock/dispense/",
        {"presentation_id": cerulo.pk, "quantity": 1, "reference": "ward-7c:2026-03-02"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()[0]["reference"] == "ward-7c:2026-03-02"
