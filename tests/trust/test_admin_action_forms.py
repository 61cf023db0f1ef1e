"""Every admin action that asks for a form first (a reason, a quantity, a destination), found in
the admin's registry rather than listed by hand: posted with the form left invalid, it shows the
form again with its errors and stores nothing — no ledger line, no status, no resolution."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client

from config.roles import Role
from tests.factories import UserFactory
from tests.trust.conftest import excursion_recorded

pytestmark = pytest.mark.django_db

APPS = ("inventory", "courses", "notifications")
FORM_ACTIONS = sorted(
    (model._meta.label_lower, name)
    for model, model_admin in admin.site._registry.items()
    for func, name, _ in model_admin._get_base_actions()
    if getattr(func, "form_class", None) is not None
)


def _snapshot() -> dict:
    """Every row of the apps' tables, as values: any write shows up as a difference."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in APPS
    }


@pytest.fixture
def excursion(stocked, pharmacist):
    from inventory.models import Excursion

    fridge = next(iter(stocked.values())).levels.get().location
    excursion_recorded(fridge, user=pharmacist, temperatures=(5, 14))
    return Excursion.objects.get()


def test_the_registry_has_the_stock_and_cold_chain_action_forms():
    models = {label for label, _ in FORM_ACTIONS}
    assert {"inventory.lot", "inventory.stocklevel", "inventory.excursion"} <= models
    assert len(FORM_ACTIONS) >= 9


@pytest.mark.parametrize(
    ("label", "action"), FORM_ACTIONS, ids=[f"{m}:{a}" for m, a in FORM_ACTIONS]
)
def test_an_invalid_action_form_stores_nothing(label, action, excursion, roles):
    model = apps.get_model(label)
    row = model.objects.order_by("pk").first()
    assert row is not None, label
    client = Client()
    client.force_login(UserFactory(roles=[Role.PHARMACIST], is_staff=True))
    before = _snapshot()
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    # "apply": the form was sent — every field left empty or out of range.
    response = client.post(
        url,
        {
            "action": action,
            "_selected_action": [row.pk],
            "apply": "1",
            "quantity": "0",
            "counted": "-1",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert _snapshot() == before
