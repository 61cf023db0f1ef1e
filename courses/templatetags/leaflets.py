from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext

from courses import leaflet_refs
from courses.findings import Finding, finding_text
from courses.preparation import Day

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


@register.filter
def finding_message(finding):
    """A label check's finding (stored dict or fresh Finding) in the page's language."""
    if isinstance(finding, Finding):
        finding = finding.as_dict()
    return finding_text(finding, localize=True)


@register.filter
def decimal(value):
    """A preparation's volume ("0.93", as the API gives it) as the page's language writes it
    ("0,93" on a Ukrainian page); empty stays empty."""
    from courses.views.display import decimal_text

    return "" if value in (None, "") else decimal_text(value)


@register.filter
def iso_date(value):
    """A date the API carries as ISO text ("2027-03-31", a suggested lot's expiry) as the page's
    language writes dates (DATE_FORMAT: "31 березня 2027 р."); empty stays empty."""
    if value in (None, ""):
        return ""
    return date_format(Day.of(value).day)


@register.filter
def formulary_text(value):
    """A formulary text stored in English (a protocol's preparation note, a leaflet note) in the
    page's language, looked up by the text itself (courses.formulary marks each for the
    catalogue); a text edited since, having no entry, is shown as stored. Not `{% translate var
    %}`: that looks up "5%% glucose" for a stored "5% glucose" and finds nothing."""
    return gettext(value) if value else ""
