"""Stock pages: counts per presentation and location, receiving, lots and their actions, forecast."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.access import page
from config.forms import service_errors_to_form
from config.roles import PHARMACY, RECIPIENT_READERS, RECORDERS, has_role, user_roles
from inventory import forms, selectors, services
from inventory.forecast_chart import forecast_svg
from inventory.models import Excursion, Lot, LotStatus, MovementKind, Presentation

EXPIRING_DAYS = 30
PAGE_SIZE = 50


@page()
def stock(request):
    on = timezone.localdate()
    filter_form = forms.StockFilterForm(request.GET or None)
    filters = filter_form.filters()
    rows = selectors.stock_overview(on=on, expiring_days=EXPIRING_DAYS, **filters)
    levels = Paginator(selectors.stock_levels(on=on, **filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counters = {
        "on_hand": sum(r["on_hand"] for r in rows),
        "usable": sum(r["usable"] for r in rows),
        "expiring_soon": sum(r["expiring_soon"] for r in rows),
        "quarantined": Lot.objects.filter(status=LotStatus.QUARANTINED, levels__on_hand__gt=0)
        .distinct()
        .count(),
        "excursions": Excursion.objects.filter(resolved_at__isnull=True).count(),
    }
    return render(
        request,
        "inventory/stock.html",
        {
            "filter_form": filter_form,
            "rows": rows,
            "levels": levels,
            "counters": counters,
            "expiring_days": EXPIRING_DAYS,
            "soon": on + datetime.timedelta(days=EXPIRING_DAYS),
            "today": on,
            "can_receive": has_role(request.user, *PHARMACY),
        },
    )


# --- Receiving -------------------------------------------------------------------------------

# The scan form has one box: whatever the service finds wrong with the scanned data is shown there.
SCAN_FIELDS = {
    "gtin": "gs1",
    "lot_number": "gs1",
    "expiry_date": "gs1",
    "manufacture_date": "gs1",
    "presentation_id": "gs1",
}


def _receive_forms(request, bound=None):
    initial = {"location": request.session.get("receive_location")}
    # Consecutive scans are usually packs of one delivery: keep the count and the delivery note.
    scan = forms.ScanReceiveForm(
        initial={
            **initial,
            "quantity": request.session.get("receive_quantity"),
            "reference": request.session.get("receive_reference", ""),
        }
    )
    manual = forms.ManualReceiveForm(prefix="manual", initial=initial)
    if bound is not None:
        scan, manual = (bound, manual) if bound.prefix is None else (scan, bound)
    return scan, manual


def _received(request, movement) -> None:
    lot = movement.lot
    request.session["receive_location"] = movement.location_id
    request.session["receive_quantity"] = movement.quantity
    request.session["receive_reference"] = movement.reference
    messages.success(
        request,
        _(
            "Received %(count)s × %(presentation)s lot %(lot)s (expiry %(expiry)s) into %(location)s."
        )
        % {
            "count": movement.quantity,
            "presentation": lot.presentation,
            "lot": lot.lot_number,
            "expiry": date_format(lot.expiry_date, "d M Y"),
            "location": movement.location,
        },
    )


@page(write=PHARMACY)
def receive(request):
    on = timezone.localdate()
    bound = None
    preview = None
    if request.method == "POST":
        manual = request.POST.get("mode") == "manual"
        bound = (
            forms.ManualReceiveForm(request.POST, prefix="manual")
            if manual
            else forms.ScanReceiveForm(request.POST)
        )
        if not manual:
            preview = selectors.gs1_preview(request.POST.get("gs1", ""))
        if bound.is_valid():
            data = dict(bound.cleaned_data)
            location = data.pop("location")
            if manual:
                data["presentation_id"] = data.pop("presentation").pk
            try:
                movement = services.lot_receive(
                    **data, location_id=location.pk, user=request.user, on=on
                )
            except ValidationError as exc:
                service_errors_to_form(bound, exc, {} if manual else SCAN_FIELDS)
            else:
                _received(request, movement)
                return redirect("stock-receive-page")
    last_scan = ""
    if bound is not None and bound.prefix is None:
        # The box is emptied for the next scan (a scanner appends to what is there); the code
        # just read stays visible beside the error.
        last_scan = bound.data.get("gs1", "")
        bound.data = bound.data.copy()
        bound.data["gs1"] = ""
    scan, manual_form = _receive_forms(request, bound)
    recent = (
        selectors.movements_list()
        .select_related("lot__presentation__product")
        .filter(kind=MovementKind.RECEIPT, user=request.user, effective_date=on)[:20]
    )
    return render(
        request,
        "inventory/receive.html",
        {
            "scan_form": scan,
            "manual_form": manual_form,
            "preview": preview,
            "last_scan": last_scan,
            "recent": recent,
            "can_receive": has_role(request.user, *PHARMACY),
            "manual_open": bound is not None and bound.prefix == "manual",
        },
    )


# --- Lot page and its actions -----------------------------------------------------------------


@dataclass(frozen=True)
class LotAction:
    """One form of the lot page: who may send it, which form, which service call."""

    label: str
    done: str  # the success message
    roles: frozenset
    form_class: type
    run: object  # (lot, data, user, on) -> movements
    confirm: str = ""
    danger: bool = False
    statuses: frozenset = frozenset()  # lot statuses the action applies to (empty: any)


def _status_call(service):
    def run(lot, data, user, on):
        return service(lot_id=lot.pk, user=user, on=on, reason=data["reason"])

    return run


def _destroy(lot, data, user, on):
    location = data.get("location")
    return services.lot_destroy(
        lot_id=lot.pk,
        user=user,
        on=on,
        reason=data["reason"],
        location_id=location.pk if location else None,
    )


def _dispense(lot, data, user, on):
    return services.stock_dispense(
        presentation_id=lot.presentation_id,
        lot_id=lot.pk,
        location_id=data["location"].pk,
        quantity=data["quantity"],
        recipient=data["recipient"],
        reference=data["reference"],
        reason=data["reason"],
        user=user,
        on=on,
    )


def _at_location(service, **renames):
    """A lot-and-location service called with the form's data (`location` → `location_id`)."""

    def run(lot, data, user, on):
        kwargs = {
            renames.get(name, name): getattr(value, "pk", value) for name, value in data.items()
        }
        return service(lot_id=lot.pk, user=user, on=on, **kwargs)

    # The service's refusals name its keywords; show them on the form's fields.
    run.field_map = {keyword: name for name, keyword in renames.items()}
    return run


AVAILABLE = frozenset({LotStatus.AVAILABLE})
LOT_ACTIONS = {
    "dispense": LotAction(
        gettext_lazy("Dispense"),
        gettext_lazy("Vials dispensed"),
        RECORDERS,
        forms.DispenseForm,
        _dispense,
        statuses=AVAILABLE,
    ),
    "return": LotAction(
        gettext_lazy("Return unused vials"),
        gettext_lazy("Vials returned to stock"),
        RECORDERS,
        forms.ReturnForm,
        _at_location(services.stock_return, location="location_id"),
    ),
    "waste": LotAction(
        gettext_lazy("Record waste"),
        gettext_lazy("Waste recorded"),
        RECORDERS,
        forms.WasteForm,
        _at_location(services.stock_waste, location="location_id"),
        confirm=gettext_lazy("Record these vials as wasted?"),
    ),
    "transfer": LotAction(
        gettext_lazy("Transfer"),
        gettext_lazy("Vials transferred"),
        PHARMACY,
        forms.TransferForm,
        _at_location(
            services.stock_transfer, location="from_location_id", to_location="to_location_id"
        ),
    ),
    "adjust": LotAction(
        gettext_lazy("Adjust the count"),
        gettext_lazy("Count adjusted"),
        PHARMACY,
        forms.AdjustForm,
        _at_location(services.stock_adjust, location="location_id"),
        confirm=gettext_lazy("Change the recorded count of this lot?"),
    ),
    "quarantine": LotAction(
        gettext_lazy("Quarantine"),
        gettext_lazy("Lot quarantined"),
        PHARMACY,
        forms.ReasonForm,
        _status_call(services.lot_quarantine),
        confirm=gettext_lazy(
            "Quarantine this lot everywhere? Nobody can dispense it until it is released."
        ),
        statuses=AVAILABLE,
    ),
    "release": LotAction(
        gettext_lazy("Release from quarantine"),
        gettext_lazy("Lot released for use"),
        PHARMACY,
        forms.ReasonForm,
        _status_call(services.lot_release),
        confirm=gettext_lazy("Release this lot for use?"),
        statuses=frozenset({LotStatus.QUARANTINED}),
    ),
    "recall": LotAction(
        gettext_lazy("Recall"),
        gettext_lazy("Lot recalled"),
        PHARMACY,
        forms.ReasonForm,
        _status_call(services.lot_recall),
        confirm=gettext_lazy("Recall this lot? It becomes unusable everywhere."),
        danger=True,
        statuses=frozenset({LotStatus.AVAILABLE, LotStatus.QUARANTINED, LotStatus.EXPIRED}),
    ),
    "destroy": LotAction(
        gettext_lazy("Destroy"),
        gettext_lazy("Vials destroyed"),
        PHARMACY,
        forms.DestroyForm,
        _destroy,
        confirm=gettext_lazy("Destroy these vials? This cannot be undone."),
        danger=True,
    ),
}
STOCK_ACTIONS = ("dispense", "return", "waste", "transfer", "adjust")
STATUS_ACTIONS = ("quarantine", "release", "recall", "destroy")


def _lot_forms(request, lot, bound_op=None, bound_form=None) -> dict:
    """The forms this user may see on this lot (a nurse never sees transfer or adjustment)."""
    roles = user_roles(request.user)
    result = {}
    for op, action in LOT_ACTIONS.items():
        if not roles & action.roles:
            continue
        if action.statuses and lot.status not in action.statuses:
            continue
        kwargs = {} if action.form_class is forms.ReasonForm else {"lot": lot}
        form = bound_form if op == bound_op else action.form_class(prefix=op, **kwargs)
        result[op] = {"action": action, "form": form}
    if not lot.stocked_levels:
        for op in ("dispense", "waste", "transfer", "destroy"):
            if op != bound_op:
                result.pop(op, None)
    return result


@page(write=RECORDERS)
def lot_detail(request, pk: int):
    try:
        lot = selectors.lot_detail(lot_id=pk)
    except Lot.DoesNotExist:
        raise Http404(_("No such lot.")) from None
    bound_op = bound_form = None
    if request.method == "POST":
        bound_op = request.POST.get("op", "")
        action = LOT_ACTIONS.get(bound_op)
        if action is None:
            raise Http404(_("No such action."))
        if not has_role(request.user, *action.roles):
            raise PermissionDenied(_("Your role does not allow this action."))
        kwargs = {} if action.form_class is forms.ReasonForm else {"lot": lot}
        bound_form = action.form_class(request.POST, prefix=bound_op, **kwargs)
        if bound_form.is_valid():
            try:
                action.run(lot, bound_form.cleaned_data, request.user, timezone.localdate())
            except ValidationError as exc:
                service_errors_to_form(bound_form, exc, getattr(action.run, "field_map", {}))
            else:
                messages.success(
                    request,
                    _("%(done)s: lot %(lot)s.") % {"done": action.done, "lot": lot.lot_number},
                )
                return redirect("stock-lot", pk=lot.pk)
    lot_forms = _lot_forms(request, lot, bound_op, bound_form)
    ledger = Paginator(selectors.lot_ledger(lot_id=lot.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    show_recipients = has_role(request.user, *RECIPIENT_READERS)
    return render(
        request,
        "inventory/lot.html",
        {
            "lot": lot,
            "ledger": ledger,
            "recipients": selectors.lot_recipients(lot_id=lot.pk) if show_recipients else None,
            "stock_forms": [(op, lot_forms[op]) for op in STOCK_ACTIONS if op in lot_forms],
            "status_forms": [(op, lot_forms[op]) for op in STATUS_ACTIONS if op in lot_forms],
            "bound_op": bound_op,
            "show_recipients": show_recipients,
            "expiring_soon": lot.expiry_date
            <= timezone.localdate() + datetime.timedelta(days=EXPIRING_DAYS),
        },
    )


# --- Forecast ---------------------------------------------------------------------------------


# Lots expiring unused named per presentation on the whole forecast: a hospital's stock leaves
# hundreds per presentation over two weeks (825 lots, 10,555 over 120 days). The rest are counted
# and every one is listed on the presentation's own forecast (`?presentation=`).
FORECAST_LOTS_LISTED = 10


@page()
def forecast(request):
    form = forms.ForecastForm(request.GET or None)
    valid = form.is_valid()
    days = form.cleaned_data["days"] if valid else form.fields["days"].initial
    only = form.cleaned_data["presentation"] if valid else None
    report = selectors.stock_forecast(
        start=timezone.localdate(), days=days, presentation_ids=None if only is None else [only.pk]
    )
    presentations = Presentation.objects.select_related("product").in_bulk(
        [row["presentation"] for row in report["presentations"]]
    )
    listed = None if only is not None else FORECAST_LOTS_LISTED
    for row in report["presentations"]:
        row["label"] = str(presentations.get(row["presentation"], row["presentation_code"]))
        row["short_total"] = sum(s["short"] for s in row["shortages"])
        row["expiring_vials"] = sum(lot["unused"] for lot in row["expiring_unused"])
        row["expiring_listed"] = row["expiring_unused"][:listed]
        row["expiring_more"] = len(row["expiring_unused"]) - len(row["expiring_listed"])
        row["detail_url"] = "{}?{}".format(
            reverse("stock-forecast-page"),
            urlencode({"days": days, "presentation": row["presentation"]}),
        )
        for lot in row["expiring_listed"]:
            lot["url"] = reverse("stock-lot", args=[lot["lot"]])
        if row["needed"] or row["expiring_unused"]:
            row["chart"] = forecast_chart_for(row)
    report["presentations"].sort(key=lambda r: (not r["shortages"], r["label"]))
    return render(
        request,
        "inventory/forecast.html",
        {"form": form, "report": report, "days": days, "only": only},
    )


def forecast_chart_for(row: dict) -> str:
    """The presentation's forecast chart (inventory.forecast_chart), with the page's words."""
    labels = {
        "vials": _("vials"),
        "needed": _("doses need"),
        "usable": _("Usable vials on hand each morning"),
        "short": _("short by"),
        "expire_unused": lambda count, lot: (
            ngettext(
                "%(count)s vial of lot %(lot)s expires unused",
                "%(count)s vials of lot %(lot)s expire unused",
                count,
            )
            % {"count": count, "lot": lot}
        ),
        "expire_unused_lots": lambda count, lots: (
            ngettext("%(count)s vial expires unused", "%(count)s vials expire unused", count)
            % {"count": count}
            + " ("
            + ngettext("%(lots)s lot", "%(lots)s lots", lots) % {"lots": lots}
            + ")"
        ),
    }
    title = _("%(presentation)s: usable vials on hand against scheduled demand, by day") % {
        "presentation": row["label"]
    }
    return mark_safe(  # noqa: S308 — forecast_svg escapes every text it writes
        forecast_svg(
            days=row["by_day"],
            expiring_unused=row["expiring_unused"],
            title=title,
            labels=labels,
            day_text=lambda day: date_format(day, "d M Y"),
        )
    )
