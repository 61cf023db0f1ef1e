"""Courses: the list, a course's page with its actions and downloads, the prescribe form."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.access import page
from config.forms import service_errors_to_form
from config.roles import PRESCRIBERS, Role, has_role
from courses import exports, selectors, services
from courses.forms import CourseActionForm, CourseFilterForm, PrescribeForm, phase_ranges
from courses.models import Protocol
from courses.preparation_text import pattern_text
from courses.schedule import local_date, local_datetime
from courses.timeline import SHAPES, TimelineDose, timeline_svg
from courses.views.display import age_text, best_unit_text, decimal_text, dose_rows, mass_text
from inventory.models import Product

PAGE_SIZE = 25
KEPT_ON_RELOAD = (
    "patient",
    "protocol",
    "start_date",
    "administration_time",
    "override_reason",
    "notes",
)


@page()
def course_list(request):
    user = request.user
    wards = list(selectors.wards_visible(user))
    products = list(Product.objects.order_by("name").values_list("code", "name"))
    form = CourseFilterForm(request.GET or None, wards=wards, products=products)
    filters = form.cleaned_data if form.is_valid() else {}
    courses = selectors.courses_listed(
        user,
        status=filters.get("status", ""),
        ward_code=filters.get("ward", ""),
        product_code=filters.get("product", ""),
        search=filters.get("q", ""),
    )
    page_obj = Paginator(courses, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "courses/course_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "can_prescribe": has_role(user, *PRESCRIBERS),
        },
    )


def _course_context(request, course, *, action_form=None, failed_action="") -> dict:
    now = timezone.now()
    doses = [d for d in course.doses.all()]
    for dose in doses:
        dose.course = course  # the prefetched doses would each load their course again
    rows = dose_rows(
        doses,
        now=now,
        today=timezone.localdate(),
        # No lot suggestion here: the course page spans weeks; Today and the label suggest lots.
        presentations=selectors.presentations_by_id(),
    )
    phases = list(course.phases.all())
    for phase in phases:
        phase.pattern_text = pattern_text(phase.pattern)
        phase.dose_amount_text = mass_text(phase.dose_amount, phase.amount_unit)
        if phase.dose_value is not None:  # as prescribed: "15 нг/кг", "1,5 мг/кг"
            phase.dose_value_text = (
                f"{decimal_text(phase.dose_value.normalize())} {phase.get_dose_unit_display()}"
            )
    return {
        "course": course,
        "age": age_text(course.age_months),
        "phases": phases,
        "rows": rows,
        "given": sum(1 for d in doses if d.status == "given"),
        "planned": sum(1 for d in doses if d.status != "cancelled"),
        "calendar": _calendar(rows),
        "timeline": _timeline(rows, phases, timezone.localdate()),
        "can_manage": has_role(request.user, *PRESCRIBERS),
        "action_form": action_form,
        "failed_action": failed_action,
        "today": timezone.localdate(),
    }


def _timeline(rows, phases, today: dt.date) -> str:
    """The course's doses across phases and cycles as SVG (courses.timeline); "" when none."""
    order = {phase.pk: phase.order for phase in phases}
    doses = [
        TimelineDose(
            day=local_date(row.dose.scheduled_at, row.dose.course.time_zone),
            sequence=row.dose.sequence,
            status=row.status,
            status_label=str(row.status_label),
            phase=order.get(row.dose.phase_id, 1),
            dose_id=row.dose.pk,
        )
        for row in rows
        if row.status in SHAPES
    ]
    if not doses:
        return ""
    return mark_safe(  # noqa: S308 — timeline_svg escapes every text it writes
        timeline_svg(
            doses=doses,
            phase_labels={phase.order: _("Phase %(n)s") % {"n": phase.order} for phase in phases},
            cycle_phases=frozenset(p.order for p in phases if p.pattern.get("kind") == "cycles"),
            today=today,
            title=_("Doses by date, one line per phase"),
            words={"dose": _("Dose %(n)s"), "cycle": _("Cycle %(n)s"), "today": _("today")},
            day_text=lambda day: date_format(day, "d M Y"),
        )
    )


def _calendar(rows) -> list[dict]:
    """Month grids (Monday first) with each day's dose statuses, for the course page."""
    by_day: dict[dt.date, list] = {}
    for row in rows:
        if row.status == "cancelled":
            continue
        by_day.setdefault(local_date(row.dose.scheduled_at, row.dose.course.time_zone), []).append(
            row
        )
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    months = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        start = month - dt.timedelta(days=month.weekday())
        weeks, day = [], start
        while day < following:
            weeks.append(
                [
                    {
                        "date": day + dt.timedelta(days=i),
                        "in_month": (day + dt.timedelta(days=i)).month == month.month,
                        "rows": by_day.get(day + dt.timedelta(days=i), []),
                    }
                    for i in range(7)
                ]
            )
            day += dt.timedelta(days=7)
        months.append({"month": month, "weeks": weeks})
        month = following
    return months


def _visible_course(request, pk: int):
    return get_object_or_404(selectors.courses_visible(request.user), pk=pk)


def _run_action(course, data: dict, user):
    action, on = data["action"], data.get("on") or timezone.localdate()
    if action == "hold":
        return services.course_hold(course=course, user=user, on=on, reason=data["reason"])
    if action == "resume":
        return services.course_resume(course=course, user=user, on=on)
    return services.course_cancel(course=course, user=user, reason=data["reason"])


@page(write=PRESCRIBERS)
def course_page(request, pk: int):
    """GET: the course. POST (physicians, pharmacists): hold, resume or cancel it."""
    course = _visible_course(request, pk)
    form, failed = None, ""
    if request.method == "POST":
        form = CourseActionForm(request.POST)
        failed = request.POST.get("action", "")
        if form.is_valid():
            try:
                _run_action(course, form.cleaned_data, request.user)
            except ValidationError as error:
                service_errors_to_form(form, error)
            else:
                done = {
                    "hold": _("Course %(number)s held."),
                    "resume": _("Course %(number)s resumed."),
                    "cancel": _("Course %(number)s cancelled."),
                }
                messages.success(request, done[failed] % {"number": course.pk})
                return redirect("course-page", pk=course.pk)
        course = _visible_course(request, pk)
    context = _course_context(request, course, action_form=form, failed_action=failed)
    return render(request, "courses/course_detail.html", context)


@page()
def course_ical(request, pk: int):
    course = _visible_course(request, pk)
    response = HttpResponse(
        exports.course_ical(course), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = exports.download_disposition(f"course-{course.pk}.ics")
    return response


@page()
def course_fhir(request, pk: int):
    course = _visible_course(request, pk)
    body = json.dumps(exports.course_fhir(course), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = exports.download_disposition(f"course-{course.pk}.fhir.json")
    return response


# --- Prescribing -------------------------------------------------------------------------------


def _protocol_from(value: str | None):
    if not value:
        return None
    return (
        Protocol.objects.select_related("product")
        .prefetch_related("phases")
        .filter(code=value)
        .first()
    )


def _preview(draft, form, protocol) -> dict:
    """What the Check step shows: the planned doses, the verdicts, the patient data used."""
    at = form.cleaned_data.get("administration_time") or services.DEFAULT_ADMINISTRATION_TIME
    zone = timezone.get_current_timezone_name()
    doses = []
    for phase in draft.phases:
        # Each dose's own amount: an age band follows the patient's age on the dose's date.
        for day, amount in zip(phase.days, phase.amounts, strict=True):
            doses.append(
                {
                    "phase": phase.protocol_phase.order,
                    "at": local_datetime(day, at, zone),
                    "day_number": (day - draft.start_date).days + 1,
                    "amount": best_unit_text(amount) if amount else "—",
                }
            )
    doses.sort(key=lambda d: d["at"])
    for number, dose in enumerate(doses, start=1):
        dose["number"] = number
    return {
        "doses": doses,
        "start_date": draft.start_date,
        "hard_stops": draft.hard_stops,
        "warnings": draft.warnings,
        "total": mass_text(draft.total.amount, draft.total.unit),
        "weight": draft.weight,
        "age": age_text(draft.age_months),
        "phases": [
            {
                "order": p.protocol_phase.order,
                "pattern": pattern_text(p.pattern),
                "count": p.count,
                "amount": best_unit_text(p.amount) if p.amount else "—",
            }
            for p in draft.phases
        ],
    }


@page(read=PRESCRIBERS, write=PRESCRIBERS)
def course_prescribe(request):
    """Choose patient and protocol, then the label's choices; Check shows the plan and the
    verdicts before anything is saved; Save prescribes through services.course_create."""
    user = request.user
    today = timezone.localdate()
    source = request.POST if request.method == "POST" else request.GET
    protocol = _protocol_from(source.get("protocol"))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    initial = {"start_date": today, "patient": request.GET.get("patient")}
    find = source.get("find", "")[:100]  # a name or MRN typed to narrow the patient list
    if action == "load":
        # A protocol was (re)chosen: its own fields start afresh (a dose typed for another
        # product's unit must not carry over); what applies to any protocol is kept.
        kept = {name: request.POST.get(name) for name in KEPT_ON_RELOAD if request.POST.get(name)}
        form = PrescribeForm(initial={**initial, **kept}, user=user, protocol=protocol, find=find)
    elif request.method == "POST":
        form = PrescribeForm(request.POST, user=user, protocol=protocol, find=find)
    else:
        form = PrescribeForm(initial=initial, user=user, protocol=protocol, find=find)
        if protocol is not None:
            form.initial["protocol"] = protocol.code
    preview, stops = None, []
    if action in {"check", "save"} and protocol is None:
        form.is_valid()
        form.add_error("protocol", gettext_lazy("Choose a protocol."))
    elif action in {"check", "save"} and form.is_valid():
        kwargs = form.service_kwargs()
        patient = form.cleaned_data["patient"]
        if not form.errors:
            try:
                if action == "save":
                    course = services.course_create(
                        patient=patient,
                        protocol=protocol,
                        user=user,
                        on=today,
                        administration_time=form.cleaned_data["administration_time"],
                        override_reason=form.cleaned_data["override_reason"],
                        notes=form.cleaned_data["notes"],
                        **kwargs,
                    )
                    messages.success(
                        request,
                        _("Course %(number)s prescribed: %(product)s for %(name)s (MRN %(mrn)s).")
                        % {
                            "number": course.pk,
                            "product": protocol.product.name,
                            "name": patient.name,
                            "mrn": patient.mrn,
                        },
                    )
                    return redirect("course-page", pk=course.pk)
                draft = services.course_check(
                    patient=patient, protocol=protocol, on=today, **kwargs
                )
                preview = _preview(draft, form, protocol)
            except ValidationError as error:
                stops = form.add_service_errors(error)
                if stops:
                    # Show the plan next to the stops, so the prescriber sees what they override.
                    try:
                        draft = services.course_check(
                            patient=patient, protocol=protocol, on=today, **kwargs
                        )
                        preview = _preview(draft, form, protocol)
                    except ValidationError:
                        preview = None
    return render(
        request,
        "courses/prescribe.html",
        {
            "form": form,
            "protocol": protocol,
            "ranges": phase_ranges(protocol) if protocol else [],
            "preview": preview,
            "save_stops": stops,
            "is_physician": has_role(user, Role.PHYSICIAN),
        },
    )
