"""Preparing a dose and its second check (the label's "prepared by / checked by").

The release rule, minimal on purpose: with `PREPARATION_DOUBLE_CHECK_REQUIRED` on, a dose whose
preparation a pharmacist recorded is released to the ward — may be recorded as given — only once
a second person has recorded the check. Doses prepared on the ward (by a nurse) or never recorded
as prepared are not held back: the setting is about the pharmacy's aseptic unit handing over
made-up bags. The check is a different user from the preparer (also a database constraint).
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.roles import Role, has_role
from courses.models import Dose, DoseStatus
from courses.services.administration import _dose_locked


def _who(user) -> str:
    return user.get_full_name() or user.username


def _scheduled(dose: Dose) -> None:
    if dose.status != DoseStatus.SCHEDULED:
        raise ValidationError(
            {
                "status": _("This dose is %(status)s: nothing to prepare.")
                % {"status": dose.get_status_display().lower()}
            }
        )


@transaction.atomic
def dose_prepared_record(*, dose: Dose, user, now: dt.datetime) -> Dose:
    """Record who prepared the dose, and when (once; a checked preparation cannot change)."""
    dose = _dose_locked(dose)
    _scheduled(dose)
    if dose.prepared_by_id is not None:
        raise ValidationError(
            {
                "prepared_by": _("Already recorded as prepared by %(who)s.")
                % {"who": _who(dose.prepared_by)}
            }
        )
    dose.prepared_by, dose.prepared_at = user, now
    dose.save(update_fields=["prepared_by", "prepared_at"])
    return dose


@transaction.atomic
def dose_preparation_check(*, dose: Dose, user, now: dt.datetime) -> Dose:
    """Record the second person's check of a prepared dose."""
    dose = _dose_locked(dose)
    _scheduled(dose)
    if dose.prepared_by_id is None:
        raise ValidationError({"checked_by": _("Record who prepared the dose before the check.")})
    if dose.checked_by_id is not None:
        raise ValidationError(
            {"checked_by": _("Already checked by %(who)s.") % {"who": _who(dose.checked_by)}}
        )
    if dose.prepared_by_id == user.pk:
        raise ValidationError(
            {"checked_by": _("The check is by a second person, not the one who prepared the dose.")}
        )
    dose.checked_by, dose.checked_at = user, now
    dose.save(update_fields=["checked_by", "checked_at"])
    return dose


def preparation_released(dose: Dose) -> bool:
    """False while a pharmacist-prepared dose awaits its required second check."""
    if not settings.PREPARATION_DOUBLE_CHECK_REQUIRED or dose.prepared_by_id is None:
        return True
    if dose.checked_by_id is not None:
        return True
    return not has_role(dose.prepared_by, Role.PHARMACIST)


def preparation_release_error() -> dict:
    return {
        "checked_by": _(
            "Prepared in the pharmacy and not yet checked by a second person: the dose is not "
            "released to the ward."
        )
    }
