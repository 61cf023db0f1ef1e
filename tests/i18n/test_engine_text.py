"""The scheduling engine's words, the models' help texts, a suggested lot's expiry and a storage
range in the reader's language (issue 15): Ukrainian on Ukrainian pages (decimal comma, the
language's dates, three plural forms), English byte-identical to what the engine always wrote,
and the API keeping its codes, field names, ISO dates and decimal point.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from courses import preparation_text
from courses.dosing import DoseError, dose_amount
from courses.models import Course, Protocol
from courses.schedule import Pattern, ScheduleError, _anchor_dates
from courses.services.prescribing import engine_error_text
from inventory.models import Product, StorageLocation
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}

# (pattern, what the engine wrote before its words became messages, the Ukrainian)
DESCRIPTIONS = [
    ({"kind": "daily"}, "daily", "щодня"),
    ({"kind": "every_n_days", "n": 2}, "every other day", "через день"),
    ({"kind": "every_n_days", "n": 3}, "every 3 days", "кожні 3 дні"),
    ({"kind": "every_n_days", "n": 5}, "every 5 days", "кожні 5 днів"),
    ({"kind": "every_n_days", "n": 21}, "every 21 days", "кожен 21 день"),
    ({"kind": "per_week", "k": 3}, "3 per week", "3 на тиждень"),
    (
        {"kind": "per_week", "k": 3, "weekdays": [0, 2, 4]},
        "3 per week (Mon/Wed/Fri)",
        "3 на тиждень (Пн/Ср/Пт)",
    ),
    ({"kind": "weekly"}, "weekly", "щотижня"),
    (
        {"kind": "cycles", "on_days": 5, "rest_days": 14},
        "cycles of 5 daily doses, 14 dose-free days between",
        "цикли: 5 щоденних доз, між циклами 14 днів без доз",
    ),
    (
        {"kind": "cycles", "on_days": 2, "rest_days": 1},
        "cycles of 2 daily doses, 1 dose-free day between",
        "цикли: 2 щоденні дози, між циклами 1 день без доз",
    ),
    (
        {"kind": "dates", "anchor": "chemotherapy_dates"},
        "on each of the chemotherapy dates",
        "у дні хіміотерапії",
    ),
    (
        {"kind": "anchor_offsets", "anchor": "surgery", "offsets": [-2, 0, 2]},
        "days -2, +0, +2 from surgery",
        "дні -2, +0, +2 (день 0: операція)",
    ),
    (
        {"kind": "weekly", "from_anchor": "radiotherapy_start", "until_anchor": "radiotherapy_end"},
        "weekly from radiotherapy start to radiotherapy end",
        "щотижня, від «початок променевої терапії» до «завершення променевої терапії»",
    ),
]


@pytest.mark.parametrize(("spec", "english", "ukrainian"), DESCRIPTIONS)
def test_a_schedule_is_described_in_the_readers_language(spec, english, ukrainian):
    pattern = Pattern.from_dict(spec)
    assert pattern.describe() == english  # the engine's own English (FHIR's text, logs)
    with translation.override("en-gb"):
        assert preparation_text.pattern_text(spec) == english
    with translation.override("uk"):
        assert preparation_text.pattern_text(spec) == ukrainian
        assert pattern.describe() == english  # English whatever the active language


def test_an_engine_error_is_english_in_the_engine_and_translated_when_shown():
    with pytest.raises(ScheduleError) as error:
        Pattern.from_dict({"kind": "per_week", "k": 3, "weekdays": [0, 2]})
    assert error.value.message == "3 injections per week need exactly 3 weekdays."
    assert (str(error.value), error.value.field) == (error.value.message, "weekdays")
    with translation.override("uk"):
        assert engine_error_text(error.value) == (
            "3 введення на тиждень потребують рівно 3 днів тижня."
        )
    with translation.override("en-gb"):
        assert engine_error_text(error.value) == error.value.message


def test_an_engine_error_with_dates_keeps_them_iso_in_both_languages():
    days = [dt.date(2026, 12, 1), dt.date(2026, 12, 3)]
    with pytest.raises(ScheduleError) as error:
        _anchor_dates({"procedure_dates": days}, "procedure_dates", 7)
    assert error.value.message == (
        "'procedure_dates': 2026-12-01 and 2026-12-03 are 2 days apart; at least 7 needed."
    )
    with translation.override("uk"):
        assert engine_error_text(error.value) == (
            "«procedure_dates»: між 2026-12-01 і 2026-12-03 2 дні; потрібно щонайменше 7."
        )


def test_a_dose_error_is_translated_with_the_ukrainian_plural():
    with pytest.raises(DoseError) as error:
        dose_amount(basis="age_band", unit="mg", age_months=5, bands=[])
    assert error.value.message == "No dose band for an age of 5 months."
    with translation.override("uk"):
        assert engine_error_text(error.value) == (
            "Для віку 5 місяців немає вікової групи дозування."
        )


def test_the_api_answers_an_engine_error_in_accept_language_with_the_same_field(
    physician_client, formulary, ward
):
    patient = PatientFactory(ward=ward)
    body = {
        "patient": patient.id,
        "protocol": "ceruloplasmin-chemotherapy",
        "phases": [{"dose": "4", "count": 10, "weekdays": [0, 2]}],
    }
    uk = physician_client.post("/api/v1/courses/", body, format="json", **UK)
    en = physician_client.post("/api/v1/courses/", body, format="json", **EN)
    assert uk.status_code == en.status_code == 400
    uk, en = uk.json()["error"], en.json()["error"]
    assert uk["code"] == en["code"]
    assert en["fields"] == {"phases.0.weekdays": ["3 injections per week need exactly 3 weekdays."]}
    assert uk["fields"] == {
        "phases.0.weekdays": ["3 введення на тиждень потребують рівно 3 днів тижня."]
    }
    assert Course.objects.count() == 0


def test_the_course_page_describes_its_schedule_in_the_pages_language(
    client, formulary, physician, ward
):
    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-chemotherapy",
        physician,
        timezone.localdate(),
        phases=[{"dose": "4", "count": 10, "weekdays": [0, 2, 4]}],
    )
    client.force_login(physician)
    uk = client.get(f"/courses/{course.pk}/", **UK).content.decode()
    en = client.get(f"/courses/{course.pk}/", **EN).content.decode()
    assert "3 на тиждень (Пн/Ср/Пт)" in uk and "per week" not in uk
    assert "3 per week (Mon/Wed/Fri)" in en


def test_the_prescribe_forms_schedule_choices_and_weekdays_are_ukrainian(
    client, formulary, physician
):
    client.force_login(physician)
    protocol = Protocol.objects.get(code="ceruloplasmin-chemotherapy")
    uk = client.get(f"/courses/new/?protocol={protocol.code}", **UK).content.decode()
    en = client.get(f"/courses/new/?protocol={protocol.code}", **EN).content.decode()
    assert "Пн" in uk and "Mon" not in uk
    assert "Mon" in en


@pytest.mark.django_db
def test_help_texts_and_unit_labels_are_ukrainian_and_english_is_unchanged():
    field = Product._meta.get_field("storage_min_c")
    with translation.override("en-gb"):
        assert str(field.verbose_name) == "storage minimum (°C)"
        assert str(field.help_text) == (
            "Lowest storage temperature in °C; empty when the label sets only a maximum."
        )
    with translation.override("uk"):
        assert str(field.verbose_name) == "мінімальна температура зберігання (°C)"
        assert str(field.help_text) == (
            "Найнижча температура зберігання в °C; порожньо, коли інструкція задає лише максимум."
        )


SAME_IN_BOTH = {"GTIN", "ID"}
UNIT_SUFFIXES = ("_c", "_kg", "_ml", "_mg", "_per_l", "_per_min", "_minutes", "_months", "_min")


@pytest.mark.django_db
def test_no_model_field_is_labelled_with_its_own_name_or_helped_in_english():
    """A label made from a field's name ("storage min c") reads as code on a page or in the
    admin; a help text outside gettext stays English on a Ukrainian one."""
    from django.apps import apps

    found = []
    for model in apps.get_app_config("courses").get_models():
        found += _unlabelled(model)
    for label in ("inventory", "notifications"):
        for model in apps.get_app_config(label).get_models():
            found += _unlabelled(model)
    assert found == []


def _unlabelled(model) -> list[str]:
    found = []
    if model.__name__.endswith("Event"):
        return found  # django-pghistory's snapshots: read through the history pages, not forms
    for field in model._meta.fields:
        where = f"{model._meta.label}.{field.name}"
        with translation.override("en-gb"):
            english_label, english_help = str(field.verbose_name), str(field.help_text)
        with translation.override("uk"):
            ukrainian_label, ukrainian_help = str(field.verbose_name), str(field.help_text)
        if field.name.endswith(UNIT_SUFFIXES) and english_label == field.name.replace("_", " "):
            found.append(f"{where}: labelled {english_label!r}")
        if english_label == ukrainian_label and english_label not in SAME_IN_BOTH:
            found.append(f"{where}: label {english_label!r} not translated")
        if english_help and english_help == ukrainian_help:
            found.append(f"{where}: help text {english_help!r} not translated")
    return found


@pytest.mark.django_db
def test_app_names_are_translated():
    from django.apps import apps

    with translation.override("uk"):
        names = {c.label: str(c.verbose_name) for c in apps.get_app_configs()}
    assert (names["courses"], names["inventory"], names["notifications"]) == (
        "Курси",
        "Запаси",
        "Сповіщення",
    )


@pytest.mark.django_db
def test_a_storage_range_has_the_decimal_comma_on_ukrainian_pages_and_the_point_in_the_api(
    pharmacist_client,
):
    location = StorageLocation.objects.create(
        code="fridge-x", name="Fridge X", kind="fridge", min_c=D("2.5"), max_c=D("8")
    )
    location.refresh_from_db()  # as stored: one decimal place
    with translation.override("en-gb"):
        assert location.range_label == "2.5–8.0 °C"
    with translation.override("uk"):
        assert location.range_label == "2,5–8,0 °C"
        assert location.range_plain == "2.5–8.0 °C"
    body = pharmacist_client.get(f"/api/v1/locations/{location.pk}/", **UK).json()
    assert body["range"] == "2.5–8.0 °C"


def test_the_suggested_lots_expiry_is_written_as_the_page_language_writes_dates(
    client, stocked, physician, nurse, ward, today
):
    """Today's hint: "(придатна до 1 грудня 2027 р.)" on a Ukrainian page, never the ISO date
    the API's suggested_lot carries."""
    now = timezone.localtime()
    prescribe(
        PatientFactory(ward=ward),
        "biocerulin-general",
        physician,
        today,
        administration_time=dt.time(now.hour, now.minute),
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )
    lot = stocked["biocerulin-100mg-vial-5"]
    client.force_login(nurse)
    uk = client.get("/", **UK).content.decode()
    en = client.get("/", **EN).content.decode()
    with translation.override("uk"):
        expiry_uk = date_format(lot.expiry_date)
    with translation.override("en-gb"):
        expiry_en = date_format(lot.expiry_date)
    assert f"Рекомендовано: серія {lot.lot_number} (придатна до {expiry_uk})" in uk
    assert f"Suggested: lot {lot.lot_number} (expires {expiry_en})" in en
    assert lot.expiry_date.isoformat() not in uk
    assert lot.expiry_date.isoformat() not in en


@pytest.fixture
def admin_client_uk(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_admin_titles_name_the_model_in_the_accusative(admin_client_uk, stocked):
    lot = next(iter(stocked.values()))
    page = admin_client_uk.get(f"/admin/inventory/lot/{lot.pk}/change/", **UK).content.decode()
    assert "<h1>Переглянути серію</h1>" in page and "серія</h1>" not in page
    english = admin_client_uk.get(f"/admin/inventory/lot/{lot.pk}/change/", **EN)
    assert "<h1>View lot</h1>" in english.content.decode()
    listing = admin_client_uk.get("/admin/inventory/lot/", **UK).content.decode()
    assert "Виберіть серію для перегляду" in listing
    presentations = admin_client_uk.get("/admin/inventory/presentation/", **UK).content.decode()
    assert "Додати форму випуску" in presentations and "Додати форма випуску" not in presentations
    add = admin_client_uk.get("/admin/courses/patient/add/", **UK).content.decode()
    assert "<h1>Додати пацієнта</h1>" in add


def test_admin_columns_and_forms_have_real_labels(admin_client_uk, stocked):
    products = admin_client_uk.get("/admin/inventory/product/", **UK).content.decode()
    assert "Умови зберігання" in products and "2,0–8,0 °C" in products
    assert (
        "Storage range label"
        not in admin_client_uk.get("/admin/inventory/product/", **EN).content.decode()
    )
    product = Product.objects.get(code="biocerulin")
    change = admin_client_uk.get(f"/admin/inventory/product/{product.pk}/change/", **UK)
    html = change.content.decode()
    assert "Мінімальна температура зберігання (°C)" in html and "Storage min c" not in html
    assert "Найнижча температура зберігання в °C" in html
    receive = admin_client_uk.get("/admin/inventory/lot/receive/", **UK).content.decode()
    assert "Скан GS1" in receive and "Expiry date" not in receive
