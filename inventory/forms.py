"""Forms of the stock and cold-chain pages. They parse input; the services decide."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    ExcursionResolution,
    Lot,
    Presentation,
    Product,
    StorageLocation,
    Ward,
)

REASON_WIDGET = forms.TextInput(attrs={"placeholder": gettext_lazy("Why (kept in the ledger)")})


def _locations():
    return StorageLocation.objects.filter(active=True).order_by("name")


class StockFilterForm(forms.Form):
    product = forms.ModelChoiceField(
        Product.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All products"),
        label=gettext_lazy("Product"),
    )
    location = forms.ModelChoiceField(
        StorageLocation.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All locations"),
        label=gettext_lazy("Location"),
    )
    ward = forms.ModelChoiceField(
        Ward.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All wards"),
        label=gettext_lazy("Ward"),
    )

    # The expiry list: available lots whose expiry falls within this many days from today (the
    # expiry digest links here with its threshold, to show every lot it could not list).
    expiring_within_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=3650,
        label=gettext_lazy("Expiring within (days)"),
    )

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        filters = {
            f"{name}_id": data[name].pk
            for name in ("product", "location", "ward")
            if data.get(name)
        }
        if data.get("expiring_within_days") is not None:
            filters["expiring_within_days"] = data["expiring_within_days"]
        return filters


class ScanReceiveForm(forms.Form):
    """Receive from a scanned pack: the scanner types the code and presses Enter."""

    gs1 = forms.CharField(
        label=gettext_lazy("Scan the pack's GS1 code"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "data-scan-autofocus": "",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "(01)…(17)…(10)…",
            }
        ),
        help_text=gettext_lazy("DataMatrix / GS1-128 scan, or its printed text with (01)(17)(10)."),
    )
    quantity = forms.IntegerField(label=gettext_lazy("Vials"), min_value=1, max_value=100000)
    location = forms.ModelChoiceField(_locations(), label=gettext_lazy("Into"))
    reference = forms.CharField(
        required=False, max_length=100, label=gettext_lazy("Delivery note / order (optional)")
    )


class ManualReceiveForm(forms.Form):
    """Receive when there is nothing to scan (damaged label): the fields typed in."""

    presentation = forms.ModelChoiceField(
        Presentation.objects.select_related("product"), label=gettext_lazy("Presentation")
    )
    lot_number = forms.CharField(max_length=20, label=gettext_lazy("Lot number"))
    expiry_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("Expiry date")
    )
    manufacture_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=gettext_lazy("Manufacture date"),
    )
    quantity = forms.IntegerField(label=gettext_lazy("Vials"), min_value=1, max_value=100000)
    location = forms.ModelChoiceField(_locations(), label=gettext_lazy("Into"))
    reference = forms.CharField(
        required=False, max_length=100, label=gettext_lazy("Delivery note / order (optional)")
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=REASON_WIDGET, label=gettext_lazy("Reason"))


class DestroyForm(ReasonForm):
    location = forms.ModelChoiceField(
        StorageLocation.objects.none(),
        required=False,
        empty_label=gettext_lazy("Everywhere"),
        help_text=gettext_lazy("Destroy the vials at one location only, or all of them."),
        label=gettext_lazy("Location"),
    )

    def __init__(self, *args, lot: Lot, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _holding(lot)


def _preselect_location(form: forms.Form, lot: Lot) -> None:
    """Most lots sit in one fridge: preselect it (from the lot page's prefetched levels)."""
    held = getattr(lot, "stocked_levels", [])
    if len(held) == 1:
        form.fields["location"].initial = held[0].location_id


def _holding(lot: Lot):
    return StorageLocation.objects.filter(levels__lot=lot, levels__on_hand__gt=0).order_by("name")


class _LotStockForm(forms.Form):
    """A stock form on a lot page: `location` offers the places holding the lot."""

    location = forms.ModelChoiceField(StorageLocation.objects.none(), label=gettext_lazy("At"))
    quantity = forms.IntegerField(label=gettext_lazy("Vials"), min_value=1, max_value=100000)

    def __init__(self, *args, lot: Lot, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = self.location_choices(lot)
        _preselect_location(self, lot)

    def location_choices(self, lot: Lot):
        return _holding(lot)


class DispenseForm(_LotStockForm):
    recipient = forms.CharField(
        max_length=200,
        required=False,
        help_text=gettext_lazy("Patient / ward the vials go to."),
        label=gettext_lazy("Recipient"),
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text=gettext_lazy("e.g. dose:123"),
        label=gettext_lazy("Reference"),
    )
    reason = forms.CharField(max_length=500, required=False, label=gettext_lazy("Reason"))


class WasteForm(_LotStockForm):
    reason = forms.CharField(max_length=500, widget=REASON_WIDGET, label=gettext_lazy("Reason"))


class ReturnForm(_LotStockForm):
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text=gettext_lazy("The dispense's reference (e.g. dose:123)."),
        label=gettext_lazy("Reference"),
    )
    reason = forms.CharField(max_length=500, required=False, label=gettext_lazy("Reason"))

    def location_choices(self, lot: Lot):
        return _locations()


class TransferForm(_LotStockForm):
    to_location = forms.ModelChoiceField(StorageLocation.objects.none(), label=gettext_lazy("To"))
    reason = forms.CharField(max_length=500, required=False, label=gettext_lazy("Reason"))

    field_order = ["location", "to_location", "quantity", "reason"]

    def __init__(self, *args, lot: Lot, **kwargs):
        super().__init__(*args, lot=lot, **kwargs)
        self.fields["location"].label = gettext_lazy("From")
        self.fields["to_location"].queryset = _locations()


class AdjustForm(forms.Form):
    location = forms.ModelChoiceField(StorageLocation.objects.none(), label=gettext_lazy("At"))
    quantity_delta = forms.IntegerField(
        label=gettext_lazy("Change (vials)"),
        min_value=-100000,
        max_value=100000,
        help_text=gettext_lazy(
            "Negative to take off the count, positive to add (e.g. after a stock take)."
        ),
    )
    reason = forms.CharField(max_length=500, widget=REASON_WIDGET, label=gettext_lazy("Reason"))

    def __init__(self, *args, lot: Lot, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()
        _preselect_location(self, lot)

    def clean_quantity_delta(self):
        value = self.cleaned_data["quantity_delta"]
        if value == 0:
            raise ValidationError(_("A non-zero number of vials."))
        return value


class ForecastForm(forms.Form):
    days = forms.IntegerField(
        min_value=1, max_value=120, initial=14, label=gettext_lazy("Next days")
    )
    # One presentation with every lot it will leave unused (the page lists the first few of each).
    presentation = forms.ModelChoiceField(
        Presentation.objects.select_related("product").order_by("code"),
        required=False,
        empty_label=gettext_lazy("All presentations"),
        label=gettext_lazy("Presentation"),
    )


class ChartForm(forms.Form):
    """Which location and period the temperature chart shows (custom: local from–to)."""

    PERIODS = {"24h": datetime.timedelta(hours=24), "7d": datetime.timedelta(days=7)}
    MAX_SPAN = datetime.timedelta(days=92)

    location = forms.ModelChoiceField(
        StorageLocation.objects.none(), required=False, label=gettext_lazy("Location")
    )
    period = forms.ChoiceField(
        choices=[
            ("24h", gettext_lazy("Last 24 hours")),
            ("7d", gettext_lazy("Last 7 days")),
            ("custom", gettext_lazy("From – to")),
        ],
        required=False,
        initial="24h",
        label=gettext_lazy("Period"),
    )
    start = forms.DateTimeField(
        required=False,
        label=gettext_lazy("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        required=False,
        label=gettext_lazy("To"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", gettext_lazy("Give the start of the period."))
            if end is None:
                self.add_error("end", gettext_lazy("Give the end of the period."))
            if start and end and end <= start:
                self.add_error("end", gettext_lazy("The end must come after the start."))
            elif start and end and end - start > self.MAX_SPAN:
                self.add_error("end", gettext_lazy("At most 92 days at a time."))
        return data

    def window(self, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("period") == "custom":
            return data["start"], data["end"]
        span = self.PERIODS.get(data.get("period") or "24h")
        return now - span, now


class ExcursionResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=ExcursionResolution.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Release returns the lots to use; discard destroys the vials at this location."
        ),
        label=gettext_lazy("Resolution"),
    )
    reason = forms.CharField(max_length=500, widget=REASON_WIDGET, label=gettext_lazy("Reason"))
