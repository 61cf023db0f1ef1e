from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone

from courses import services
from courses.models import (
    Course,
    CoursePhase,
    Dose,
    Patient,
    PatientWeight,
    Protocol,
    ProtocolPhase,
)


class ProtocolPhaseInline(admin.StackedInline):
    model = ProtocolPhase
    extra = 0


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "indication", "population", "route", "leaflet_section"]
    list_filter = ["product", "population", "route"]
    search_fields = ["code", "indication", "leaflet_quote"]
    list_select_related = ["product"]
    inlines = [ProtocolPhaseInline]


# --- Patients, courses, doses -------------------------------------------------------------------


class PatientWeightInline(admin.TabularInline):
    model = PatientWeight
    extra = 1
    fields = ["measured_on", "weight_kg"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["mrn", "name", "birth_date", "ward", "pregnant", "lactating"]
    list_filter = ["ward", "pregnant", "lactating", "protein_drug_allergy"]
    search_fields = ["mrn", "name"]
    list_select_related = ["ward"]
    inlines = [PatientWeightInline]


class CoursePhaseInline(admin.TabularInline):
    model = CoursePhase
    extra = 0
    can_delete = False
    fields = [f.name for f in CoursePhase._meta.fields if f.name not in {"id", "course"}]
    readonly_fields = fields


class DoseInline(admin.TabularInline):
    model = Dose
    extra = 0
    can_delete = False
    fields = [
        "sequence",
        "scheduled_at",
        "status",
        "amount",
        "amount_unit",
        "vials",
        "given_at",
        "lot_number",
        "reason",
    ]
    readonly_fields = fields
    ordering = ["scheduled_at"]


class CourseAddForm(forms.ModelForm):
    phases = forms.JSONField(
        required=False,
        help_text='Choices per phase, e.g. [{"dose": "2", "count": 7, "pattern": {"kind": '
        '"daily"}}]; leave empty for the protocol\'s defaults.',
    )

    class Meta:
        model = Course
        fields = [
            "patient",
            "protocol",
            "start_date",
            "anchors",
            "administration_time",
            "diluent",
            "infusion_minutes",
            "override_reason",
            "notes",
        ]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """Prescribing goes through `course_create` (checks, planning): the add form collects the
    choices and the service decides; planned doses are read-only here."""

    list_display = ["id", "patient", "protocol", "status", "start_date", "prescribed_by"]
    list_filter = ["status", "protocol__product", "patient__ward"]
    search_fields = ["patient__mrn", "patient__name", "protocol__code"]
    list_select_related = ["patient", "protocol__product", "prescribed_by"]
    inlines = [CoursePhaseInline, DoseInline]
    actions = ["cancel_courses"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CourseAddForm
            kwargs["fields"] = [*CourseAddForm.Meta.fields, "phases"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*CourseAddForm.Meta.fields, "phases"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in Course._meta.fields if f.name not in {"notes"}]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["notes", "updated_at"])
            return
        data = form.cleaned_data
        try:
            course = services.course_create(
                patient=data["patient"],
                protocol=data["protocol"],
                user=request.user,
                on=timezone.localdate(),
                start_date=data.get("start_date"),
                phases=data.get("phases") or [],
                anchors=data.get("anchors") or {},
                administration_time=data.get("administration_time"),
                diluent=data.get("diluent") or "",
                infusion_minutes=data.get("infusion_minutes"),
                override_reason=data.get("override_reason") or "",
                notes=data.get("notes") or "",
            )
        except ValidationError as error:
            raise _AdminRefusal(error) from None
        obj.pk = course.pk
        obj.__dict__.update(course.__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _AdminRefusal as refusal:
            # The service refused (hard stops, bad choices) and nothing was saved: say why.
            for field, errors in refusal.error.message_dict.items():
                for message in errors:
                    self.message_user(request, f"{field}: {message}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Cancel the selected courses")
    def cancel_courses(self, request, queryset):
        for course in queryset:
            try:
                services.course_cancel(
                    course=course,
                    user=request.user,
                    reason=f"Cancelled in the admin by {request.user}",
                )
            except ValidationError as error:
                self.message_user(
                    request, f"Course {course.pk}: {error.messages[0]}", messages.WARNING
                )


class _AdminRefusal(Exception):
    def __init__(self, error: ValidationError):
        self.error = error


@admin.register(Dose)
class DoseAdmin(admin.ModelAdmin):
    list_display = ["course", "sequence", "scheduled_at", "status", "amount", "amount_unit"]
    list_filter = ["status", "course__patient__ward"]
    list_select_related = ["course"]
    date_hierarchy = "scheduled_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # doses are recorded through the API / services, never edited
