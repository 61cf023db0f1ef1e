"""Calendar feed tokens: create (the secret is returned once, only its hash is kept), revoke."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses import selectors
from courses.models import CalendarFeed


def calendar_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user, label: str = "", ward_code: str = "") -> tuple[CalendarFeed, str]:
    """A new feed for `user` (optionally one of the wards they may see); returns (feed, token)."""
    ward = None
    if ward_code:
        ward = selectors.wards_visible(user).filter(code=ward_code).first()
        if ward is None:
            raise ValidationError({"ward": _("Unknown ward %(ward)r.") % {"ward": ward_code}})
    # 256 bits: the URL is the only credential a calendar app can present.
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=user, label=label.strip(), ward=ward, token_hash=calendar_token_hash(token)
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed) -> CalendarFeed:
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed


def calendar_feed_used(*, feed: CalendarFeed) -> None:
    """Note the fetch (at most once a minute: calendar apps poll, the row need not churn)."""
    now = timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 60:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
