"""Stock and cold-chain pages: what each role may see and send, errors in place, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import ALL_ROLES, Role
from inventory import services
from inventory.demand import DemandLine
from inventory.models import Excursion, Lot, LotStatus, MovementKind, StockLevel, StockMovement
from inventory.views.stock import STATUS_ACTIONS, STOCK_ACTIONS
from tests.factories import PresentationFactory, StorageLocationFactory, UserFactory
from tests.inventory.test_forecast import demand  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

GTIN = "07032069804988"  # a valid GTIN-14


def _client(role) -> Client:
    client = Client()
    client.user = UserFactory(roles=[role])
    client.force_login(client.user)
    return client


def _signed_in_as(role):
    @pytest.fixture
    def fixture(roles):
        return _client(role)

    return fixture


as_pharmacist = _signed_in_as(Role.PHARMACIST)
as_nurse = _signed_in_as(Role.NURSE)
as_viewer = _signed_in_as(Role.VIEWER)


@pytest.fixture
def scheduled(request):
    """Demand lines the forecast sees (test_forecast's `demand` provider, imported above)."""
    return request.getfixturevalue("demand")


@pytest.fixture
def lot(receive, cerulo, fridge):
    return receive(cerulo, fridge, 10, lot_number="PAGE-1")


def _lot_url(lot):
    return reverse("stock-lot", args=[lot.pk])


def _post_op(client, lot, op, **fields):
    """POST one of the lot page's forms (its fields carry the action's prefix)."""
    data = {"op": op, **{f"{op}-{name}": value for name, value in fields.items()}}
    return client.post(_lot_url(lot), data)


def _out_of_range(location, *, minutes=(0, 10, 20), values=("5", "11.5", "6")):
    """Readings in, out and back in range, ending a few minutes ago: a closed excursion."""
    start = timezone.now() - datetime.timedelta(minutes=max(minutes) + 5)
    services.readings_ingest(
        readings=[
            {
                "location_id": location.pk,
                "sensor_id": "s1",
                "taken_at": start + datetime.timedelta(minutes=m),
                "temperature_c": Decimal(v),
            }
            for m, v in zip(minutes, values, strict=True)
        ]
    )
    return Excursion.objects.get(location=location)


# --- Reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_every_role_reads_every_page(role, roles, lot, fridge):
    client = _client(role)
    _out_of_range(fridge)
    for url in [
        reverse("stock"),
        reverse("stock-receive-page"),
        reverse("stock-forecast-page"),
        _lot_url(lot),
        reverse("cold-chain"),
    ]:
        assert client.get(url).status_code == 200, url


def test_signed_out_users_go_to_sign_in(client):
    response = client.get(reverse("stock"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(client, roles):
    client.force_login(UserFactory())
    assert client.get(reverse("stock")).status_code == 403


def test_stock_page_counts_and_filters(as_pharmacist, receive, cerulo, fridge, ward, today):
    receive(cerulo, fridge, 10, lot_number="SOON", expiry_days=10)
    ward_fridge = StorageLocationFactory(code="ward-fridge", name="Ward fridge", ward=ward)
    receive(cerulo, ward_fridge, 4, lot_number="LATER")
    services.stock_reserve(
        presentation_id=cerulo.pk, quantity=3, on=today, reference="rx:1", location_id=fridge.pk
    )
    rows = as_pharmacist.get(reverse("stock")).context["rows"]
    by_location = {row["location"].code: row for row in rows}
    assert {
        k: (r["on_hand"], r["reserved"], r["usable"], r["expiring_soon"])
        for k, r in by_location.items()
    } == {"pharmacy-fridge": (10, 3, 7, 10), "ward-fridge": (4, 0, 4, 0)}
    filtered = as_pharmacist.get(reverse("stock"), {"ward": ward.pk}).context["rows"]
    assert [row["location"].code for row in filtered] == ["ward-fridge"]
    page = as_pharmacist.get(reverse("stock"), {"location": fridge.pk}).content.decode()
    assert "SOON" in page and "LATER" not in page


# --- Who may write --------------------------------------------------------------------------------

LOT_OPS = STOCK_ACTIONS + STATUS_ACTIONS


def test_viewer_can_post_nothing(as_viewer, lot, fridge):
    excursion = _out_of_range(fridge)
    posts = [
        (reverse("stock-receive-page"), {"mode": "scan", "gs1": "x", "quantity": 1}),
        (reverse("cold-chain-resolve", args=[excursion.pk]), {}),
    ] + [(_lot_url(lot), {"op": op, f"{op}-reason": "x"}) for op in LOT_OPS]
    for url, data in posts:
        assert as_viewer.post(url, data).status_code == 403, (url, data)
    assert StockMovement.objects.filter(user=as_viewer.user).count() == 0


def test_nurse_sees_no_adjustment_and_may_not_post_one(as_nurse, lot, fridge):
    page = as_nurse.get(_lot_url(lot)).content.decode()
    assert 'value="adjust"' not in page and "Adjust the count" not in page
    assert 'value="transfer"' not in page and 'value="quarantine"' not in page
    assert 'value="dispense"' in page and 'value="waste"' in page
    response = _post_op(
        as_nurse, lot, "adjust", location=fridge.pk, quantity_delta=5, reason="count"
    )
    assert response.status_code == 403
    for op in ["transfer", "quarantine", "release", "recall", "destroy"]:
        assert as_nurse.post(_lot_url(lot), {"op": op}).status_code == 403, op
    assert as_nurse.post(reverse("stock-receive-page"), {"mode": "scan"}).status_code == 403
    assert StockLevel.objects.get(lot=lot).on_hand == 10


def test_pharmacist_sees_the_adjustment_form(as_pharmacist, lot):
    page = as_pharmacist.get(_lot_url(lot)).content.decode()
    for op in [op for op in LOT_OPS if op != "release"]:
        assert f'value="{op}"' in page, op
    assert 'value="release"' not in page  # the lot is not quarantined


def test_nurse_dispenses_from_a_lot(as_nurse, lot, fridge):
    response = _post_op(
        as_nurse,
        lot,
        "dispense",
        location=fridge.pk,
        quantity=2,
        recipient="MRN 42",
        reference="rx:7",
    )
    assert response.status_code == 302
    movement = StockMovement.objects.get(kind=MovementKind.DISPENSE)
    assert (movement.quantity, movement.user, movement.recipient) == (2, as_nurse.user, "MRN 42")
    assert StockLevel.objects.get(lot=lot).on_hand == 8
    # Recipients are patients: not shown to nurses (they see only their own wards' patients).
    assert "MRN 42" not in as_nurse.get(_lot_url(lot)).content.decode()


def test_dispensing_too_much_shows_the_error_and_keeps_the_input(as_nurse, lot, fridge):
    response = _post_op(
        as_nurse, lot, "dispense", location=fridge.pk, quantity=99, recipient="MRN 42"
    )
    assert response.status_code == 200
    form = response.context["stock_forms"][0][1]["form"]
    assert "Insufficient stock" in form.errors["quantity"][0]
    assert 'value="MRN 42"' in response.content.decode()
    assert StockLevel.objects.get(lot=lot).on_hand == 10


# --- Lot status and stock actions (pharmacist) ----------------------------------------------------


def test_status_actions_need_a_reason_and_confirm(as_pharmacist, lot):
    page = as_pharmacist.get(_lot_url(lot)).content.decode()
    assert page.count("data-confirm=") >= 4  # waste, adjust, quarantine, recall, destroy
    response = as_pharmacist.post(_lot_url(lot), {"op": "quarantine", "quarantine-reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    steps = [
        ("quarantine", LotStatus.QUARANTINED),
        ("release", LotStatus.AVAILABLE),
        ("recall", LotStatus.RECALLED),
    ]
    for op, status in steps:
        response = as_pharmacist.post(_lot_url(lot), {"op": op, f"{op}-reason": f"why {op}"})
        assert response.status_code == 302, response.content.decode()
        lot.refresh_from_db()
        assert (lot.status, lot.status_reason) == (status, f"why {op}")
    as_pharmacist.post(_lot_url(lot), {"op": "destroy", "destroy-reason": "recalled"})
    lot.refresh_from_db()
    assert lot.status == LotStatus.DESTROYED
    ledger = as_pharmacist.get(_lot_url(lot)).content.decode()
    assert "why quarantine" in ledger and as_pharmacist.user.username in ledger


def test_transfer_and_adjust(as_pharmacist, lot, fridge):
    other = StorageLocationFactory(code="cold-room", name="Cold room")
    response = _post_op(
        as_pharmacist, lot, "transfer", location=fridge.pk, to_location=other.pk, quantity=3
    )
    assert response.status_code == 302
    response = _post_op(
        as_pharmacist, lot, "adjust", location=other.pk, quantity_delta=-1, reason="stock take"
    )
    assert response.status_code == 302
    levels = dict(StockLevel.objects.filter(lot=lot).values_list("location__code", "on_hand"))
    assert levels == {"pharmacy-fridge": 7, "cold-room": 2}
    # A refusal naming the service's keyword lands on the form's field.
    response = _post_op(
        as_pharmacist, lot, "transfer", location=fridge.pk, to_location=fridge.pk, quantity=1
    )
    form = dict(response.context["stock_forms"])["transfer"]["form"]
    assert "The destination is the source." in form.errors["to_location"]


# --- Receiving --------------------------------------------------------------------------------


@pytest.fixture
def gtin_presentation(db):
    return PresentationFactory(code="cerulo-gtin", gtin=GTIN)


def _scan(client, gs1, location, quantity=5):
    return client.post(
        reverse("stock-receive-page"),
        {"mode": "scan", "gs1": gs1, "quantity": quantity, "location": location.pk},
    )


def test_receive_by_scan(as_pharmacist, gtin_presentation, fridge, today):
    expiry = today + datetime.timedelta(days=400)
    response = _scan(as_pharmacist, f"(01){GTIN}(17){expiry:%y%m%d}(10)SCAN-9", fridge)
    assert response.status_code == 302
    lot = Lot.objects.get(lot_number="SCAN-9")
    assert (lot.presentation, lot.expiry_date) == (gtin_presentation, expiry)
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 5
    page = as_pharmacist.get(reverse("stock-receive-page"))
    assert "Received 5 × " in page.content.decode()
    assert page.context["scan_form"].initial["location"] == fridge.pk  # remembered
    assert page.context["scan_form"].initial["quantity"] == 5  # consecutive packs of a delivery


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("(01)07032069804971(17)301231(10)X1", "Unknown GTIN"),
        (f"(01){GTIN}(17)200131(10)OLD", "expired on 2020-01-31"),
        (f"(01){GTIN}(17)301231(10)KNOWN", "on record with expiry"),
        ("not a code", "not a GS1 pack code"),
    ],
)
def test_scan_errors_are_shown_in_place_and_the_box_is_ready_for_the_next_scan(
    as_pharmacist, gtin_presentation, fridge, receive, code, message
):
    receive(gtin_presentation, fridge, 1, lot_number="KNOWN")
    response = _scan(as_pharmacist, code, fridge)
    assert response.status_code == 200
    errors = response.context["scan_form"].errors["gs1"]
    assert message in " ".join(errors)
    # Empty for the next scan (a scanner appends to what is in the box); the code read is shown.
    assert response.context["scan_form"]["gs1"].value() == ""
    assert response.context["last_scan"] == code and code in response.content.decode()
    assert response.context["scan_form"]["quantity"].value() == "5"
    if message != "not a GS1 pack code":
        assert response.context["preview"]["pack"].lot_number in response.content.decode()
    assert Lot.objects.count() == 1


def test_receive_by_typed_fields(as_pharmacist, cerulo, fridge, today):
    data = {
        "mode": "manual",
        "manual-presentation": cerulo.pk,
        "manual-lot_number": "TYPED-1",
        "manual-expiry_date": (today - datetime.timedelta(days=1)).isoformat(),
        "manual-quantity": 3,
        "manual-location": fridge.pk,
    }
    response = as_pharmacist.post(reverse("stock-receive-page"), data)
    assert "cannot be received" in response.context["manual_form"].errors["expiry_date"][0]
    assert response.context["manual_open"]
    data["manual-expiry_date"] = (today + datetime.timedelta(days=100)).isoformat()
    assert as_pharmacist.post(reverse("stock-receive-page"), data).status_code == 302
    assert Lot.objects.get(lot_number="TYPED-1").levels.get().on_hand == 3


# --- Forecast ----------------------------------------------------------------------------------


def test_forecast_highlights_shortages_and_lots_expiring_unused(
    as_viewer,
    scheduled,
    receive,
    cerulo,
    fridge,
    today,
):
    receive(cerulo, fridge, 4, lot_number="EARLY", expiry_days=2)
    scheduled.extend(
        DemandLine(
            presentation_id=cerulo.pk,
            on=today + datetime.timedelta(days=n),
            quantity=2,
            reference=f"rx:{n}",
        )
        for n in (1, 4)
    )
    response = as_viewer.get(reverse("stock-forecast-page"), {"days": 7})
    page = response.content.decode()
    assert "short 2 vials" in page
    assert "lot EARLY" in page and "2 vials unused" in page


def test_forecast_names_the_first_lots_expiring_unused_and_links_to_all(
    as_viewer, scheduled, receive, cerulo, fridge, today
):
    """Hundreds of lots may expire unused in a hospital's period: the page names the first
    FORECAST_LOTS_LISTED of a presentation, soonest first, and counts the rest; the
    presentation's own forecast names every one, with the same figures."""
    from inventory.views.stock import FORECAST_LOTS_LISTED

    extra = 3
    for k in range(FORECAST_LOTS_LISTED + extra):
        receive(cerulo, fridge, 2, lot_number=f"UNUSED-{k:02d}", expiry_days=1 + k % 5)
    response = as_viewer.get(reverse("stock-forecast-page"), {"days": 7})
    (row,) = response.context["report"]["presentations"]
    assert len(row["expiring_unused"]) == FORECAST_LOTS_LISTED + extra
    assert row["expiring_listed"] == row["expiring_unused"][:FORECAST_LOTS_LISTED]
    page = response.content.decode()
    assert page.count("vials unused on expiry") == FORECAST_LOTS_LISTED
    assert f"In all {FORECAST_LOTS_LISTED + extra} lots, {2 * (FORECAST_LOTS_LISTED + extra)}" in (
        page
    )
    assert f"Show the {extra} more lots" in page
    assert page.count('class="expiry-marker"') == 5  # one a day
    detail = as_viewer.get(row["detail_url"])
    assert detail.status_code == 200
    assert f"presentation={cerulo.pk}" in row["detail_url"] and "days=7" in row["detail_url"]
    page = detail.content.decode()
    assert page.count("vials unused on expiry") == FORECAST_LOTS_LISTED + extra
    assert "more lots" not in page
    (full,) = detail.context["report"]["presentations"]
    without_links = [
        {k: v for k, v in lot.items() if k != "url"} for lot in full["expiring_unused"]
    ]
    assert without_links == [
        {k: v for k, v in lot.items() if k != "url"} for lot in row["expiring_unused"]
    ]


def test_forecast_page_queries_and_size_do_not_grow_with_lots(
    as_viewer, scheduled, receive, cerulo, fridge, today
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts, sizes = [], []
    as_viewer.get(reverse("stock-forecast-page"))  # warm-up: a first request also fills caches
    for batch in (15, 60):
        for k in range(batch):
            receive(cerulo, fridge, 1000, lot_number=f"B{batch}-{k}", expiry_days=1 + k % 5)
        scheduled.append(
            DemandLine(presentation_id=cerulo.pk, on=today, quantity=1, reference=f"rx:{batch}")
        )
        with CaptureQueriesContext(connection) as queries:
            response = as_viewer.get(reverse("stock-forecast-page"), {"days": 7})
        counts.append(len(queries))
        sizes.append(len(response.content))
    assert counts[0] == counts[1]
    assert abs(sizes[1] - sizes[0]) < 200, sizes  # the same lots named, one marker a day


# --- Cold chain ---------------------------------------------------------------------------------


def test_excursion_review_and_resolve(as_pharmacist, lot, fridge):
    excursion = _out_of_range(fridge)
    response = as_pharmacist.get(reverse("cold-chain"))
    page = response.content.decode()
    assert 'class="excursion"' in page and "PAGE-1" in page
    url = reverse("cold-chain-resolve", args=[excursion.pk])
    response = as_pharmacist.post(url, {f"x{excursion.pk}-resolution": "release"})
    assert response.status_code == 200  # the reason is required; the choice is kept
    assert "This field is required." in response.content.decode()
    (pending,) = response.context["pending"]
    assert pending.resolve_form["resolution"].value() == "release"
    response = as_pharmacist.post(
        url, {f"x{excursion.pk}-resolution": "release", f"x{excursion.pk}-reason": "Data ok"}
    )
    assert response.status_code == 302
    excursion.refresh_from_db()
    lot.refresh_from_db()
    assert (excursion.resolution, excursion.resolved_by, lot.status) == (
        "release",
        as_pharmacist.user,
        LotStatus.AVAILABLE,
    )


def test_a_running_excursion_cannot_be_resolved_yet(as_pharmacist, as_nurse, lot, fridge):
    excursion = _out_of_range(fridge, minutes=(0, 10), values=("5", "12"))
    page = as_pharmacist.get(reverse("cold-chain")).content.decode()
    assert "Resolve once readings are back in range." in page
    url = reverse("cold-chain-resolve", args=[excursion.pk])
    data = {f"x{excursion.pk}-resolution": "release", f"x{excursion.pk}-reason": "warm"}
    response = as_pharmacist.post(url, data)
    assert "still out of range" in response.content.decode()
    assert as_nurse.post(url, data).status_code == 403
    excursion.refresh_from_db()
    assert excursion.resolved_at is None


def test_cold_chain_custom_period_is_validated(as_pharmacist, fridge):
    response = as_pharmacist.get(
        reverse("cold-chain"),
        {
            "location": fridge.pk,
            "period": "custom",
            "start": "2026-03-02T10:00",
            "end": "2026-03-01T10:00",
        },
    )
    assert response.status_code == 200
    assert "The end must come after the start." in response.content.decode()


@pytest.mark.parametrize(
    ("language", "weekday", "noon", "kept", "empty"),
    [
        ("uk", "Пн 2 Бер", "2 Бер 12:00", "2,5–8,0 °C", "Немає показів за цей період"),
        ("en", "Mon 2 Mar", "2 Mar 12:00", "2.5–8.0 °C", "No readings in this period"),
    ],
)
def test_cold_chain_chart_axes_read_in_the_readers_language(
    as_pharmacist, fridge, language, weekday, noon, kept, empty
):
    """Tick dates in the page's language, temperatures with its decimal separator."""
    fridge.min_c = Decimal("2.5")
    fridge.save(update_fields=["min_c"])
    response = as_pharmacist.get(
        reverse("cold-chain"),
        {
            "location": fridge.pk,
            "period": "custom",
            "start": "2026-03-02T00:00",
            "end": "2026-03-05T00:00",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    svg = response.context["chart"]["svg"]
    assert f">{weekday}</text>" in svg and f">{noon}</text>" in svg
    assert f">{empty}</text>" in svg
    assert kept in svg  # the location's band, titled with its range
    assert (
        f'<td data-label="{"Зберігається при" if language == "uk" else "Kept at"}">{kept}</td>'
        in (response.content.decode())
    )


# --- Query counts stay flat as rows grow -------------------------------------------------------


def _grow(n, pharmacist, today):
    """n locations, each with n lots of two presentations, n readings and one excursion."""
    betaleukin = PresentationFactory(product__betaleukin=True)
    cerulo = PresentationFactory()
    for i in range(n):
        location = StorageLocationFactory()
        for j in range(n):
            for presentation in (cerulo, betaleukin):
                movement = services.lot_receive(
                    presentation_id=presentation.pk,
                    location_id=location.pk,
                    quantity=5,
                    lot_number=f"G{n}-{i}-{j}",
                    expiry_date=today + datetime.timedelta(days=20 + j),
                    user=pharmacist,
                    on=today,
                )
                services.stock_dispense(
                    presentation_id=presentation.pk,
                    lot_id=movement.lot_id,
                    location_id=location.pk,
                    quantity=1,
                    recipient=f"MRN {i}{j}",
                    reference=f"rx:{i}-{j}",
                    user=pharmacist,
                    on=today,
                )
        _out_of_range(
            location, minutes=tuple(range(0, 10 * (n + 2), 10)), values=("5",) + ("9",) * n + ("5",)
        )
    return Lot.objects.filter(presentation=cerulo).first()


@pytest.mark.parametrize(
    ("name", "budget"),
    [("stock", 14), ("lot", 17), ("cold-chain", 16), ("stock-forecast-page", 10)],
)
def test_query_counts_stay_flat(
    name, budget, as_pharmacist, pharmacist, today, django_assert_max_num_queries
):
    def url(lot):
        return _lot_url(lot) if name == "lot" else reverse(name)

    lot = _grow(2, pharmacist, today)
    with django_assert_max_num_queries(budget) as small:
        assert as_pharmacist.get(url(lot)).status_code == 200
    _grow(5, pharmacist, today)
    with django_assert_max_num_queries(budget) as large:
        assert as_pharmacist.get(url(lot)).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_stored_limits_reads_one_row_per_location_and_product_not_per_level(
    receive, cerulo, fridge, pharmacist, today
):
    """The cold-chain page's stored ranges (issue 14: 355 ms of a 0.87 s page at 100,000 lots):
    the DISTINCT must not carry the levels' default ordering, or it sends every level."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.selectors import stored_limits

    for n in range(6):
        receive(cerulo, fridge, 2, lot_number=f"L{n}", expiry_days=100 + n)
    rows = []

    def counting(execute, sql, params, many, context):
        cursor = context["cursor"]
        result = execute(sql, params, many, context)
        rows.append(cursor.rowcount)
        return result

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(counting):
        limits = stored_limits([fridge.pk])
    assert len(queries) == 1 and "ORDER BY" not in queries[0]["sql"]
    if connection.vendor == "postgresql":  # SQLite reports no row count for a SELECT
        assert rows == [1]  # six levels, one product: one row
    product = cerulo.product
    assert limits == {fridge.pk: (product.storage_min_c, product.storage_max_c, [product.name])}
