from django import template

from courses import leaflet_refs

register = template.Library()


@register.simple_tag
def protocol_citation(protocol):
    """'Ceruloplasmin leaflet — Dosing and administration, ¶3', linked to the leaflet text."""
    return leaflet_refs.leaflet_link(
        protocol.product.code, protocol.leaflet_section, protocol.leaflet_quote
    )


@register.filter
def cite(source: str):
    return leaflet_refs.cite(source)


@register.simple_tag
def leaflet_ref(source: dict):
    """A preparation's source ({"product", "title", "quote"}) as a link to the leaflet."""
    section = source["title"].split(" — ", 1)[-1]
    return leaflet_refs.leaflet_link(source["product"], section, source["quote"])
