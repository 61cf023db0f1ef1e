"""A service's ValidationError shown on the form that sent the input — pages and admin alike."""

from collections.abc import Callable, Mapping

from django import forms
from django.core.exceptions import ValidationError


def service_errors_to_form(
    form: forms.Form,
    exc: ValidationError,
    field_map: Mapping[str, str] | Callable[[str], str | None] | None = None,
) -> None:
    """Show a service's refusal in place: on the field it names, else above the form.

    Services name fields by their keyword (`location_id`, `phases.0.count`); a form may name them
    otherwise (`location`): `field_map` translates, as a mapping or a function. A keyword ending
    in `_id` falls back to the field without it.
    """
    if field_map is None:
        field_map = {}
    translate = field_map if callable(field_map) else (lambda name: field_map.get(name, name))
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for name, messages in errors.items():
        target = translate(name) if name else None
        if target and target not in form.fields and target.endswith("_id"):
            target = target[: -len("_id")]
        form.add_error(target if target in form.fields else None, messages)
