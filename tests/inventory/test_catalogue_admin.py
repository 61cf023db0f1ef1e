"""The admin's product, presentation, ward and storage-location forms save through the catalogue
services: invalid input is shown on the form and nothing is stored; a valid save is recorded
with the service's action and the admin user."""

import pytest
from biip.checksums import gs1_standard_check_digit
from django.core.exceptions import ValidationError
from django.test import Client
from pghistory.models import Events

from config.roles import Role
from inventory import services
from inventory.models import Presentation, Product, StorageLocation, Ward
from tests.factories import StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = "0209999900001"
GOOD_GTIN = BODY + str(gs1_standard_check_digit(BODY))
BAD_GTIN = BODY + str((gs1_standard_check_digit(BODY) + 1) % 10)
NO_INLINES = {"presentations-TOTAL_FORMS": "0", "presentations-INITIAL_FORMS": "0"}


@pytest.fixture
def pharmacy_admin(roles):
    client = Client()
    client.user = UserFactory(roles=[Role.PHARMACIST], is_staff=True)
    client.force_login(client.user)
    return client


def _product(**changes) -> dict:
    return {
        "code": "newproduct",
        "name": "New product",
        "active_substance": "Substance",
        "storage_min_c": "2",
        "storage_max_c": "8",
        "shelf_life_months": "24",
        "protein_origin": "on",
        "contraindications": "[]",
        "warnings": "[]",
        "leaflet_file": "new.txt",
        **NO_INLINES,
        **changes,
    }


def _presentation(product, **changes) -> dict:
    return {
        "product": product.pk,
        "code": "new-100mg-vial",
        "strength": "100",
        "strength_unit": "mg",
        "container": "vial",
        "pack_size": "5",
        "gtin": GOOD_GTIN,
        **changes,
    }


def _location(**changes) -> dict:
    return {"code": "new-fridge", "name": "New fridge", "kind": "fridge", "min_c": "2", "max_c": "8",
            "active": "on", **changes}  # fmt: skip


def _refused(response, *texts):
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    page = response.content.decode()
    assert "errornote" in page or "errorlist" in page
    for text in texts:
        assert text in page, text


def test_a_reversed_storage_range_is_refused_on_the_product_form(pharmacy_admin):
    response = pharmacy_admin.post(
        "/admin/inventory/product/add/", _product(storage_min_c="9", storage_max_c="2")
    )
    _refused(response)
    assert not Product.objects.filter(code="newproduct").exists()


def test_a_gtin_with_a_wrong_check_digit_is_refused_on_the_presentation_form(
    pharmacy_admin, cerulo
):
    response = pharmacy_admin.post(
        "/admin/inventory/presentation/add/", _presentation(cerulo.product, gtin=BAD_GTIN)
    )
    _refused(response, "check digit")
    assert not Presentation.objects.filter(code="new-100mg-vial").exists()
    # Changing an existing one: refused, the row kept as it was.
    response = pharmacy_admin.post(
        f"/admin/inventory/presentation/{cerulo.pk}/change/",
        _presentation(cerulo.product, code=cerulo.code, gtin=BAD_GTIN),
    )
    _refused(response, "check digit")
    cerulo.refresh_from_db()
    assert cerulo.gtin is None


def test_a_wrong_gtin_in_the_products_presentation_inline_saves_nothing(pharmacy_admin):
    inline = {
        "presentations-TOTAL_FORMS": "1",
        "presentations-INITIAL_FORMS": "0",
        **{
            f"presentations-0-{k}": v for k, v in _presentation(Product()).items() if k != "product"
        },
        "presentations-0-gtin": BAD_GTIN,
    }
    response = pharmacy_admin.post("/admin/inventory/product/add/", _product(**inline))
    _refused(response, "check digit")
    assert not Product.objects.filter(code="newproduct").exists()
    assert not Presentation.objects.filter(code="new-100mg-vial").exists()


def test_a_reversed_location_range_and_a_bad_code_are_refused(pharmacy_admin):
    response = pharmacy_admin.post(
        "/admin/inventory/storagelocation/add/", _location(min_c="8", max_c="2")
    )
    _refused(response)
    response = pharmacy_admin.post("/admin/inventory/storagelocation/add/", _location(code="a b"))
    _refused(response)
    assert not StorageLocation.objects.exists()


def test_a_ward_with_a_bad_code_is_refused(pharmacy_admin):
    response = pharmacy_admin.post(
        "/admin/inventory/ward/add/",
        {"code": "ward 5b!", "name": "Ward", "reminder_lead_minutes": "60", "digest_time": "07:00"},
    )
    _refused(response)
    assert not Ward.objects.exists()


def test_a_viewer_cannot_add_through_the_admin(roles):
    client = Client()
    client.force_login(UserFactory(roles=[Role.VIEWER], is_staff=True))
    response = client.post("/admin/inventory/product/add/", _product())
    assert response.status_code == 403
    assert not Product.objects.exists()


def test_the_services_refuse_what_the_forms_refuse(cerulo, pharmacist):
    with pytest.raises(ValidationError) as refused:
        services.presentation_save(presentation=cerulo, fields={"gtin": BAD_GTIN}, user=pharmacist)
    assert "gtin" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.location_save(
            fields={"code": "x", "name": "X", "kind": "fridge", "min_c": 9, "max_c": 2}
        )
    with pytest.raises(ValidationError) as refused:
        services.product_save(product=cerulo.product, fields={"colour": "blue"})
    assert "colour" in refused.value.message_dict
    cerulo.refresh_from_db()
    assert cerulo.gtin is None and not StorageLocation.objects.exists()


@pytest.mark.usefixtures("postgres")
def test_valid_saves_are_recorded_with_the_services_action_and_the_admin_user(pharmacy_admin):
    nurse = UserFactory(roles=[Role.NURSE])
    inline = {
        "presentations-TOTAL_FORMS": "1",
        "presentations-INITIAL_FORMS": "0",
        **{
            f"presentations-0-{k}": v for k, v in _presentation(Product()).items() if k != "product"
        },
    }
    response = pharmacy_admin.post("/admin/inventory/product/add/", _product(**inline))
    assert response.status_code == 302, response.content[:3000]
    product = Product.objects.get(code="newproduct")
    presentation = product.presentations.get()
    assert presentation.gtin == GOOD_GTIN
    response = pharmacy_admin.post(
        "/admin/inventory/ward/add/",
        {
            "code": "ward-9",
            "name": "Ward 9",
            "reminder_lead_minutes": "60",
            "digest_time": "07:00",
            "mailbox_digests": "on",
            "members": [nurse.pk],
        },
    )
    assert response.status_code == 302, response.content[:3000]
    ward = Ward.objects.get(code="ward-9")
    assert list(ward.members.all()) == [nurse]
    for obj, action in [(product, "product.save"), (presentation, "presentation.save")]:
        event = Events.objects.tracks(obj).get()
        assert event.pgh_context["action"] == action
        assert event.pgh_context["user"] == pharmacy_admin.user.pk
    member = Events.objects.across("inventory.WardMemberEvent").references(nurse).get()
    assert member.pgh_context["action"] == "ward.save"


def test_a_storage_range_outside_the_plausible_band_is_refused_on_both_forms(pharmacy_admin):
    _refused(
        pharmacy_admin.post("/admin/inventory/product/add/", _product(storage_max_c="80")),
        "60",
    )
    _refused(
        pharmacy_admin.post("/admin/inventory/storagelocation/add/", _location(min_c="-80")),
        "-50",
    )
    assert not Product.objects.filter(code="newproduct").exists()
    assert not StorageLocation.objects.exists()


def test_the_database_refuses_an_implausible_storage_range_written_around_the_services(cerulo):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=cerulo.product.pk).update(storage_max_c=99)
    location = StorageLocationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StorageLocation.objects.filter(pk=location.pk).update(min_c=-51)
