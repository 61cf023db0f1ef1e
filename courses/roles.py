"""Which roles do what in the courses app: one definition for the API and the pages."""

from config.roles import Role

PRESCRIBERS = frozenset({Role.PHYSICIAN, Role.PHARMACIST})
RECORDERS = frozenset({Role.NURSE, Role.PHARMACIST})
WEIGHERS = PRESCRIBERS | {Role.NURSE}
