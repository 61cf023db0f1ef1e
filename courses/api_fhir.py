"""Read-only FHIR R4 endpoints: Patient, MedicationRequest (a course) and
MedicationAdministration (a recorded dose), by id and by patient, under /api/v1/fhir/.

They answer `application/fhir+json` (also to `Accept: application/fhir+json`) or plain JSON, and
see exactly what the rest of the API lets the user see: nurses their wards' patients, another
ward's id is a 404. Errors keep the project's error shape, as `application/json` — or as
`application/fhir+json` to a client accepting only that (config.api.error_renderers).
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import fhir, selectors

SEARCH_LIMIT = 500


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


FHIR_RENDERERS = [FhirJSONRenderer, JSONRenderer]
_RESOURCE = {"type": "object", "additionalProperties": True}


def _resource(description: str) -> OpenApiResponse:
    return OpenApiResponse(_RESOURCE, description=f"{description} (https://hl7.org/fhir/R4/).")


# A search by an unknown patient, or one the caller may not see, is a 404 like a read by id.
_UNKNOWN_PATIENT = OpenApiResponse(description="No such patient, or not one the caller may see.")


def _pk(value: str) -> int:
    if not value.isdigit():
        raise Http404
    return int(value)


def _patient_param(request) -> int:
    value = request.query_params.get("patient", "").removeprefix("Patient/")
    if not value:
        raise ValidationError({"patient": _("Search by patient: ?patient=<id>.")})
    if not value.isdigit():
        raise ValidationError({"patient": _("A patient id is a number (or Patient/<id>).")})
    if not selectors.patients_visible(request.user).filter(pk=int(value)).exists():
        raise Http404
    return int(value)


class _FhirView(APIView):
    renderer_classes = FHIR_RENDERERS


class PatientRead(_FhirView):
    @extend_schema(
        responses={200: _resource("A Patient resource")},
        tags=["fhir"],
        operation_id="fhir_patient_read",
    )
    def get(self, request, pk: str):
        patient = selectors.patients_visible(request.user).filter(pk=_pk(pk)).first()
        if patient is None:
            raise Http404
        return Response(fhir.patient_resource(patient))


class MedicationRequestRead(_FhirView):
    @extend_schema(
        responses={200: _resource("A MedicationRequest resource: one course")},
        tags=["fhir"],
        operation_id="fhir_request_read",
    )
    def get(self, request, pk: str):
        course = selectors.courses_visible(request.user).filter(pk=_pk(pk)).first()
        if course is None:
            raise Http404
        return Response(fhir.medication_request_resource(course))


class MedicationRequestSearch(_FhirView):
    @extend_schema(
        parameters=[OpenApiParameter("patient", OpenApiTypes.STR, required=True)],
        responses={
            200: _resource("A searchset Bundle of the patient's MedicationRequests"),
            404: _UNKNOWN_PATIENT,
        },
        tags=["fhir"],
        operation_id="fhir_request_search",
    )
    def get(self, request):
        patient = _patient_param(request)
        courses = selectors.courses_visible(request.user).filter(patient_id=patient)
        return Response(fhir.requests_searchset(courses[:SEARCH_LIMIT]))


class MedicationAdministrationRead(_FhirView):
    @extend_schema(
        responses={200: _resource("A MedicationAdministration resource: one recorded dose")},
        tags=["fhir"],
        operation_id="fhir_administration_read",
    )
    def get(self, request, pk: str):
        dose = selectors.doses_visible(request.user).filter(pk=_pk(pk)).first()
        if dose is None or not fhir.recorded([dose]):
            raise Http404
        lots = fhir.dispensed_lots([dose]).get(dose.pk)
        return Response(fhir.medication_administration_resource(dose, lots))


class MedicationAdministrationSearch(_FhirView):
    @extend_schema(
        parameters=[OpenApiParameter("patient", OpenApiTypes.STR, required=True)],
        responses={
            200: _resource("A searchset Bundle of the patient's MedicationAdministrations"),
            404: _UNKNOWN_PATIENT,
        },
        tags=["fhir"],
        operation_id="fhir_administration_search",
    )
    def get(self, request):
        patient = _patient_param(request)
        doses = (
            selectors.doses_visible(request.user)
            .filter(course__patient_id=patient)
            .exclude(status__in=["scheduled", "cancelled"])
        )
        return Response(fhir.administrations_searchset(list(doses[:SEARCH_LIMIT])))
