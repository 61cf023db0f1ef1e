"""Reads of the courses app: ward scoping, weights, and the querysets the API renders."""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, DenseRank
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config.roles import Role, user_roles
from courses.models import (
    Course,
    CoursePhase,
    CourseStatus,
    Diluent,
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
                queryset=Dose.objects.select_related(
                    "phase", "recorded_by", "prepared_by", "checked_by"
                ).order_by("scheduled_at", "sequence"),
            ),
        ),
        user,
        "patient__ward",
    )


def doses_visible(user, *, write: bool = False) -> QuerySet[Dose]:
    """`write`: the doses the user may record, not only read."""
    return _scope(
        Dose.objects.select_related(
            "course__patient__ward",
            "course__protocol__product",
            "phase",
            "recorded_by",
            "prepared_by",
            "checked_by",
        ).order_by("scheduled_at", "sequence"),
        user,
        "course__patient__ward",
        write=write,
    )


def patients_matching(patients: QuerySet[Patient], text: str) -> QuerySet[Patient]:
    """`patients` whose name contains `text` or whose MRN is `text` (the patient list's search
    and the prescribe page's "find the patient")."""
    text = text.strip()
    if not text:
        return patients
    return patients.filter(Q(name__icontains=text) | Q(mrn__iexact=text))


def weight_on(patient: Patient, on: dt.date) -> PatientWeight | None:
    """The latest weight measured on or before `on` (from the prefetched weights when a bulk
    import read them for all its patients)."""
    if "weights" in getattr(patient, "_prefetched_objects_cache", {}):
        earlier = [w for w in patient.weights.all() if w.measured_on <= on]
        return max(earlier, key=lambda w: (w.measured_on, w.pk), default=None)
    return patient.weights.filter(measured_on__lte=on).order_by("-measured_on").first()


def presentations_for(protocol: Protocol) -> list[Presentation]:
    """The product's presentations, vials before ampoules of the same strength (the pharmacy
    stocks both; a vial is the usual pick), then by strength."""
    return sorted(
        protocol.product.presentations.all(),
        key=lambda p: (p.container != "vial", p.strength, p.code),
    )


def presentations_by_id() -> dict[int, Presentation]:
    """Every presentation by id: a handful of rows, read once per request (not per dose)."""
    return Presentation.objects.in_bulk()


_STOCK_FIELDS = (
    "lot_id",
    "lot__lot_number",
    "lot__expiry_date",
    "lot__presentation_id",
    "location__name",
    "location__ward_id",
    "on_hand",
)
_FEFO = ("lot__expiry_date", "lot_id", "location__name", "id")


def _fefo_record_levels(levels: QuerySet, *, partition: list[str], below: int) -> list[dict]:
    """Within each partition, in FEFO order, the levels holding more than every level before
    them, while those before hold fewer than `below`: the first level holding ≥ n, for every
    n ≤ `below`, is among them. At most `below` rows a partition."""
    before = Window(
        Max("on_hand"),
        partition_by=[F(name) for name in partition],
        order_by=[F(name).asc() for name in _FEFO],
        frame=RowRange(start=None, end=-1),
    )
    return list(
        levels.annotate(before=Coalesce(before, 0))
        .filter(before__lt=below, on_hand__gt=F("before"))
        .values(*_STOCK_FIELDS)
    )


def lot_stock(*, on: dt.date, doses) -> list[dict]:
    """The usable stock `lot_suggestion` needs for these doses' suggestions on `on`, FEFO.

    Not every level in the hospital (100,000 lots at a large one). A suggestion is the first
    level (FEFO) holding the dose's count of containers at its ward's own locations, else
    anywhere, else the first level at all. Anywhere: each (presentation, count) is one indexed
    first-expiry pick. At the wards: only the levels in those wards' own locations, and of them
    only those holding more than every earlier one (the first holding ≥ n is one of them).
    Two queries whatever the number of doses or lots; the same suggestion as over all the
    stock. `doses` need `course__patient` loaded (the lists' select_related)."""
    anywhere: set[tuple[int, int]] = set()
    wards: set[int] = set()
    below = 0
    for dose in doses:
        wards.add(dose.course.patient.ward_id)
        for line in dose.vials:
            anywhere |= {(line["presentation_id"], 1), (line["presentation_id"], line["count"])}
            below = max(below, line["count"])
    if not anywhere:
        return []
    usable = StockLevel.objects.filter(usable_q(on), on_hand__gt=0)
    picks = Q()
    for presentation, count in anywhere:
        level = usable.filter(lot__presentation_id=presentation, on_hand__gte=count)
        picks |= Q(pk=Subquery(level.order_by(*_FEFO).values("pk")[:1]))
    rows = list(StockLevel.objects.filter(picks).values(*_STOCK_FIELDS))
    rows += _fefo_record_levels(
        usable.filter(
            location__ward_id__in=wards,
            lot__presentation_id__in={presentation for presentation, _ in anywhere},
        ),
        partition=["location__ward_id", "lot__presentation_id"],
        below=below,
    )
    rows.sort(key=_fefo_key)
    return rows


def _fefo_key(row: dict):
    return (row["lot__expiry_date"], row["lot_id"], row["location__name"])


class SuggestionStock:
    """`lot_stock` for a response whose doses arrive one at a time (a serializer): read for
    the whole list up front (`covering(doses)`), and again only for a dose it does not cover
    yet (a dose nested under a course): never once per dose."""

    def __init__(self, *, on: dt.date):
        self.on = on
        self.rows: list[dict] = []
        self._covered: set[tuple[int, int, int]] = set()
        # A response's doses share their preparations: (inputs → dict), see dose_preparation.
        self.preparations: dict[tuple, dict] = {}

    @staticmethod
    def _needs(dose) -> set[tuple[int, int, int]]:
        ward = dose.course.patient.ward_id
        return {(ward, line["presentation_id"], line["count"]) for line in dose.vials}

    def covering(self, doses) -> list[dict]:
        missing = [dose for dose in doses if not self._needs(dose) <= self._covered]
        if missing:
            self.rows = sorted(self.rows + lot_stock(on=self.on, doses=missing), key=_fefo_key)
            for dose in missing:
                self._covered |= self._needs(dose)
        return self.rows


def lot_suggestion(stock: list[dict], *, presentation_id, count: int, ward_id) -> dict | None:
    """The lot a nurse should take: from her ward's own fridge when it holds enough, else from
    anywhere that does, first-expiry first within each; else the first usable lot at all.

    A suggestion only: pages show it beside the scan box, never in it, so a dose is recorded
    against a lot only when one was scanned or typed.
    """
    rows = [row for row in stock if row["lot__presentation_id"] == presentation_id]
    enough = [row for row in rows if row["on_hand"] >= count]
    own = [row for row in enough if ward_id is not None and row["location__ward_id"] == ward_id]
    row = (own or enough or rows or [None])[0]
    if row is None:
        return None
    return {
        "lot_id": row["lot_id"],
        "lot_number": row["lot__lot_number"],
        "expiry_date": row["lot__expiry_date"].isoformat(),
        "location": row["location__name"],
        "on_ward": ward_id is not None and row["location__ward_id"] == ward_id,
        "on_hand": row["on_hand"],
    }


def _container_kind(line: dict, presentations: dict) -> str:
    presentation = presentations.get(line["presentation_id"])
    return presentation.container if presentation else "container"


def _opened(dose: Dose, presentations: dict, stock, memo: dict | None = None) -> list:
    """The containers a dose opens, each with its suggested lot when `stock` is given."""
    from courses.preparation import Opened

    ward_id = dose.course.patient.ward_id
    return [
        Opened(
            presentation_id=line["presentation_id"],
            label=line["label"],
            strength=Mass(*line["strength_amount"]),
            container=_container_kind(line, presentations),
            count=line["count"],
            lot=(
                _suggested(stock, line["presentation_id"], line["count"], ward_id, memo)[0]
                if stock is not None
                else None
            ),
        )
        for line in dose.vials
    ]


def _suggested(stock: list, presentation_id, count: int, ward_id, memo: dict | None):
    """`lot_suggestion` and its frozen form (for a memo key), once per (stock, presentation,
    count, ward) in a memo: a page's doses ask for the same few. The stock list itself is in
    the entry: a list is never changed in place (SuggestionStock replaces its own), so a memo
    entry is for exactly the rows it was computed from."""
    key = ("lot", id(stock), presentation_id, count, ward_id)
    found = memo.get(key) if memo is not None else None
    if found is None or found[0] is not stock:
        lot = lot_suggestion(stock, presentation_id=presentation_id, count=count, ward_id=ward_id)
        found = (stock, lot, _frozen(lot))
        if memo is not None:
            memo[key] = found
    return found[1:]


@functools.cache
def _diluent_in_english(code: str) -> str:
    """A diluent's name as `courses.preparation` takes it: in English, its msgid (fixed per
    code: the one language it is ever written in here)."""
    from courses.preparation_text import english_name

    return english_name(Diluent(code).label)


def dose_preparation_plan(dose: Dose, *, presentations=None, stock=None, opened=None):
    """The `courses.preparation.Preparation` of one dose (containers, volumes, steps).

    `presentations` (`presentations_by_id()`) and `stock` (`lot_stock()` of the list) are read once by the
    caller for a whole list; without them this reads the presentations itself and suggests no
    lot. `dose.course.protocol` and `dose.course.patient` come from the caller's select_related.
    """
    from courses.preparation import preparation_for

    course = dose.course
    protocol = course.protocol
    if presentations is None:
        presentations = presentations_by_id()
    if opened is None:
        opened = _opened(dose, presentations, stock)
    return preparation_for(
        product=protocol.product.code,
        route=protocol.route,
        dose=Mass(dose.amount, dose.amount_unit),
        containers=opened,
        # In English: the preparation's sentences are msgids, translated when they are written.
        diluent=_diluent_in_english(course.diluent) if course.diluent else "",
        diluent_volume_ml=protocol.diluent_volume_ml,
        drip_rate_drops_per_min=dose.drip_rate_drops_per_min,
        infusion_minutes=dose.infusion_minutes,
        infusion_minutes_range=(protocol.infusion_minutes_min, protocol.infusion_minutes_max),
    )


def dose_preparation(
    dose: Dose, *, presentations=None, stock=None, page: bool = False, memo: dict | None = None
) -> dict:
    """How to prepare and give one dose, as the API shows it (`preparation` of a dose): its
    sentences in the active language, numbers with the point (`page`: as the language writes
    them, the decimal comma in Ukrainian). `memo`: a dict the caller keeps for one page or
    response, so doses with the same inputs share one preparation (never mutate the result);
    it also keeps the lot suggestions and choice labels those doses share (tagged keys)."""
    course = dose.course
    protocol = course.protocol
    language = translation.get_language()
    if presentations is None:
        presentations = presentations_by_id()
    opened = _opened(dose, presentations, stock, memo)
    # Doses with the same inputs (amount, containers and suggested lots, diluent, rate, route,
    # language) have the same preparation: a page or response builds each one once. Everything
    # the preparation reads is in the key.
    if memo is not None:
        key = (
            protocol.product_id,
            protocol.route,
            dose.amount,
            dose.amount_unit,
            tuple(
                (
                    o.presentation_id,
                    o.label,
                    o.strength,
                    o.container,
                    o.count,
                    None if o.lot is None else _frozen(o.lot),
                )
                for o in opened
            ),
            course.diluent,
            protocol.diluent_volume_ml,
            dose.drip_rate_drops_per_min,
            dose.infusion_minutes,
            protocol.infusion_minutes_min,
            protocol.infusion_minutes_max,
            page,
            language,
        )
        if (found := memo.get(key)) is not None:
            return found
    plan = dose_preparation_plan(dose, presentations=presentations, opened=opened)
    render = _renderer(page, language, memo)
    result = {
        **plan.as_dict(render),
        "route_label": _display(protocol, "route", language, memo),
        # `diluent` stays the code it always was; the name is `diluent_label`.
        "diluent": course.diluent,
        "diluent_label": _display(course, "diluent", language, memo) if course.diluent else "",
        "drip_rate_drops_per_min": dose.drip_rate_drops_per_min,
        "infusion_minutes": dose.infusion_minutes,
    }
    if memo is not None:
        memo[key] = result
    return result


def _renderer(page: bool, language: str | None, memo: dict | None):
    """The renderer of a page's or response's preparations, bound to its language (one per
    memo, so the numbers it writes are written once)."""
    from courses import preparation_text

    renderer = preparation_text.PAGE if page else preparation_text.API
    if memo is None:
        return renderer.bound()
    key = ("renderer", page, language)
    found = memo.get(key)
    if found is None:
        found = memo[key] = renderer.bound()
    return found


def _display(instance, name: str, language: str | None, memo: dict | None) -> str:
    """`get_<name>_display()`, once per (model, field, value, language) in a memo: Django's
    translates the choice labels on every call."""
    if memo is None:
        return getattr(instance, f"get_{name}_display")()
    key = ("display", type(instance), name, getattr(instance, name), language)
    found = memo.get(key)
    if found is None:
        found = memo[key] = getattr(instance, f"get_{name}_display")()
    return found


def _frozen(lot: dict | None):
    return None if lot is None else tuple(sorted(lot.items()))


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


def lots_offered(*, on: dt.date, doses) -> dict[tuple[int, int], list[dict]]:
    """The lots Today offers a nurse for these doses: per (ward id, presentation id), the first
    LOTS_OFFERED usable lots at that ward's own locations, first-expiry first (FEFO), each with
    the location and count of its first level there — a handful, not every lot in the hospital.
    One query, whatever the number of doses or lots."""
    wards, presentations = set(), set()
    for dose in doses:
        if len(dose.vials) == 1:
            wards.add(dose.course.patient.ward_id)
            presentations.add(dose.vials[0]["presentation_id"])
    if not presentations:
        return {}
    rank = Window(
        DenseRank(),
        partition_by=[F("location__ward_id"), F("lot__presentation_id")],
        order_by=[F("lot__expiry_date").asc(), F("lot_id").asc()],
    )
    levels = (
        StockLevel.objects.filter(
            usable_q(on),
            on_hand__gt=0,
            lot__presentation_id__in=presentations,
            location__ward_id__in=wards,
        )
        .annotate(rank=rank)
        .filter(rank__lte=LOTS_OFFERED)
        .values(*_STOCK_FIELDS)
    )
    lots: dict[tuple[int, int], list[dict]] = {}
    seen = set()
    for row in sorted(levels, key=_fefo_key):
        key = (row["location__ward_id"], row["lot__presentation_id"])
        if (key, row["lot_id"]) in seen:
            continue
        seen.add((key, row["lot_id"]))
        lots.setdefault(key, []).append(
            {
                "lot_id": row["lot_id"],
                "lot_number": row["lot__lot_number"],
                "expiry_date": row["lot__expiry_date"],
                "location": row["location__name"],
                "on_hand": row["on_hand"],
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


# --- Labels: the printed preparation label and its bedside scan ---------------------------------

LABEL_PREFIX = "dose:"  # the QR code's text is stock.dose_reference(): "dose:<id>"


class LabelRefused(Exception):
    """A scanned label that must not open a dose for recording; the message says why."""


def dose_for_label(user, text: str, *, ward_code: str = "", open_dose_id: int | None = None):
    """The dose a scanned label names, if this user may record it now; else LabelRefused.

    A keyboard-wedge scanner types the QR code's text and Enter. Refused: not a dose label; a
    dose on a ward the user does not record on (or not the ward the page shows); a label of
    another patient than the dose open at the bedside; a cancelled, given or otherwise recorded
    dose; a course on hold; a pharmacy-prepared dose still awaiting its second check.
    """
    from courses.services.preparation import preparation_released

    raw = (text or "").strip()
    if not raw.lower().startswith(LABEL_PREFIX) or not raw[len(LABEL_PREFIX) :].isdigit():
        raise LabelRefused(
            _("“%(text)s” is not a dose label (expected %(prefix)s<number>).")
            % {"text": raw[:40], "prefix": LABEL_PREFIX}
        )
    dose_id = int(raw[len(LABEL_PREFIX) :])
    dose = (
        Dose.objects.select_related(
            "course__patient__ward", "course__protocol__product", "recorded_by", "prepared_by"
        )
        .filter(pk=dose_id)
        .first()
    )
    if dose is None:
        raise LabelRefused(
            _("No dose %(dose)s: this label does not belong to this hospital.") % {"dose": dose_id}
        )
    patient = dose.course.patient
    if not doses_visible(user, write=True).filter(pk=dose_id).exists():
        raise LabelRefused(
            _("This label is for a patient on %(ward)s, not one of your wards: do not give it.")
            % {"ward": patient.ward.name}
        )
    if ward_code and patient.ward.code != ward_code:
        raise LabelRefused(
            _("This label is for a patient on %(ward)s, not the ward shown: do not give it here.")
            % {"ward": patient.ward.name}
        )
    if open_dose_id and open_dose_id != dose_id:
        opened = Dose.objects.select_related("course__patient").filter(pk=open_dose_id).first()
        if opened is not None and opened.course.patient_id != patient.pk:
            other = opened.course.patient
            raise LabelRefused(
                _(
                    "This label is for another patient (MRN %(mrn)s), not %(other)s "
                    "(MRN %(other_mrn)s): do not give it."
                )
                % {"mrn": patient.mrn, "other": other.name, "other_mrn": other.mrn}
            )
    if dose.status == DoseStatus.CANCELLED or dose.course.status == CourseStatus.CANCELLED:
        raise LabelRefused(
            _("Dose %(number)s for MRN %(mrn)s was cancelled: do not give it.")
            % {"number": dose.sequence, "mrn": patient.mrn}
        )
    if dose.status == DoseStatus.GIVEN:
        raise LabelRefused(
            _("Dose %(number)s for MRN %(mrn)s was already given (%(when)s): do not give it again.")
            % {
                "number": dose.sequence,
                "mrn": patient.mrn,
                "when": date_format(timezone.localtime(dose.given_at), "d M H:i"),
            }
        )
    if dose.status != DoseStatus.SCHEDULED:
        raise LabelRefused(
            _("Dose %(number)s for MRN %(mrn)s is recorded as %(status)s: do not give it.")
            % {
                "number": dose.sequence,
                "mrn": patient.mrn,
                "status": dose.get_status_display().lower(),
            }
        )
    if dose.course.status == CourseStatus.ON_HOLD:
        raise LabelRefused(
            _("The course of MRN %(mrn)s is on hold: do not give this dose.") % {"mrn": patient.mrn}
        )
    if not preparation_released(dose):
        raise LabelRefused(
            _(
                "Dose %(number)s for MRN %(mrn)s was prepared in the pharmacy and awaits its "
                "second check: not released to the ward."
            )
            % {"number": dose.sequence, "mrn": patient.mrn}
        )
    return dose


def doses_for_labels(user, *, day: dt.date, ward_code: str = "") -> QuerySet[Dose]:
    """The day's scheduled doses to print labels for (the batch print of a ward's day)."""
    return doses_of_day(user, day=day, ward_code=ward_code).filter(
        status=DoseStatus.SCHEDULED, course__status=CourseStatus.ACTIVE
    )
