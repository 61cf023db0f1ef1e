"""The roles of the product, held as Django groups of the same names.

Four are people's roles; the fifth, `sensor-gateway`, is for the machines that post temperature
readings: it may do that and nothing else (no page, no read of the API).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PHARMACIST = "pharmacist", _("Pharmacist")
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    VIEWER = "viewer", _("Viewer / auditor")
    SENSOR_GATEWAY = "sensor-gateway", _("Sensor gateway (posts temperature readings only)")


def role_label(name: str) -> str:
    """A group's name for a reader: a role group's in the reader's language ("Фармацевт"), as
    the Settings page and the admin show it; any other group's as it is named."""
    return str(Role(name).label) if name in Role.values else name


# Every person's role: the default readers of the API and the pages. A gateway is not one.
ALL_ROLES = frozenset(Role.values) - {Role.SENSOR_GATEWAY}


def user_roles(user) -> frozenset[str]:
    """The user's roles, read once per request object. A superuser holds every role."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        if user.is_superuser:
            cached = ALL_ROLES
        else:
            cached = frozenset(
                name for name in user.groups.values_list("name", flat=True) if name in Role.values
            )
        user._role_cache = cached
    return cached


def has_role(user, *roles: str) -> bool:
    """Whether the user holds any of `roles` — the one role test of the API, pages and admin."""
    return bool(user_roles(user) & set(roles))


# Who does what: one definition each, read by the API's permissions, the pages and the admin.
PHARMACY = frozenset({Role.PHARMACIST})
PRESCRIBERS = frozenset({Role.PHYSICIAN, Role.PHARMACIST})
# Record doses, and dispense, return and record waste of vials at the bedside.
RECORDERS = frozenset({Role.NURSE, Role.PHARMACIST})
WEIGHERS = PRESCRIBERS | {Role.NURSE}
# The notification log (and the audit trail): pharmacists and auditors.
AUDITORS = frozenset({Role.PHARMACIST, Role.VIEWER})
# Who posts temperature readings: pharmacists by hand, sensor gateways (their only permission).
READING_POSTERS = frozenset({Role.PHARMACIST, Role.SENSOR_GATEWAY})
# Who received a lot: patient identifiers of every ward, so not for nurses (scoped to their wards).
RECIPIENT_READERS = frozenset({Role.PHARMACIST, Role.PHYSICIAN, Role.VIEWER})


# Model permissions each role gets in the admin. Computed from the installed models each time,
# so running `load_formulary` after adding a model grants it too.
_ROLE_APPS = ("inventory", "courses", "notifications")
_PHYSICIAN_WRITES = {"patient", "patientweight", "course"}


def roles_ensure() -> None:
    """Create the role groups and give them their admin permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    perms = list(
        Permission.objects.filter(content_type__app_label__in=_ROLE_APPS).select_related(
            "content_type"
        )
    )
    views = [p for p in perms if p.codename.startswith("view_")]
    grants = {
        Role.PHARMACIST: perms,
        Role.PHYSICIAN: views
        + [
            p
            for p in perms
            if p.content_type.model in _PHYSICIAN_WRITES
            and p.codename.split("_")[0] in {"add", "change"}
        ],
        Role.NURSE: views,
        Role.VIEWER: views,
        Role.SENSOR_GATEWAY: [],  # posts readings through the API; no admin at all
    }
    for role, role_perms in grants.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_perms)
