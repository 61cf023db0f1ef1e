"""A service's ValidationError shown on the form that sent the input."""

from django.core.exceptions import ValidationError


def add_errors(form, error: ValidationError) -> None:
    """Each message on its field when the form has one, else at the top of the form."""
    for field, texts in error.message_dict.items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)
