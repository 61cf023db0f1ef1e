"""Today's keyboard path: the skip link's target is the first field of the first dose that can
be recorded, so a nurse reaches its "Given" button in a handful of Tab presses."""

from django import template

register = template.Library()


@register.simple_tag
def first_record_field(groups) -> str:
    """The id of the first recordable dose's first field ("lot-7", or "time-7" when the dose
    takes more than one presentation and has no lot box); "" when there is none."""
    for group in groups:
        for slot in group["hours"]:
            for row in slot["rows"]:
                if row.can_record:
                    prefix = "lot" if len(row.dose.vials) == 1 else "time"
                    return f"{prefix}-{row.dose.pk}"
    return ""
