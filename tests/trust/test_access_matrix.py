"""Who may do what, checked on every URL the project serves: role × URL pattern × method.

The URL patterns are read from the URL conf (the API under /api/v1/, the pages, the admin), not
from a list kept by hand: a new URL without an entry in the policy below fails
`test_every_url_has_a_declared_policy`, and an entry whose URL went away fails
`test_the_policy_names_no_missing_url`. The policy is written in the role sets of
`config/roles.py` — one declaration per view, independent of how the view enforces it.

Each cell sends one request as one role, inside a savepoint rolled back afterwards, so every
cell sees the same data (one set per module): safe methods run for real; unsafe ones carry an
empty body. An allowed role must get past the permission check (a GET answers 2xx/3xx; a write
answers anything but 401/403 and never 5xx). A denied role must get 401/403 (anonymous: 401 on
the API, the sign-in page elsewhere), the other ward's nurse 404/403 on her colleague's
patients, courses and doses — and never a 5xx, never a success. No answer to the other ward's
nurse, wherever she is allowed, carries the patient's MRN or name.
"""

import re
import time
from collections import Counter
from decimal import Decimal
from http.cookies import SimpleCookie

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from config.roles import (
    ALL_ROLES,
    AUDITORS,
    PHARMACY,
    PRESCRIBERS,
    READING_POSTERS,
    RECIPIENT_READERS,
    RECORDERS,
    WEIGHERS,
    Role,
)
from tests.trust.conftest import excursion_recorded

# --- The roles of the matrix ---------------------------------------------------------------------

ANON = "anonymous"
OTHER_NURSE = "nurse-other-ward"
ROLE_OF = {
    "viewer": Role.VIEWER,
    "nurse": Role.NURSE,
    OTHER_NURSE: Role.NURSE,
    "physician": Role.PHYSICIAN,
    "pharmacist": Role.PHARMACIST,
    "gateway": Role.SENSOR_GATEWAY,
}
MATRIX_ROLES = [ANON, *ROLE_OF]

# Policy values beside the role sets: anyone (signed in or not), and any signed-in account
# (a gateway included: its own tokens and sign-out).
PUBLIC = "public"
SIGNED_IN = "signed-in"
NOBODY: frozenset = frozenset()

SECRET_MRN = "MRN-7C-SECRET"
SECRET_NAME = "Zelda Wardbound"

# --- The policy ----------------------------------------------------------------------------------
# API: URL name (namespace "api") → method → who. `SCOPED`: the object belongs to ward 7C, so the
# nurse of another ward is refused (404/403) even where nurses are allowed.

_R = ALL_ROLES  # every person's role reads
API = {
    "api-token": {"POST": PUBLIC},
    "api-logout": {"POST": SIGNED_IN},
    "token-list": {"GET": SIGNED_IN},
    "token-detail": {"DELETE": SIGNED_IN},
    **{
        f"{name}-{suffix}": policy
        for name in ("product", "presentation", "ward", "protocol")
        for suffix, policy in {
            "list": {"GET": _R, "POST": PHARMACY},
            "detail": {"GET": _R, "PUT": PHARMACY, "PATCH": PHARMACY, "DELETE": PHARMACY},
            "history": {"GET": _R},
        }.items()
    },
    "storagelocation-list": {"GET": _R, "POST": PHARMACY},
    "storagelocation-detail": {"GET": _R, "PUT": PHARMACY, "PATCH": PHARMACY},
    "storagelocation-history": {"GET": _R},
    "lot-list": {"GET": _R},
    "lot-receive": {"POST": PHARMACY},
    "lot-detail": {"GET": _R},
    "lot-history": {"GET": _R},
    "lot-recipients": {"GET": RECIPIENT_READERS},
    **{
        f"lot-{name}": {"POST": PHARMACY} for name in ("discard", "quarantine", "recall", "release")
    },
    "stockmovement-list": {"GET": _R},
    "stockmovement-detail": {"GET": _R},
    "stock-list": {"GET": _R},
    "stock-forecast": {"GET": _R},
    **{f"stock-{name}": {"POST": PHARMACY} for name in ("adjust", "reserve", "transfer")},
    "stock-release-reservation": {"POST": PHARMACY},
    **{f"stock-{name}": {"POST": RECORDERS} for name in ("dispense", "return-", "waste")},
    "temperaturereading-list": {"GET": _R, "POST": READING_POSTERS},
    "temperaturereading-detail": {"GET": _R},
    "excursion-list": {"GET": _R},
    "excursion-detail": {"GET": _R},
    "excursion-resolve": {"POST": PHARMACY},
    "notification-list": {"GET": AUDITORS},
    "notification-detail": {"GET": AUDITORS},
    "notification-resend": {"POST": PHARMACY},
    "patient-list": {"GET": _R, "POST": PRESCRIBERS},
    "patient-detail": {"GET": _R, "PUT": PRESCRIBERS, "PATCH": PRESCRIBERS},
    "patient-history": {"GET": _R},
    "patient-weights": {"GET": WEIGHERS, "POST": WEIGHERS},
    "course-list": {"GET": _R, "POST": PRESCRIBERS},
    "course-detail": {"GET": _R, "DELETE": PRESCRIBERS},
    **{f"course-{name}": {"GET": _R} for name in ("fhir", "history", "ical")},
    **{f"course-{name}": {"POST": PRESCRIBERS} for name in ("cancel", "hold", "resume")},
    "dose-list": {"GET": _R},
    "dose-ical": {"GET": _R},
    # Pharmacists pass the permission check, and are then refused: a dose is never deleted
    # (409; see README "Deleting").
    "dose-detail": {"GET": _R, "DELETE": PHARMACY},
    "dose-history": {"GET": _R},
    **{
        f"dose-{name}": {"POST": RECORDERS}
        for name in ("administer", "check-preparation", "hold", "miss", "prepared", "refuse")
    },
    "calendar-feed-list": {"GET": _R, "POST": _R},
    "calendar-feed-detail": {"DELETE": _R},
    "me": {"GET": _R},
    "calendar-feed-ics": {"GET": PUBLIC},  # the token in the URL is the credential
    "fhir-patient": {"GET": _R},
    "fhir-medicationrequest-search": {"GET": _R},
    "fhir-medicationrequest": {"GET": _R},
    "fhir-medicationadministration-search": {"GET": _R},
    "fhir-medicationadministration": {"GET": _R},
}
API_SCOPED = {
    *(f"patient-{s}" for s in ("detail", "history", "weights")),
    *(f"course-{s}" for s in ("detail", "fhir", "history", "ical", "cancel", "hold", "resume")),
    *(f"dose-{s}" for s in ("detail", "history", "administer", "check-preparation", "hold")),
    "dose-miss",
    *(f"dose-{s}" for s in ("prepared", "refuse")),
    "fhir-patient",
    "fhir-medicationrequest-search",
    "fhir-medicationrequest",
    "fhir-medicationadministration-search",
    "fhir-medicationadministration",
}

# Pages: URL name → (who reads with GET, who posts). Other methods answer 405 to everyone.
PAGES = {
    "healthz": (PUBLIC, PUBLIC),  # probes: any method, no session, no data
    "readyz": (PUBLIC, PUBLIC),
    "today": (_R, RECORDERS),
    "today-live": (_R, NOBODY),  # Today's counters and statuses, polled by the page
    "favicon": (PUBLIC, NOBODY),
    "preferences": (_R, _R),  # one's own language and digest choice
    "course-list": (_R, NOBODY),
    "course-prescribe": (PRESCRIBERS, PRESCRIBERS),
    "course-page": (_R, PRESCRIBERS),
    "course-page-ical": (_R, NOBODY),
    "course-page-fhir": (_R, NOBODY),
    "dose-label": (_R, RECORDERS),
    "labels": (_R, NOBODY),
    "leaflet": (_R, NOBODY),
    "formulary": (PHARMACY, NOBODY),
    "patients": (_R, PRESCRIBERS),
    "patient-page": (_R, WEIGHERS),
    "stock": (_R, NOBODY),
    "stock-receive-page": (_R, PHARMACY),
    "stock-forecast-page": (_R, NOBODY),
    "stock-lot": (_R, RECORDERS),
    "cold-chain": (_R, NOBODY),
    "cold-chain-resolve": (_R, PHARMACY),
    "alerts": (AUDITORS, NOBODY),
    "alert-resend": (NOBODY, PHARMACY),
    # The signed link in a digest is the credential (RFC 8058 one-click); a forged one is 404.
    "digest-unsubscribe": (PUBLIC, PUBLIC),
    "audit": (AUDITORS, NOBODY),
    "login": (PUBLIC, PUBLIC),
    "logout": (NOBODY, PUBLIC),
    "schema": (PUBLIC, NOBODY),
    "api-docs": (PUBLIC, NOBODY),
    "api-not-found": (PUBLIC, PUBLIC),  # 404 in the error shape for everyone (checked below)
}
PAGES_SCOPED = {"course-page", "course-page-ical", "course-page-fhir", "dose-label", "patient-page"}

# The admin: every role account here is staff, so the model permissions of `roles_ensure` are what
# is tested. Per model: who views (changelist, change page, history), adds, changes, deletes.
_FULL = {"view": _R, "add": PHARMACY, "change": PHARMACY, "delete": PHARMACY}
_READ_ONLY = {"view": _R, "add": NOBODY, "change": NOBODY, "delete": NOBODY}
_SUPERUSER_ONLY = {"view": NOBODY, "add": NOBODY, "change": NOBODY, "delete": NOBODY}
ADMIN_MODELS = {
    "auth.group": _SUPERUSER_ONLY,
    "auth.user": _SUPERUSER_ONLY,
    "knox.authtoken": _SUPERUSER_ONLY,
    "axes.accessattempt": _SUPERUSER_ONLY,
    "axes.accesslog": _SUPERUSER_ONLY,
    "axes.accessfailurelog": _SUPERUSER_ONLY,
    "inventory.product": _FULL,
    "inventory.presentation": _FULL,
    "inventory.ward": _FULL,
    "inventory.storagelocation": _FULL,
    "inventory.lot": _READ_ONLY,  # stock changes run as actions, through the services
    "inventory.stocklevel": _READ_ONLY,
    "inventory.stockmovement": _READ_ONLY,
    "inventory.temperaturereading": _READ_ONLY,
    "inventory.excursion": _READ_ONLY,
    # Fields all read-only: "change" only runs the re-send action.
    # The notification log: pharmacists and auditors, as on the API and the alerts page.
    "notifications.notification": {**_READ_ONLY, "view": AUDITORS, "change": PHARMACY},
    "notifications.notificationpreference": _FULL,
    "notifications.alertmarker": {**_READ_ONLY, "view": AUDITORS},
    "courses.protocol": _FULL,
    "courses.patient": {**_FULL, "add": PRESCRIBERS, "change": PRESCRIBERS},
    # The matrix's course has a recorded dose: nobody may delete it (cancel it instead).
    "courses.course": {**_FULL, "add": PRESCRIBERS, "change": PRESCRIBERS, "delete": NOBODY},
    "courses.dose": _READ_ONLY,
    "courses.calendarfeed": {**_FULL, "add": NOBODY},
}
ADMIN_SCOPED_MODELS = {"courses.patient", "courses.course", "courses.dose"}
# Admin views beside the model views: name → (GET, POST).
ADMIN_SITE = {
    "index": (_R | {Role.SENSOR_GATEWAY}, _R | {Role.SENSOR_GATEWAY}),  # lists nothing it may not
    "login": (PUBLIC, PUBLIC),
    "logout": (NOBODY, PUBLIC),
    "password_change": (SIGNED_IN, SIGNED_IN),
    "password_change_done": (SIGNED_IN, NOBODY),
    "autocomplete": (NOBODY, NOBODY),  # only for the admin's own autocomplete fields, with params
    "jsi18n": (PUBLIC, PUBLIC),
    "view_on_site": (PUBLIC, PUBLIC),  # a redirect to the page, which applies its own policy
    "app_list": (_R, _R),
    "catch_all": (PUBLIC, PUBLIC),  # 404 / sign-in for whatever matches no admin page
    "inventory_lot_receive": (PHARMACY, PHARMACY),
    "auth_user_password_change": (NOBODY, NOBODY),
}
_ADMIN_KIND_OF_METHOD = {
    "changelist": ("view", "view"),  # POST: the actions, each with its own permission
    "add": ("add", "add"),
    "history": ("view", "view"),
    "delete": ("delete", "delete"),
    "change": ("view", "change"),
    "redirect": (PUBLIC, PUBLIC),  # `<id>/` redirects to `<id>/change/`
}


# --- Reading the URL conf ------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(filter(None, [namespace, p.namespace])) if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p, namespace


_ADMIN_MODEL_URL = re.compile(r"^admin/(\w+)/(\w+)/(?:<path:object_id>/)?(\w+/)?$")


def _methods(callback) -> list[str]:
    """The methods the view answers: a viewset's routed actions, a class view's handlers, or
    GET and POST for a function view (pages, admin)."""
    if getattr(callback, "actions", None):
        # (DRF adds "head" to the routed actions once the view has served a GET.)
        offered = set(callback.cls.http_method_names) - {"head", "options"}
        return sorted(m.upper() for m in callback.actions if m in offered)
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        return sorted(
            m.upper()
            for m in cls.http_method_names
            if m not in {"head", "options"} and hasattr(cls, m)
        )
    return ["GET", "POST"]


def _cell(route, pattern, namespace):
    """(surface, policy key, {method: allowed}, scoped) for one URL pattern; KeyError when the
    policy declares nothing for it."""
    name = pattern.name
    if route.startswith("admin/"):
        match = _ADMIN_MODEL_URL.match(route.replace("^", "").replace("$", ""))
        model_name = name and re.match(
            r"^(\w+?)_(\w+)_(changelist|add|history|delete|change)$", name
        )
        if name is None and match:
            label = f"{match[1]}.{match[2]}"
            kind = "redirect"
        elif model_name and f"{model_name[1]}.{model_name[2]}" in ADMIN_MODELS:
            label, kind = f"{model_name[1]}.{model_name[2]}", model_name[3]
        else:
            name = name or "catch_all"
            get, post = ADMIN_SITE[name]
            return "admin", f"admin:{name}", {"GET": get, "POST": post}, False
        policy = ADMIN_MODELS[label]
        get, post = (
            policy.get(k, k) if k != PUBLIC else PUBLIC for k in _ADMIN_KIND_OF_METHOD[kind]
        )
        # A list is not refused: it leaves the other ward's rows out (the leak check reads it).
        scoped = label in ADMIN_SCOPED_MODELS and kind in {"change", "history", "delete"}
        return "admin", f"admin:{label}:{kind}", {"GET": get, "POST": post}, scoped
    if namespace == "api":
        policy = API[name]
        methods = _methods(pattern.callback)
        return "api", f"api:{name}", {m: policy[m] for m in methods}, name in API_SCOPED
    get, post = PAGES[name]
    methods = _methods(pattern.callback)  # a form view's PUT is its POST
    return "page", name, {m: get if m == "GET" else post for m in methods}, name in PAGES_SCOPED


ALL_PATTERNS = list(_walk(get_resolver().url_patterns))


# --- The data: one set for the module ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Ward 7C with its nurse, a patient with a course and a recorded dose, stock, an excursion
    and its alert; ward 5B with its nurse; one account per role (all staff); one row of every
    model the admin shows. Rolled back at the end of the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        data = _build_world()
        yield data
        transaction.set_rollback(True)


def _build_world() -> dict:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from knox.models import AuthToken

    from config.roles import roles_ensure
    from courses.models import Protocol
    from courses.services import (
        calendar_feed_create,
        course_create,
        dose_administer,
        formulary_load,
    )
    from inventory.models import Excursion, StockMovement
    from notifications.models import AlertMarker, Notification, NotificationPreference
    from tests.factories import (
        PatientFactory,
        StorageLocationFactory,
        UserFactory,
        WardFactory,
        receive_every_presentation,
    )

    formulary_load()
    roles_ensure()
    today = timezone.localdate()
    ward, other_ward = WardFactory(code="ward-7c"), WardFactory(code="ward-5b")
    users = {
        role: UserFactory(username=f"matrix-{role}", roles=[ROLE_OF[role]], is_staff=True)
        for role in ROLE_OF
    }
    ward.members.add(users["nurse"])
    other_ward.members.add(users[OTHER_NURSE])
    fridge = StorageLocationFactory(code="ward-7c-fridge", ward=ward, min_c=2, max_c=8)
    pharmacist = users["pharmacist"]
    lots = list(
        receive_every_presentation(
            fridge, quantity=40, prefix="M", user=pharmacist, on=today
        ).values()
    )
    patient = PatientFactory(ward=ward, mrn=SECRET_MRN, name=SECRET_NAME)
    course = course_create(
        patient=patient,
        protocol=Protocol.objects.get(code="ceruloplasmin-postop"),
        user=users["physician"],
        on=today,
        phases=[{"dose": Decimal("2"), "count": 7}],
    )
    doses = list(course.doses.order_by("scheduled_at"))
    given = dose_administer(
        dose=doses[0], user=users["nurse"], now=doses[0].scheduled_at, reason="matrix"
    )
    excursion_recorded(fridge, user=pharmacist)
    notification = Notification.objects.order_by("pk").first()
    AlertMarker.objects.create(key="matrix:marker", notification=notification)
    NotificationPreference.objects.create(user=users["nurse"], receive_digests=True)
    feed, feed_token = calendar_feed_create(user=users["nurse"], label="matrix")
    token, _ = AuthToken.objects.create(user=users["gateway"])
    axes_row = {
        "user_agent": "matrix",
        "ip_address": "127.0.0.9",
        "username": "nobody",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    AccessAttempt.objects.create(**axes_row, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**axes_row)
    AccessFailureLog.objects.create(**axes_row)
    return {
        "users": users,
        "ward": ward,
        "fridge": fridge,
        "lot": lots[0],
        "patient": patient,
        "course": course,
        "dose": doses[1],
        "given": given,
        # The dose's dispense: its recipient names the patient (MRN), for recall.
        "movement": StockMovement.objects.get(reference=f"dose:{given.pk}", kind="dispense"),
        "notification": notification,
        "excursion": Excursion.objects.get(),
        "feed": feed,
        "feed_token": feed_token,
        "token": token,
        "group": Group.objects.get(name=Role.NURSE),
    }


# --- Filling in the URLs -------------------------------------------------------------------------

# The API's object URLs by their collection (the path segment before the id).
_API_OBJECT = {
    "products": lambda w: w["lot"].presentation.product_id,
    "presentations": lambda w: w["lot"].presentation_id,
    "wards": lambda w: w["ward"].pk,
    "locations": lambda w: w["fridge"].pk,
    "lots": lambda w: w["lot"].pk,
    "movements": lambda w: w["movement"].pk,
    "readings": lambda w: _first("inventory.TemperatureReading"),
    "excursions": lambda w: _first("inventory.Excursion"),
    "notifications": lambda w: w["notification"].pk,
    "protocols": lambda w: w["course"].protocol_id,
    "patients": lambda w: w["patient"].pk,
    "courses": lambda w: w["course"].pk,
    "doses": lambda w: w["dose"].pk,
    "calendar-feeds": lambda w: w["feed"].pk,
    "tokens": lambda w: w["token"].digest,
    "Patient": lambda w: w["patient"].pk,
    "MedicationRequest": lambda w: w["course"].pk,
    "MedicationAdministration": lambda w: w["given"].pk,
    "calendar": lambda w: w["feed_token"],
}
_PAGE_OBJECT = {
    "course-page": "course",
    "course-page-ical": "course",
    "course-page-fhir": "course",
    "dose-label": "dose",
    "patient-page": "patient",
    "stock-lot": "lot",
    "alert-resend": "notification",
    "cold-chain-resolve": "excursion",
}


def _first(label: str):
    from django.apps import apps

    row = apps.get_model(label).objects.order_by("pk").first()
    return row.pk if row else 0


def _value(param: str, key: str, world: dict, before: str) -> str:
    """The value of URL parameter `param`; `before` is the route up to it."""
    if key.startswith("api:"):
        collection = before.replace("^", "").rstrip("/").rsplit("/", 1)[-1]
        return str(_API_OBJECT[collection](world))
    if key.startswith("admin:"):
        if param == "app_label":
            return "inventory"
        if param == "url":
            return "no-such-admin-page/"
        if param == "content_type_id":
            return str(ContentType.objects.get_for_model(world["patient"]).pk)
        if param in {"object_id", "id"}:
            if key == "admin:view_on_site":
                return str(world["patient"].pk)
            if key == "admin:auth_user_password_change":
                return str(world["users"]["nurse"].pk)
            if key.startswith("admin:inventory.stockmovement:"):
                return str(world["movement"].pk)
            return str(_first(key.split(":")[1]))
    if key == "leaflet":
        return "ceruloplasmin"
    if key == "digest-unsubscribe":
        return "forged-token"
    return str(world[_PAGE_OBJECT[key]].pk)


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _url(route: str, key: str, world: dict) -> str:
    if route == "^api/":
        return "/api/v1/no-such-endpoint/"
    path = _PARAM.sub(lambda m: _value(m[1] or m[2], key, world, route[: m.start()]), route)
    path = "/" + path.replace("^", "").replace("$", "")
    if key in {"api:fhir-medicationrequest-search", "api:fhir-medicationadministration-search"}:
        path += f"?patient={world['patient'].pk}"
    return path


# --- Judging one answer --------------------------------------------------------------------------


def _allows(policy, role: str) -> bool:
    if policy == PUBLIC:
        return True
    if role == ANON:
        return False
    if policy == SIGNED_IN:
        return True
    return ROLE_OF[role] in policy


def _to_login(response) -> bool:
    return response.status_code == 302 and "login" in response.get("Location", "")


# Answers that are the point of the URL: a catch-all's 404, a forged link's 404, a probe's 503
# when no worker runs, a sign-out's redirect to the sign-in page.
# The admin's "view on site" is 404 for every model here: none has a public URL of its own.
NOT_FOUND_BY_DESIGN = {
    "api-not-found",
    "admin:catch_all",
    "digest-unsubscribe",
    "admin:view_on_site",
}
LOGOUTS = {"logout", "admin:logout"}
# The calendar feed's token in its URL is its credential: whoever holds it reads that feed.
LEAK_CHECK_EXEMPT = {"api:calendar-feed-ics"}


def _verdict(surface, key, method, role, allowed, scoped, response) -> str | None:
    """None when the answer fits the policy, else what is wrong."""
    status = response.status_code
    if status >= 500 and not (status == 503 and key == "readyz"):
        return f"server error {status}"
    if allowed:
        to_login = _to_login(response) and role != ANON and key not in LOGOUTS
        if status in (401, 403) or to_login:
            return f"refused ({status}) an allowed role"
        if status == 404 and key in NOT_FOUND_BY_DESIGN:
            return None
        if method == "HEAD" and status == 405:
            return None  # a page that serves GET only (HEAD is optional, RFC 9110 9.1)
        if (
            method in ("GET", "HEAD")
            and not 200 <= status < 400
            and not (status == 503 and key == "readyz")
        ):
            return f"{method} answered {status}"
        return None
    if method == "OPTIONS" and 200 <= status < 300 and not response.content:
        return None  # Django's View.options: the Allow header and nothing of the resource
    if 200 <= status < 300:
        return f"a denied role's {method} succeeded ({status})"
    if role == OTHER_NURSE and scoped:
        # The admin answers an object outside its queryset with a redirect to its index.
        ok = status in (403, 404, 405) or (
            surface == "admin" and status == 302 and not _to_login(response)
        )
        return None if ok else f"other ward's object answered {status}"
    if role == ANON:
        # 405: the URL does not offer the method at all (checked before signing in).
        # The admin may first send to its index, which asks to sign in.
        to_index = surface == "admin" and status == 302 and response["Location"] == "/admin/"
        ok = status in (401, 405) if surface == "api" else _to_login(response) or to_index
        ok = ok or status == 405
        return None if ok else f"anonymous answered {status}"
    # 404: the admin hides an app a role has no permission in; 405: the method is not offered.
    return None if status in (403, 404, 405) else f"denied role answered {status}"


def _request(client, surface, method, url):
    if surface == "api" and method != "GET":
        return client.generic(method, url, "{}", content_type="application/json")
    if method in ("GET", "HEAD", "OPTIONS"):
        return getattr(client, method.lower())(url)
    return client.generic(method, url, "", content_type="application/x-www-form-urlencoded")


# --- The tests -----------------------------------------------------------------------------------

STATS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _matrix_size():
    """Prints the cells checked (shown with `-s`): the figure the issue asks for."""
    yield
    print(f"\naccess matrix: {dict(STATS)} over {len(ALL_PATTERNS)} URL patterns")


@pytest.fixture(scope="module")
def clients(world):
    """Per role: a browser client signed in (pages, admin) and an API client with its own token
    (as an integrator signs in). Cookies are put back after each cell: a cell that signs out is
    rolled back in the database, and must not sign the next one out in the client."""
    from knox.models import AuthToken

    browsers, api = {ANON: Client()}, {ANON: Client()}
    with transaction.atomic():  # the module's data: kept until the module's rollback
        for role, user in world["users"].items():
            browsers[role] = Client()
            browsers[role].force_login(user)
            _, token = AuthToken.objects.create(user=user)
            api[role] = Client(HTTP_AUTHORIZATION=f"Token {token}")
    return {"page": browsers, "admin": browsers, "api": api}


def test_every_url_has_a_declared_policy():
    undeclared = []
    for route, pattern, namespace in ALL_PATTERNS:
        try:
            _cell(route, pattern, namespace)
        except KeyError:
            undeclared.append(f"{route} ({namespace + ':' if namespace else ''}{pattern.name})")
    assert undeclared == []


def test_the_policy_names_no_missing_url():
    names = {p.name for _, p, ns in ALL_PATTERNS if ns == "api"}
    assert set(API) - names == set()
    assert set(API_SCOPED) - set(API) == set()
    pages = {p.name for r, p, ns in ALL_PATTERNS if ns != "api" and not r.startswith("admin/")}
    assert set(PAGES) - pages == set()
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert set(ADMIN_MODELS) == registered


@pytest.mark.parametrize(
    ("route", "pattern", "namespace"), ALL_PATTERNS, ids=[r for r, _, _ in ALL_PATTERNS]
)
def test_access(world, clients, db, route, pattern, namespace):
    surface, key, policy, scoped = _cell(route, pattern, namespace)
    url = _url(route, key, world)
    problems = []
    started = time.monotonic()
    if "GET" in policy:
        # HEAD is GET without the body; OPTIONS describes what GET would show (DRF's metadata):
        # whoever may not read the URL gets neither.
        policy = {**policy, "HEAD": policy["GET"], "OPTIONS": policy["GET"]}
    for method, allowed_roles in policy.items():
        for role in MATRIX_ROLES:
            allowed = _allows(allowed_roles, role) and not (role == OTHER_NURSE and scoped)
            client = clients[surface][role]
            cookies = {name: morsel.value for name, morsel in client.cookies.items()}
            with transaction.atomic():
                response = _request(client, surface, method, url)
                transaction.set_rollback(True)
            client.cookies = SimpleCookie(cookies)
            STATS["cells"] += 1
            problem = _verdict(surface, key, method, role, allowed, scoped, response)
            body = b"" if response.streaming else response.content
            if (
                role == OTHER_NURSE
                and key not in LEAK_CHECK_EXEMPT
                and (SECRET_MRN.encode() in body or SECRET_NAME.encode() in body)
            ):
                problem = f"shows ward 7C's patient ({response.status_code})"
            if problem:
                where = f" → {response['Location']}" if response.has_header("Location") else ""
                problems.append(f"{method} {url} as {role}: {problem}{where}")
    STATS["seconds"] += time.monotonic() - started
    assert not problems, "\n".join(problems)
