"""Writes of the courses app, one module per sub-domain; every function runs in one transaction.

protocols (formulary loading, protocol edits), patients (patients and weights), prescribing
(course_check, course_create), administration (recording doses), planning (re-planning and stock
reservations for due doses), course_status (hold, resume, cancel).
"""

from .administration import (  # noqa: F401
    CLOCK_SKEW,
    _dose_locked,
    dose_administer,
    dose_record_not_given,
)
from .calendar_feeds import (  # noqa: F401
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_used,
    calendar_token_hash,
)
from .course_status import (  # noqa: F401
    RecordedDosesKept,
    _course_locked,
    course_cancel,
    course_delete,
    course_hold,
    course_resume,
)
from .patients import (  # noqa: F401
    PATIENT_FIELDS,
    patient_save,
    patient_weight_record,
)
from .preparation import (  # noqa: F401
    dose_preparation_check,
    dose_prepared_record,
    preparation_released,
)
from .prescribing import (  # noqa: F401
    DEFAULT_ADMINISTRATION_TIME,
    WEIGHT_STALE_DAYS,
    CourseDraft,
    course_check,
    course_create,
    courses_create_bulk,
)
from .protocols import (  # noqa: F401
    LoadReport,
    formulary_load,
    protocol_save,
)
from .reservations import (  # noqa: F401
    doses_reserve,
)
