"""Cold chain: each location's temperature chart and the review of excursions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from config.access import page
from config.forms import service_errors_to_form
from config.roles import PHARMACY, has_role
from inventory import charts, forms, selectors, services
from inventory.models import Excursion, StorageLocation, temperature_range

# The chart's time ticks as Django writes dates in the reader's language ("Tue 1 Dec",
# "Вт 1 гру"); each kind is one of `charts.AxisText.moment`'s.
_TICK_FORMATS = {"weekday": "D j M", "day_time": "j M H:i", "day": "j M", "time": "H:i"}


def _axis_text() -> charts.AxisText:
    """The chart's axes in the active language: dates by Django's locale, temperatures with the
    locale's decimal separator (a comma in Ukrainian), as the rest of the page writes them."""
    return charts.AxisText(
        moment=lambda local, kind: date_format(local, _TICK_FORMATS[kind]),
        number=lambda value: number_format(value, decimal_pos=0 if value == int(value) else 1),
        empty=_("No readings in this period"),
    )


def _chart(location: StorageLocation, limits, start, end, now) -> dict:
    points = selectors.reading_points(location_id=location.pk, start=start, end=end)
    bands = [
        charts.Band(
            location.min_c,
            location.max_c,
            "band-location",
            _("%(location)s is kept at %(range)s")
            % {
                "location": location.name,
                "range": temperature_range(location.min_c, location.max_c),
            },
        )
    ]
    if limits:
        low, high, names = limits
        bands.append(
            charts.Band(
                low,
                high,
                "band-product",
                _("Strictest stored product range (%(products)s): %(range)s")
                % {"products": ", ".join(names), "range": temperature_range(low, high)},
            )
        )
    spans = []
    for excursion in selectors.excursions_between(location_id=location.pk, start=start, end=end):
        until = excursion.ended_at or now
        local = timezone.localtime
        spans.append(
            charts.Span(
                excursion.started_at,
                until,
                "excursion" if excursion.ended_at else "excursion running",
                _("Excursion %(start)s – %(end)s, %(low)s–%(high)s °C")
                % {
                    "start": date_format(local(excursion.started_at), "d M H:i"),
                    "end": date_format(local(until), "d M H:i")
                    if excursion.ended_at
                    else _("still out of range"),
                    "low": number_format(excursion.min_c),
                    "high": number_format(excursion.max_c),
                },
            )
        )
    values = [value for _at, value in points]
    return {
        "svg": charts.temperature_svg(
            points=points,
            start=start,
            end=end,
            bands=bands,
            spans=spans,
            tz=timezone.get_current_timezone(),
            text=_axis_text(),
            title=_("Temperature at %(location)s, %(start)s to %(end)s")
            % {
                "location": location.name,
                "start": date_format(timezone.localtime(start), "d M H:i"),
                "end": date_format(timezone.localtime(end), "d M H:i"),
            },
        ),
        "count": len(points),
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "last": points[-1] if points else None,
        "bands": bands,
        "excursions": spans,
    }


def _page(request, *, bound_pk=None, bound_form=None):
    now = timezone.localtime()
    locations = list(selectors.cold_chain_locations())
    limits = selectors.stored_limits([loc.pk for loc in locations])
    for location in locations:
        location.stored_limits = limits.get(location.pk)
        if location.stored_limits:
            location.stored_range = temperature_range(*location.stored_limits[:2])
    form = forms.ChartForm(
        request.GET or None, locations=StorageLocation.objects.filter(active=True)
    )
    valid = form.is_valid() if form.is_bound else False
    start, end = form.window(now) if valid else (now - forms.ChartForm.PERIODS["24h"], now)
    chosen = form.cleaned_data.get("location") if valid else None
    if chosen is None and locations:
        # Open where attention is needed: a location out of range now, else the first one.
        chosen = next((loc for loc in locations if loc.out_of_range), locations[0])
    chart = _chart(chosen, limits.get(chosen.pk), start, end, now) if chosen else None
    pending, resolved = selectors.excursions_for_review()
    can_resolve = has_role(request.user, *PHARMACY)
    for excursion in pending:
        excursion.resolve_form = None
        if can_resolve and excursion.ended_at is not None:
            excursion.resolve_form = (
                bound_form
                if excursion.pk == bound_pk
                else forms.ExcursionResolveForm(prefix=f"x{excursion.pk}")
            )
    return render(
        request,
        "inventory/cold_chain.html",
        {
            "locations": locations,
            "chosen": chosen,
            "form": form,
            "period": (form.cleaned_data.get("period") if valid else "") or "24h",
            "start": start,
            "end": end,
            "chart": chart,
            "pending": pending,
            "resolved": resolved,
            "can_resolve": can_resolve,
        },
    )


@page()
def cold_chain(request):
    return _page(request)


@page(write=PHARMACY)
def excursion_resolve(request, pk: int):
    """Release or discard an excursion's lots; errors are shown on its row, input kept."""
    if request.method != "POST":
        return redirect("cold-chain")
    excursion = get_object_or_404(Excursion, pk=pk)
    form = forms.ExcursionResolveForm(request.POST, prefix=f"x{pk}")
    if form.is_valid():
        try:
            services.excursion_resolve(
                excursion_id=excursion.pk,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
                user=request.user,
                on=timezone.localdate(),
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc, {"excursion_id": None})
        else:
            if form.cleaned_data["resolution"] == "release":
                text = _("Excursion at %(location)s resolved: stock released.")
            else:
                text = _("Excursion at %(location)s resolved: stock discarded.")
            messages.success(request, text % {"location": excursion.location})
            url = reverse("cold-chain")
            return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    return _page(request, bound_pk=pk, bound_form=form)
