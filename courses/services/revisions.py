"""Dose revisions: every change to a planned dose bumps `revision` and `updated_at`, which the
calendar feeds publish as SEQUENCE and LAST-MODIFIED (RFC 5545 §3.8.7.4) so that subscribed
calendars replace their copy. Bulk updates bypass `auto_now`, hence these two helpers."""

from django.db.models import F, QuerySet
from django.utils import timezone

from courses.models import Dose


def doses_touched(doses: list[Dose]) -> list[str]:
    """Bump the in-memory rows; returns the field names to add to a save / bulk_update."""
    now = timezone.now()
    for dose in doses:
        dose.revision += 1
        dose.updated_at = now
    return ["revision", "updated_at"]


def doses_touch(queryset: QuerySet[Dose], **changes) -> int:
    """UPDATE the rows with `changes`, bumping their revision in the same statement."""
    return queryset.update(**changes, revision=F("revision") + 1, updated_at=timezone.now())
