"""Reads of the history: one object's events, and the audit trail filtered by user and date.

Events come from pghistory's `Events` view over the event tables: each row has the snapshot
(`pgh_data`), the change against the object's previous event (`pgh_diff`: field → [before,
after]) and the request context (user, URL, request id, action, reason).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import CharField, Model, Q, QuerySet, Value
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


class AuditTrail:
    """Every recorded event, optionally only one user's, within [start, end), newest first — as
    a Paginator reads it: `count()` and slices, each slice a list of `Events` rows.

    Why not the `Events` queryset, sorted and sliced: pghistory's view builds every row's
    snapshot and diff (a lookup of the object's previous event, two JSON aggregations) before
    PostgreSQL can sort the rows and keep a page; at a large hospital's 146,436 events that was
    5.8 s for each page of 50. Here the page is chosen from the event tables' own columns, by
    their audit indexes (history.tracking.audit_indexes): a merge of index scans that stops after
    the page. Only those rows then go through the `Events` view, where the filter on their ids
    reaches each table's primary key. The count reads the same indexes and stays exact.

    Newest first is (pgh_created_at, pgh_id) descending, as before; the event model breaks the
    remaining tie (one transaction writes one timestamp, and ids repeat across tables), which the
    view's sort left open: every read puts a page's boundary at the same event.
    """

    ORDER = ("-pgh_created_at", "-pgh_id", "-pgh_model")

    def __init__(
        self,
        *,
        user_id: int | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ):
        self.user_id, self.start, self.end = user_id, start, end

    def keys(self) -> QuerySet:
        """(pgh_created_at, pgh_id, pgh_model) of every matching event, one UNION ALL branch per
        event table, each filtered where its index can use it."""
        branches = []
        for model in event_models():
            rows = model._default_manager.all()
            if self.user_id is not None:
                rows = rows.filter(pgh_context__user=self.user_id)
            if self.start is not None:
                rows = rows.filter(pgh_created_at__gte=self.start)
            if self.end is not None:
                rows = rows.filter(pgh_created_at__lt=self.end)
            label = Value(model._meta.label, output_field=CharField())
            branches.append(
                rows.annotate(pgh_model=label).values_list("pgh_created_at", "pgh_id", "pgh_model")
            )
        return branches[0].union(*branches[1:], all=True)

    def count(self) -> int:
        return self.keys().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list:
        if not isinstance(page, slice):
            raise TypeError("An audit trail is read a page (a slice) at a time.")
        keys = [(model, pgh_id) for _, pgh_id, model in self.keys().order_by(*self.ORDER)[page]]
        if not keys:
            return []
        by_key = {(event.pgh_model, event.pgh_id): event for event in self.rows(keys)}
        # An event pruned between the two reads (history_prune, past the retention) is gone.
        return [by_key[key] for key in keys if key in by_key]

    @staticmethod
    def rows(keys: list[tuple[str, int]]) -> QuerySet:
        """The `Events` rows of these (event model, pgh_id) keys, in no order. PostgreSQL pushes
        the filter into each table's branch of the view, where it reads the primary key."""
        ids: dict[str, list[int]] = {}
        for model, pgh_id in keys:
            ids.setdefault(model, []).append(pgh_id)
        return Events.objects.across(*ids).filter(
            functools.reduce(
                operator.or_,
                (Q(pgh_model=model, pgh_id__in=model_ids) for model, model_ids in ids.items()),
            )
        )


def audit_events(
    *, user_id: int | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> AuditTrail:
    """Every recorded event, optionally only one user's, within [start, end), newest first."""
    return AuditTrail(user_id=user_id, start=start, end=end)


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
