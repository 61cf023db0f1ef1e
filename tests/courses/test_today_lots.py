"""Today offers the lots usable on the dose's ward, not every usable lot in the hospital."""

import pytest

from courses import selectors
from inventory.models import Presentation
from tests.courses.test_views_today import _course_now
from tests.factories import PatientFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db


def test_only_lots_on_the_doses_ward_are_offered(
    client, nurse, stocked, ward, other_ward, physician, receive, today
):
    course = _course_now(PatientFactory(ward=ward, name="Ada Lovelace"), physician, today)
    (line,) = course.doses.first().vials
    presentation = Presentation.objects.get(pk=line["presentation_id"])
    elsewhere = StorageLocationFactory(code="other-fridge", ward=other_ward)
    pharmacy = StorageLocationFactory(code="central")
    receive(presentation, elsewhere, 5, lot_number="OTHERWARD", expiry_days=20)
    receive(presentation, pharmacy, 5, lot_number="CENTRAL", expiry_days=10)
    for n in range(8):
        receive(presentation, StorageLocationFactory(ward=ward), 2, lot_number=f"W{n}")
    client.force_login(nurse)
    page = client.get("/").content.decode()
    ours = stocked[presentation.code].lot_number
    assert f'value="{ours}"' in page  # the ward's own FEFO lot is still suggested
    assert "OTHERWARD" not in page and "CENTRAL" not in page
    offered = selectors.usable_lots(
        presentation_ids=[presentation.pk], on=today, ward_ids=[ward.pk]
    )
    assert len(offered[(ward.pk, presentation.pk)]) == selectors.LOTS_OFFERED  # a handful
