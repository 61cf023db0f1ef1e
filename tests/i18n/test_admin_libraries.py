"""The admin in Ukrainian where its words come from libraries (config/libraries): django-axes'
sign-in records, knox's API tokens, Django's own add-user page and model tables, permission names
and the changelist's count. Each page is rendered with the Ukrainian language and read as a user
reads it (its visible text, not its markup): the Ukrainian words are there, the English are not.
"""

import json
import re
from pathlib import Path

import django
import polib
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import translation
from knox.models import AuthToken

from config.admin import permission_label
from tests.i18n.page_text import visible_text

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB"}
WORD = re.compile(r"[A-Za-z]{2,}")
HEX = re.compile(r"\b[0-9a-f]{32,}\b")  # a token's digest
# Read alike in both languages: protocols, headers, a hash's and products' names, test data.
NEUTRAL = {"IP", "GET", "POST", "HTTP", "Accept", "User", "Agent", "SHA", "API", "ID", "Firefox"}
NEUTRAL |= {"Single", "Sign", "On", "LDAP"}  # Django's Ukrainian: "…як-от Single Sign-On чи LDAP"


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return visible_text(response.content.decode())


def english_words(text: str) -> set[str]:
    return set(WORD.findall(HEX.sub("", text))) - NEUTRAL


@pytest.fixture
def root(django_user_model):
    # A Ukrainian-named superuser: nothing Latin on the page comes from the test's own data.
    return django_user_model.objects.create_superuser("адмін", "admin@example.org", "x")


@pytest.fixture
def admin_uk(client, root):
    client.force_login(root)
    # axes logs that sign-in with "<unknown>" for the browser and path the test client lacks.
    AccessLog.objects.all().delete()
    return client


@pytest.fixture
def sign_ins():
    record = {
        "username": "медсестра",
        "ip_address": "10.0.0.7",
        "user_agent": "Firefox",
        "http_accept": "*/*",
        "path_info": "/",
    }
    return {
        "attempt": AccessAttempt.objects.create(
            **record, get_data="", post_data="", failures_since_start=3
        ),
        "failure": AccessFailureLog.objects.create(**record, locked_out=True),
        "log": AccessLog.objects.create(**record),
    }


def test_the_sign_in_lists_are_ukrainian(admin_uk, sign_ins, settings):
    attempts = text_of(admin_uk.get("/admin/axes/accessattempt/", **UK))
    for word in ("Входи в систему", "Виберіть спробу входу для зміни", "Час спроби", "IP-адреса"):
        assert word in attempts
    assert "Невдалих входів" in attempts and "Статус" in attempts
    assert f"лишилося {settings.AXES_FAILURE_LIMIT - 3} спроб" in attempts
    assert "За Заблоковано" in attempts and "Очистити прострочені спроби" in attempts
    failures = text_of(admin_uk.get("/admin/axes/accessfailurelog/", **UK))
    assert "Виберіть невдалий вхід для зміни" in failures and "Заблоковано" in failures
    logs = text_of(admin_uk.get("/admin/axes/accesslog/", **UK))
    assert "Журнал входів" in logs and "Час виходу" in logs
    for page in (attempts, failures, logs):
        assert english_words(page) == set(), page
    english = text_of(admin_uk.get("/admin/axes/accessattempt/", **EN))
    assert "Attempt Time" in english and "Sign-ins" in english


def test_a_sign_in_record_is_named_and_labelled_in_ukrainian(admin_uk, sign_ins):
    for kind, url in (
        ("attempt", "accessattempt"),
        ("failure", "accessfailurelog"),
        ("log", "accesslog"),
    ):
        page = text_of(admin_uk.get(f"/admin/axes/{url}/{sign_ins[kind].pk}/change/", **UK))
        assert "медсестра · 10.0.0.7 · " in page
        assert "Метадані" in page and "Шлях" in page
        assert english_words(page) == set(), page
    attempt = text_of(
        admin_uk.get(f"/admin/axes/accessattempt/{sign_ins['attempt'].pk}/change/", **UK)
    )
    assert "Змінити спробу входу" in attempt and "Дані форми" in attempt
    assert "Attempted Access" not in attempt
    # Deleting an attempt is how a lockout is lifted early (config/accounts.py).
    delete = text_of(
        admin_uk.get(f"/admin/axes/accessattempt/{sign_ins['attempt'].pk}/delete/", **UK)
    )
    assert "медсестра · 10.0.0.7 · " in delete and english_words(delete) == set(), delete


@pytest.mark.parametrize(
    ("failures", "shown"),
    [(9, "лишилася 1 спроба"), (8, "лишилося 2 спроби"), (5, "лишилося 5 спроб"), (10, None)],
)
def test_the_attempts_left_take_the_ukrainian_plural_form(failures, shown, settings):
    from config.libraries.admin import AccessAttemptAdmin

    settings.AXES_FAILURE_LIMIT = 10
    attempt = AccessAttempt(failures_since_start=failures)
    model_admin = AccessAttemptAdmin(AccessAttempt, None)
    with translation.override("uk"):
        assert model_admin.status(attempt) == (shown or "Заблоковано")
    with translation.override("en-gb"):
        assert model_admin.status(attempt) == (
            f"{10 - failures} attempt{'s' if failures != 9 else ''} remaining"
            if shown
            else "Locked Out"
        )


def test_the_token_admin_is_ukrainian(admin_uk, root):
    token, _ = AuthToken.objects.create(user=root)
    listing = text_of(admin_uk.get("/admin/knox/authtoken/", **UK))
    assert "Виберіть токен API для зміни" in listing and "Хеш токена" in listing
    assert "Токени API: 1" in listing
    change = text_of(admin_uk.get(f"/admin/knox/authtoken/{token.pk}/change/", **UK))
    assert "Початок токена" in change and "Спливає" in change
    add = admin_uk.post(
        "/admin/knox/authtoken/add/", {"user": root.pk, "expiry": ""}, follow=True, **UK
    )
    shown = text_of(add)
    assert "Новий токен (показано лише цей раз): " in shown and "TOKEN" not in shown
    for page in (listing, change, shown):
        assert english_words(page) == set(), page
    english = text_of(admin_uk.get("/admin/knox/authtoken/", **EN))
    assert "Select auth token to change" in english and "API tokens" in english


def test_the_add_user_page_and_the_index_are_ukrainian(admin_uk):
    """Django 5.1 replaced "First, enter a username and password…" with a sentence its Ukrainian
    catalogue does not translate; the index's table headers (for screen readers) likewise."""
    add = text_of(admin_uk.get("/admin/auth/user/add/", **UK))
    assert "Після створення користувача ви зможете змінити інші його параметри." in add
    assert "After you’ve created a user" not in add
    index = text_of(admin_uk.get("/admin/", **UK))
    assert "Назва моделі" in index and "Model name" not in index
    assert "Входи в систему" in index and "Axes" not in index and "Knox" not in index
    for page in (add, index):
        assert english_words(page) == set(), page


def test_djangos_admin_strings_missing_from_its_ukrainian_are_in_ours():
    """A Django upgrade that adds admin strings its Ukrainian catalogue lacks fails here: list
    them in config/libraries/messages.py and translate them."""
    own = Path(django.__file__).parent / "contrib/admin/locale/uk/LC_MESSAGES/django.po"
    missing = polib.pofile(str(own)).untranslated_entries()
    with translation.override("uk"):
        untranslated = [e.msgid for e in missing if translation.gettext(e.msgid) == e.msgid]
    assert untranslated == []


@pytest.mark.parametrize(
    ("label", "fields"), [("axes", True), ("knox", True), ("health", True), ("pghistory", False)]
)
def test_the_libraries_models_and_fields_have_ukrainian_names(label, fields):
    """Names the admin shows: an app's and its models' (in the permission lists too), and the
    fields of those it lists (pghistory's models are not in the admin)."""
    config = apps.get_app_config(label)
    found = []
    for model in config.get_models():
        with translation.override("uk"):
            names = [str(config.verbose_name), str(model._meta.verbose_name)]
            names += [str(model._meta.verbose_name_plural)]
            if fields:
                names += [str(field.verbose_name) for field in model._meta.fields]
            found += [name for name in names if english_words(name)]
    assert found == []


def test_permissions_are_named_in_the_readers_language(admin_uk):
    group = Group.objects.create(name="Аптека")
    uk = text_of(admin_uk.get(f"/admin/auth/group/{group.pk}/change/", **UK))
    assert "Курси | доза | Може додавати: доза" in uk
    assert "Курси | подія історії (доза) | Може переглядати: подія історії (доза)" in uk
    assert "Can add" not in uk and "Can view" not in uk
    user = text_of(admin_uk.get("/admin/auth/user/add/", **UK))  # no permissions on this page
    assert "Can add" not in user
    en = text_of(admin_uk.get(f"/admin/auth/group/{group.pk}/change/", **EN))
    assert "Courses | dose | Can add dose" in en


def test_every_permission_label_is_ukrainian_and_the_stored_names_are_untouched():
    permissions = Permission.objects.select_related("content_type")
    with translation.override("uk"):
        english = [label for p in permissions if english_words(label := permission_label(p))]
    assert english == []
    assert Permission.objects.filter(codename="add_dose").get().name == "Can add dose"


def test_a_users_own_permissions_are_listed_in_ukrainian(admin_uk, root):
    page = text_of(admin_uk.get(f"/admin/auth/user/{root.pk}/change/", **UK))
    assert "Запаси | серія | Може змінювати: серія" in page and "Can change" not in page


@pytest.mark.parametrize(
    ("count", "uk", "en"),
    [
        (1, "Невдалі входи: 1", "Access failures: 1"),
        (3, "Невдалі входи: 3", "Access failures: 3"),
        (5, "Невдалі входи: 5", "Access failures: 5"),
    ],
)
def test_the_changelist_count_reads_right_in_both_languages(admin_uk, count, uk, en):
    """Django writes "5 невдалі входи" (the 2–4 form for every count above one)."""
    for _ in range(count):
        AccessFailureLog.objects.create(user_agent="", http_accept="", path_info="/")
    assert uk in text_of(admin_uk.get("/admin/axes/accessfailurelog/", **UK))
    assert en in text_of(admin_uk.get("/admin/axes/accessfailurelog/", **EN))


def _admin_javascript_catalogue(client, headers) -> dict:
    response = client.get("/admin/jsi18n/", **headers)
    assert response.status_code == 200
    body = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    return json.loads(body.group(1))


def test_the_admins_javascript_strings_missing_from_djangos_ukrainian_are_in_ours(admin_uk):
    """The permission selector's buttons and the action warnings (the admin's djangojs catalogue,
    served by /admin/jsi18n/), from config/locale/uk/LC_MESSAGES/djangojs.po."""
    ours = polib.pofile(str(Path(settings.BASE_DIR) / "config/locale/uk/LC_MESSAGES/djangojs.po"))
    assert ours.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert ours.untranslated_entries() == [] and ours.fuzzy_entries() == []
    own = Path(django.__file__).parent / "contrib/admin/locale/uk/LC_MESSAGES/djangojs.po"
    missing = polib.pofile(str(own)).untranslated_entries()
    catalogue = _admin_javascript_catalogue(admin_uk, UK)
    untranslated = [e.msgid for e in missing if catalogue.get(e.msgid) in (None, e.msgid)]
    assert untranslated == []
    assert catalogue["Choose all %s"] == "Обрати всі %s"
    assert catalogue["%s selected option not visible"] == [
        "%s обраний варіант не показано",
        "%s обрані варіанти не показано",
        "%s обраних варіантів не показано",
    ]
    assert catalogue["Chosen %s"] == "Обрано %s"  # Django's own still reach the page
    assert "Choose all %s" not in _admin_javascript_catalogue(admin_uk, EN)


def test_role_groups_are_named_by_their_role_in_the_readers_language(admin_uk, root):
    """The role groups' names are codes the product reads ("pharmacist"): kept in the name
    field, said in Ukrainian beside it and in a user's group picker."""
    from config.roles import roles_ensure

    roles_ensure()
    Group.objects.create(name="Нічна зміна")
    groups = text_of(admin_uk.get("/admin/auth/group/", **UK))
    assert "Роль" in groups and "Фармацевт" in groups and "Нічна зміна" in groups
    user = admin_uk.get(f"/admin/auth/user/{root.pk}/change/", **UK).content.decode()
    options = re.findall(r'<select name="groups".*?</select>', user, re.S)[0]
    assert ">Фармацевт</option>" in options and ">Нічна зміна</option>" in options
    assert ">pharmacist</option>" not in options
    english = admin_uk.get(f"/admin/auth/user/{root.pk}/change/", **EN).content.decode()
    assert ">Pharmacist</option>" in english
