from rest_framework import serializers

from notifications.models import Notification

LIST_FIELDS = [
    "id",
    "kind",
    "key",
    "subject_type",
    "subject_id",
    "threshold",
    "for_date",
    "recipients",
    "subject",
    "status",
    "attempts",
    "last_error",
    "due_at",
    "next_attempt_at",
    "sent_at",
    "created_at",
    "message_id",
    "resent_at",
]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = LIST_FIELDS
        read_only_fields = LIST_FIELDS


class NotificationDetailSerializer(NotificationSerializer):
    class Meta(NotificationSerializer.Meta):
        fields = [*LIST_FIELDS, "template", "body_text"]
        read_only_fields = fields
