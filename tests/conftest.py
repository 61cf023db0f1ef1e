import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from config.roles import Role, roles_ensure
from tests import services
from tests.factories import UserFactory


def _need(available: bool, what: str):
    if available:
        return
    if services.REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {what} is unreachable")
    pytest.skip(f"{what} is unreachable (set it up or export its URL to run this test)")


@pytest.fixture
def postgres():
    """Use in tests that need PostgreSQL (row locks, real concurrency)."""
    _need(settings.TEST_ON_POSTGRES, "PostgreSQL (DATABASE_URL or 127.0.0.1:5432/test)")


@pytest.fixture
def redis_url():
    """A Redis URL on a database of its own for this test run, flushed before use."""
    url = services.redis_url()
    _need(bool(url), "Redis (REDIS_URL or 127.0.0.1:6379)")
    import redis

    # A database of its own (TEST_REDIS_DB, default 13) so parallel runs and the app don't collide.
    db = os.environ.get("TEST_REDIS_DB", "13")
    test_url = (url.rsplit("/", 1)[0] if url.count("/") >= 3 else url) + f"/{db}"
    redis.Redis.from_url(test_url).flushdb()
    return test_url


@pytest.fixture
def roles(db):
    roles_ensure()


@pytest.fixture
def formulary(db):
    from courses.services import formulary_load

    formulary_load()


def _client_for(role: str | None):
    client = APIClient()
    if role:
        user = UserFactory(roles=[role])
        client.force_authenticate(user)
        client.user = user
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def pharmacist_client(roles):
    return _client_for(Role.PHARMACIST)


@pytest.fixture
def physician_client(roles):
    return _client_for(Role.PHYSICIAN)


@pytest.fixture
def nurse_client(roles):
    return _client_for(Role.NURSE)


@pytest.fixture
def viewer_client(roles):
    return _client_for(Role.VIEWER)


# --- Courses ------------------------------------------------------------------------------------


@pytest.fixture
def ward(db):
    from tests.factories import WardFactory

    return WardFactory(code="ward-3a", name="Ward 3A")


@pytest.fixture
def other_ward(db):
    from tests.factories import WardFactory

    return WardFactory(code="ward-5b", name="Ward 5B")


@pytest.fixture
def physician(roles):
    return UserFactory(roles=[Role.PHYSICIAN])


@pytest.fixture
def nurse(roles, ward):
    user = UserFactory(roles=[Role.NURSE])
    ward.members.add(user)
    return user


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()
