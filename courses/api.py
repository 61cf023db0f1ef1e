import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import Conflict, validated
from config.dates import DateFilter
from config.roles import PRESCRIBERS, RECORDERS, WEIGHERS
from courses import exports, selectors, services
from courses.api_fhir import FHIR_RENDERERS
from courses.models import Course, Dose, DoseStatus, Protocol, ProtocolPhase
from courses.serializers import (
    CourseCreateSerializer,
    CourseSerializer,
    CourseStatusSerializer,
    DoseAdministerSerializer,
    DoseListSerializer,
    DoseNotGivenSerializer,
    PatientSerializer,
    PatientWeightSerializer,
    ProtocolSerializer,
)
from history.api import HistoryMixin


class ProtocolViewSet(HistoryMixin, viewsets.ModelViewSet):
    """Regimens from the leaflets, phases nested. Any role reads; pharmacists write."""

    queryset = (
        Protocol.objects.select_related("product")
        .prefetch_related(Prefetch("phases", queryset=ProtocolPhase.objects.order_by("order")))
        .order_by("product__name", "sort_order")
    )
    serializer_class = ProtocolSerializer
    filterset_fields = ["product", "product__code", "population", "route", "code"]
    ordering_fields = ["code", "sort_order"]


# --- Patients, courses, doses -------------------------------------------------------------------

# Exports answered as files, not JSON: their schema says so, so that clients read them as text.
ICALENDAR = OpenApiResponse(OpenApiTypes.STR, description="An iCalendar file (RFC 5545).")
FHIR_BUNDLE = OpenApiResponse(
    {
        "type": "object",
        "description": "A FHIR R4 Bundle (https://hl7.org/fhir/R4/bundle.html).",
        "properties": {
            "resourceType": {"type": "string", "enum": ["Bundle"]},
            "type": {"type": "string"},
            "entry": {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        },
        "required": ["resourceType", "type"],
        "additionalProperties": {},
    },
    description="A FHIR R4 Bundle with the course's MedicationRequest and "
    "MedicationAdministration resources.",
)


class PatientViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Patients with their weights. Physicians and pharmacists write; nurses record weights and
    see only their wards' patients."""

    serializer_class = PatientSerializer
    write_roles = PRESCRIBERS
    action_roles = {"weights": WEIGHERS}
    filterset_fields = {"mrn": ["exact"], "ward__code": ["exact"]}
    ordering_fields = ["name", "mrn"]

    def get_queryset(self):
        recording = self.action == "weights" and self.request.method == "POST"
        return selectors.patients_visible(self.request.user, write=recording)

    def perform_create(self, serializer):
        serializer.instance = self._save(None, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def _save(self, patient, data):
        data = dict(data)
        weight_kg, measured_on = data.pop("weight_kg", None), data.pop("measured_on", None)
        saved = services.patient_save(
            patient=patient,
            fields=data,
            weight_kg=weight_kg,
            measured_on=measured_on,
            user=self.request.user,
        )
        return self.get_queryset().get(pk=saved.pk)

    @extend_schema(methods=["GET"], responses=PatientWeightSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=PatientWeightSerializer,
        responses={201: PatientWeightSerializer},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=PatientWeightSerializer)
    def weights(self, request, pk=None):
        patient = self.get_object()
        if request.method == "POST":
            data = validated(PatientWeightSerializer, request.data)
            weight = services.patient_weight_record(
                patient=patient,
                weight_kg=data["weight_kg"],
                measured_on=data.get("measured_on"),
                user=request.user,
            )
            return Response(PatientWeightSerializer(weight).data, status=status.HTTP_201_CREATED)
        return Response(PatientWeightSerializer(patient.weights.all(), many=True).data)


class CourseViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Courses with phases, doses, hard stops, overrides and warnings nested.

    POST prescribes (physicians, pharmacists; overriding a hard stop needs a physician and
    `override_reason`). Actions: hold, resume, cancel, ical, fhir.
    """

    serializer_class = CourseSerializer
    write_roles = PRESCRIBERS
    filterset_fields = {
        "status": ["exact"],
        "patient": ["exact"],
        "protocol__code": ["exact"],
        "patient__ward__code": ["exact"],
    }
    ordering_fields = ["start_date", "id"]

    def get_queryset(self):
        return selectors.courses_visible(self.request.user)

    def _detail(self, course: Course, code=status.HTTP_200_OK) -> Response:
        return Response(CourseSerializer(self.get_queryset().get(pk=course.pk)).data, status=code)

    @extend_schema(request=CourseCreateSerializer, responses={201: CourseSerializer})
    def create(self, request):
        data = validated(CourseCreateSerializer, request.data)
        patient = data.pop("patient")
        if not selectors.patients_visible(request.user).filter(pk=patient.pk).exists():
            raise ValidationError({"patient": _("Unknown patient.")})
        course = services.course_create(
            patient=patient,
            protocol=data.pop("protocol"),
            user=request.user,
            on=timezone.localdate(),
            **data,
        )
        return self._detail(course, status.HTTP_201_CREATED)

    @extend_schema(request=CourseStatusSerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], serializer_class=CourseStatusSerializer)
    def hold(self, request, pk=None):
        data = validated(CourseStatusSerializer, request.data)
        course = services.course_hold(
            course=self.get_object(),
            user=request.user,
            on=data.get("on") or timezone.localdate(),
            reason=data.get("reason", ""),
        )
        return self._detail(course)

    @extend_schema(request=CourseStatusSerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], serializer_class=CourseStatusSerializer)
    def resume(self, request, pk=None):
        data = validated(CourseStatusSerializer, request.data)
        course = services.course_resume(
            course=self.get_object(), user=request.user, on=data.get("on") or timezone.localdate()
        )
        return self._detail(course)

    @extend_schema(request=CourseStatusSerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], serializer_class=CourseStatusSerializer)
    def cancel(self, request, pk=None):
        data = validated(CourseStatusSerializer, request.data)
        course = services.course_cancel(
            course=self.get_object(), user=request.user, reason=data.get("reason", "")
        )
        return self._detail(course)

    def destroy(self, request, pk=None):
        """Delete a course prescribed in error; one with any recorded dose answers 409 (cancel
        it instead)."""
        try:
            services.course_delete(course=self.get_object(), user=request.user)
        except services.RecordedDosesKept as refusal:
            raise Conflict(str(refusal)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "text/calendar"): ICALENDAR})
    @action(detail=True, methods=["get"])
    def ical(self, request, pk=None):
        body = exports.course_ical(self.get_object())
        return HttpResponse(body, content_type="text/calendar; charset=utf-8")

    @extend_schema(
        responses={
            (200, "application/json"): FHIR_BUNDLE,
            (200, "application/fhir+json"): FHIR_BUNDLE,
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def fhir(self, request, pk=None):
        return Response(exports.course_fhir(self.get_object()))


class DoseFilter(django_filters.FilterSet):
    date = DateFilter(method="filter_date", label="Doses on this local date")
    start = DateFilter(method="filter_from", label="From this local date")
    end = DateFilter(method="filter_to", label="Up to this local date")
    ward = django_filters.CharFilter(field_name="course__patient__ward__code")
    status = django_filters.ChoiceFilter(choices=DoseStatus.choices)
    course = django_filters.NumberFilter(field_name="course_id")
    patient = django_filters.NumberFilter(field_name="course__patient_id")

    class Meta:
        model = Dose
        fields = ["date", "start", "end", "ward", "status", "course", "patient"]

    def filter_date(self, queryset, name, value):
        return self.filter_to(self.filter_from(queryset, name, value), name, value)

    def filter_from(self, queryset, name, value):
        return queryset.filter(scheduled_at__gte=selectors.day_window(value)[0])

    def filter_to(self, queryset, name, value):
        return queryset.filter(scheduled_at__lt=selectors.day_window(value)[1])

    def __init__(self, data=None, *args, **kwargs):
        # `from` and `to` are Python keywords: accept them as query names, filter as start/end.
        if data is not None:
            data = data.copy()
            for alias, name in (("from", "start"), ("to", "end")):
                if alias in data and name not in data:
                    data[name] = data[alias]
        super().__init__(data, *args, **kwargs)


class DoseViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Doses (filters: date, from/to, ward, status, course, patient) and their recording:
    administer, hold, refuse, miss (nurses of the patient's ward, pharmacists)."""

    serializer_class = DoseListSerializer
    filterset_class = DoseFilter
    ordering_fields = ["scheduled_at", "sequence"]
    action_roles = {
        "administer": RECORDERS,
        "hold": RECORDERS,
        "refuse": RECORDERS,
        "miss": RECORDERS,
        "prepared": RECORDERS,
        "check_preparation": RECORDERS,
    }

    def get_queryset(self):
        return selectors.doses_visible(self.request.user, write=self.action in self.action_roles)

    def _detail(self, dose: Dose) -> Response:
        return Response(DoseListSerializer(self.get_queryset().get(pk=dose.pk)).data)

    # 409 gets the Error component from config.openapi like every 4xx; the 204 is listed only
    # because an operation without a success answer is not a valid contract, and says so.
    @extend_schema(
        responses={204: OpenApiResponse(description="Never answered: a dose is not deleted.")}
    )
    def destroy(self, request, pk=None):
        """Doses are never deleted one by one: record them held, refused or missed, or cancel
        the course. Always 409 (after the visibility check: another ward's dose is 404)."""
        self.get_object()
        raise Conflict(_("A dose is never deleted; record it not given or cancel the course."))

    @extend_schema(request=DoseAdministerSerializer, responses=DoseListSerializer)
    @action(detail=True, methods=["post"], serializer_class=DoseAdministerSerializer)
    def administer(self, request, pk=None):
        data = validated(DoseAdministerSerializer, request.data)
        dose = services.dose_administer(
            dose=self.get_object(), user=request.user, now=timezone.now(), **data
        )
        return self._detail(dose)

    def _not_given(self, request, status_value: str) -> Response:
        dose = self.get_object()  # another ward's dose is 404 before its input is judged
        data = validated(DoseNotGivenSerializer, request.data)
        dose = services.dose_record_not_given(
            dose=dose,
            status=status_value,
            user=request.user,
            now=timezone.now(),
            reason=data["reason"],
            replace=data["replace"],
        )
        return self._detail(dose)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def prepared(self, request, pk=None):
        """Record that the requesting user prepared this dose (the label's "prepared by")."""
        dose = services.dose_prepared_record(
            dose=self.get_object(), user=request.user, now=timezone.now()
        )
        return self._detail(dose)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="check")
    def check_preparation(self, request, pk=None):
        """Record the second person's check of the preparation (not the preparer)."""
        dose = services.dose_preparation_check(
            dose=self.get_object(), user=request.user, now=timezone.now()
        )
        return self._detail(dose)

    @extend_schema(request=DoseNotGivenSerializer, responses=DoseListSerializer)
    @action(detail=True, methods=["post"], serializer_class=DoseNotGivenSerializer)
    def hold(self, request, pk=None):
        return self._not_given(request, DoseStatus.HELD)

    @extend_schema(request=DoseNotGivenSerializer, responses=DoseListSerializer)
    @action(detail=True, methods=["post"], serializer_class=DoseNotGivenSerializer)
    def refuse(self, request, pk=None):
        return self._not_given(request, DoseStatus.REFUSED)

    @extend_schema(request=DoseNotGivenSerializer, responses=DoseListSerializer)
    @action(detail=True, methods=["post"], serializer_class=DoseNotGivenSerializer)
    def miss(self, request, pk=None):
        return self._not_given(request, DoseStatus.MISSED)

    @extend_schema(
        filters=True,
        responses={
            (200, "text/calendar"): ICALENDAR,
            404: OpenApiResponse(description="No such ward, or not one the caller may see."),
        },
    )
    @action(detail=False, methods=["get"])
    def ical(self, request):
        ward = request.query_params.get("ward", "")
        if ward and not selectors.wards_visible(request.user).filter(code=ward).exists():
            raise Http404
        doses = self.filter_queryset(self.get_queryset())[:2000]
        body = exports.doses_ical(doses, name=f"Doses {ward}".strip())
        return HttpResponse(body, content_type="text/calendar; charset=utf-8")
