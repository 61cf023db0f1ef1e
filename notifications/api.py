from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.roles import AUDITORS, PHARMACY
from notifications.filters import NotificationFilter
from notifications.selectors import notification_list
from notifications.serializers import (
    NotificationDetailSerializer,
    NotificationSerializer,
)
from notifications.services import notification_resend


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Sent and pending e-mail notifications. Pharmacists and viewers read; pharmacists re-send.

    Filters: kind, status (repeatable), created_from / created_to (dates, inclusive).
    """

    read_roles = AUDITORS
    action_roles = {"resend": PHARMACY}
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "due_at", "sent_at"]

    def get_queryset(self):
        if self.action == "list":
            return notification_list()
        return notification_list().defer(None)

    def get_serializer_class(self):
        return NotificationSerializer if self.action == "list" else NotificationDetailSerializer

    @extend_schema(request=None, responses=NotificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Queue a failed notification again (same key and Message-ID). 400 unless failed."""
        notification = notification_resend(notification=self.get_object(), user=request.user)
        return Response(NotificationDetailSerializer(notification).data)
