"""The admin is usable by a pharmacist (staff, pharmacist group, no superuser flag)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

APPS = {"inventory", "courses", "notifications"}
MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in APPS
)


@pytest.fixture
def pharmacist_admin(client, roles, formulary):
    user = UserFactory(roles=["pharmacist"], is_staff=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(("app", "model"), MODELS, ids=[f"{a}.{m}" for a, m in MODELS])
def test_pharmacist_opens_every_changelist(pharmacist_admin, app, model):
    response = pharmacist_admin.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200


def test_every_model_of_the_apps_is_in_the_admin_or_inline():
    from django.apps import apps
    from pghistory.models import Event

    inline_models = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in APPS
        and model not in admin.site._registry
        and model not in inline_models
        # History tables: read through each object's History button, never edited.
        and not issubclass(model, Event)
    ]
    assert missing == []


def test_viewer_staff_cannot_change_protocols(client, roles, formulary):
    from courses.models import Protocol

    client.force_login(UserFactory(roles=["viewer"], is_staff=True))
    protocol = Protocol.objects.first()
    url = reverse("admin:courses_protocol_change", args=[protocol.pk])
    response = client.post(url, {"indication": "changed"})
    assert response.status_code == 403
