"""/healthz, /readyz, `manage.py health` and the pharmacists' banner, in process.

The broker here is the test settings' in-memory one with no worker behind it, so readiness must
name the worker as failing; a real worker answering is proven by tests/ops/test_processes.py."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from config.health.models import Heartbeat
from config.health.services import heartbeat_record
from config.roles import Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def quick_ping(settings):
    settings.HEALTH_PING_TIMEOUT_SECONDS = 0.2


@pytest.mark.django_db
def test_healthz_answers_without_the_database_and_without_a_redirect(
    settings, django_assert_num_queries
):
    settings.SECURE_SSL_REDIRECT = True  # as in production
    client = Client()  # built after the setting: SecurityMiddleware reads it once
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.get("/accounts/login/").status_code == 301  # the control: others redirect


@pytest.mark.django_db
def test_readyz_names_what_failed_with_503():
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["worker", "beat"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "no worker answered" in body["checks"]["worker"]["detail"]
    assert body["checks"]["beat"]["detail"] == "beat has never ticked"


@pytest.mark.django_db
def test_beat_counts_as_down_after_two_intervals_without_a_tick(settings):
    settings.HEALTH_BEAT_INTERVAL_SECONDS = 60
    assert heartbeat_record(name="beat")
    beat = Client().get("/readyz").json()["checks"]["beat"]
    assert beat["ok"], beat
    Heartbeat.objects.filter(name="beat").update(at=timezone.now() - dt.timedelta(seconds=125))
    beat = Client().get("/readyz").json()["checks"]["beat"]
    assert not beat["ok"] and "125 s ago" in beat["detail"]


@pytest.mark.django_db
def test_health_command_exits_non_zero_naming_the_failed_checks(capsys):
    with pytest.raises(CommandError) as failed:
        call_command("health")
    assert failed.value.returncode == 1 and "worker, beat" in str(failed.value)
    printed = capsys.readouterr().out
    assert "database  ok" in printed and "beat      FAIL beat has never ticked" in printed


@pytest.mark.django_db
def test_readyz_reports_a_broker_that_does_not_answer(settings):
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app._after_fork()
    try:
        body = Client().get("/readyz").json()
    finally:
        app.conf.broker_url = previous
        app._after_fork()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"]["detail"] == "not checked: broker unreachable"


@pytest.mark.django_db
def test_pharmacists_see_a_banner_while_beat_or_the_worker_is_quiet(roles):
    pharmacist, nurse = Client(), Client()
    pharmacist.force_login(UserFactory(roles=[Role.PHARMACIST]))
    nurse.force_login(UserFactory(roles=[Role.NURSE]))
    banner = "Background processing is down"

    page = pharmacist.get("/").content.decode()
    assert banner in page and "the beat scheduler" in page
    assert banner not in nurse.get("/").content.decode()
    ukrainian = pharmacist.get("/", HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Фонова обробка не працює: планувальник beat" in ukrainian
    assert "the beat scheduler" not in ukrainian

    heartbeat_record(name="beat")  # beat ticks, but no worker runs its heartbeat task
    page = pharmacist.get("/").content.decode()
    assert banner in page and "the Celery worker" in page

    heartbeat_record(name="worker")
    assert banner not in pharmacist.get("/").content.decode()
