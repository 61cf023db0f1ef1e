"""Issue 12 — accounts that resist guessing.

Reported: 60 wrong passwords on /api/v1/auth/token/, /accounts/login/ and the admin login, then
the right one → 200; tokens never expired and were stored in plain text.
"""

import datetime
import time

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.roles import Role
from tests.factories import StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"
TOKEN_URL = "/api/v1/auth/token/"


def _token(client, username, password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def _fail(client, username, times, **extra):
    """`times` wrong passwords; the one reaching the limit already answers the lockout (429)."""
    statuses = [_token(client, username, "wrong-guess", **extra).status_code for _ in range(times)]
    expected = [400] * times
    if times >= settings.LOGIN_FAILURE_LIMIT:
        expected[settings.LOGIN_FAILURE_LIMIT - 1 :] = [429] * (
            times - settings.LOGIN_FAILURE_LIMIT + 1
        )
    assert statuses == expected


# --- Lockout -------------------------------------------------------------------------------------


def test_token_endpoint_locks_a_username_after_the_failure_limit(roles):
    UserFactory(username="nina", roles=[Role.NURSE])
    client = APIClient()
    limit = settings.LOGIN_FAILURE_LIMIT
    assert limit == 10
    _fail(client, "nina", limit - 1)
    assert _token(client, "nina").status_code == 200  # under the limit; success resets it
    _fail(client, "nina", limit)
    locked = _token(client, "nina")
    assert locked.status_code == 429, locked.content
    error = locked.json()["error"]
    assert error["code"] == "locked_out" and "15 minutes" in error["message"]
    # The lock is per username: from another address the account stays locked.
    assert _token(APIClient(), "nina", REMOTE_ADDR="10.9.9.9").status_code == 429


def test_token_endpoint_locks_an_address_guessing_many_usernames(roles):
    UserFactory(username="omar", roles=[Role.NURSE])
    client = APIClient()
    statuses = [
        _token(client, f"guess{n}", "x", REMOTE_ADDR="10.0.0.7").status_code
        for n in range(settings.LOGIN_FAILURE_LIMIT)
    ]
    assert statuses == [400] * (settings.LOGIN_FAILURE_LIMIT - 1) + [429]
    assert _token(client, "omar", REMOTE_ADDR="10.0.0.7").status_code == 429
    assert _token(client, "omar", REMOTE_ADDR="10.0.0.8").status_code == 200


def test_the_lockout_ends_after_the_cool_off(roles):
    UserFactory(username="nina", roles=[Role.NURSE])
    client = APIClient()
    _fail(client, "nina", settings.LOGIN_FAILURE_LIMIT)
    assert _token(client, "nina").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    )
    assert _token(client, "nina").status_code == 200


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_login_page_and_admin_login_lock_out(client, url):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    statuses = [
        client.post(url, {"username": "root", "password": "wrong-guess"}).status_code
        for _ in range(settings.LOGIN_FAILURE_LIMIT)
    ]
    # The form again, with its error; the failure reaching the limit answers the lockout.
    assert statuses == [200] * (settings.LOGIN_FAILURE_LIMIT - 1) + [429]
    locked = client.post(url, {"username": "root", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_visible_to_an_admin_without_the_password(client):
    UserFactory(username="nina")
    _fail(APIClient(), "nina", settings.LOGIN_FAILURE_LIMIT)
    attempt = AccessAttempt.objects.get(username="nina")
    assert attempt.failures_since_start == settings.LOGIN_FAILURE_LIMIT
    assert "wrong-guess" not in attempt.post_data and "wrong-guess" not in attempt.get_data
    assert AccessFailureLog.objects.filter(username="nina", locked_out=True).exists()
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and b"nina" in page.content


# --- Tokens --------------------------------------------------------------------------------------


def test_tokens_are_hashed_at_rest_and_sent_as_token_header(roles):
    UserFactory(username="nina", roles=[Role.NURSE])
    client = APIClient()
    token = _token(client, "nina").json()["token"]
    stored = AuthToken.objects.get()
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/products/").status_code == 200


def _token_client(user):
    instance, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, instance


def test_a_token_unused_for_the_idle_limit_expires(roles):
    client, token = _token_client(UserFactory(roles=[Role.VIEWER]))
    assert client.get("/api/v1/products/").status_code == 200
    token.refresh_from_db()
    idle = datetime.timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES)
    assert abs(token.expiry - (timezone.now() + idle)) < datetime.timedelta(minutes=2)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(1))
    assert client.get("/api/v1/products/").status_code == 401


def test_a_token_in_constant_use_still_ends_at_the_absolute_limit(roles):
    client, token = _token_client(UserFactory(roles=[Role.VIEWER]))
    max_age = datetime.timedelta(hours=settings.API_TOKEN_MAX_HOURS)
    created = timezone.now() - max_age + datetime.timedelta(minutes=30)
    AuthToken.objects.filter(pk=token.pk).update(
        created=created, expiry=timezone.now() + datetime.timedelta(minutes=5)
    )
    assert client.get("/api/v1/products/").status_code == 200
    token.refresh_from_db()
    assert token.expiry == created + max_age  # renewed, but not past the absolute limit
    AuthToken.objects.filter(pk=token.pk).update(
        created=created - datetime.timedelta(hours=1), expiry=timezone.now() - datetime.timedelta(1)
    )
    assert client.get("/api/v1/products/").status_code == 401


def test_owner_lists_and_revokes_own_tokens_and_an_admin_everyones(roles):
    nina, omar = UserFactory(roles=[Role.NURSE]), UserFactory(roles=[Role.NURSE])
    client, current = _token_client(nina)
    _, spare = AuthToken.objects.create(user=nina)
    omar_client, omars = _token_client(omar)
    listed = client.get("/api/v1/auth/tokens/").json()["results"]
    assert {t["username"] for t in listed} == {nina.username} and len(listed) == 2
    assert [t["current"] for t in listed if t["id"] == current.digest] == [True]
    assert client.delete(f"/api/v1/auth/tokens/{omars.digest}/").status_code == 404
    spare_digest = AuthToken.objects.exclude(pk__in=[current.pk, omars.pk]).get().digest
    assert client.delete(f"/api/v1/auth/tokens/{spare_digest}/").status_code == 204
    assert client.delete(f"/api/v1/auth/tokens/{current.digest}/").status_code == 204
    assert client.get("/api/v1/auth/tokens/").status_code == 401  # revoked at once

    admin_client, _ = _token_client(UserFactory(is_staff=True, is_superuser=True))
    everyone = admin_client.get("/api/v1/auth/tokens/").json()["results"]
    assert omar.username in {t["username"] for t in everyone}
    assert admin_client.delete(f"/api/v1/auth/tokens/{omars.digest}/").status_code == 204
    assert omar_client.get("/api/v1/products/").status_code == 401


def test_logout_revokes_the_token_used(roles):
    client, token = _token_client(UserFactory(roles=[Role.NURSE]))
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert not AuthToken.objects.filter(pk=token.pk).exists()


# --- Sessions and passwords ----------------------------------------------------------------------


def test_a_ward_session_unused_for_the_idle_timeout_is_signed_out(client, roles):
    client.force_login(UserFactory(roles=[Role.NURSE]))
    assert client.get("/stock/").status_code == 200
    session = client.session
    idle = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    session["_last_seen"] = int(time.time()) - idle + 120  # used two minutes before the limit
    session.save()
    assert client.get("/stock/").status_code == 200
    session = client.session
    session["_last_seen"] = int(time.time()) - idle - 1
    session.save()
    response = client.get("/stock/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_signing_in_stamps_the_session_for_the_idle_timeout(client):
    UserFactory(username="nina")
    response = client.post("/accounts/login/", {"username": "nina", "password": PASSWORD})
    assert response.status_code == 302
    assert abs(client.session["_last_seen"] - time.time()) < 60


def test_djangos_password_validators_are_on():
    assert len(settings.AUTH_PASSWORD_VALIDATORS) == 4
    for weak in ["12345678", "password", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("infusion-fridge-7C-night")


# --- Sensor gateway ------------------------------------------------------------------------------


def test_a_sensor_gateway_posts_readings_and_nothing_else(roles, client):
    gateway = UserFactory(roles=[Role.SENSOR_GATEWAY])
    fridge = StorageLocationFactory(code="ward-fridge")
    api, _ = _token_client(gateway)
    reading = {
        "location": fridge.pk,
        "sensor_id": "gw-1",
        "taken_at": (timezone.now() - datetime.timedelta(minutes=1)).isoformat(),
        "temperature_c": "5",
    }
    assert api.post("/api/v1/readings/", reading, format="json").status_code == 201
    for url in ["/api/v1/readings/", "/api/v1/products/", "/api/v1/lots/", "/api/v1/doses/"]:
        assert api.get(url).status_code == 403, url
    refused = api.post(
        "/api/v1/stock/adjust/",
        {"lot_id": 1, "location_id": fridge.pk, "quantity_delta": 1, "reason": "x"},
        format="json",
    )
    assert refused.status_code == 403
    client.force_login(gateway)
    for page in ["/", "/stock/", "/cold-chain/", "/courses/"]:
        assert client.get(page).status_code == 403, page
