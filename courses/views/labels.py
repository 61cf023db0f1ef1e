"""Printable preparation labels: one dose's, or a ward's day (100 × 70 mm label printer or A4)."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from config.access import page
from config.roles import RECORDERS, has_role
from courses import selectors, services, stock
from courses.views.display import dose_rows

FORMATS = ("label", "a4")


def _qr_svg(text: str) -> str:
    # A full QR code (never Micro QR, which many ward scanners do not read), inline SVG.
    return segno.make_qr(text, error="m").svg_inline(scale=3, border=2, title=text)


def _labels(request, doses) -> list:
    today = timezone.localdate()
    doses = list(doses)
    rows = dose_rows(
        doses,
        now=timezone.now(),
        today=today,
        presentations=selectors.presentations_by_id(),
        stock=selectors.lot_stock(on=today, doses=doses),
    )
    for row in rows:
        row.reference = stock.dose_reference(row.dose.pk)
        row.qr = mark_safe(_qr_svg(row.reference))  # segno's own SVG: no user text in it
        row.released = services.preparation_released(row.dose)
    return rows


def _format(request) -> str:
    value = request.GET.get("format", "label")
    return value if value in FORMATS else "label"


@page(write=RECORDERS)
def dose_label(request, pk: int):
    """GET: the dose's label. POST action=prepared|check: record who prepared / checked it."""
    dose = get_object_or_404(
        selectors.doses_visible(request.user, write=request.method == "POST"), pk=pk
    )
    if request.method == "POST":
        action = request.POST.get("action")
        record = {
            "prepared": services.dose_prepared_record,
            "check": services.dose_preparation_check,
        }.get(action)
        if record is None:
            messages.error(request, _("Choose “prepared” or “checked”."))
        else:
            try:
                record(dose=dose, user=request.user, now=timezone.now())
            except ValidationError as error:
                for text in error.messages:
                    messages.error(request, text)
            else:
                messages.success(
                    request,
                    _("Preparation recorded.") if action == "prepared" else _("Check recorded."),
                )
        return redirect(request.get_full_path())
    return render(
        request,
        "courses/labels.html",
        {
            "rows": _labels(request, [dose]),
            "format": _format(request),
            "single": True,
            "can_record": has_role(request.user, *RECORDERS),
            "title": _("Label: dose %(sequence)s, MRN %(mrn)s")
            % {"sequence": dose.sequence, "mrn": dose.course.patient.mrn},
        },
    )


@page()
def day_labels(request):
    """A ward's day of labels (?date=YYYY-MM-DD, ?ward=code, ?format=label|a4)."""
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    ward_code = request.GET.get("ward", "")
    doses = list(selectors.doses_for_labels(request.user, day=day, ward_code=ward_code))
    return render(
        request,
        "courses/labels.html",
        {
            "rows": _labels(request, doses),
            "format": _format(request),
            "single": False,
            "day": day,
            "ward_code": ward_code,
            "title": _("Labels for %(day)s") % {"day": date_format(day, "D d M Y")}
            + (f" · {ward_code}" if ward_code else ""),
        },
    )
