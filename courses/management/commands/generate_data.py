"""`manage.py generate_data --size large --seed 1`: a hospital's worth of rows for `make bench`.

Seeded (the same size and seed give the same rows, relative to the day it runs), bulk inserted
(COPY on PostgreSQL, bulk_create in batches elsewhere) with progress lines on stderr. Valid for
the product: courses are prescribed through `courses_create_bulk` (course_create's checks and scheduling
engine), doses before today are recorded as given without stock (dispensed=False: the ledger
has no line for them), every stock level equals the sum of its ledger lines, readings stay in the
locations' range (so no excursion is owed). Refuses a database that already holds patients or
lots, unless it holds exactly this size and seed (then nothing is done). It lives in `courses`
because it fills both apps (courses may import inventory, never the reverse).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from config.roles import Role, roles_ensure
from courses.models import Course, Dose, DoseStatus, Patient, PatientWeight, Protocol
from courses.services import courses_create_bulk, formulary_load
from inventory.models import (
    LocationKind,
    Lot,
    LotStatus,
    MovementKind,
    Presentation,
    StockLevel,
    StockMovement,
    StorageLocation,
    TemperatureReading,
    Ward,
)

MARKER_TABLE = "generate_data_marker"


@dataclass(frozen=True)
class Size:
    wards: int
    patients: int
    courses: int
    lots: int
    movements: int
    readings: int


SIZES = {
    "tiny": Size(wards=3, patients=30, courses=12, lots=70, movements=400, readings=4_000),
    "small": Size(
        wards=10, patients=500, courses=200, lots=5_000, movements=50_000, readings=200_000
    ),
    "large": Size(
        wards=40,
        patients=5_000,
        courses=2_000,
        lots=100_000,
        movements=1_000_000,
        readings=5_000_000,
    ),
    "huge": Size(
        wards=40,
        patients=5_000,
        courses=2_000,
        lots=1_000_000,
        movements=1_000_000,
        readings=5_000_000,
    ),
}

# The busiest presentation (3 vials a dose in ceruloplasmin-postop) holds this share of the lots,
# each lot at the pharmacy and, for TRANSFER_SHARE of them, on a ward too: 10,000 lots → ~14,000
# stock levels at large size, the presentation the FEFO dispense figures use.
BUSY_PRESENTATION = "ceruloplasmin-100mg-vial-5"
BUSY_SHARE = 0.10
TRANSFER_SHARE = 0.4
PHARMACY_LOCATIONS = [
    ("gen-pharmacy-fridge-1", "Pharmacy fridge 1", LocationKind.FRIDGE),
    ("gen-pharmacy-fridge-2", "Pharmacy fridge 2", LocationKind.FRIDGE),
    ("gen-pharmacy-fridge-3", "Pharmacy fridge 3", LocationKind.FRIDGE),
    ("gen-pharmacy-fridge-4", "Pharmacy fridge 4", LocationKind.FRIDGE),
    ("gen-cold-room-1", "Cold room 1", LocationKind.COLD_ROOM),
    ("gen-cold-room-2", "Cold room 2", LocationKind.COLD_ROOM),
]
# (protocol, phase choices): adult regimens averaging ~11.5 doses a course.
REGIMENS = [
    ("biocerulin-chemotherapy", [{"dose": "1", "count": 14}]),
    ("ceruloplasmin-postop", [{"dose": "3", "count": 10}]),
    ("ceruloplasmin-postop", [{"dose": "3", "count": 10}]),
    ("biocerulin-hemoblastosis", [{"dose": "1", "count": 8}]),
    ("betaleukin-leukopoiesis-toxic-iv", [{"dose": "15", "cycles": 2}]),
    ("ceruloplasmin-preop-oncology", [{"dose": "2", "count": 10}]),
    ("biocerulin-osteomyelitis-chronic", [{"dose": "2", "count": 3}, {"dose": "1", "count": 7}]),
    ("biocerulin-chemotherapy", [{"dose": "1.5", "count": 14}]),
    ("betaleukin-leukopoiesis-toxic-iv", [{"dose": "15", "cycles": 3}]),
]


def regimen_choices(protocol, phases: list[dict]) -> list[dict]:
    """The prescriber's choices for a regimen. Where the label offers more than one schedule the
    prescriber picks one (prescribing refuses to); the generator, a seeded stand-in for the
    prescriber, picks the protocol's first."""
    protocol_phases = list(protocol.phases.order_by("order"))
    return [
        {"pattern": protocol_phases[i].patterns[0], **choice}
        if "pattern" not in choice and len(protocol_phases[i].patterns) > 1
        else choice
        for i, choice in enumerate(phases)
    ]


# Course starts spread over these days around today: ~937 doses on the busiest day at large size.
START_FROM_DAYS, START_TO_DAYS = -18, 3
COURSE_BATCH = 500  # prescriptions per courses_create_bulk call
BATCH = 5_000


def marker(using=connection) -> tuple[str, int] | None:
    """The (size, seed) this database was generated with, or None."""
    with using.cursor() as cursor:
        if MARKER_TABLE not in using.introspection.table_names(cursor):
            return None
        cursor.execute(f"SELECT size, seed FROM {MARKER_TABLE} ORDER BY done_at DESC LIMIT 1")
        row = cursor.fetchone()
    return (row[0], int(row[1])) if row else None


class Progress:
    """Plain progress lines on stderr (no terminal tricks: they also read well in CI logs)."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.started = self.last = time.monotonic()

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 2 or self.done >= self.total:
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            self.stream.write(
                f"  {self.label}: {self.done:,}/{self.total:,} "
                f"({100 * self.done / self.total:.0f} %, {rate:,.0f}/s)\n"
            )
            self.stream.flush()


def _next_id(model) -> int:
    last = model.objects.order_by("-id").values_list("id", flat=True).first()
    return (last or 0) + 1


def _insert(model, columns: list[str], rows, progress: Progress) -> None:
    """Rows (tuples in `columns` order, ids included) by COPY, or bulk_create off PostgreSQL."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            n = 0
            for n, row in enumerate(rows, start=1):
                copy.write_row(row)
                if n % BATCH == 0:
                    progress.add(BATCH)
            progress.add(n % BATCH)
        with connection.cursor() as cursor:
            # Ids were given explicitly: move the identity past them.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        return
    batch = []
    for row in rows:
        batch.append(model(**dict(zip(columns, row, strict=True))))
        if len(batch) == BATCH:
            model.objects.bulk_create(batch)
            progress.add(len(batch))
            batch = []
    model.objects.bulk_create(batch)
    progress.add(len(batch))


class Generator:
    def __init__(self, *, size: Size, seed: int, out=None):
        self.size, self.seed = size, seed
        self.random = random.Random(seed)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.out = out or sys.stderr
        self.timings: dict[str, float] = {}

    def step(self, name: str, function) -> None:
        started = time.monotonic()
        self.out.write(f"{name} …\n")
        function()
        self.timings[name] = time.monotonic() - started
        self.out.write(f"{name}: {self.timings[name]:.1f} s\n")

    def run(self) -> dict[str, float]:
        self.step("formulary and roles", self.formulary)
        self.step("wards, users, locations", self.wards)
        self.step("patients", self.patients)
        self.step("courses (courses_create_bulk)", self.courses)
        self.step("lots, stock levels, ledger", self.stock)
        self.step("temperature readings", self.readings)
        self.step("analyze", self.analyze)
        return self.timings

    # --- people and places ---------------------------------------------------------------

    def formulary(self) -> None:
        formulary_load()
        roles_ensure()

    def wards(self) -> None:
        User = get_user_model()
        password = make_password("bench-only")  # one hash: the generator never logs in with it
        roles = {role: Group.objects.get(name=role.value) for role in Role}
        self.physician = User.objects.create(username="gen-physician", password=password)
        self.pharmacist = User.objects.create(username="gen-pharmacist", password=password)
        self.physician.groups.add(roles[Role.PHYSICIAN])
        self.pharmacist.groups.add(roles[Role.PHARMACIST])
        self.ward_list = []
        self.ward_fridges = []
        for n in range(1, self.size.wards + 1):
            ward = Ward.objects.create(
                code=f"gen-ward-{n:02d}", name=f"Ward {n:02d}", email=f"ward{n:02d}@hospital.test"
            )
            nurse = User.objects.create(
                username=f"gen-nurse-{n:02d}", email=f"nurse{n:02d}@hospital.test"
            )
            nurse.groups.add(roles[Role.NURSE])
            ward.members.add(nurse)
            self.ward_list.append(ward)
            self.ward_fridges.append(
                StorageLocation.objects.create(
                    code=f"gen-ward-{n:02d}-fridge",
                    name=f"Ward {n:02d} fridge",
                    kind=LocationKind.WARD_FRIDGE,
                    ward=ward,
                    min_c=Decimal("2"),
                    max_c=Decimal("8"),
                )
            )
        self.pharmacy = [
            StorageLocation.objects.create(
                code=code, name=name, kind=kind, min_c=Decimal("2"), max_c=Decimal("8")
            )
            for code, name, kind in PHARMACY_LOCATIONS
        ]

    def patients(self) -> None:
        rnd, now = self.random, self.now
        first = _next_id(Patient)
        self.patient_ids = list(range(first, first + self.size.patients))
        ward_ids = [w.pk for w in self.ward_list]
        progress = Progress("patients", self.size.patients)
        rows = [
            (
                pid,
                f"GEN-{pid:06d}",
                f"Patient {pid:06d}",
                dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(0, 60 * 365)),
                rnd.choice(["female", "male"]),
                rnd.choice(ward_ids),
                False,
                False,
                False,
                False,
                False,
                False,
                False,
                now,
                now,
            )
            for pid in self.patient_ids
        ]
        _insert(
            Patient,
            [
                "id",
                "mrn",
                "name",
                "birth_date",
                "sex",
                "ward_id",
                "pregnant",
                "lactating",
                "protein_drug_allergy",
                "septic_shock",
                "severe_fever",
                "high_dose_corticosteroids",
                "sodium_controlled_diet",
                "created_at",
                "updated_at",
            ],
            rows,
            progress,
        )
        weighed = self.today + dt.timedelta(days=START_FROM_DAYS - 30)
        first_weight = _next_id(PatientWeight)
        _insert(
            PatientWeight,
            ["id", "patient_id", "measured_on", "weight_kg", "recorded_at"],
            [
                (first_weight + n, pid, weighed, Decimal(rnd.randrange(5500, 11000)) / 100, now)
                for n, pid in enumerate(self.patient_ids)
            ],
            Progress("weights", self.size.patients),
        )

    def courses(self) -> None:
        rnd = self.random
        protocols = {p.code: p for p in Protocol.objects.filter(code__in={r[0] for r in REGIMENS})}
        patients = Patient.objects.in_bulk(self.patient_ids)
        chosen = rnd.sample(self.patient_ids, min(self.size.courses, len(self.patient_ids)))
        progress = Progress("courses", len(chosen))
        # Through the bulk prescribing path (every check course_create runs), in batches that
        # share one "on" date (a course cannot start before it).
        by_on: dict[dt.date, list[dict]] = {}
        for n, pid in enumerate(chosen):
            code, phases = REGIMENS[n % len(REGIMENS)]
            phases = regimen_choices(protocols[code], phases)
            start = self.today + dt.timedelta(days=rnd.randint(START_FROM_DAYS, START_TO_DAYS))
            by_on.setdefault(min(start, self.today), []).append(
                {
                    "patient": patients[pid],
                    "protocol": protocols[code],
                    "start_date": start,
                    "phases": phases,
                    "administration_time": dt.time(rnd.choice([8, 10, 12, 14, 18]), 0),
                }
            )
        for on, prescriptions in sorted(by_on.items()):
            for first in range(0, len(prescriptions), COURSE_BATCH):
                batch = prescriptions[first : first + COURSE_BATCH]
                courses_create_bulk(prescriptions=batch, user=self.physician, on=on)
                progress.add(len(batch))
        # Doses before today were given (no stock taken: dispensed stays False).
        day_start = timezone.make_aware(dt.datetime.combine(self.today, dt.time()))
        Dose.objects.filter(scheduled_at__lt=day_start).update(
            status=DoseStatus.GIVEN,
            given_at=F("scheduled_at"),
            given_amount=F("amount"),
            recorded_at=F("scheduled_at"),
        )
        self.out.write(f"  {Course.objects.count():,} courses, {Dose.objects.count():,} doses\n")

    # --- stock -------------------------------------------------------------------------

    def stock(self) -> None:
        rnd, size, today = self.random, self.size, self.today
        presentations = list(Presentation.objects.select_related("product").order_by("code"))
        busy = next(p for p in presentations if p.code == BUSY_PRESENTATION)
        others = [p for p in presentations if p is not busy]
        busy_lots = round(size.lots * BUSY_SHARE)
        # Every lot has a receipt and a transfer is two lines; dispenses fill the budget.
        base = size.lots * (1 + 2 * TRANSFER_SHARE)
        extra_per_lot = max(size.movements - base, 0) / size.lots
        lot_id, level_id, move_id = _next_id(Lot), _next_id(StockLevel), _next_id(StockMovement)
        lots, levels, moves = [], [], []
        at_nine = dt.time(9, 0, tzinfo=dt.UTC)
        for n in range(size.lots):
            presentation = busy if n < busy_lots else others[n % len(others)]
            shelf_days = presentation.product.shelf_life_months * 30
            expiry = today + dt.timedelta(days=rnd.randint(-365, shelf_days - 45))
            made = expiry - dt.timedelta(days=shelf_days)
            received = min(made + dt.timedelta(days=rnd.randint(14, 40)), today)
            status = LotStatus.AVAILABLE if expiry >= today else LotStatus.EXPIRED
            created = dt.datetime.combine(received, at_nine)
            lots.append(
                (
                    lot_id,
                    presentation.pk,
                    f"G{lot_id:07d}",
                    expiry,
                    made,
                    "",
                    status,
                    "",
                    created,
                )
            )
            dispenses = int(extra_per_lot) + (rnd.random() < extra_per_lot % 1)
            quantity = rnd.randint(2 * dispenses + 2, 2 * dispenses + 40)
            pharmacy = rnd.choice(self.pharmacy).pk
            on_hand = {pharmacy: quantity}
            moves.append(
                (
                    move_id,
                    lot_id,
                    pharmacy,
                    None,
                    MovementKind.RECEIPT,
                    quantity,
                    quantity,
                    received,
                    "generated delivery",
                    created,
                )
            )
            move_id += 1
            if rnd.random() < TRANSFER_SHARE:
                ward = rnd.choice(self.ward_fridges).pk
                moved = rnd.randint(1, quantity // 2)
                on_hand[pharmacy] -= moved
                on_hand[ward] = moved
                for here, there, delta in ((pharmacy, ward, -moved), (ward, pharmacy, moved)):
                    moves.append(
                        (
                            move_id,
                            lot_id,
                            here,
                            there,
                            MovementKind.TRANSFER,
                            moved,
                            delta,
                            received,
                            "",
                            created,
                        )
                    )
                    move_id += 1
            for _ in range(dispenses):
                here = max(on_hand, key=on_hand.get)
                taken = min(rnd.randint(1, 2), on_hand[here])
                on_hand[here] -= taken
                moves.append(
                    (
                        move_id,
                        lot_id,
                        here,
                        None,
                        MovementKind.DISPENSE,
                        taken,
                        -taken,
                        received,
                        "",
                        created,
                    )
                )
                move_id += 1
            if status == LotStatus.EXPIRED:
                # lots_expire's status line: no vials move.
                moves.append(
                    (move_id, lot_id, None, None, MovementKind.EXPIRY, 0, 0, expiry, "", created)
                )
                move_id += 1
            for location, vials in sorted(on_hand.items()):
                levels.append((level_id, lot_id, location, vials, 0, created))
                level_id += 1
            lot_id += 1
        self.out.write(
            f"  {len(lots):,} lots, {len(levels):,} stock levels, {len(moves):,} ledger lines "
            f"({busy_lots:,} lots of {busy.code})\n"
        )
        _insert(
            Lot,
            [
                "id",
                "presentation_id",
                "lot_number",
                "expiry_date",
                "manufacture_date",
                "gtin",
                "status",
                "status_reason",
                "created_at",
            ],
            lots,
            Progress("lots", len(lots)),
        )
        _insert(
            StockLevel,
            ["id", "lot_id", "location_id", "on_hand", "reserved", "updated_at"],
            levels,
            Progress("stock levels", len(levels)),
        )
        del lots, levels
        _insert(
            StockMovement,
            [
                "id",
                "lot_id",
                "location_id",
                "other_location_id",
                "kind",
                "quantity",
                "on_hand_delta",
                "reserved_delta",
                "effective_date",
                "reference",
                "recipient",
                "reason",
                "created_at",
            ],
            ((*m[:7], 0, m[7], m[8], "", "", m[9]) for m in moves),
            Progress("ledger lines", len(moves)),
        )

    def readings(self) -> None:
        """1-minute readings per location, ending now; in range (3.5–6.5 °C), seeded noise.

        The noise is arithmetic on (seed, location, minute), the same in SQL and in Python, so
        PostgreSQL fills the table itself (generate_series) instead of taking rows over COPY.
        """
        locations = list(StorageLocation.objects.filter(code__startswith="gen-").order_by("id"))
        per_location = self.size.readings // len(locations)
        end = self.now.replace(second=0, microsecond=0)
        progress = Progress("readings", per_location * len(locations))
        first = _next_id(TemperatureReading)
        seed = self.seed % 1_000_003
        if connection.vendor == "postgresql":
            table = TemperatureReading._meta.db_table
            with connection.cursor() as cursor:
                for n, location in enumerate(locations):
                    cursor.execute(
                        f"INSERT INTO {table} "
                        "(id, location_id, sensor_id, taken_at, temperature_c, received_at) "
                        "SELECT %s + g, %s, %s, %s - make_interval(mins => g), "
                        "round((5 + 1.2 * sin(g / 229.18) "
                        "+ ((g * 7919 + %s * 104729 + %s * 15485863) %% 601 - 300) / 1000.0"
                        ")::numeric, 2), %s - make_interval(mins => g) "
                        "FROM generate_series(0, %s - 1) AS g",
                        [
                            first + n * per_location,
                            location.pk,
                            f"S-{location.code}"[:64],
                            end,
                            location.pk,
                            seed,
                            end,
                            per_location,
                        ],
                    )
                    progress.add(per_location)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            return

        def rows():
            for n, location in enumerate(locations):
                for g in range(per_location):
                    taken = end - dt.timedelta(minutes=g)
                    noise = ((g * 7919 + location.pk * 104729 + seed * 15485863) % 601 - 300) / 1000
                    celsius = round(Decimal(5 + 1.2 * math.sin(g / 229.18) + noise), 2)
                    rid = first + n * per_location + g
                    yield (rid, location.pk, f"S-{location.code}"[:64], taken, celsius, taken)

        _insert(
            TemperatureReading,
            ["id", "location_id", "sensor_id", "taken_at", "temperature_c", "received_at"],
            rows(),
            progress,
        )

    def analyze(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = "Generate a hospital's worth of data (seeded, bulk inserted) for `make bench`."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="large")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, size: str, seed: int, **options):
        done = marker()
        if done == (size, seed):
            self.stdout.write(f"Already generated: size {size}, seed {seed}; nothing to do.")
            return
        if done or Patient.objects.exists() or Lot.objects.exists():
            raise CommandError(
                f"The database already holds data ({done or 'not generated here'}); "
                "generate into an empty database."
            )
        started = time.monotonic()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys checked per statement, not queued to the commit: pghistory's
                # row trigger enters a PL/pgSQL exception block per row, and each of those
                # rolled-back subtransactions scans the transaction's whole queue of deferred
                # checks, so with a million queued the lots' COPY turned quadratic (> 35 min).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            timings = Generator(size=SIZES[size], seed=seed, out=sys.stderr).run()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
                    "(size varchar(10) NOT NULL, seed integer NOT NULL, "
                    "done_at timestamp with time zone NOT NULL, seconds double precision)"
                )
                cursor.execute(
                    f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s, %s)",
                    [size, seed, timezone.now(), time.monotonic() - started],
                )
        total = time.monotonic() - started
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        self.stdout.write(f"Generated size {size}, seed {seed} in {total:.1f} s ({steps}).")
