"""Dose alerts: reminders before a dose, each ward's morning digest, overdue and missed doses.

Each function selects what is due at `now` and enqueues outbox rows (notifications)
under unique keys, then returns how many were new: running it twice, or from two beat
schedulers, stores nothing twice, and `notifications.send_due` delivers. Keys carry the dose's
scheduled time, so a re-planned dose is reminded again at its new time.

Patient identifiers in e-mails are kept to initials and the last four characters of the MRN
(there is no bed on record): enough for a nurse to match the dose on the ward list, too little to
identify anyone from a forwarded e-mail.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from courses import selectors
from courses.models import Diluent, Dose, DoseStatus, Patient, Route
from courses.preparation import amount_text
from courses.schedule import local_moment
from courses.units import Mass
from inventory.models import Ward
from notifications.models import Notification, NotificationKind
from notifications.selectors import role_recipients, ward_recipients
from notifications.services import (
    NotificationDraft,
    notification_enqueue,
    notifications_enqueue_many,
    site_link,
)

KEY_LOOKUP_CHUNK = 2000


def patient_label(patient: Patient) -> str:
    """Initials and MRN suffix, e.g. "A.D. · MRN …0001"."""
    initials = "".join(f"{part[0]}." for part in patient.name.split() if part[:1].isalpha())
    return f"{initials.upper()} · MRN …{patient.mrn[-4:]}"


def _scheduled() -> QuerySet[Dose]:
    return Dose.objects.filter(
        selectors.course_lets_dose_proceed(), status=DoseStatus.SCHEDULED
    ).select_related("course__protocol__product", "course__patient__ward")


def dose_summary(dose: Dose) -> dict:
    """What a nurse needs to prepare and give the dose, for the e-mail templates.

    Values, not sentences: the templates word them in each recipient's language at send time
    (labels such as the route are lazy translations, stored by their English text).
    """
    preparation = selectors.dose_preparation(dose)
    local = local_moment(dose.scheduled_at, dose.course.time_zone)
    volume = preparation["diluent_volume_ml"]
    return {
        "time": local.strftime("%H:%M"),  # 24-hour in both languages
        "date": local.date(),
        "url": site_link(reverse("course-page", args=[dose.course_id])) + f"#dose-{dose.pk}",
        "patient": patient_label(dose.course.patient),
        "ward": dose.course.patient.ward.name,
        "drug": dose.course.protocol.product.name,
        "dose": amount_text(Mass(dose.amount, dose.amount_unit)),
        "vials": ", ".join(line["text"] for line in preparation["containers"]),
        # The labels themselves (lazy), not get_*_display()'s text in the language active now.
        "route": Route(dose.course.protocol.route).label,
        "diluent": Diluent(dose.course.diluent).label if dose.course.diluent else "",
        "volume_ml": Decimal(volume) if volume else None,
        # Betaleukin IV: the volume of the made-up 100 ml that holds the dose (leaflet 002).
        "draw_ml": Decimal(preparation["transfer_volume_ml"])
        if preparation["transfer_volume_ml"]
        else None,
        "infusion_minutes": preparation["infusion_minutes"],
        "drops_per_min": preparation["drip_rate_drops_per_min"],
        "give_ml": Decimal(preparation["give_volume_ml"]),
        "discard_ml": Decimal(preparation["discard_volume_ml"]),
    }


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def dose_key(kind: str, dose: Dose, threshold: str = "") -> str:
    key = f"{kind}:dose:{dose.pk}:{_stamp(dose.scheduled_at)}"
    return f"{key}:{threshold}" if threshold else key


def _existing(keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found = set()
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        found.update(Notification.objects.filter(key__in=chunk).values_list("key", flat=True))
    return found


def _dose_alerts(
    doses: Iterable[Dose],
    *,
    kind: str,
    template: str,
    recipients,
    due_at,
    threshold: str = "",
) -> int:
    """Enqueue one `kind` alert per dose not yet alerted; recipients(ward) is cached per ward,
    due_at(dose) says when it should go out.

    Keys already stored are skipped before rendering: a scan runs every minute over doses that
    stay in its window for an hour or more, and rendering is what costs.
    """
    by_key = {dose_key(kind, dose, threshold): dose for dose in doses}
    already = _existing(by_key)
    addresses: dict[int, list[str]] = {}
    drafts = []
    for key, dose in by_key.items():
        if key in already:
            continue
        ward = dose.course.patient.ward
        if ward.pk not in addresses:
            addresses[ward.pk] = recipients(ward)
        summary = dose_summary(dose)
        drafts.append(
            NotificationDraft(
                kind=kind,
                key=key,
                recipients=addresses[ward.pk],
                template=template,
                context={
                    "dose": summary,
                    "doses": [summary],
                    "hours": int(threshold.removesuffix("h")) if threshold else None,
                },
                subject_type="dose",
                subject_id=dose.pk,
                due_at=due_at(dose),
                threshold=threshold,
                for_date=summary["date"],
            )
        )
    return notifications_enqueue_many(drafts=drafts)


def _nurses(ward: Ward) -> list[str]:
    return ward_recipients(ward, role=Role.NURSE)


def _pharmacists_and_ward(ward: Ward) -> list[str]:
    return sorted(set(role_recipients(Role.PHARMACIST)) | set(_nurses(ward)))


def _reminder_time(dose: Dose) -> dt.datetime:
    lead = dose.course.patient.ward.reminder_lead_minutes
    return dose.scheduled_at - dt.timedelta(minutes=lead)


def dose_reminders_enqueue(*, now: dt.datetime) -> int:
    """One reminder per scheduled dose whose ward's lead time has come, to its nurses + mailbox.

    Due when scheduled_at − ward.reminder_lead_minutes ≤ now; a dose more than
    DOSE_REMINDER_LATE_MINUTES past its time is not reminded (the overdue alert takes over).
    """
    late = dt.timedelta(minutes=settings.DOSE_REMINDER_LATE_MINUTES)
    longest = Ward.objects.aggregate(lead=Max("reminder_lead_minutes"))["lead"] or 0
    candidates = _scheduled().filter(
        scheduled_at__gt=now - late, scheduled_at__lte=now + dt.timedelta(minutes=longest)
    )
    due = [dose for dose in candidates if _reminder_time(dose) <= now]
    return _dose_alerts(
        due,
        kind=NotificationKind.DOSE_REMINDER,
        template="dose_reminder",
        recipients=_nurses,
        due_at=_reminder_time,
    )


def doses_overdue_enqueue(*, now: dt.datetime) -> int:
    """Alert the ward about doses unrecorded DOSE_OVERDUE_HOURS after their time, then the
    pharmacists (and the ward) once DOSE_ESCALATION_HOURS have passed.

    Each level owns its band of scheduled times, so a scan that first runs late sends the
    escalation alone, not both at once: overdue for (now − M, now − N], escalation for
    (now − M − DOSE_ALERT_WINDOW_HOURS, now − M].
    """
    overdue = dt.timedelta(hours=settings.DOSE_OVERDUE_HOURS)
    escalation = dt.timedelta(hours=settings.DOSE_ESCALATION_HOURS)
    window = dt.timedelta(hours=settings.DOSE_ALERT_WINDOW_HOURS)
    levels = [
        # kind, template, who, hours late, band of scheduled times (oldest, newest]
        (NotificationKind.DOSE_OVERDUE, "dose_overdue", _nurses, overdue, escalation),
        (
            NotificationKind.DOSE_MISSED_ESCALATION,
            "dose_missed_escalation",
            _pharmacists_and_ward,
            escalation,
            escalation + window,
        ),
    ]
    created = 0
    for kind, template, recipients, late, oldest in levels:
        created += _dose_alerts(
            _scheduled().filter(scheduled_at__gt=now - oldest, scheduled_at__lte=now - late),
            kind=kind,
            template=template,
            recipients=recipients,
            threshold=f"{int(late.total_seconds() // 3600)}h",
            due_at=lambda dose, late=late: dose.scheduled_at + late,
        )
    return created


def digest_moment(ward: Ward, day: dt.date) -> dt.datetime:
    """The ward's digest time on `day` in the hospital zone (a time skipped by a DST change
    resolves to the same wall-clock reading after the change, e.g. 02:30 → 03:30)."""
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day, ward.digest_time, tzinfo=zone)


def ward_digests_enqueue(*, now: dt.datetime) -> int:
    """Each ward's digest of today's scheduled infusions, once its digest_time (local) has come.

    Key digest:<ward>:<date>; sent to the ward's nurses (minus those who opted out of digests)
    and its mailbox. A ward with nothing scheduled today gets no digest. If the scan first runs
    later in the day (an outage), the digest still goes out with what is left to give.
    """
    today = timezone.localdate(now)
    wards = [ward for ward in Ward.objects.all() if digest_moment(ward, today) <= now]
    keys = {f"digest:{ward.code}:{today.isoformat()}": ward for ward in wards}
    already = _existing(keys)
    wards = {ward.pk: ward for key, ward in keys.items() if key not in already}
    if not wards:
        return 0
    doses = defaultdict(list)
    for dose in (
        selectors.doses_due(start=today, end=today)
        .filter(course__patient__ward__in=list(wards))
        .select_related("course__protocol__product", "course__patient__ward")
    ):
        doses[dose.course.patient.ward_id].append(dose_summary(dose))
    created = 0
    for ward_id, summaries in doses.items():
        ward = wards[ward_id]
        _, new = notification_enqueue(
            kind=NotificationKind.WARD_DIGEST,
            key=f"digest:{ward.code}:{today.isoformat()}",
            recipients=ward_recipients(ward, role=Role.NURSE, digest=True),
            template="ward_digest",
            context={
                "ward": ward.name,
                "day": today,
                "doses": summaries,
                "url": site_link(reverse("today"))
                + "?"
                + urlencode({"ward": ward.code, "date": today.isoformat()}),
            },
            subject_type="ward",
            subject_id=ward.pk,
            due_at=digest_moment(ward, today),
            for_date=today,
        )
        created += new
    return created
