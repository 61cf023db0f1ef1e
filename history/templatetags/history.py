"""`{% history_for obj %}`: the latest changes of a page's object (patient, course, lot)."""

from django import template

from history import selectors

register = template.Library()

SHOWN = 20


@register.inclusion_tag("history/_section.html")
def history_for(obj, api_path: str = ""):
    """The page has already checked that its user may see `obj`."""
    enabled = selectors.enabled()
    entries = selectors.entries(selectors.object_events(obj)[:SHOWN]) if enabled else []
    return {"entries": entries, "enabled": enabled, "shown": SHOWN, "api_path": api_path}
