"""The leaflets as clinicians read them, and the formulary with its reading notes."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.access import page
from config.roles import PHARMACY
from courses import formulary, leaflet_refs
from courses.models import Protocol
from inventory.models import Presentation


@page()
def leaflet_page(request, product: str):
    text = leaflet_refs.leaflet_text(product)
    if text is None:
        raise Http404(_("No such leaflet."))
    name = leaflet_refs.LEAFLETS[product][0]
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    return render(request, "courses/leaflet.html", {"name": name, "paragraphs": paragraphs})


@page(read=PHARMACY)
def formulary_page(request):
    """Pharmacists' view: every protocol and presentation with the reading adopted and why."""
    protocols = Protocol.objects.select_related("product").prefetch_related("phases")
    presentations = [
        (p, formulary.PRESENTATION_READINGS.get(p.code, ""))
        for p in Presentation.objects.select_related("product").order_by(
            "product__name", "strength_unit", "strength"
        )
    ]
    return render(
        request,
        "courses/formulary.html",
        {"protocols": protocols, "presentations": presentations},
    )
