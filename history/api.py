"""`…/{id}/history/` on the API: the resource's events, with the resource's own visibility."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from history import selectors


class ChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Event id, unique across the event tables.")
    at = serializers.DateTimeField()
    label = serializers.CharField(help_text="insert, update, delete, role.add, member.add …")
    model = serializers.CharField(help_text="The changed row's model, e.g. courses.Dose.")
    object_id = serializers.CharField(allow_null=True)
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    url = serializers.CharField(help_text="The request that made the change; empty outside one.")
    request_id = serializers.CharField()
    action = serializers.CharField(help_text="The service's action, e.g. course.hold.")
    reason = serializers.CharField()
    changes = serializers.DictField(
        child=ChangeSerializer(), help_text="Field → before/after; empty for an insert."
    )
    data = serializers.DictField(help_text="The row as it was after the change.")


class HistoryMixin:
    """Adds GET `{id}/history/`. `get_object()` applies the view's own queryset, so whoever
    cannot see the resource (a nurse and another ward's patient) gets 404 for its history too.
    Read by every role that reads the resource; on SQLite nothing is recorded (empty list)."""

    # Set by the action below: its list is paged like a list view's (config.openapi documents it).
    paginated = False

    @extend_schema(responses=HistoryEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], serializer_class=HistoryEntrySerializer, paginated=True)
    def history(self, request, pk=None):
        obj = self.get_object()
        events = selectors.object_events(obj) if selectors.enabled() else []
        page = self.paginate_queryset(events)
        return self.get_paginated_response(
            HistoryEntrySerializer(selectors.entries(page), many=True).data
        )
