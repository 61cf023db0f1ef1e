"""A hypothesis state machine over every stock operation, in random order (issue 12).

Receive, reserve, dispense, return, transfer, waste, quarantine, release, expire and release of
reservations run against the real services on the test database, refusals included (a refused
operation must leave nothing behind). After every step the invariants hold:

- every reference nets to ≥ 0 vials out per lot (dispensed minus returned), so no return ever
  mints stock;
- every stock level equals the sum of its ledger movements (on hand and reserved);
- on hand and reserved are never negative, and reserved never exceeds on hand;
- what the ledger says is held per reference is never negative.

Each example runs inside a transaction rolled back at its end, so examples do not see each
other's rows. STEPS counts the steps run (the closing note reports it).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from config.roles import Role
from inventory import selectors, services
from inventory.models import MovementKind, StockLevel, StockMovement
from tests.factories import PresentationFactory, StorageLocationFactory, UserFactory

STEPS = {"run": 0, "refused": 0, "examples": 0}
REFERENCES = st.sampled_from(["R1", "R2", "R3"])
VIALS = st.integers(min_value=1, max_value=6)


class StockMachine(RuleBasedStateMachine):
    lots = Bundle("lots")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        STEPS["examples"] += 1
        self.today = timezone.localdate()
        self.user = UserFactory(roles=[Role.PHARMACIST])
        self.presentation = PresentationFactory()
        self.locations = [
            StorageLocationFactory(code=f"fridge-{n}-{STEPS['examples']}") for n in range(2)
        ]
        self.received = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _try(self, operation, **kwargs):
        STEPS["run"] += 1
        try:
            with transaction.atomic():  # a refusal rolls back only this step
                return operation(user=self.user, **kwargs)
        except ValidationError:
            STEPS["refused"] += 1
            return None

    # --- Rules ---------------------------------------------------------------------------------

    @initialize(target=lots, quantity=VIALS, where=st.integers(0, 1))
    def first_receipt(self, quantity, where):
        return self._receive(quantity, where, expiry_days=365)

    @rule(target=lots, quantity=VIALS, where=st.integers(0, 1), expiry_days=st.integers(1, 400))
    def receive(self, quantity, where, expiry_days):
        return self._receive(quantity, where, expiry_days)

    def _receive(self, quantity, where, expiry_days):
        self.received += 1
        movement = self._try(
            services.lot_receive,
            presentation_id=self.presentation.pk,
            location_id=self.locations[where].pk,
            quantity=quantity,
            lot_number=f"L{self.received}",
            expiry_date=self.today + datetime.timedelta(days=expiry_days),
            on=self.today,
        )
        return movement.lot.pk

    @rule(reference=REFERENCES, quantity=VIALS, ahead=st.integers(0, 30))
    def reserve(self, reference, quantity, ahead):
        self._try(
            services.stock_reserve,
            presentation_id=self.presentation.pk,
            quantity=quantity,
            reference=reference,
            on=self.today + datetime.timedelta(days=ahead),
        )

    @rule(reference=st.one_of(REFERENCES, st.just("")), quantity=VIALS)
    def dispense(self, reference, quantity):
        self._try(
            services.stock_dispense,
            presentation_id=self.presentation.pk,
            quantity=quantity,
            reference=reference,
            on=self.today,
        )

    @rule(
        lot=lots,
        where=st.integers(0, 1),
        reference=st.one_of(REFERENCES, st.just("")),
        quantity=VIALS,
    )
    def return_(self, lot, where, reference, quantity):
        self._try(
            services.stock_return,
            lot_id=lot,
            location_id=self.locations[where].pk,
            quantity=quantity,
            reference=reference,
            on=self.today,
        )

    @rule(lot=lots, source=st.integers(0, 1), quantity=VIALS)
    def transfer(self, lot, source, quantity):
        self._try(
            services.stock_transfer,
            lot_id=lot,
            from_location_id=self.locations[source].pk,
            to_location_id=self.locations[1 - source].pk,
            quantity=quantity,
            on=self.today,
        )

    @rule(lot=lots, where=st.integers(0, 1), quantity=VIALS)
    def waste(self, lot, where, quantity):
        self._try(
            services.stock_waste,
            lot_id=lot,
            location_id=self.locations[where].pk,
            quantity=quantity,
            reason="broken",
            on=self.today,
        )

    @rule(lot=lots)
    def quarantine(self, lot):
        self._try(services.lot_quarantine, lot_id=lot, reason="check", on=self.today)

    @rule(lot=lots)
    def release(self, lot):
        self._try(services.lot_release, lot_id=lot, reason="checked", on=self.today)

    @rule(days=st.integers(1, 60))
    def expire(self, days):
        STEPS["run"] += 1
        with transaction.atomic():
            services.lots_expire(on=self.today + datetime.timedelta(days=days))

    @rule(reference=REFERENCES)
    def release_reservation(self, reference):
        self._try(services.reservation_release, reference=reference, reason="not needed")

    # --- Invariants ----------------------------------------------------------------------------

    @invariant()
    def every_reference_nets_to_at_least_zero_out(self):
        nets = (
            StockMovement.objects.filter(kind__in=[MovementKind.DISPENSE, MovementKind.RETURN])
            .values("reference", "lot_id")
            .annotate(net=Sum("on_hand_delta"))
        )
        minted = [row for row in nets if row["net"] > 0]
        assert minted == [], minted

    @invariant()
    def levels_equal_the_ledger(self):
        assert selectors.ledger_mismatches() == []

    @invariant()
    def counts_never_negative(self):
        for on_hand, reserved in StockLevel.objects.values_list("on_hand", "reserved"):
            assert 0 <= reserved <= on_hand

    @invariant()
    def holds_per_reference_never_negative(self):
        held = (
            StockMovement.objects.exclude(reserved_delta=0)
            .values("reference", "lot_id", "location_id")
            .annotate(held=Sum("reserved_delta"))
        )
        assert all(row["held"] >= 0 for row in held)


@pytest.mark.django_db
def test_stock_operations_in_any_order_keep_the_invariants(capsys):
    StockMachine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    StockMachine.TestCase().runTest()
    with capsys.disabled():
        print(
            f"\nstock state machine: {STEPS['examples']} examples, {STEPS['run']} steps run, "
            f"{STEPS['refused']} refused by the services"
        )
    assert STEPS["run"] > 300  # the machine really ran, most steps doing something
