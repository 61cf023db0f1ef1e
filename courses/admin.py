from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from config.admin import (
    AdminRefusal,
    LabelledTabularInline,
    NamedAdmin,
    ReadOnlyAdmin,
    ThroughServicesAdmin,
)
from courses import services
from courses.models import (
    RECORDED_STATUSES,
    CalendarFeed,
    Course,
    CoursePhase,
    Dose,
    Patient,
    PatientWeight,
    Protocol,
    ProtocolPhase,
)
from courses.selectors import ward_scoped
from history.admin import RecordedHistoryAdmin


class WardScopedAdmin:
    """Nurses see only their wards' rows, here as on the API and the pages (`ward_scoped`): the
    other rows are outside the queryset, so their pages answer "not found"."""

    ward_path = "ward"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if ward_scoped(request.user):
            return queryset.filter(**{f"{self.ward_path}__members": request.user})
        return queryset


# --- Protocols ------------------------------------------------------------------------------------

_PHASE_FIELDS = [
    f.name for f in ProtocolPhase._meta.fields if f.name not in {"id", "protocol", "order"}
]


class ProtocolPhaseInline(admin.StackedInline):
    model = ProtocolPhase
    extra = 0
    fields = ["order", *_PHASE_FIELDS]


@admin.register(Protocol)
class ProtocolAdmin(RecordedHistoryAdmin, ThroughServicesAdmin):
    """Saved by `protocol_save` with its phases (in the inline's order), like the API."""

    list_display = ["code", "product", "indication", "population", "route", "leaflet_section"]
    list_filter = ["product", "population", "route"]
    search_fields = ["code", "indication", "leaflet_quote"]
    list_select_related = ["product"]
    inlines = [ProtocolPhaseInline]

    def save_model(self, request, obj, form, change):
        pass  # saved with its phases in save_related, by the service

    def save_related(self, request, form, formsets, change):
        phases = None
        for formset in formsets:
            if formset.model is ProtocolPhase:
                kept = [
                    f.cleaned_data
                    for f in formset.forms
                    if f.cleaned_data
                    and not f.cleaned_data.get("DELETE")
                    and (f.instance.pk or f.has_changed())
                ]
                kept.sort(key=lambda data: data.get("order") or 0)
                phases = [{name: data[name] for name in _PHASE_FIELDS} for data in kept]
        fields = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in {f.name for f in Protocol._meta.fields}
        }
        try:
            saved = services.protocol_save(
                protocol=form.instance if change else None, fields=fields, phases=phases
            )
        except ValidationError as error:
            raise AdminRefusal(error) from None
        form.instance.pk = saved.pk
        for formset in formsets:  # what the admin's change message reads
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Patients, courses, doses -------------------------------------------------------------------


class PatientWeightInline(admin.TabularInline):
    """Recorded weighings, read-only: a weighing is corrected by recording the day's again."""

    model = PatientWeight
    extra = 0
    can_delete = False
    fields = ["measured_on", "weight_kg", "recorded_by", "recorded_at"]
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("weighings")

    def has_add_permission(self, request, obj=None):
        return False


class PatientWeightAddInline(LabelledTabularInline):
    """A new weighing, recorded by `patient_weight_record` (one a day, never in the future)."""

    model = PatientWeight
    extra = 1
    can_delete = False
    fields = ["measured_on", "weight_kg"]
    verbose_name = gettext_lazy("new weighing")
    verbose_name_plural = gettext_lazy("record a weighing")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(WardScopedAdmin, RecordedHistoryAdmin, ThroughServicesAdmin):
    """Saved by `patient_save`; weighings by `patient_weight_record`."""

    accusative = pgettext_lazy("accusative", "patient")

    list_display = ["mrn", "name", "birth_date", "ward", "pregnant", "lactating"]
    list_filter = ["ward", "pregnant", "lactating", "protein_drug_allergy"]
    search_fields = ["mrn", "name"]
    list_select_related = ["ward"]
    fields = list(services.PATIENT_FIELDS)
    filter_horizontal = ["drug_allergies"]
    inlines = [PatientWeightInline, PatientWeightAddInline]

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in self.fields if name in form.cleaned_data
        }
        try:
            services.patient_save(patient=obj, fields=fields, user=request.user)
        except ValidationError as error:
            raise AdminRefusal(error) from None

    def save_formset(self, request, form, formset, change):
        if formset.model is not PatientWeight:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for weighing in formset.forms:
            data = weighing.cleaned_data
            if not weighing.has_changed() or not data or weighing.instance.pk:
                continue
            try:
                weight = services.patient_weight_record(
                    patient=form.instance,
                    weight_kg=data["weight_kg"],
                    measured_on=data["measured_on"],
                    user=request.user,
                )
            except ValidationError as error:
                raise AdminRefusal(error) from None
            formset.new_objects.append(weight)


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
        label=gettext_lazy("Phases"),
        help_text=gettext_lazy(
            'Choices per phase, e.g. [{"dose": "2", "count": 7, "pattern": {"kind": "daily"}}]; '
            "leave empty for the protocol's defaults."
        ),
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
class CourseAdmin(WardScopedAdmin, RecordedHistoryAdmin, NamedAdmin):
    """Prescribing goes through `course_create` (checks, planning): the add form collects the
    choices and the service decides; planned doses are read-only here."""

    ward_path = "patient__ward"
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
            raise AdminRefusal(error) from None
        obj.pk = course.pk
        obj.__dict__.update(course.__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except AdminRefusal as refusal:
            # The service refused (hard stops, bad choices) and nothing was saved: say why.
            for field, errors in refusal.error.message_dict.items():
                for message in errors:
                    self.message_user(request, f"{field}: {message}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    # Deleting: only a course with nothing recorded, through `course_delete` (which releases its
    # stock holds); a course with a recorded dose is kept — cancel it instead. Its doses go with
    # it, so the doses' own "never delete" permission does not stand in the way here.
    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.doses.filter(status__in=RECORDED_STATUSES).exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(Dose._meta.verbose_name)
        for course in objs:
            if course.doses.filter(status__in=RECORDED_STATUSES).exists():
                protected.append(
                    _("%(course)s: has recorded doses (cancel it instead)") % {"course": course}
                )
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.course_delete(course=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for course in queryset:
            services.course_delete(course=course, user=request.user)

    @admin.action(description=gettext_lazy("Cancel the selected courses"))
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
                    request,
                    _("Course %(number)s: %(reason)s")
                    % {"number": course.pk, "reason": error.messages[0]},
                    messages.WARNING,
                )


@admin.register(Dose)
class DoseAdmin(WardScopedAdmin, RecordedHistoryAdmin, ReadOnlyAdmin):
    """Doses are recorded through the API and the pages (services), never edited here; none is
    deleted one by one: a dose goes only with its unrecorded course."""

    accusative = pgettext_lazy("accusative", "dose")

    ward_path = "course__patient__ward"
    list_display = ["course", "sequence", "scheduled_at", "status", "amount", "amount_unit"]
    list_filter = ["status", "course__patient__ward"]
    list_select_related = ["course"]
    date_hierarchy = "scheduled_at"


@admin.register(CalendarFeed)
class CalendarFeedAdmin(NamedAdmin):
    """Calendar feeds are created by their users (API); here they can only be seen and revoked.
    The token itself is never stored, only its hash."""

    accusative = pgettext_lazy("accusative", "calendar feed")
    list_display = ["user", "label", "ward", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "label"]
    readonly_fields = ["user", "label", "ward", "created_at", "last_used_at", "revoked_at"]
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Revoke the selected feeds"))
    def revoke(self, request, queryset):
        for feed in queryset:
            services.calendar_feed_revoke(feed=feed)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)s feed revoked.", "%(count)s feeds revoked.", count)
            % {"count": count},
        )
