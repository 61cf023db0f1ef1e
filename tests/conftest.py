import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from config.roles import Role, roles_ensure
from tests import services
from tests.factories import UserFactory


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The catalogues compiled as `make install` compiles them, for a suite run without make
    (compilemessages skips a catalogue whose .mo is newer than its .po). Under pytest-xdist every
    process runs this: a lock file lets one compile while the others wait, never read half a .mo."""
    import fcntl
    import hashlib
    import tempfile
    from pathlib import Path

    from django.core.management import call_command

    checkout = hashlib.sha256(str(settings.BASE_DIR).encode()).hexdigest()[:12]
    lock = Path(tempfile.gettempdir()) / f"compilemessages-{checkout}.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            call_command(
                "compilemessages",
                locale=["uk"],
                ignore_patterns=[".*", "var", "test-artifacts"],
                verbosity=0,
            )
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language. A page request activates its reader's language
    (LocaleMiddleware) and nothing switches it back in the test's thread, so without this a
    Ukrainian request would leave a later test's service calls speaking Ukrainian."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def _need(available: bool, what: str):
    if available:
        return
    if services.REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {what} is unreachable")
    pytest.skip(f"{what} is unreachable (set it up or export its URL to run this test)")


@pytest.fixture
def postgres():
    """Use in tests that need PostgreSQL (row locks, real concurrency)."""
    if os.environ.get("TEST_DB") == "sqlite":
        pytest.skip("this run is the SQLite pass (TEST_DB=sqlite); it runs on PostgreSQL")
    _need(settings.TEST_ON_POSTGRES, "PostgreSQL (DATABASE_URL or 127.0.0.1:5432/test)")


@pytest.fixture
def redis_url():
    """The Redis the run was given (TEST_REDIS_URL, else REDIS_URL), as given: never another
    database, never flushed. Tests that queue tasks use a queue of their own (`task_queue`)."""
    url = services.redis_url()
    _need(bool(url), "Redis (TEST_REDIS_URL, REDIS_URL or 127.0.0.1:6379)")
    return url


@pytest.fixture
def amqp_url():
    """RabbitMQ (TEST_AMQP_URL, else the local guest account). Nothing is reconfigured on it:
    tests only declare queues of their own (`task_queue`) and delete them afterwards."""
    url = services.amqp_url()
    _need(bool(url), "RabbitMQ (TEST_AMQP_URL or 127.0.0.1:5672)")
    return url


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request):
    """Each broker the project supports in production; the test runs once on each."""
    return request.getfixturevalue("redis_url" if request.param == "redis" else "amqp_url")


@pytest.fixture
def task_queue(broker_url):
    """A queue name for this test alone (parallel runs on one broker never take each other's
    tasks); the queue and its binding are deleted afterwards, and nothing else."""
    import uuid

    name = f"test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    yield name
    services.queue_delete(broker_url, name)


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


# --- inventory -----------------------------------------------------------------------------------
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


@pytest.fixture
def pharmacist(db):
    return UserFactory(roles=[Role.PHARMACIST])


@pytest.fixture
def fridge(db):
    from tests.factories import StorageLocationFactory

    return StorageLocationFactory(code="pharmacy-fridge")


@pytest.fixture
def cerulo(db):
    """A ceruloplasmin presentation (2–8 °C)."""
    from tests.factories import PresentationFactory

    return PresentationFactory()


@pytest.fixture
def receive(db, pharmacist, today):
    """receive(presentation, location, quantity, lot_number=…, expiry_date=…) → the Lot."""
    import datetime

    from inventory.services import lot_receive

    def _receive(presentation, location, quantity, *, lot_number="LOT1", expiry_days=365, **kw):
        kw.setdefault("expiry_date", today + datetime.timedelta(days=expiry_days))
        movement = lot_receive(
            presentation_id=presentation.pk,
            location_id=location.pk,
            quantity=quantity,
            lot_number=lot_number,
            user=pharmacist,
            on=today,
            **kw,
        )
        return movement.lot

    return _receive


@pytest.fixture
def stocked(formulary, ward, pharmacist, today):
    """A 2–8 °C fridge on `ward` holding 50 of every formulary presentation, expiring in a year.

    2–8 °C satisfies both ceruloplasmin (2–8 °C) and Betaleukin (≤ 15 °C)."""
    from tests.factories import StorageLocationFactory, receive_every_presentation

    fridge = StorageLocationFactory(code=f"{ward.code}-fridge", ward=ward)
    return receive_every_presentation(fridge, quantity=50, prefix="S", user=pharmacist, on=today)
