import django_filters

from config.dates import DateFilter
from notifications.models import Notification, NotificationKind, NotificationStatus


class NotificationFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=NotificationKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=NotificationStatus.choices)
    created_from = DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Notification
        fields = ["kind", "status", "subject_type", "subject_id"]
