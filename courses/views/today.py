"""Today: a day's doses by ward and hour, each recorded with one click (issue 6, item 1)."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.access import page
from config.dates import date_error
from config.roles import RECORDERS, has_role
from courses import selectors, services
from courses.forms import DoseRecordForm
from courses.models import CourseStatus, DoseStatus
from courses.schedule import local_date, local_datetime, local_moment
from courses.views.display import dose_rows
from inventory import selectors as stock_selectors

EXPIRY_DAYS = 30
# Doses a page shows: a pharmacist's all-wards day (900 doses at a large hospital) comes in
# pages of whole rows, each well under a second and a few hundred KB of HTML.
DOSES_PER_PAGE = 50
# Where each service error is shown on a Today row; anything else goes above the row's buttons.
_ERROR_SLOTS = {
    "lot_number": "lot",
    "lot_id": "lot",
    "reason": "reason",
    "given_at": "time",
    "replace": "replace",
}


def _day_from(value: str | None, today: dt.date) -> dt.date:
    """The ?date= asked for; today when it is not a date or outside config.dates' bounds."""
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        return today
    return today if date_error(day) else day


def _record(dose, data: dict, user, now: dt.datetime, replace: bool | None):
    action = data["action"]
    if action == DoseStatus.GIVEN:
        given_at = None
        if data.get("given_time"):
            day = local_date(dose.scheduled_at, dose.course.time_zone)
            given_at = local_datetime(day, data["given_time"], dose.course.time_zone)
        return services.dose_administer(
            dose=dose,
            user=user,
            now=now,
            given_at=given_at,
            lot_number=data.get("lot_number") or "",
            reason=data.get("reason") or "",
        )
    return services.dose_record_not_given(
        dose=dose,
        status=action,
        user=user,
        now=now,
        reason=data.get("reason") or "",
        replace=replace,
    )


def _errors_by_slot(messages_by_field: dict) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for name, texts in messages_by_field.items():
        slots.setdefault(_ERROR_SLOTS.get(name, "other"), []).extend(str(t) for t in texts)
    return slots


def _counters(user, *, today: dt.date, now: dt.datetime, ward_code: str) -> list[dict]:
    overdue = selectors.doses_overdue(
        user, before=now - selectors.on_time_window(), ward_code=ward_code
    ).count()
    excursions = stock_selectors.excursions_list().filter(resolved_at__isnull=True).count()
    expiring = stock_selectors.lots_expiring_within(on=today, days=EXPIRY_DAYS).count()
    short = len(
        stock_selectors.presentations_short(start=today, days=settings.SHORTAGE_HORIZON_DAYS)
    )
    stock_url = reverse("stock")
    return [
        {
            "label": _("Overdue doses"),
            "value": overdue,
            "url": f"{reverse('today')}?show=overdue" + (f"&ward={ward_code}" if ward_code else ""),
        },
        {
            "label": _("Open temperature excursions"),
            "value": excursions,
            "url": reverse("cold-chain"),
        },
        {
            "label": ngettext(
                "Lots expiring within %(days)d day",
                "Lots expiring within %(days)d days",
                EXPIRY_DAYS,
            )
            % {"days": EXPIRY_DAYS},
            "value": expiring,
            "url": stock_url,
        },
        {
            "label": ngettext(
                "Presentations short in the next %(days)d day",
                "Presentations short in the next %(days)d days",
                settings.SHORTAGE_HORIZON_DAYS,
            )
            % {"days": settings.SHORTAGE_HORIZON_DAYS},
            "value": short,
            "url": stock_url,
        },
    ]


def _offer_lots(rows, *, offered: dict) -> None:
    """Each one-presentation row's lots for the scan box's list — the first few usable at its
    ward's own locations (selectors.lots_offered) — and the suggested lot: the ward's own fridge
    first (selectors.lot_suggestion). Shown beside the box, never in it."""
    for row in rows:
        if len(row.dose.vials) != 1:
            continue
        ward_id = row.dose.course.patient.ward_id
        row.lots = offered.get((ward_id, row.dose.vials[0]["presentation_id"]), [])
        suggestion = row.prep["containers"][0]["suggested_lot"]
        row.suggested_lot = suggestion["lot_number"] if suggestion else ""
        row.suggestion = suggestion


def _groups(rows, *, overdue_only: bool, ward_totals: dict) -> list[dict]:
    """Rows by ward, then by hour (by day and hour when listing overdue doses of many days).
    A ward's count is its doses on every page (`ward_totals`), not only on this one."""
    fmt = "D d M H:00" if overdue_only else "H:00"

    def hour(row):
        # Django's date format: the day and month names in the page's language.
        return date_format(local_moment(row.dose.scheduled_at, row.dose.course.time_zone), fmt)

    groups = []
    for ward, ward_rows in groupby(rows, key=lambda r: r.dose.course.patient.ward):
        ward_rows = list(ward_rows)
        groups.append(
            {
                "ward": ward,
                "count": ward_totals.get(ward.pk, len(ward_rows)),
                "hours": [
                    {"hour": label, "rows": list(items)}
                    for label, items in groupby(ward_rows, key=hour)
                ],
            }
        )
    return groups


def _page(request, doses, *, count: int):
    """The page of doses asked for (?page=); with ?open=<dose id> and no page, the page that
    holds that dose (a scanned label opens it wherever it falls)."""
    number = request.GET.get("page")
    opened = _open_id(request.GET.get("open"))
    if not number and opened is not None:
        ids = list(doses.values_list("pk", flat=True))
        if opened in ids:
            number = ids.index(opened) // DOSES_PER_PAGE + 1
    paginator = Paginator(doses, DOSES_PER_PAGE)
    paginator.count = count  # known already: no second COUNT
    return paginator.get_page(number)


def listed_doses(user, *, day, ward_code, overdue_only, now):
    """The doses Today lists, in the page's order: the page and its live updates
    (`today_live`) paginate the same list, so both agree on which doses one page shows."""
    if overdue_only:
        return selectors.doses_overdue(
            user, before=now - selectors.on_time_window(), ward_code=ward_code
        ).order_by("course__patient__ward__name", "scheduled_at", "course__patient__name")
    return selectors.doses_of_day(user, day=day, ward_code=ward_code)


def _context(request, *, day, ward_code, overdue_only, failed=None) -> dict:
    user = request.user
    now = timezone.now()
    today = timezone.localdate()
    doses = listed_doses(user, day=day, ward_code=ward_code, overdue_only=overdue_only, now=now)
    # Each ward's doses on every page, for its heading; their sum is the paginator's count.
    ward_totals = dict(
        doses.values_list("course__patient__ward").annotate(n=Count("pk")).order_by()
    )
    page_obj = _page(request, doses, count=sum(ward_totals.values()))
    doses = list(page_obj)
    rows = dose_rows(
        doses,
        now=now,
        today=today,
        presentations=selectors.presentations_by_id(),
        stock=selectors.lot_stock(on=today, doses=doses),
    )
    _offer_lots(rows, offered=selectors.lots_offered(on=today, doses=doses))
    may_record = has_role(user, *RECORDERS)
    for row in rows:
        row.can_record = (
            may_record
            and row.dose.status == DoseStatus.SCHEDULED
            and row.dose.course.status in {CourseStatus.ACTIVE, CourseStatus.ON_HOLD}
            and not row.dose.held_by_course
        )
        if failed and failed["dose"] == row.dose.pk:
            row.errors, row.values = failed["errors"], failed["values"]
    wards = list(selectors.wards_visible(user))
    return {
        "day": day,
        "today": today,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "ward_code": ward_code,
        "wards": wards,
        "overdue_only": overdue_only,
        "groups": _groups(rows, overdue_only=overdue_only, ward_totals=ward_totals),
        "dose_count": page_obj.paginator.count,
        "page_obj": page_obj,
        "counters": _counters(user, today=today, now=now, ward_code=ward_code),
        "failed_dose": failed["dose"] if failed else None,
        "open_dose": _open_id(request.GET.get("open")),
    }


def _open_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _scanned(request, *, ward_code: str):
    """A label scanned into the scan box (keyboard-wedge: its text, then Enter): open the dose
    it names on its day, ready to record, or say why it must not be given."""
    try:
        dose = selectors.dose_for_label(
            request.user,
            request.GET["scan"],
            ward_code=ward_code,
            open_dose_id=_open_id(request.GET.get("open")),
        )
    except selectors.LabelRefused as refusal:
        messages.error(request, _("Label refused: %(reason)s") % {"reason": refusal})
        query = request.GET.copy()
        query.pop("scan")
        return redirect(f"{reverse('today')}?{query.urlencode()}")
    patient = dose.course.patient
    messages.info(
        request,
        _(
            "Label scanned: dose %(number)s for %(name)s (MRN %(mrn)s). Check the patient's "
            "wristband, scan the vial, then record."
        )
        % {"number": dose.sequence, "name": patient.name, "mrn": patient.mrn},
    )
    day = local_date(dose.scheduled_at, dose.course.time_zone)
    query = f"date={day:%Y-%m-%d}&open={dose.pk}" + (f"&ward={ward_code}" if ward_code else "")
    return redirect(f"{reverse('today')}?{query}#dose-{dose.pk}")


@page(write=RECORDERS)
def today(request):
    """GET: the day's doses (?date=YYYY-MM-DD, ?ward=code, ?show=overdue, ?open=dose id) or a
    scanned label (?scan=dose:<id>). POST: record one."""
    day = _day_from(request.GET.get("date"), timezone.localdate())
    ward_code = request.GET.get("ward", "")
    overdue_only = request.GET.get("show") == "overdue"
    if request.method == "GET" and request.GET.get("scan", "").strip():
        return _scanned(request, ward_code=ward_code)
    failed = None
    if request.method == "POST":
        form = DoseRecordForm(request.POST)
        values = {key: request.POST.get(key, "") for key in form.fields}
        if not form.is_valid():
            failed = {
                "dose": form.cleaned_data.get("dose"),
                "errors": _errors_by_slot(
                    {("given_at" if k == "given_time" else k): v for k, v in form.errors.items()}
                ),
                "values": values,
            }
        else:
            dose = get_object_or_404(
                selectors.doses_visible(request.user, write=True), pk=form.cleaned_data["dose"]
            )
            try:
                recorded = _record(
                    dose, form.cleaned_data, request.user, timezone.now(), form.replace_answer()
                )
            except ValidationError as error:
                by_field = (
                    error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
                )
                failed = {"dose": dose.pk, "errors": _errors_by_slot(by_field), "values": values}
            else:
                patient = recorded.course.patient
                values = {
                    "name": patient.name,
                    "mrn": patient.mrn,
                    "number": recorded.sequence,
                    "status": str(recorded.get_status_display()).lower(),
                    "lot": recorded.lot_number,
                }
                if recorded.lot_number:
                    text = _(
                        "%(name)s (MRN %(mrn)s): dose %(number)s recorded as %(status)s from lot "
                        "%(lot)s."
                    )
                else:
                    text = _("%(name)s (MRN %(mrn)s): dose %(number)s recorded as %(status)s.")
                messages.success(request, text % values)
                return redirect(f"{request.get_full_path()}#dose-{recorded.pk}")
    if failed and failed["dose"] is None:
        messages.error(request, _("That dose could not be read; reload the page and try again."))
    context = _context(
        request, day=day, ward_code=ward_code, overdue_only=overdue_only, failed=failed
    )
    return render(request, "courses/today.html", context)
