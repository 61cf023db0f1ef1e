"""Patients: add one, record a weight (what a prescriber needs without the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from config.access import page
from config.forms import service_errors_to_form
from config.roles import PRESCRIBERS, WEIGHERS, has_role
from courses import selectors, services
from courses.forms import PatientForm, WeightForm

PAGE_SIZE = 25


@page(write=PRESCRIBERS)
def patient_list(request):
    """GET: patients (?q= name or MRN). POST (physicians, pharmacists): add a patient."""
    user = request.user
    form = PatientForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        weight_kg, measured_on = data.pop("weight_kg"), data.pop("measured_on")
        try:
            patient = services.patient_save(
                fields=data, weight_kg=weight_kg, measured_on=measured_on, user=user
            )
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(
                request,
                _("%(name)s (MRN %(mrn)s) added.") % {"name": patient.name, "mrn": patient.mrn},
            )
            return redirect("patient-page", pk=patient.pk)
    patients = selectors.patients_visible(user)
    search = request.GET.get("q", "").strip()
    patients = selectors.patients_matching(patients, search)
    return render(
        request,
        "courses/patient_list.html",
        {
            "form": form,
            "search": search,
            "page_obj": Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page")),
            "can_add": has_role(user, *PRESCRIBERS),
            "adding": request.method == "POST",
        },
    )


@page(write=WEIGHERS)
def patient_page(request, pk: int):
    """GET: the patient, weights and courses. POST (nurses, physicians, pharmacists): a weight."""
    user = request.user
    recording = request.method == "POST"
    patient = get_object_or_404(selectors.patients_visible(user, write=recording), pk=pk)
    form = WeightForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            weight = services.patient_weight_record(
                patient=patient,
                weight_kg=form.cleaned_data["weight_kg"],
                measured_on=form.cleaned_data["measured_on"],
                user=user,
            )
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(
                request,
                _("Weight %(weight)s kg on %(day)s.")
                % {
                    "weight": number_format(weight.weight_kg),
                    "day": date_format(weight.measured_on),
                },
            )
            return redirect("patient-page", pk=patient.pk)
    courses = selectors.courses_listed(user).filter(patient=patient)
    return render(
        request,
        "courses/patient_detail.html",
        {
            "patient": patient,
            "form": form,
            "courses": courses,
            "can_weigh": has_role(user, *WEIGHERS),
            "can_prescribe": has_role(user, *PRESCRIBERS),
        },
    )
