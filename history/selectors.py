"""Reads of the history: one object's events, and the audit trail filtered by user and date.

Events come from pghistory's `Events` view over the event tables: each row has the snapshot
(`pgh_data`), the change against the object's previous event (`pgh_diff`: field → [before,
after]) and the request context (user, URL, request id, action, reason).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from pghistory.models import Events

from history.context import enabled

# A resource's history: its own events and those of the rows that belong to it (a course's
# phases and doses, a patient's weights, a protocol's phases). Listed explicitly so that, for
# example, a protocol's history never shows the courses (and patients) prescribed from it.
RESOURCE_EVENTS: dict[str, tuple[str, ...]] = {
    "courses.Patient": ("courses.PatientEvent", "courses.PatientWeightEvent"),
    "courses.Course": ("courses.CourseEvent", "courses.CoursePhaseEvent", "courses.DoseEvent"),
    "courses.Dose": ("courses.DoseEvent",),
    "courses.Protocol": ("courses.ProtocolEvent", "courses.ProtocolPhaseEvent"),
    "inventory.Product": ("inventory.ProductEvent", "inventory.PresentationEvent"),
    "inventory.Presentation": ("inventory.PresentationEvent",),
    "inventory.Ward": ("inventory.WardEvent", "inventory.WardMemberEvent"),
    "inventory.StorageLocation": ("inventory.StorageLocationEvent",),
    "inventory.Lot": ("inventory.LotEvent",),
    "auth.User": ("history.UserEvent", "history.UserGroupEvent"),
}


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    at: dt.datetime
    label: str
    model: str
    object_id: str | None
    user_id: int | None
    username: str
    url: str
    request_id: str
    action: str
    reason: str
    changes: dict
    data: dict


def object_events(obj: Model) -> QuerySet:
    """Every event of `obj` and of its own rows (see RESOURCE_EVENTS), newest first."""
    event_models = RESOURCE_EVENTS[obj._meta.concrete_model._meta.label]
    return (
        Events.objects.across(*(apps.get_model(label) for label in event_models))
        .references(obj)
        .order_by("-pgh_created_at", "-pgh_id")
    )


def audit_events(
    *, user_id: int | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet:
    """Every recorded event, optionally only one user's, within [start, end), newest first."""
    events = Events.objects.across(*event_models()).order_by("-pgh_created_at", "-pgh_id")
    if user_id is not None:
        events = events.filter(pgh_context__user=user_id)
    if start is not None:
        events = events.filter(pgh_created_at__gte=start)
    if end is not None:
        events = events.filter(pgh_created_at__lt=end)
    return events


def event_models() -> list:
    """Every event model of the project (the tables the history is made of)."""
    labels = sorted({label for group in RESOURCE_EVENTS.values() for label in group})
    return [apps.get_model(label) for label in labels]


def entries(events) -> list[HistoryEntry]:
    """Events (a page of them) as entries, with the acting users' names read in one query."""
    if not enabled():
        return []
    events = list(events)
    user_ids = {
        (event.pgh_context or {}).get("user")
        for event in events
        if (event.pgh_context or {}).get("user")
    }
    names = dict(
        get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")
        if user_ids
        else []
    )
    result = []
    for event in events:
        context = event.pgh_context or {}
        user_id = context.get("user")
        result.append(
            HistoryEntry(
                id=event.pgh_slug,
                at=event.pgh_created_at,
                label=event.pgh_label,
                model=event.pgh_obj_model,
                object_id=event.pgh_obj_id,
                user_id=user_id,
                username=names.get(user_id, ""),
                url=context.get("url", ""),
                request_id=context.get("request_id", ""),
                action=context.get("action", ""),
                reason=context.get("reason", ""),
                changes={
                    name: {"before": pair[0], "after": pair[1]}
                    for name, pair in (event.pgh_diff or {}).items()
                },
                data=event.pgh_data or {},
            )
        )
    return result
