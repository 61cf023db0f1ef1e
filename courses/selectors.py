"""Reads of the courses app: ward scoping, weights, and the querysets the API renders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from config.roles import Role, user_roles
from courses.models import (
    Course,
    CoursePhase,
    CourseStatus,
    Dose,
    DoseStatus,
    Patient,
    PatientWeight,
    Protocol,
)
from courses.units import Mass
from inventory.models import Presentation, StockLevel, Ward
from inventory.selectors import usable_q


def ward_scoped(user, *, write: bool = False) -> bool:
    """Nurses (and only nurses) see only their own wards' patients and doses.

    A nurse who is also a viewer reads every ward, but records (`write`) only on her own: a
    read-only role must not widen what she may change. Pharmacists and physicians are unscoped.
    """
    roles = user_roles(user)
    unscoped = {Role.PHARMACIST, Role.PHYSICIAN} | (set() if write else {Role.VIEWER})
    return Role.NURSE in roles and not roles & unscoped


def _scope(queryset: QuerySet, user, ward_path: str, *, write: bool = False) -> QuerySet:
    if user is not None and ward_scoped(user, write=write):
        return queryset.filter(**{f"{ward_path}__members": user})
    return queryset


def patients_visible(user, *, write: bool = False) -> QuerySet[Patient]:
    """`write`: the patients the user may record on (a weight), not only read."""
    return _scope(
        Patient.objects.select_related("ward").prefetch_related(
            Prefetch("weights", queryset=PatientWeight.objects.order_by("-measured_on")),
            "drug_allergies",
        ),
        user,
        "ward",
        write=write,
    )


def courses_visible(user) -> QuerySet[Course]:
    return _scope(
        Course.objects.select_related(
            "patient__ward", "protocol__product", "prescribed_by", "overridden_by"
        ).prefetch_related(
            Prefetch(
                "phases",
                queryset=CoursePhase.objects.select_related("protocol_phase").order_by("order"),
            ),
            Prefetch(
                "doses",
                queryset=Dose.objects.select_related("phase", "recorded_by").order_by(
                    "scheduled_at", "sequence"
                ),
            ),
        ),
        user,
        "patient__ward",
    )


def doses_visible(user, *, write: bool = False) -> QuerySet[Dose]:
    """`write`: the doses the user may record, not only read."""
    return _scope(
        Dose.objects.select_related(
            "course__patient__ward", "course__protocol__product", "phase", "recorded_by"
        ).order_by("scheduled_at", "sequence"),
        user,
        "course__patient__ward",
        write=write,
    )


def weight_on(patient: Patient, on: dt.date) -> PatientWeight | None:
    """The latest weight measured on or before `on`."""
    return patient.weights.filter(measured_on__lte=on).order_by("-measured_on").first()


def presentations_for(protocol: Protocol) -> list[Presentation]:
    """The product's presentations, vials before ampoules of the same strength (the pharmacy
    stocks both; a vial is the usual pick), then by strength."""
    return sorted(
        protocol.product.presentations.all(),
        key=lambda p: (p.container != "vial", p.strength, p.code),
    )


def dose_preparation(dose: Dose) -> dict:
    """How to prepare and give one dose, from the protocol, the course's choices and the dose."""
    course = dose.course
    protocol = course.protocol
    preparation = {
        "route": protocol.route,
        "route_label": protocol.get_route_display(),
        "diluent": course.diluent,
        "diluent_label": course.get_diluent_display() if course.diluent else "",
        "diluent_volume_ml": protocol.diluent_volume_ml,
        "drip_rate_drops_per_min": dose.drip_rate_drops_per_min,
        "infusion_minutes": dose.infusion_minutes,
        "note": protocol.preparation_note,
    }
    if protocol.route == "iv_infusion" and dose.vials:
        # Betaleukin IV: each container is made up to 100 ml ("bring the total volume of 100 ml"),
        # so the volume holding the dose is dose / container strength × 100 ml.
        first = dose.vials[0]
        strength = Mass(*first["strength_amount"])
        dose_mass = Mass(dose.amount, dose.amount_unit)
        preparation["dose_volume_ml"] = str(
            round(dose_mass.ng / strength.ng * 100, 2) if len(dose.vials) == 1 else ""
        )
    return preparation


def course_lets_dose_proceed() -> Q:
    """A dose whose course is active, or on hold only from a later date: a hold from a date
    leaves the doses before it due (design.md). `__date` is the hospital's zone, the courses'."""
    return Q(course__status=CourseStatus.ACTIVE) | Q(
        course__status=CourseStatus.ON_HOLD, scheduled_at__date__lt=F("course__held_since")
    )


def doses_due(*, start: dt.date, end: dt.date) -> QuerySet[Dose]:
    """Scheduled doses of active courses on days `start`…`end` (inclusive) in the hospital zone."""
    begin, finish = day_window(start)[0], day_window(end)[1]
    return (
        Dose.objects.filter(
            course_lets_dose_proceed(),
            status=DoseStatus.SCHEDULED,
            scheduled_at__gte=begin,
            scheduled_at__lt=finish,
        )
        .select_related("course")
        .order_by("scheduled_at", "id")
    )


# --- Pages (courses/views) ------------------------------------------------------------------------


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[midnight, next midnight) of a local day in the hospital zone (23 or 25 h across DST)."""
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(day, dt.time(), tzinfo=zone),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def wards_visible(user) -> QuerySet[Ward]:
    """The wards a user may pick: a nurse her own, everyone else every ward."""
    wards = Ward.objects.order_by("name")
    return wards.filter(members=user) if ward_scoped(user) else wards


def doses_of_day(user, *, day: dt.date, ward_code: str = "") -> QuerySet[Dose]:
    """The day's doses (cancelled ones left out) the user may see, by ward, then time."""
    begin, end = day_window(day)
    doses = doses_visible(user).filter(scheduled_at__gte=begin, scheduled_at__lt=end)
    if ward_code:
        doses = doses.filter(course__patient__ward__code=ward_code)
    return doses.exclude(status=DoseStatus.CANCELLED).order_by(
        "course__patient__ward__name", "scheduled_at", "course__patient__name", "sequence"
    )


def on_time_window() -> dt.timedelta:
    """How far from its scheduled time a dose is on time (DOSE_OVERDUE_HOURS): past it, the dose
    is overdue and recording it needs a reason."""
    return dt.timedelta(hours=settings.DOSE_OVERDUE_HOURS)


def doses_overdue(user, *, before: dt.datetime, ward_code: str = "") -> QuerySet[Dose]:
    """Doses of active courses still scheduled at a time before `before` (now − tolerance)."""
    doses = doses_visible(user).filter(
        course_lets_dose_proceed(),
        status=DoseStatus.SCHEDULED,
        scheduled_at__lt=before,
    )
    if ward_code:
        doses = doses.filter(course__patient__ward__code=ward_code)
    return doses


# Lots offered per dose on Today: the nurse may still scan any other lot.
LOTS_OFFERED = 5


def usable_lots(
    *, presentation_ids, on: dt.date, ward_ids=None
) -> dict[int | tuple[int, int], list[dict]]:
    """Lots of each presentation a nurse may give from on `on`, first-expiry first (FEFO).

    With `ward_ids`: only stock at those wards' own locations, keyed by (ward id, presentation
    id) and at most LOTS_OFFERED per key — a handful, not every lot in the hospital.
    """
    levels = StockLevel.objects.filter(
        usable_q(on), on_hand__gt=0, lot__presentation_id__in=set(presentation_ids)
    )
    fields = ["lot_id", "lot__lot_number", "lot__expiry_date", "lot__presentation_id"]
    if ward_ids is not None:
        levels = levels.filter(location__ward_id__in=set(ward_ids))
        fields.append("location__ward_id")
    rows = (
        levels.values(*fields)
        .annotate(on_hand_total=Sum("on_hand"))
        .order_by("lot__expiry_date", "lot_id")
    )
    lots: dict = {}
    for row in rows:
        key = row["lot__presentation_id"]
        if ward_ids is not None:
            key = (row["location__ward_id"], key)
            if len(lots.get(key, ())) >= LOTS_OFFERED:
                continue
        lots.setdefault(key, []).append(
            {
                "lot_id": row["lot_id"],
                "lot_number": row["lot__lot_number"],
                "expiry_date": row["lot__expiry_date"],
                "on_hand": row["on_hand_total"],
            }
        )
    return lots


def courses_listed(
    user, *, status: str = "", ward_code: str = "", product_code: str = "", search: str = ""
) -> QuerySet[Course]:
    """Courses for the list page: no doses loaded, their progress counted in the same query."""
    courses = _scope(
        Course.objects.select_related("patient__ward", "protocol__product", "prescribed_by"),
        user,
        "patient__ward",
    )
    if status:
        courses = courses.filter(status=status)
    if ward_code:
        courses = courses.filter(patient__ward__code=ward_code)
    if product_code:
        courses = courses.filter(protocol__product__code=product_code)
    if search.strip():
        term = search.strip()
        courses = courses.filter(Q(patient__name__icontains=term) | Q(patient__mrn__iexact=term))
    live = ~Q(doses__status=DoseStatus.CANCELLED)
    return courses.annotate(
        doses_total=Count("doses", filter=live),
        doses_given=Count("doses", filter=Q(doses__status=DoseStatus.GIVEN)),
        next_dose_at=Min("doses__scheduled_at", filter=Q(doses__status=DoseStatus.SCHEDULED)),
    ).order_by("-start_date", "-id")


def protocols_by_product() -> list[tuple[str, list[Protocol]]]:
    """Protocols grouped under their product's name, in formulary order (for pickers)."""
    groups: dict[str, list[Protocol]] = {}
    for protocol in Protocol.objects.select_related("product").prefetch_related("phases"):
        groups.setdefault(protocol.product.name, []).append(protocol)
    return list(groups.items())


# --- Calendar feeds ---------------------------------------------------------------------------

# A subscribed calendar shows this window around today: recent history and the coming weeks.
FEED_DAYS_BACK = 14
FEED_DAYS_AHEAD = 120
FEED_MAX_EVENTS = 2000


def calendar_feed_by_token(token_hash: str):
    """The live feed with this token hash, with its user, or None (unknown or revoked)."""
    from courses.models import CalendarFeed

    return (
        CalendarFeed.objects.select_related("user", "ward")
        .filter(token_hash=token_hash, revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def calendar_feeds_of(user) -> QuerySet:
    from courses.models import CalendarFeed

    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).select_related("ward")


def feed_doses(user, *, ward_code: str = "", on: dt.date) -> QuerySet[Dose]:
    """The doses a user's calendar feed carries: what the user may see, in the feed's window,
    cancelled ones included (subscribed copies must learn they are off)."""
    begin = day_window(on - dt.timedelta(days=FEED_DAYS_BACK))[0]
    end = day_window(on + dt.timedelta(days=FEED_DAYS_AHEAD))[1]
    doses = doses_visible(user).filter(scheduled_at__gte=begin, scheduled_at__lt=end)
    if ward_code:
        doses = doses.filter(course__patient__ward__code=ward_code)
    return doses[:FEED_MAX_EVENTS]
