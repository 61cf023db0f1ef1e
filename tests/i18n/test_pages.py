"""Which language a page speaks: the user's choice, then Accept-Language, then LANGUAGE_CODE;
numbers with a decimal comma on Ukrainian pages and never in the API; commands in LANGUAGE_CODE.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from courses.models import PatientWeight
from notifications.models import NotificationPreference
from tests.courses.helpers import seven_doses
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def today_page(client, **headers):
    response = client.get("/", **headers)
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.parametrize(
    ("headers", "code", "present", "absent"),
    [
        (UK, "uk", [">Сьогодні</a>", "Вийти", "Скануйте етикетку"], ["Sign out", "Scan a label"]),
        (EN, "en-gb", [">Today</a>", "Sign out", "Scan a label"], ["Сьогодні", "Вийти"]),
    ],
)
def test_accept_language_picks_the_pages_language(client, nurse, headers, code, present, absent):
    client.force_login(nurse)
    response, html = today_page(client, **headers)
    assert f'<html lang="{code}">' in html
    assert response["Content-Language"] == code
    assert all(text in html for text in present)
    assert not any(text in html for text in absent)


def test_without_accept_language_the_site_language_decides(client, nurse, settings):
    client.force_login(nurse)
    assert "Sign out" in today_page(client)[1]
    settings.LANGUAGE_CODE = "uk"
    assert "Вийти" in today_page(client)[1]


def test_the_users_own_language_wins_over_the_browsers(client, nurse):
    NotificationPreference.objects.create(user=nurse, language="uk")
    client.force_login(nurse)  # the choice is read at sign-in, into the session
    response, html = today_page(client, **EN)
    assert response["Content-Language"] == "uk" and "Вийти" in html


def test_the_settings_page_changes_the_language_at_once_and_back(client, nurse):
    client.force_login(nurse)
    assert "Language" in client.get("/accounts/settings/", **EN).content.decode()
    response = client.post(
        "/accounts/settings/", {"language": "uk", "receive_digests": "on"}, follow=True, **EN
    )
    html = response.content.decode()
    assert "Налаштування збережено." in html and "Мова" in html
    preference = NotificationPreference.objects.get(user=nurse)
    assert (preference.language, preference.receive_digests) == ("uk", True)
    assert "Вийти" in today_page(client, **EN)[1]
    client.post("/accounts/settings/", {"language": ""}, **EN)
    assert "Sign out" in today_page(client, **EN)[1]
    assert not NotificationPreference.objects.get(user=nurse).receive_digests


def test_the_settings_page_refuses_a_language_it_does_not_offer(client, nurse):
    client.force_login(nurse)
    response = client.post("/accounts/settings/", {"language": "de"}, **EN)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=nurse).exists()


def test_a_session_from_before_the_choice_was_kept_reads_it_once(client, nurse):
    client.force_login(nurse)
    session = client.session
    session.pop("_language")
    session.save()
    NotificationPreference.objects.create(user=nurse, language="uk")
    assert "Вийти" in today_page(client, **EN)[1]


@pytest.fixture
def weighed(nurse, ward):
    patient = PatientFactory(ward=ward, weight_kg=False)
    PatientWeight.objects.create(
        patient=patient, weight_kg=Decimal("72.5"), measured_on=timezone.localdate()
    )
    return patient


def test_ukrainian_pages_write_a_decimal_comma_and_english_ones_a_point(client, nurse, weighed):
    client.force_login(nurse)
    uk = client.get(f"/patients/{weighed.pk}/", **UK).content.decode()
    en = client.get(f"/patients/{weighed.pk}/", **EN).content.decode()
    assert "72,50 кг" in uk and "72.50" not in uk
    assert "72.50 kg" in en


def test_the_api_keeps_the_decimal_point_whatever_the_language(nurse_client, weighed, nurse):
    nurse_client.force_authenticate(nurse)
    body = nurse_client.get(f"/api/v1/patients/{weighed.pk}/weights/", **UK).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows[0]["weight_kg"] == "72.50"


def test_api_error_messages_follow_accept_language(nurse_client):
    uk = nurse_client.get("/api/v1/no-such-thing/", **UK).json()["error"]
    en = nurse_client.get("/api/v1/no-such-thing/", **EN).json()["error"]
    assert uk["code"] == en["code"] == "not_found"
    assert uk["message"] == "Такої кінцевої точки немає."
    assert en["message"] == "No such endpoint."
    refused = nurse_client.post("/api/v1/products/", {}, format="json", **UK).json()["error"]
    assert (refused["status"], refused["message"]) == (403, "Ваша роль не дозволяє цієї дії.")


def test_a_management_command_answers_in_the_active_language():
    english, ukrainian = io.StringIO(), io.StringIO()
    with translation.override("en-gb"):
        call_command("history_prune", stdout=english)
    with translation.override("uk"):
        call_command("history_prune", stdout=ukrainian)
    assert english.getvalue().strip() == "0 events older than 3650 days deleted."
    assert ukrainian.getvalue().strip() == "Видалено 0 подій, старших за 3650 днів."


@pytest.mark.parametrize(
    ("doses", "shown"), [(1, "1 доза"), (2, "2 дози"), (5, "5 доз"), (21, "21 доза")]
)
def test_todays_dose_count_takes_the_ukrainian_plural_form(
    client, nurse, ward, formulary, physician, doses, shown
):
    on = timezone.localdate()
    for _ in range(doses):
        seven_doses("ceruloplasmin-postop", physician, ward, on)
    client.force_login(nurse)
    html = client.get(f"/?date={on:%Y-%m-%d}", **UK).content.decode()
    assert f"· {shown}</span>" in html
    assert "Ceruloplasmin 140 мг</strong>" in html  # 2 mg/kg × 70 kg, the unit in Ukrainian


def test_day_and_month_names_on_the_page_are_ukrainian(client, nurse):
    client.force_login(nurse)
    monday = dt.date(2026, 11, 30)
    html = client.get(f"/?date={monday:%Y-%m-%d}", **UK).content.decode()
    # Ukrainian dates name the month in the genitive ("30 листопада"), not "30 листопад".
    assert "Понеділок, 30 листопада 2026" in html


def test_a_refused_recording_is_explained_in_the_asked_language(
    nurse_client, nurse, ward, formulary, physician
):
    course = seven_doses("ceruloplasmin-postop", physician, ward, timezone.localdate())
    future = course.doses.order_by("sequence").last()  # a week ahead: too early to be missed
    nurse_client.force_authenticate(nurse)
    url = f"/api/v1/doses/{future.pk}/miss/"
    body = {"reason": "Transferred", "replace": True}
    uk = nurse_client.post(url, body, format="json", **UK).json()["error"]
    en = nurse_client.post(url, body, format="json", **EN).json()["error"]
    assert uk["fields"]["status"] == [
        "Дозу можна вважати пропущеною лише після її часу; натомість відкладіть її."
    ]
    assert en["fields"]["status"] == [
        "A dose is missed only once its time has passed; hold it instead."
    ]
