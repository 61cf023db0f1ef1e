"""Reads for notifications: who receives what, and the list the API and admin show."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from config.roles import Role
from notifications.models import Notification


def _addresses(users: QuerySet, *, digest: bool) -> set[str]:
    users = users.filter(is_active=True).exclude(email="")
    if digest:
        # Opt-out covers digests only; alerts that need action ignore it (callers pass digest=False).
        users = users.exclude(notification_preference__receive_digests=False)
    return set(users.values_list("email", flat=True))


def role_recipients(role: str, *, digest: bool = False) -> list[str]:
    """Addresses of active users holding `role` (a config.roles.Role), sorted."""
    users = get_user_model().objects.filter(groups__name=Role(role).value)
    return sorted(_addresses(users, digest=digest))


def ward_recipients(ward, *, role: str | None = Role.NURSE, digest: bool = False) -> list[str]:
    """The ward's mailbox plus its members holding `role` (None: every member), sorted.

    The ward mailbox is a shared inbox: it leaves digests (its unsubscribe link) but never alerts.
    """
    users = get_user_model().objects.filter(wards=ward)
    if role is not None:
        users = users.filter(groups__name=Role(role).value)
    addresses = _addresses(users, digest=digest)
    if ward.email and (ward.mailbox_digests or not digest):
        addresses.add(ward.email)
    return sorted(addresses)


def recipient_languages(addresses) -> dict[str, str]:
    """Lower-cased address → the language its e-mails are written in, for those that have one.

    A user's own choice (Settings page) wins over a ward mailbox's language; addresses with
    neither (and users who chose none) are left out: the caller falls back to LANGUAGE_CODE.
    """
    from inventory.models import Ward
    from notifications.models import NotificationPreference

    wanted = {address.lower() for address in addresses if address}
    if not wanted:
        return {}
    found = dict(
        Ward.objects.annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .exclude(language="")
        .values_list("address", "language")
    )
    for address, language in (
        NotificationPreference.objects.annotate(address=Lower("user__email"))
        .filter(address__in=wanted, user__is_active=True)
        .exclude(language="")
        .order_by("-user_id")  # two accounts on one address: the oldest one's choice
        .values_list("address", "language")
    ):
        found[address] = language
    return found


def notification_list(*, filters: Q | None = None) -> QuerySet[Notification]:
    queryset = Notification.objects.defer("body_text", "body_html").order_by("-created_at", "-id")
    return queryset.filter(filters) if filters is not None else queryset
