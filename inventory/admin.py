import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from config.admin import AdminRefusal, LabelledTabularInline, ReadOnlyAdmin, ThroughServicesAdmin
from config.forms import service_errors_to_form
from config.roles import RECIPIENT_READERS, has_role
from history.admin import RecordedHistoryAdmin
from inventory import services
from inventory.models import (
    Excursion,
    ExcursionResolution,
    Lot,
    Presentation,
    Product,
    StockLevel,
    StockMovement,
    StorageLocation,
    TemperatureReading,
    Ward,
)
from inventory.serializers import MAX_VIALS

FORM_TEMPLATE = "admin/inventory/form.html"


def _model_fields(form, model) -> dict:
    """The form's cleaned values of `model`'s own columns (not the pk, not many-to-many)."""
    names = {f.name for f in model._meta.concrete_fields if not f.primary_key}
    return {name: value for name, value in form.cleaned_data.items() if name in names}


class CatalogueAdmin(RecordedHistoryAdmin, ThroughServicesAdmin):
    """Add/change forms saved by a catalogue service (`inventory/services/catalogue.py`: the
    model's rules checked on every save, the history's action and user). The form shows the
    model's refusals before anything is saved; a refusal at save time rolls the save back."""

    def save_through_service(self, *, instance, fields: dict, form, user):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            self.save_through_service(
                instance=obj, fields=_model_fields(form, self.model), form=form, user=request.user
            )
        except ValidationError as error:
            raise AdminRefusal(error) from None

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields were saved by the service; inlines save through their own.
        for formset in formsets:
            self.save_formset(request, form, formset, change)


class PresentationInline(LabelledTabularInline):
    """A product's presentations, each saved by `presentation_save`. Deleting one is done on its
    own page (lots may point at it)."""

    model = Presentation
    extra = 0
    can_delete = False
    fields = ["code", "strength", "strength_unit", "container", "pack_size", "gtin"]
    # "Add another …": the name as the object of the verb ("Додати ще одну форму випуску").
    verbose_name = pgettext_lazy("accusative", "presentation")
    verbose_name_plural = gettext_lazy("presentations")


@admin.register(Product)
class ProductAdmin(CatalogueAdmin):
    list_display = [
        "name",
        "active_substance",
        "storage_range",
        "keep_dry",
        "shelf_life_months",
        "sodium_mg_per_dose",
        "leaflet_file",
    ]
    search_fields = ["name", "code", "active_substance"]
    inlines = [PresentationInline]

    @admin.display(description=gettext_lazy("storage range"))
    def storage_range(self, product):
        return product.storage_range_label

    def save_through_service(self, *, instance, fields, form, user):
        services.product_save(product=instance, fields=fields, user=user)

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() or not inline.cleaned_data:
                continue
            fields = {**_model_fields(inline, Presentation), "product": form.instance}
            try:
                saved = services.presentation_save(
                    presentation=inline.instance, fields=fields, user=request.user
                )
            except ValidationError as error:
                raise AdminRefusal(error) from None
            if inline.instance.pk and inline in formset.initial_forms:
                formset.changed_objects.append((saved, inline.changed_data))
            else:
                formset.new_objects.append(saved)


@admin.register(Presentation)
class PresentationAdmin(CatalogueAdmin):
    accusative = pgettext_lazy("accusative", "presentation")

    list_display = [
        "__str__",
        "code",
        "strength",
        "strength_unit",
        "container",
        "pack_size",
        "gtin",
    ]
    list_filter = ["product", "container"]
    search_fields = ["code", "gtin", "product__name"]
    list_select_related = ["product"]

    def save_through_service(self, *, instance, fields, form, user):
        services.presentation_save(presentation=instance, fields=fields, user=user)


@admin.register(Ward)
class WardAdmin(CatalogueAdmin):
    list_display = ["name", "code", "email", "reminder_lead_minutes", "digest_time"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]

    def save_through_service(self, *, instance, fields, form, user):
        services.ward_save(
            ward=instance, fields=fields, members=form.cleaned_data.get("members"), user=user
        )


# --- Stock: every change goes through a service, never through a model form ----------------------


class StockAdmin(ReadOnlyAdmin):
    """Stock rows: read-only here; their changes run as actions that call the stock services."""

    def has_stock_permission(self, request) -> bool:
        """Stock actions: whoever may write ledger lines (pharmacists, via roles_ensure)."""
        return request.user.has_perm("inventory.add_stockmovement")


def form_action(form_class, description, run):
    """An admin action that first asks for `form_class` (e.g. a reason), then runs per row.

    `run(obj, user, data)` calls one service; a refusal is reported for that row and the others
    still go through (each service call is its own transaction). `description` is translated
    (gettext_lazy); the action's name is made from its English.
    """

    def handler(modeladmin, request, queryset):
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for obj in queryset:
                try:
                    run(obj, request.user, form.cleaned_data)
                except ValidationError as exc:
                    modeladmin.message_user(
                        request, f"{obj}: {' '.join(exc.messages)}", messages.ERROR
                    )
                else:
                    modeladmin.message_user(
                        request, _("%(object)s: done.") % {"object": obj}, messages.SUCCESS
                    )
            return None
        return TemplateResponse(
            request,
            FORM_TEMPLATE,
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "objects": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "submit_label": description,
            },
        )

    with translation.override(None):
        english = str(description)
    handler.__name__ = re.sub(r"\W+", "_", english.lower()).strip("_")
    handler.form_class = form_class  # what it asks for (tests post it invalid)
    return admin.action(description=description, permissions=["stock"])(handler)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )


def _lot_status(service):
    def run(lot, user, data):
        service(lot_id=lot.pk, user=user, on=timezone.localdate(), reason=data["reason"])

    return run


class ReceiveForm(forms.Form):
    gs1 = forms.CharField(
        required=False,
        label=gettext_lazy("GS1 scan"),
        help_text=gettext_lazy("Scan the pack; or fill in the fields below."),
    )
    presentation = forms.ModelChoiceField(
        Presentation.objects.all(), required=False, label=gettext_lazy("Presentation")
    )
    lot_number = forms.CharField(max_length=20, required=False, label=gettext_lazy("Lot number"))
    expiry_date = forms.DateField(required=False, label=gettext_lazy("Expiry date"))
    manufacture_date = forms.DateField(required=False, label=gettext_lazy("Manufacture date"))
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_VIALS,
        label=gettext_lazy("Quantity"),
        help_text=gettext_lazy("Vials or ampoules."),
    )
    location = forms.ModelChoiceField(
        StorageLocation.objects.filter(active=True), label=gettext_lazy("Location")
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        label=gettext_lazy("Reference"),
        help_text=gettext_lazy("Delivery note."),
    )


@admin.register(StorageLocation)
class StorageLocationAdmin(CatalogueAdmin):
    list_display = ["name", "code", "kind", "ward", "temperature_range", "active"]
    list_filter = ["kind", "ward", "active"]
    search_fields = ["name", "code"]
    list_select_related = ["ward"]

    @admin.display(description=gettext_lazy("temperature range"))
    def temperature_range(self, location):
        return location.range_label

    def save_through_service(self, *, instance, fields, form, user):
        services.location_save(location=instance, fields=fields, user=user)


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    fields = ["location", "on_hand", "reserved"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(RecordedHistoryAdmin, StockAdmin):
    accusative = pgettext_lazy("accusative", "lot")
    list_display = ["lot_number", "presentation", "expiry_date", "status", "gtin"]
    list_filter = ["status", "presentation__product", "presentation"]
    search_fields = ["lot_number", "gtin"]
    date_hierarchy = "expiry_date"
    list_select_related = ["presentation__product"]
    inlines = [StockLevelInline]
    actions = [
        form_action(ReasonForm, gettext_lazy("Quarantine"), _lot_status(services.lot_quarantine)),
        form_action(
            ReasonForm, gettext_lazy("Release from quarantine"), _lot_status(services.lot_release)
        ),
        form_action(ReasonForm, gettext_lazy("Recall"), _lot_status(services.lot_recall)),
        form_action(ReasonForm, gettext_lazy("Destroy stock"), _lot_status(services.lot_destroy)),
    ]
    change_list_template = "admin/inventory/lot/change_list.html"

    def get_urls(self):
        receive = path(
            "receive/", self.admin_site.admin_view(self.receive_view), name="inventory_lot_receive"
        )
        return [receive, *super().get_urls()]

    def receive_view(self, request):
        if not self.has_stock_permission(request):
            raise PermissionDenied
        form = ReceiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                movement = services.lot_receive(
                    gs1=data["gs1"],
                    presentation_id=data["presentation"].pk if data["presentation"] else None,
                    lot_number=data["lot_number"],
                    expiry_date=data["expiry_date"],
                    manufacture_date=data["manufacture_date"],
                    quantity=data["quantity"],
                    location_id=data["location"].pk,
                    reference=data["reference"],
                    user=request.user,
                    on=timezone.localdate(),
                )
            except ValidationError as exc:
                service_errors_to_form(
                    form, exc, {"presentation_id": "presentation", "location_id": "location"}
                )
            else:
                self.message_user(
                    request,
                    _("Received %(quantity)s × %(lot)s.")
                    % {"quantity": movement.quantity, "lot": movement.lot},
                )
                return redirect(reverse("admin:inventory_lot_change", args=[movement.lot_id]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Receive stock"),
            "form": form,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)


class DispenseForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_VIALS, label=gettext_lazy("Quantity"))
    reference = forms.CharField(
        max_length=100,
        required=False,
        label=gettext_lazy("Reference"),
        help_text=gettext_lazy("e.g. dose:123"),
    )
    recipient = forms.CharField(max_length=200, required=False, label=gettext_lazy("Recipient"))


class TransferForm(forms.Form):
    to_location = forms.ModelChoiceField(
        StorageLocation.objects.filter(active=True), label=gettext_lazy("To location")
    )
    quantity = forms.IntegerField(min_value=1, max_value=MAX_VIALS, label=gettext_lazy("Quantity"))
    reason = forms.CharField(max_length=500, required=False, label=gettext_lazy("Reason"))


class CountForm(forms.Form):
    counted = forms.IntegerField(
        min_value=0,
        max_value=MAX_VIALS,
        label=gettext_lazy("Counted"),
        help_text=gettext_lazy("Vials physically counted."),
    )
    reason = forms.CharField(max_length=500, label=gettext_lazy("Reason"))


def _dispense(level, user, data):
    services.stock_dispense(
        presentation_id=level.lot.presentation_id,
        lot_id=level.lot_id,
        location_id=level.location_id,
        user=user,
        on=timezone.localdate(),
        **data,
    )


def _transfer(level, user, data):
    services.stock_transfer(
        lot_id=level.lot_id,
        from_location_id=level.location_id,
        to_location_id=data["to_location"].pk,
        quantity=data["quantity"],
        reason=data["reason"],
        user=user,
        on=timezone.localdate(),
    )


def _count(level, user, data):
    delta = data["counted"] - level.on_hand
    if delta:
        services.stock_adjust(
            lot_id=level.lot_id,
            location_id=level.location_id,
            quantity_delta=delta,
            reason=data["reason"],
            user=user,
            on=timezone.localdate(),
        )


@admin.register(StockLevel)
class StockLevelAdmin(StockAdmin):
    list_display = ["lot", "presentation", "location", "on_hand", "reserved", "lot_status"]
    list_filter = ["location", "lot__presentation", "lot__status"]
    search_fields = ["lot__lot_number"]
    list_select_related = ["lot__presentation__product", "location"]
    actions = [
        form_action(DispenseForm, gettext_lazy("Dispense"), _dispense),
        form_action(TransferForm, gettext_lazy("Transfer"), _transfer),
        form_action(CountForm, gettext_lazy("Record a count"), _count),
    ]

    @admin.display(ordering="lot__presentation", description=gettext_lazy("presentation"))
    def presentation(self, level):
        return level.lot.presentation

    @admin.display(ordering="lot__status", description=gettext_lazy("lot status"))
    def lot_status(self, level):
        return level.lot.get_status_display()


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The ledger: never edited, never deleted (corrections are new adjustment lines)."""

    list_display = [
        "created_at",
        "kind",
        "lot",
        "location",
        "quantity",
        "on_hand_delta",
        "reserved_delta",
        "reference",
        "user",
    ]
    list_filter = ["kind", "location"]
    search_fields = ["lot__lot_number", "reference", "recipient"]
    date_hierarchy = "created_at"
    list_select_related = ["lot", "location", "user"]

    # Recipients name patients of every ward: only RECIPIENT_READERS see or search them (nurses
    # read the ledger without them, as on the API and the lot page).
    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if has_role(request.user, *RECIPIENT_READERS):
            return fields
        return [name for name in fields if name != "recipient"]

    def get_search_fields(self, request):
        if has_role(request.user, *RECIPIENT_READERS):
            return self.search_fields
        return [name for name in self.search_fields if name != "recipient"]


@admin.register(TemperatureReading)
class TemperatureReadingAdmin(ReadOnlyAdmin):
    list_display = ["taken_at", "location", "sensor_id", "temperature_c"]
    list_filter = ["location"]
    date_hierarchy = "taken_at"
    list_select_related = ["location"]


def _resolve(resolution):
    def run(excursion, user, data):
        services.excursion_resolve(
            excursion_id=excursion.pk,
            resolution=resolution,
            reason=data["reason"],
            user=user,
            on=timezone.localdate(),
        )

    return run


@admin.register(Excursion)
class ExcursionAdmin(StockAdmin):
    list_display = [
        "location",
        "started_at",
        "ended_at",
        "min_c",
        "max_c",
        "minutes_out",
        "state",
    ]
    list_filter = ["location", "resolution"]
    list_select_related = ["location"]
    actions = [
        form_action(
            ReasonForm,
            gettext_lazy("Resolve: release lots"),
            _resolve(ExcursionResolution.RELEASE),
        ),
        form_action(
            ReasonForm,
            gettext_lazy("Resolve: discard stock"),
            _resolve(ExcursionResolution.DISCARD),
        ),
    ]

    @admin.display(description=gettext_lazy("minutes out of range"))
    def minutes_out(self, excursion):
        return excursion.minutes_out_of_range

    @admin.display(description=gettext_lazy("status"))
    def state(self, excursion):
        return excursion.status_label
