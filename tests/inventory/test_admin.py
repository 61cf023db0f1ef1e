import pytest
from django.test import Client

from config.roles import Role
from inventory.models import LotStatus, StockLevel, StockMovement
from tests.factories import StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(roles):
    def make(role):
        user = UserFactory(roles=[role], is_staff=True)
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def pharmacy_admin(admin_client_for):
    return admin_client_for(Role.PHARMACIST)


def test_stock_pages_render(pharmacy_admin, receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 3)
    movement = StockMovement.objects.get()
    for url in [
        "/admin/inventory/lot/",
        f"/admin/inventory/lot/{lot.pk}/change/",
        "/admin/inventory/lot/receive/",
        "/admin/inventory/stocklevel/",
        "/admin/inventory/stockmovement/",
        f"/admin/inventory/stockmovement/{movement.pk}/change/",
        "/admin/inventory/storagelocation/",
        "/admin/inventory/excursion/",
        "/admin/inventory/temperaturereading/",
    ]:
        assert pharmacy_admin.get(url).status_code == 200, url


def test_movements_cannot_be_added_edited_or_deleted_in_admin(
    pharmacy_admin, receive, cerulo, fridge
):
    receive(cerulo, fridge, 3)
    movement = StockMovement.objects.get()
    assert pharmacy_admin.get("/admin/inventory/stockmovement/add/").status_code == 403
    url = f"/admin/inventory/stockmovement/{movement.pk}/"
    assert pharmacy_admin.post(url + "change/", {"quantity": 9}).status_code == 403
    assert pharmacy_admin.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert StockMovement.objects.get().quantity == 3


def test_receive_in_admin(pharmacy_admin, cerulo, fridge, today):
    response = pharmacy_admin.post(
        "/admin/inventory/lot/receive/",
        {
            "presentation": cerulo.pk,
            "lot_number": "ADM-1",
            "expiry_date": "2020-01-01",
            "quantity": 4,
            "location": fridge.pk,
        },
    )
    assert response.status_code == 200
    assert "expired" in response.content.decode()
    response = pharmacy_admin.post(
        "/admin/inventory/lot/receive/",
        {
            "presentation": cerulo.pk,
            "lot_number": "ADM-1",
            "expiry_date": str(today.replace(year=today.year + 1)),
            "quantity": 4,
            "location": fridge.pk,
        },
    )
    assert response.status_code == 302
    assert StockLevel.objects.get().on_hand == 4


def test_quarantine_and_release_actions_ask_for_a_reason(pharmacy_admin, receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 3)
    url = "/admin/inventory/lot/"
    ask = pharmacy_admin.post(url, {"action": "quarantine", "_selected_action": [lot.pk]})
    assert ask.status_code == 200 and b"reason" in ask.content
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    pharmacy_admin.post(
        url, {"action": "quarantine", "_selected_action": [lot.pk], "apply": "1", "reason": "QA"}
    )
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED
    pharmacy_admin.post(
        url,
        {
            "action": "release_from_quarantine",
            "_selected_action": [lot.pk],
            "apply": "1",
            "reason": "ok",
        },
    )
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE


def test_transfer_dispense_and_count_actions(pharmacy_admin, receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 10)
    ward = StorageLocationFactory(code="ward")
    level = StockLevel.objects.get()
    url = "/admin/inventory/stocklevel/"
    common = {"_selected_action": [level.pk], "apply": "1"}
    pharmacy_admin.post(
        url, {**common, "action": "transfer", "to_location": ward.pk, "quantity": 3}
    )
    pharmacy_admin.post(url, {**common, "action": "dispense", "quantity": 2, "reference": "rx:1"})
    pharmacy_admin.post(
        url, {**common, "action": "record_a_count", "counted": 4, "reason": "stock take"}
    )
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 4
    assert StockLevel.objects.get(lot=lot, location=ward).on_hand == 3


def test_viewers_cannot_run_stock_actions(admin_client_for, receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 3)
    viewer = admin_client_for(Role.VIEWER)
    assert viewer.get("/admin/inventory/lot/").status_code == 200
    viewer.post(
        "/admin/inventory/lot/",
        {"action": "quarantine", "_selected_action": [lot.pk], "apply": "1", "reason": "x"},
    )
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    assert viewer.get("/admin/inventory/lot/receive/").status_code == 403
