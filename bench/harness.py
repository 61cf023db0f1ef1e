"""Every figure of issue 14 beside its floor, measured in the same run on the same data.

How to read a row: `value` is the product's figure (median of `runs` timed runs after one
warm-up), `floor` the least the same work can cost here (raw SQL, bulk_create, bare smtplib …),
`ratio` value ÷ floor for times (×) and value ÷ floor for rates (%). A figure that takes longer than
the timeout is reported as "> N s (timed out)" and not met, never waited for. Writes leave the
generated data as it was: they run in transactions that are rolled back, or their ledger lines
are taken back out afterwards (see `_ledger_restore`), so a cached dataset stays reusable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
THREADS = 16


@dataclass
class Figure:
    key: str
    figure: str
    value: float
    unit: str
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    runs: int = 0
    note: str = ""
    timed_out: bool = False
    extra: dict = field(default_factory=dict)

    def display_value(self) -> str:
        if self.timed_out and self.unit.endswith("/s"):
            return f"< {_fmt(self.value)} {self.unit} (timed out)"
        if self.timed_out:
            return f"> {self.value:g} {self.unit} (timed out)"
        return f"{_fmt(self.value)} {self.unit}"

    def display_ratio(self) -> str:
        if self.ratio is None:
            return ""
        return f"{self.ratio * 100:.0f} %" if self.unit.endswith("/s") else f"{self.ratio:.1f}×"


def _fmt(number: float | None) -> str:
    if number is None:
        return ""
    if abs(number) >= 100:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:.2f}"
    return f"{number:.3g}"


# --- the database ------------------------------------------------------------------------------


def database_prepare(*, size: str, seed: int) -> None:
    """Create the bench database if missing; migrate; generate the data unless already there.

    A database generated with another size or seed is dropped and created again: it is the
    bench's own (never the `test` database, which the harness refuses).
    """
    import dj_database_url
    import psycopg

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    params = dj_database_url.parse(url)
    name = params["NAME"]
    if name in {"test", "postgres", "template0", "template1"}:
        raise SystemExit(f"Refusing to run the bench in the {name!r} database.")
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    from courses.management.commands.generate_data import marker

    done = marker()
    if done is not None and done != (size, seed):
        from django.db import connections

        connections.close_all()
        sys.stderr.write(f"The bench database holds {done}; creating it again for {size}/{seed}\n")
        with psycopg.connect(
            host=params["HOST"] or "127.0.0.1",
            port=params["PORT"] or 5432,
            user=params["USER"] or "postgres",
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    call_command("generate_data", size=size, seed=seed)
    sys.stderr.write(f"data ready in {time.monotonic() - started:.1f} s\n")


# --- measuring ---------------------------------------------------------------------------------


def _timed(function, *, runs: int, setup=None, teardown=None) -> list[float]:
    """Seconds of `runs` calls after one warm-up call (setup/teardown around each, untimed)."""
    times = []
    for run in range(runs + 1):
        state = setup() if setup else None
        started = time.perf_counter()
        result = function(state) if setup else function()
        seconds = time.perf_counter() - started
        if teardown:
            teardown(state, result)
        if run:
            times.append(seconds)
    return times


def _median(times: list[float]) -> float:
    return statistics.median(times)


class _Rollback(Exception):
    pass


def _rolled_back(function):
    """Run `function()` in a transaction that is rolled back; return its result."""
    from django.db import transaction

    box = {}
    try:
        with transaction.atomic():
            box["result"] = function()
            raise _Rollback
    except _Rollback:
        pass
    return box["result"]


def _child(task: str, args: dict, *, timeout: float) -> tuple[list[dict], float | None, bool]:
    """Run bench.child in a fresh process; (steps, peak RSS MB, timed out)."""
    from django.db import connection

    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["DJANGO_DEBUG"] = "0"  # production settings, also when the harness runs under pytest
    env["DATABASE_URL"] = _database_url(connection.settings_dict)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.child", task, json.dumps(args)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)],
        daemon=True,
    )
    reader.start()
    steps, rss, timed_out = [], None, False
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            # Peak RSS so far, read before the kill: "at least" this much.
            from bench.child import peak_rss_mb

            rss = peak_rss_mb(process.pid)
            process.kill()
            timed_out = True
            break
        if line is None:
            break
        data = json.loads(line)
        rss = data.get("rss_mb", rss)
        if not data.get("done"):
            steps.append(data)
    process.wait()
    if process.returncode and not timed_out:
        raise RuntimeError(f"bench.child {task} failed (exit {process.returncode})")
    return steps, rss, timed_out


def _database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def _raw_seconds(sql: str, params, *, runs: int) -> tuple[float, int]:
    from django.db import connection

    def once():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    rows = once()
    return _median(_timed(once, runs=runs)), rows


class QueryCounter:
    """Counts the statements the default connection runs inside `with` (execute_wrapper).

    Not CaptureQueriesContext: that slices connection.queries, a deque capped at 9,000 entries
    that is never emptied under production settings, so once full every capture reads 0.
    """

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return self.count

    def __enter__(self):
        from django.db import connection

        self._wrapped = connection.execute_wrapper(self)
        self._wrapped.__enter__()
        return self

    def __exit__(self, *exc):
        return self._wrapped.__exit__(*exc)


def _queries(function) -> int:
    with QueryCounter() as counted:
        function()
    return len(counted)


# --- the data's landmarks ----------------------------------------------------------------------


@dataclass
class Landmarks:
    today: dt.date
    day: dt.date
    ward_code: str
    ward_id: int
    ward_doses: int
    day_doses: int
    busy_presentation_id: int
    busy_levels: int
    lots: int
    pharmacist: object
    physician: object


def landmarks() -> Landmarks:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from courses.management.commands.generate_data import BUSY_PRESENTATION
    from inventory.models import Lot, Presentation, StockLevel

    today = timezone.localdate()
    zone = timezone.get_current_timezone_name()
    with connection.cursor() as cursor:
        # The busiest day from today on, and its busiest ward (what the Today page shows).
        cursor.execute(
            "SELECT (d.scheduled_at AT TIME ZONE %s)::date AS day, count(*) "
            "FROM courses_dose d WHERE d.scheduled_at >= %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            [zone, timezone.make_aware(dt.datetime.combine(today, dt.time()))],
        )
        day, day_doses = cursor.fetchone()
        cursor.execute(
            "SELECT w.code, w.id, count(*) FROM courses_dose d "
            "JOIN courses_course c ON c.id = d.course_id "
            "JOIN courses_patient p ON p.id = c.patient_id JOIN inventory_ward w ON w.id = p.ward_id "
            "WHERE (d.scheduled_at AT TIME ZONE %s)::date = %s "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 1",
            [zone, day],
        )
        ward_code, ward_id, ward_doses = cursor.fetchone()
    busy = Presentation.objects.get(code=BUSY_PRESENTATION)
    User = get_user_model()
    return Landmarks(
        today=today,
        day=day,
        ward_code=ward_code,
        ward_id=ward_id,
        ward_doses=ward_doses,
        day_doses=day_doses,
        busy_presentation_id=busy.pk,
        busy_levels=StockLevel.objects.filter(lot__presentation=busy).count(),
        lots=Lot.objects.count(),
        pharmacist=User.objects.get(username="gen-pharmacist"),
        physician=User.objects.get(username="gen-physician"),
    )


def _ledger_watermark() -> int:
    from inventory.models import StockMovement

    return StockMovement.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _ledger_restore(watermark: int) -> None:
    """Take the ledger lines after `watermark` back out, and their deltas off the levels."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel sl SET on_hand = sl.on_hand - m.on_hand, "
            "reserved = sl.reserved - m.reserved FROM ("
            "  SELECT lot_id, location_id, SUM(on_hand_delta) AS on_hand, "
            "  SUM(reserved_delta) AS reserved FROM inventory_stockmovement "
            "  WHERE id > %s AND location_id IS NOT NULL GROUP BY 1, 2"
            ") m WHERE sl.lot_id = m.lot_id AND sl.location_id = m.location_id",
            [watermark],
        )
        _ledger_delete(cursor, "id > %s", [watermark])


def _ledger_delete(cursor, where: str, params) -> None:
    """Delete the bench's own ledger lines. The ledger is append-only (a trigger refuses UPDATE
    and DELETE); replica mode skips triggers for this transaction only, on the bench's own
    database, so that a cached dataset is left exactly as generated."""
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute(f"DELETE FROM inventory_stockmovement WHERE {where}", params)
    cursor.execute("SET LOCAL session_replication_role = origin")


def _ledger_mismatches_for(presentation_id: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inventory_stocklevel sl JOIN inventory_lot l ON l.id = sl.lot_id "
            "LEFT JOIN (SELECT lot_id, location_id, SUM(on_hand_delta) AS s "
            "  FROM inventory_stockmovement GROUP BY 1, 2) m "
            "  ON m.lot_id = sl.lot_id AND m.location_id = sl.location_id "
            "WHERE l.presentation_id = %s AND sl.on_hand <> COALESCE(m.s, 0)",
            [presentation_id],
        )
        return cursor.fetchone()[0]


# --- figures: pages ----------------------------------------------------------------------------


def figures_pages(lm: Landmarks, *, runs: int, timeout: float, rss: list) -> list[Figure]:
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from courses.selectors import day_window

    out = []
    today_url = reverse("today")
    start, end = day_window(lm.day)

    # The floor: the rows the page lists, in one query (doses with patient, course, protocol).
    floor, rows = _raw_seconds(
        "SELECT d.id, d.sequence, d.scheduled_at, d.status, d.amount, d.amount_unit, d.vials, "
        "p.id, p.name, p.mrn, c.id, c.administration_time, pr.code, pr.indication, pr.route "
        "FROM courses_dose d JOIN courses_course c ON c.id = d.course_id "
        "JOIN courses_patient p ON p.id = c.patient_id "
        "JOIN courses_protocol pr ON pr.id = c.protocol_id "
        "WHERE p.ward_id = %s AND d.scheduled_at >= %s AND d.scheduled_at < %s "
        "ORDER BY d.scheduled_at, d.sequence",
        [lm.ward_id, start, end],
        runs=runs,
    )
    steps, peak, timed_out = _child(
        "pages",
        {
            "user": lm.pharmacist.username,
            "url": f"{today_url}?date={lm.day}&ward={lm.ward_code}",
            "runs": runs,
        },
        timeout=timeout,
    )
    rss.append(peak)
    timed = [s["seconds"] for s in steps[1:]]
    html = steps[-1]["bytes"] if steps else 0
    options = steps[-1]["options"] if steps else 0
    value = timeout if timed_out else _median(timed)
    out.append(
        Figure(
            "today_ward",
            f"Today page, busiest ward ({lm.ward_doses} doses on {lm.day}), pharmacist",
            value,
            "s",
            floor=floor,
            ratio=value / floor,
            target="≤ 4× floor",
            met=not timed_out and value / floor <= 4,
            runs=len(timed),
            timed_out=timed_out,
            note=f"floor: raw SQL of its {rows} rows",
        )
    )
    out.append(
        Figure(
            "today_ward_html",
            "— its HTML",
            html / 1000,
            "KB",
            target="< 300 KB",
            met=bool(steps) and html < 300_000,
            runs=1,
        )
    )
    # What a nurse could use: lots of the dose's presentation with stock in range at the ward's
    # fridges or the pharmacy, per single-presentation dose row (the page's datalists).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM courses_dose d JOIN courses_course c ON c.id = d.course_id "
            "JOIN courses_patient p ON p.id = c.patient_id "
            "JOIN LATERAL (SELECT DISTINCT sl.lot_id FROM inventory_stocklevel sl "
            "  JOIN inventory_lot l ON l.id = sl.lot_id "
            "  JOIN inventory_storagelocation loc ON loc.id = sl.location_id "
            "  WHERE l.presentation_id = (d.vials -> 0 ->> 'presentation_id')::int "
            "  AND l.status = 'available' AND l.expiry_date >= %s AND sl.on_hand > 0 "
            "  AND loc.active AND (loc.ward_id = p.ward_id)) usable ON true "
            "WHERE p.ward_id = %s AND d.scheduled_at >= %s AND d.scheduled_at < %s "
            "AND d.status = 'scheduled' AND jsonb_array_length(d.vials) = 1",
            [lm.day, lm.ward_id, start, end],
        )
        usable_here = cursor.fetchone()[0]
    out.append(
        Figure(
            "today_ward_options",
            "— lot datalist <option>s on that page",
            options,
            "options",
            floor=usable_here,
            ratio=options / usable_here if usable_here else None,
            target="only lots usable at the ward (≤ floor)",
            met=bool(steps) and options <= usable_here,
            runs=1,
            note="floor: (dose, lot) pairs with stock in range at the ward's own fridges",
        )
    )

    steps, peak, timed_out = _child(
        "pages",
        {"user": lm.pharmacist.username, "url": f"{today_url}?date={lm.day}", "runs": runs},
        timeout=timeout,
    )
    rss.append(peak)
    timed = [s["seconds"] for s in steps[1:]]
    value = timeout if timed_out else _median(timed)
    note = f"{lm.day_doses} doses; "
    if steps:
        note += f"HTML {steps[-1]['bytes'] / 1e6:.1f} MB, {steps[-1]['options']:,} <option>s"
    else:
        note += "no request finished"
    out.append(
        Figure(
            "today_all",
            "Today page, all wards (pharmacist's default)",
            value,
            "s",
            target="< 1 s",
            met=not timed_out and value < 1,
            runs=len(timed),
            timed_out=timed_out,
            note=note,
        )
    )

    # Cold chain: 7 days of 1-minute readings at the location with the most readings.
    from inventory.models import TemperatureReading

    location = (
        TemperatureReading.objects.values("location_id")
        .order_by("location_id")
        .first()["location_id"]
    )
    last = TemperatureReading.objects.filter(location_id=location).latest("taken_at").taken_at
    last = timezone.localtime(last) + dt.timedelta(minutes=1)
    first = last - dt.timedelta(days=7)
    shown = TemperatureReading.objects.filter(
        location_id=location, taken_at__gte=first, taken_at__lte=last
    ).count()
    query = (
        f"?location={location}&period=custom&start={first:%Y-%m-%dT%H:%M}&end={last:%Y-%m-%dT%H:%M}"
    )
    steps, timed, value, timed_out = _page_timed(
        lm, reverse("cold-chain") + query, runs=runs, timeout=timeout, rss=rss
    )
    out.append(
        Figure(
            "cold_chain_7d",
            f"Cold-chain page, 7 days of 1-minute readings ({shown:,})",
            value,
            "s",
            target="< 1 s (no target in the issue; a page's)",
            met=not timed_out and value < 1,
            runs=len(timed),
            timed_out=timed_out,
            note=f"HTML {steps[-1]['bytes'] / 1000:.0f} KB" if steps else "",
        )
    )

    course = _ten_cycle_course(lm)
    _, timed, value, timed_out = _page_timed(
        lm, reverse("course-page", args=[course.pk]), runs=runs, timeout=timeout, rss=rss
    )
    out.append(
        Figure(
            "course_page",
            f"Course page of a 10-cycle course ({course.doses.count()} doses)",
            value,
            "s",
            target="< 1 s (no target in the issue; a page's)",
            met=not timed_out and value < 1,
            runs=len(timed),
            timed_out=timed_out,
        )
    )
    return out


def _page_timed(lm: Landmarks, url: str, *, runs: int, timeout: float, rss: list):
    """A page fetched `runs` times by a pharmacist in a fresh process (first fetch is warm-up):
    (steps, timed seconds, median or the timeout, timed out); the process's peak RSS joins `rss`."""
    steps, peak, timed_out = _child(
        "pages", {"user": lm.pharmacist.username, "url": url, "runs": runs}, timeout=timeout
    )
    rss.append(peak)
    timed = [step["seconds"] for step in steps[1:]]
    return steps, timed, (timeout if timed_out else _median(timed)), timed_out


def _ten_cycle_course(lm: Landmarks):
    """A Betaleukin course of 10 cycles (50 doses); prescribed once, then kept with the data."""
    from courses.models import Course, Patient, Protocol
    from courses.services import course_create

    existing = Course.objects.filter(notes="bench: 10 cycles").first()
    if existing:
        return existing
    return course_create(
        patient=Patient.objects.filter(mrn__startswith="GEN-").order_by("id").first(),
        protocol=Protocol.objects.get(code="betaleukin-leukopoiesis-toxic-iv"),
        user=lm.physician,
        on=lm.today,
        start_date=lm.today,
        phases=[{"dose": "15", "cycles": 10}],
        notes="bench: 10 cycles",
    )


# --- figures: API and read paths ------------------------------------------------------------


def figures_reads(lm: Landmarks, *, runs: int) -> list[Figure]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from courses.selectors import day_window
    from inventory.selectors import (
        expiring_within_q,
        expiry_alert_lots,
        lots_expiring_within,
        lots_list,
    )

    out = []
    client = Client()
    client.force_login(lm.pharmacist)

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    url = f"/api/v1/doses/?date={lm.day}&page_size=500"
    value = _median(_timed(lambda: get(url), runs=runs))
    queries = _queries(lambda: get(url))
    queries_50 = _queries(lambda: get(f"/api/v1/doses/?date={lm.day}&page_size=50"))
    start, end = day_window(lm.day)
    floor, rows = _raw_seconds(
        "SELECT d.*, c.patient_id, c.protocol_id, c.time_zone, p.name, p.mrn, p.ward_id, "
        "w.code, w.name, pr.code, pr.route FROM courses_dose d "
        "JOIN courses_course c ON c.id = d.course_id JOIN courses_patient p ON p.id = c.patient_id "
        "JOIN inventory_ward w ON w.id = p.ward_id JOIN courses_protocol pr ON pr.id = c.protocol_id "
        "WHERE d.scheduled_at >= %s AND d.scheduled_at < %s ORDER BY d.scheduled_at, d.sequence "
        "LIMIT 500",
        [start, end],
        runs=runs,
    )
    out.append(
        Figure(
            "api_doses",
            f"GET /api/v1/doses/?date=…&page_size=500 ({rows} rows)",
            value,
            "s",
            floor=floor,
            ratio=value / floor,
            target="≤ 3× floor",
            met=value / floor <= 3,
            runs=runs,
            note="floor: raw SQL of the same rows with their joins",
        )
    )
    out.append(
        Figure(
            "api_doses_queries",
            "— its queries (page_size=500; floor: page_size=50)",
            queries,
            "queries",
            floor=queries_50,
            target="flat (same at 50 and 500 rows)",
            met=queries == queries_50,
            runs=1,
        )
    )

    url = "/api/v1/lots/?expiring_within_days=90&page_size=100"
    value = _median(_timed(lambda: get(url), runs=runs))
    query = lots_list().filter(expiring_within_q(on=timezone.localdate(), days=90))[:100]
    sql, params = query.query.sql_with_params()

    def page_raw() -> int:
        # The page's two statements, as lots_list runs them: its lots, then their levels' sums.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT lot_id, SUM(on_hand), SUM(reserved) FROM inventory_stocklevel "
                "WHERE lot_id = ANY(%s) GROUP BY lot_id",
                [ids],
            )
            cursor.fetchall()
        return len(ids)

    rows = page_raw()
    floor = _median(_timed(page_raw, runs=runs))
    count_sql, count_params = (
        lots_list().filter(expiring_within_q(on=timezone.localdate(), days=90)).query
    ).sql_with_params()
    out.append(
        Figure(
            "api_lots",
            "GET /api/v1/lots/?expiring_within_days=90&page_size=100",
            value,
            "s",
            floor=floor,
            ratio=value / floor,
            target="≤ 2× floor",
            met=value / floor <= 2,
            runs=runs,
            note="floor: the page's two statements raw (its lots, their totals), without the "
            "COUNT the paginator adds",
        )
    )

    # Expiry list and alert scan over every lot: the ORM's rows vs the same SQL raw.
    for key, label, queryset in (
        (
            "expiry_list",
            "Expiry list, lots expiring within 90 days",
            lots_expiring_within(on=lm.today, days=90),
        ),
        (
            "expiry_scan",
            "Expiry alert scan (lots with stock)",
            expiry_alert_lots(on=lm.today, days=90),
        ),
    ):
        value = _median(_timed(lambda qs=queryset: list(qs.all()), runs=runs))
        sql, params = queryset.query.sql_with_params()
        floor, rows = _raw_seconds(sql, params, runs=runs)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        indexed = "Index" in plan
        out.append(
            Figure(
                key,
                f"{label}, {lm.lots:,} lots ({rows:,} rows)",
                value,
                "s",
                floor=floor,
                ratio=value / floor,
                target="≤ 1.5× floor, EXPLAIN shows an index",
                met=value / floor <= 1.5 and indexed,
                runs=runs,
                note=f"EXPLAIN {'uses an index' if indexed else 'shows no index'}: "
                + plan.splitlines()[0].strip()[:80],
            )
        )

    from inventory.selectors import presentations_short

    # What Today's counter runs (it no longer runs the whole stock_forecast).
    value = _median(_timed(lambda: presentations_short(start=lm.today, days=7), runs=runs))
    out.append(
        Figure(
            "shortage_counter",
            "Shortage counter (presentations_short, 7 days)",
            value,
            "s",
            target="< 50 ms",
            met=value < 0.05,
            runs=runs,
        )
    )
    return out


# --- figures: the engine and prescribing -------------------------------------------------------


def figures_engine(lm: Landmarks, *, runs: int, courses: int = 10_000) -> list[Figure]:
    from zoneinfo import ZoneInfo

    from courses.formulary import BETALEUKIN_CYCLES, DAILY, EVERY_OTHER_DAY, THREE_PER_WEEK
    from courses.schedule import Pattern, PhasePlan, course_plan, local_datetime

    start = dt.date(2025, 3, 1)
    mix = [
        [PhasePlan(Pattern.from_dict(BETALEUKIN_CYCLES), 15)],
        [PhasePlan(Pattern.from_dict(THREE_PER_WEEK), 14)],
        [PhasePlan(Pattern.from_dict(DAILY), 10)],
        [
            PhasePlan(Pattern.from_dict({"kind": "every_n_days", "n": 3}), 3),
            PhasePlan(Pattern.from_dict(EVERY_OTHER_DAY), 7),
        ],
    ]
    at, zone = dt.time(10), "Europe/Berlin"

    def engine():
        doses = 0
        for i in range(courses):
            first = start + dt.timedelta(days=i % 365)
            for days in course_plan(mix[i % len(mix)], start=first):
                doses += len([local_datetime(day, at, zone) for day in days])
        return doses

    # Floor: the same dates by direct arithmetic (steps known in advance), one zone lookup per
    # course; no rules, no checks.
    steps = [
        ([0, 1, 2, 3, 4, 19, 20, 21, 22, 23, 38, 39, 40, 41, 42]),
        ([0, 2, 4, 7, 9, 11, 14, 16, 18, 21, 23, 25, 28, 30]),
        list(range(10)),
        [0, 3, 6, 8, 10, 12, 14, 16, 18, 20],
    ]
    tz = ZoneInfo(zone)

    def direct():
        doses = 0
        for i in range(courses):
            first = dt.datetime.combine(start + dt.timedelta(days=i % 365), at, tzinfo=tz)
            doses += len([first + dt.timedelta(days=step) for step in steps[i % len(steps)]])
        return doses

    count = engine()
    value = count / _median(_timed(engine, runs=runs))
    floor = direct() / _median(_timed(direct, runs=runs))
    return [
        Figure(
            "engine",
            f"Engine: {courses:,} courses, {count:,} doses",
            value,
            "doses/s",
            floor=floor,
            ratio=value / floor,
            target="≥ 500,000 doses/s",
            met=value >= 500_000,
            runs=runs,
            note="floor: direct date arithmetic",
        )
    ]


def figures_prescribing(lm: Landmarks, *, runs: int, courses: int = 1_000) -> list[Figure]:

    from courses.management.commands.generate_data import REGIMENS, regimen_choices
    from courses.models import Course, CoursePhase, Dose, Patient, Protocol
    from courses.services import course_create, courses_create_bulk

    patients = list(Patient.objects.filter(mrn__startswith="GEN-").order_by("id")[:courses])
    protocols = {p.code: p for p in Protocol.objects.filter(code__in={r[0] for r in REGIMENS})}

    def prescriptions():
        return [
            {
                "patient": patient,
                "protocol": protocols[REGIMENS[n % len(REGIMENS)][0]],
                "start_date": lm.today,
                "phases": regimen_choices(
                    protocols[REGIMENS[n % len(REGIMENS)][0]], REGIMENS[n % len(REGIMENS)][1]
                ),
            }
            for n, patient in enumerate(patients)
        ]

    def prescribe():
        return courses_create_bulk(prescriptions=prescriptions(), user=lm.physician, on=lm.today)

    def prescribe_one_by_one(batch):
        return [
            course_create(user=lm.physician, on=lm.today, **prescription) for prescription in batch
        ]

    def timed_prescribe():
        with QueryCounter() as captured:
            started = time.perf_counter()
            made = prescribe()
            seconds = time.perf_counter() - started
        rows = (
            list(Course.objects.filter(pk__in=[c.pk for c in made])),
            list(CoursePhase.objects.filter(course__in=made)),
            list(Dose.objects.filter(course__in=made)),
        )
        return seconds, len(captured), rows

    times, queries = [], 0
    for run in range(runs + 1):
        seconds, queries, rows = _rolled_back(timed_prescribe)
        if run:
            times.append(seconds)
    doses = len(rows[2])

    # Floor: bulk_create of the same rows (courses, then phases, then doses with their new ids).
    def floor_once():
        from copy import copy

        course_rows = [copy(c) for c in rows[0]]
        phase_rows = [copy(p) for p in rows[1]]
        dose_rows = [copy(d) for d in rows[2]]
        started = time.perf_counter()
        old_course = [c.pk for c in course_rows]
        for c in course_rows:
            c.pk = None
        Course.objects.bulk_create(course_rows, batch_size=1000)
        course_map = dict(zip(old_course, (c.pk for c in course_rows), strict=True))
        old_phase = [p.pk for p in phase_rows]
        for p in phase_rows:
            p.pk, p.course_id = None, course_map[p.course_id]
        CoursePhase.objects.bulk_create(phase_rows, batch_size=1000)
        phase_map = dict(zip(old_phase, (p.pk for p in phase_rows), strict=True))
        for d in dose_rows:
            d.pk, d.course_id, d.phase_id = None, course_map[d.course_id], phase_map[d.phase_id]
        Dose.objects.bulk_create(dose_rows, batch_size=2000)
        return time.perf_counter() - started

    floors = [_rolled_back(floor_once) for _ in range(runs + 1)][1:]
    value, floor = _median(times), _median(floors)

    # course_create, one course a transaction (a prescriber's path): a tenth of the courses.
    single = prescriptions()[: max(courses // 10, 1)]

    def timed_single():
        started = time.perf_counter()
        prescribe_one_by_one(single)
        return time.perf_counter() - started

    single_seconds = _median([_rolled_back(timed_single) for _ in range(2)])
    per_course = single_seconds / len(single)
    return [
        Figure(
            "prescribing",
            f"Prescribing {courses:,} courses through courses_create_bulk ({doses:,} doses)",
            value,
            "s",
            floor=floor,
            ratio=value / floor,
            target="≤ 3× floor",
            met=value / floor <= 3,
            runs=runs,
            note=f"{queries / courses:.2f} queries/course; {doses / value:,.0f} doses/s; every "
            "check course_create runs; floor: bulk_create of the same rows",
        ),
        Figure(
            "prescribing_single",
            f"— one course at a time through course_create ({len(single):,} courses)",
            per_course * 1000,
            "ms/course",
            target="(informative: a prescriber's single course, one transaction)",
            met=None,
            runs=2,
            note=f"{courses:,} this way would take {per_course * courses:.1f} s",
        ),
    ]


# --- figures: dispensing -------------------------------------------------------------------------


_FEFO_PICK = (
    "SELECT sl.id FROM inventory_stocklevel sl JOIN inventory_lot l ON l.id = sl.lot_id "
    "JOIN inventory_storagelocation loc ON loc.id = sl.location_id "
    "WHERE l.presentation_id = %s AND l.status = 'available' AND l.expiry_date >= %s "
    "AND loc.active AND sl.on_hand - sl.reserved >= 1 "
    "ORDER BY l.expiry_date, sl.id LIMIT 1 FOR UPDATE OF sl SKIP LOCKED"
)


def _raw_dispense(cursor, presentation_id: int, on: dt.date, *, ledger: bool) -> bool:
    """The floor: a conditional UPDATE of the first-expiry level (and its ledger line)."""
    cursor.execute(
        f"UPDATE inventory_stocklevel SET on_hand = on_hand - 1, updated_at = now() "
        f"WHERE id = ({_FEFO_PICK}) AND on_hand - reserved >= 1 RETURNING lot_id, location_id",
        [presentation_id, on],
    )
    row = cursor.fetchone()
    if row and ledger:
        cursor.execute(
            "INSERT INTO inventory_stockmovement (lot_id, location_id, kind, quantity, "
            "on_hand_delta, reserved_delta, effective_date, reference, recipient, reason, "
            "created_at) VALUES (%s, %s, 'dispense', 1, -1, 0, %s, '', '', '', now())",
            [row[0], row[1], on],
        )
    return row is not None


def figures_dispense_one(lm: Landmarks, *, runs: int) -> list[Figure]:
    from django.db import connection, connections

    from inventory.services import stock_dispense

    def dispense():
        return stock_dispense(
            presentation_id=lm.busy_presentation_id, quantity=1, on=lm.today, user=lm.pharmacist
        )

    times = []
    for run in range(runs + 1):

        def once():
            started = time.perf_counter()
            dispense()
            return time.perf_counter() - started

        seconds = _rolled_back(once)
        if run:
            times.append(seconds)

    def counted():
        with QueryCounter() as captured:
            dispense()
        # Rows another transaction cannot lock now = rows this one holds.
        box = {}

        def probe():
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM inventory_stocklevel sl "
                        "JOIN inventory_lot l ON l.id = sl.lot_id WHERE l.presentation_id = %s",
                        [lm.busy_presentation_id],
                    )
                    total = cursor.fetchone()[0]
                    cursor.execute(
                        "SELECT count(*) FROM (SELECT sl.id FROM inventory_stocklevel sl "
                        "JOIN inventory_lot l ON l.id = sl.lot_id WHERE l.presentation_id = %s "
                        "FOR UPDATE OF sl SKIP LOCKED) free",
                        [lm.busy_presentation_id],
                    )
                    box["locked"] = total - cursor.fetchone()[0]
            finally:
                connections["default"].close()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return len(captured), box["locked"]

    queries, locked = _rolled_back(counted)

    def raw_once():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            assert _raw_dispense(cursor, lm.busy_presentation_id, lm.today, ledger=True)
            return time.perf_counter() - started

    floors = [_rolled_back(raw_once) for _ in range(runs + 1)][1:]
    value, floor = _median(times), _median(floors)
    return [
        Figure(
            "dispense_one",
            f"Dispensing one vial FEFO, presentation with {lm.busy_levels:,} stock levels",
            value,
            "s",
            floor=floor,
            ratio=value / floor,
            target="< 20 ms",
            met=value < 0.02,
            runs=runs,
            note=f"{queries} queries; floor: conditional UPDATE … SKIP LOCKED + ledger insert",
        ),
        Figure(
            "dispense_one_locks",
            "— stock-level rows it holds locked",
            locked,
            "rows",
            target="a handful (≤ 5)",
            met=locked <= 5,
            runs=1,
            note="counted from another connection: rows a FOR UPDATE SKIP LOCKED cannot take",
        ),
    ]


def _threads(work, *, seconds: float | None = None) -> tuple[int, int, float]:
    """THREADS threads running `work(deadline)` → (successes, failures); own connections."""
    from django.db import connections

    results = []
    barrier = threading.Barrier(THREADS + 1)

    def runner():
        try:
            barrier.wait()
            deadline = time.perf_counter() + seconds if seconds else None
            results.append(work(deadline))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed


def _service_worker(presentation_id, on, user, *, attempts: int | None):
    from django.core.exceptions import ValidationError

    from inventory.services import stock_dispense

    def work(deadline):
        ok = failed = 0
        while (attempts is None or ok + failed < attempts) and (
            deadline is None or time.perf_counter() < deadline
        ):
            try:
                stock_dispense(presentation_id=presentation_id, quantity=1, on=on, user=user)
                ok += 1
            except ValidationError:
                failed += 1
        return ok, failed

    return work


def _raw_worker(presentation_id, on, *, ledger: bool, attempts: int | None):
    from django.db import connection, transaction

    def work(deadline):
        ok = failed = 0
        while (attempts is None or ok + failed < attempts) and (
            deadline is None or time.perf_counter() < deadline
        ):
            with transaction.atomic(), connection.cursor() as cursor:
                if _raw_dispense(cursor, presentation_id, on, ledger=ledger):
                    ok += 1
                else:
                    failed += 1
        return ok, failed

    return work


def _small_stock(*, vials: int, lots: int = 4) -> int:
    """A presentation of its own with `lots` lots at one pharmacy fridge, received properly."""
    from inventory.models import Presentation, Product, StorageLocation
    from inventory.services import lot_receive

    product, _ = Product.objects.get_or_create(
        code="bench-small",
        defaults={
            "name": "Bench small",
            "active_substance": "bench",
            "storage_min_c": Decimal("2"),
            "storage_max_c": Decimal("8"),
            "shelf_life_months": 24,
            "leaflet_file": "-",
        },
    )
    presentation, _ = Presentation.objects.get_or_create(
        code="bench-small-vial",
        defaults={
            "product": product,
            "strength": Decimal("100"),
            "strength_unit": "mg",
            "container": "vial",
            "pack_size": 5,
        },
    )
    location = StorageLocation.objects.filter(code__startswith="gen-pharmacy").order_by("id")[0]
    user = None
    for n in range(lots):
        lot_receive(
            presentation_id=presentation.pk,
            lot_number=f"BS{n}",
            expiry_date=dt.date.today() + dt.timedelta(days=200 + n),
            quantity=vials // lots,
            location_id=location.pk,
            reference="bench",
            user=user,
            on=dt.date.today(),
        )
    return presentation.pk


def _small_stock_drop() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.id FROM inventory_lot l JOIN inventory_presentation p "
            "ON p.id = l.presentation_id WHERE p.code = 'bench-small-vial'"
        )
        lots = [row[0] for row in cursor.fetchall()]
        if lots:
            _ledger_delete(cursor, "lot_id = ANY(%s)", [lots])
            cursor.execute("DELETE FROM inventory_stocklevel WHERE lot_id = ANY(%s)", [lots])
            cursor.execute("DELETE FROM inventory_lot WHERE id = ANY(%s)", [lots])
        cursor.execute("DELETE FROM inventory_presentation WHERE code = 'bench-small-vial'")
        cursor.execute("DELETE FROM inventory_product WHERE code = 'bench-small'")


def figures_dispense_threads(
    lm: Landmarks, *, runs: int, per_thread: int = 40, seconds: float = 10
) -> list[Figure]:
    from inventory.models import StockLevel, StockMovement

    out = []
    vials = THREADS * per_thread
    rates = {"service": [], "ledger": [], "bare": []}
    oversold = refused_early = 0
    for run in range(runs + 1):
        for kind in rates:
            _small_stock_drop()
            presentation = _small_stock(vials=vials)
            if kind == "service":
                work = _service_worker(presentation, lm.today, lm.pharmacist, attempts=per_thread)
            else:
                work = _raw_worker(
                    presentation, lm.today, ledger=kind == "ledger", attempts=per_thread
                )
            ok, failed, elapsed = _threads(work)
            left = sum(
                StockLevel.objects.filter(lot__presentation_id=presentation).values_list(
                    "on_hand", flat=True
                )
            )
            if kind == "service":
                taken = -sum(
                    StockMovement.objects.filter(
                        lot__presentation_id=presentation, kind="dispense"
                    ).values_list("on_hand_delta", flat=True)
                )
                # Zero oversell: every success is a ledger line, the stock went exactly to zero.
                oversold += abs(taken - ok) + (left != vials - ok) + (ok > vials)
                refused_early += failed
            if run:
                rates[kind].append(ok / elapsed)
    _small_stock_drop()
    service, ledger, bare = (_median(rates[k]) for k in ("service", "ledger", "bare"))
    out.append(
        Figure(
            "threads_small",
            f"{THREADS} threads dispensing, small data ({vials} vials, 4 levels)",
            service,
            "dispenses/s",
            floor=ledger,
            ratio=service / ledger,
            target="≥ 50 % of UPDATE + ledger",
            met=service / ledger >= 0.5 and oversold == 0,
            runs=runs,
            note=f"bare conditional UPDATE {bare:,.0f}/s; oversell {oversold}, "
            f"refused while stock remained {refused_early}",
        )
    )

    # The busy presentation, time-boxed; the ledger lines are taken back out afterwards.
    results = {}
    for kind in ("service", "ledger"):
        watermark = _ledger_watermark()
        try:
            if kind == "service":
                work = _service_worker(
                    lm.busy_presentation_id, lm.today, lm.pharmacist, attempts=None
                )
            else:
                work = _raw_worker(lm.busy_presentation_id, lm.today, ledger=True, attempts=None)
            ok, failed, elapsed = _threads(work, seconds=seconds)
            mismatches = _ledger_mismatches_for(lm.busy_presentation_id)
            results[kind] = (ok / elapsed, mismatches, ok)
        finally:
            _ledger_restore(watermark)
    service, mismatches, ok = results["service"]
    ledger = results["ledger"][0]
    out.append(
        Figure(
            "threads_busy",
            f"{THREADS} threads dispensing, presentation with {lm.busy_levels:,} levels",
            service,
            "dispenses/s",
            floor=ledger,
            ratio=service / ledger,
            target="≥ 50 % of UPDATE + ledger",
            met=service / ledger >= 0.5 and mismatches == 0,
            runs=1,
            note=f"{seconds:g} s time box, {ok} dispenses; ledger mismatches {mismatches}",
        )
    )
    return out


# --- figures: temperature ingest, alerts, e-mail, memory ------------------------------------------


def figures_ingest(
    lm: Landmarks, *, runs: int, timeout: float, readings: int = 10_000
) -> list[Figure]:
    """A gateway's batch for a new sensor over the last `readings` minutes (rolled back)."""
    from django.utils import timezone

    from inventory.models import StorageLocation, TemperatureReading

    location = StorageLocation.objects.filter(code__startswith="gen-").order_by("id")[0]
    end = timezone.now().replace(second=0, microsecond=0)
    steps, _, timed_out = _child(
        "ingest",
        {
            "user": lm.pharmacist.username,
            "location": location.pk,
            "end": end.isoformat(),
            "readings": readings,
            "runs": runs,
        },
        timeout=timeout,
    )
    timed = [s["seconds"] for s in steps[1:]]

    def bulk():
        rows = [
            TemperatureReading(
                location_id=location.pk,
                sensor_id="bench-ingest",
                taken_at=end - dt.timedelta(minutes=n),
                temperature_c=Decimal(f"{4 + (n % 20) / 10:.2f}"),
            )
            for n in range(readings)
        ]
        started = time.perf_counter()
        TemperatureReading.objects.bulk_create(rows, batch_size=2000)
        return time.perf_counter() - started

    floor = readings / _median([_rolled_back(bulk) for _ in range(runs + 1)][1:])
    if timed:
        value = readings / _median(timed)
    elif steps:  # only the warm-up finished inside the timeout
        value = readings / steps[0]["seconds"]
    else:
        value = readings / timeout  # an upper bound: the request took longer than the timeout
    return [
        Figure(
            "ingest",
            f"Temperature ingest through the API ({readings:,} readings a request)",
            value,
            "readings/s",
            floor=floor,
            ratio=value / floor,
            target="≥ 30 % of bulk_create",
            met=not timed_out and value / floor >= 0.3,
            runs=len(timed),
            note=(
                f"request > {timeout:g} s (timed out): value is an upper bound; "
                if timed_out
                else ""
            )
            + "floor: bulk_create of the same readings (no JSON, no checks)",
        )
    ]


def figures_excursion(lm: Landmarks, *, runs: int) -> list[Figure]:
    """A temperature excursion at the location holding the most available lots (a pharmacy
    fridge: 10,930 at large size): the gateway's reading that opens it and quarantines every
    lot there, then a pharmacist's release, or discard, once it is back in range. Each run in
    one transaction, rolled back (the bench data are kept)."""
    from django.db.models import Count
    from django.utils import timezone

    from inventory.models import LotStatus, StockLevel, StorageLocation
    from inventory.services import excursion_resolve, readings_ingest

    location_id, lots = (
        StockLevel.objects.filter(on_hand__gt=0, lot__status=LotStatus.AVAILABLE)
        .values_list("location_id")
        .annotate(lots=Count("lot_id", distinct=True))
        .order_by("-lots", "location_id")[0]
    )
    location = StorageLocation.objects.get(pk=location_id)
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=30)

    def reading(minutes: int, celsius):
        return {
            "location_id": location.pk,
            "sensor_id": "bench-excursion",
            "taken_at": start + dt.timedelta(minutes=minutes),
            "temperature_c": celsius,
        }

    def once(resolution: str) -> tuple[float, int, float, int]:
        with QueryCounter() as opened:
            started = time.perf_counter()
            result = readings_ingest(readings=[reading(0, location.max_c + 10)], user=lm.pharmacist)
            open_seconds = time.perf_counter() - started
        readings_ingest(readings=[reading(5, location.max_c - 1)], user=lm.pharmacist)
        with QueryCounter() as resolved:
            started = time.perf_counter()
            excursion_resolve(
                excursion_id=result.excursions[0].pk,
                resolution=resolution,
                user=lm.pharmacist,
                on=lm.today,
                reason="bench",
            )
            resolve_seconds = time.perf_counter() - started
        return open_seconds, len(opened), resolve_seconds, len(resolved)

    out = []
    opening = []
    for resolution in ("release", "discard"):
        measured = [
            _rolled_back(lambda resolution=resolution: once(resolution)) for _ in range(runs)
        ]
        opening += measured
        value = _median([m[2] for m in measured])
        out.append(
            Figure(
                f"excursion_{resolution}",
                f"— then {resolution} its lots, back in range",
                value,
                "s",
                target="< 30 s (a web worker's timeout); queries flat",
                met=value < 30,
                runs=len(measured),
                note=f"{measured[-1][3]} queries",
            )
        )
    value = _median([m[0] for m in opening])
    out.insert(
        0,
        Figure(
            "excursion_open",
            f"Excursion opened at {location.name} ({lots:,} lots quarantined by one reading)",
            value,
            "s",
            target="< 30 s (a web worker's timeout); queries flat",
            met=value < 30,
            runs=len(opening),
            note=f"{opening[-1][1]} queries; each run rolled back, opening and resolving in one "
            "transaction",
        ),
    )
    return out


def figures_worker(lm: Landmarks, *, runs: int, timeout: float) -> list[Figure]:
    out = []
    steps, peak, timed_out = _child("expiry_alerts", {"runs": runs}, timeout=timeout)
    timed = [s["seconds"] for s in steps[1:]]
    # One run past the timeout: the warm-up's time is the only one there is.
    value = _median(timed) if timed else (timeout if timed_out else steps[0]["seconds"])
    out.append(
        Figure(
            "expiry_alerts_task",
            f"Expiry alerts task incl. its forecast, {lm.lots:,} lots",
            value,
            "s",
            target="< 2 s",
            met=not timed_out and value < 2,
            runs=len(timed),
            timed_out=timed_out and not timed,
        )
    )
    steps, peak, timed_out = _child("reminders", {}, timeout=timeout)
    out.append(
        Figure(
            "rss_worker",
            "Peak RSS of a worker process after a reminder scan",
            peak or 0,
            "MB",
            target="≤ 250 MB",
            met=not timed_out and peak is not None and peak <= 250,
            runs=1,
            note=f"scan {steps[0]['seconds']:.2f} s" if steps else "timed out",
        )
    )
    return out


def figures_mail(lm: Landmarks, *, runs: int, due: int = 10_000) -> list[Figure]:
    import tempfile

    from django.conf import settings
    from django.utils import timezone

    from notifications.models import Notification, NotificationKind, NotificationStatus
    from notifications.services import (
        NotificationDraft,
        notifications_enqueue_many,
        notifications_send_due,
    )
    from tests.notifications.smtp import SinkProcess, free_port

    def fill():
        Notification.objects.filter(key__startswith="bench-mail:").delete()
        now = timezone.now()
        notifications_enqueue_many(
            drafts=[
                NotificationDraft(
                    kind=NotificationKind.DOSE_REMINDER,
                    key=f"bench-mail:{number}",
                    recipients=["ward-3a@hospital.test", f"nurse{number % 40}@hospital.test"],
                    subject=f"Dose due at 10:00 on Ward 3A (bed {number % 30})",
                    template="message",
                    context={"heading": "Dose due at 10:00", "lines": [f"Bed {number % 30}"]},
                    subject_type="dose",
                    subject_id=number,
                    due_at=now,
                )
                for number in range(due)
            ]
        )
        return now

    batch = settings.NOTIFICATION_BATCH_SIZE
    table = Notification._meta.db_table
    saved = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    rates = {"service": [], "mime": [], "bytes": []}
    workdir = tempfile.mkdtemp(prefix="bench-mail-")
    try:
        for run in range(runs + 1):
            for kind in rates:
                now = fill()
                port = free_port()
                settings.EMAIL_PORT = port
                sink = SinkProcess(port, f"{workdir}/{kind}-{run}.json")
                try:
                    if kind == "service":
                        started = time.perf_counter()
                        stats = notifications_send_due(now=now, time_budget_seconds=3600)
                        seconds = time.perf_counter() - started
                        assert stats.sent == due, stats
                    else:
                        seconds = _mail_floor(
                            table, port, batch, prebuilt=kind == "bytes", status=NotificationStatus
                        )
                finally:
                    received = sink.stop()
                assert len(received["message_ids"]) == due, (kind, len(received["message_ids"]))
                if run:
                    rates[kind].append(due / seconds)
    finally:
        settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT = saved
        Notification.objects.filter(key__startswith="bench-mail:").delete()
    service, mime, prebuilt = (_median(rates[k]) for k in ("service", "mime", "bytes"))
    return [
        Figure(
            "mail",
            f"Sending {due:,} due e-mails",
            service,
            "msg/s",
            floor=mime,
            ratio=service / mime,
            target="≥ 75 % of the MIME-building floor",
            met=service / mime >= 0.75,
            runs=runs,
            note=f"floor: smtplib + MIME build + 1 UPDATE per batch; prebuilt bytes "
            f"{prebuilt:,.0f} msg/s ({service / prebuilt:.0%})",
        )
    ]


def _mail_floor(table: str, port: int, batch: int, *, prebuilt: bool, status) -> float:
    """smtplib over one connection per batch, the rows marked sent with one UPDATE a batch."""
    import email.policy
    import smtplib
    from email.message import EmailMessage

    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, subject, recipients, body_text, body_html, message_id FROM {table} "
            "WHERE key LIKE 'bench-mail:%%' AND status = %s ORDER BY id",
            [status.PENDING],
        )
        rows = cursor.fetchall()

    def build(row):
        message = EmailMessage()
        message["Subject"] = row[1]
        message["From"] = settings.DEFAULT_FROM_EMAIL
        recipients = row[2] if isinstance(row[2], list) else json.loads(row[2])
        message["To"] = ", ".join(recipients)
        message["Message-ID"] = row[5]
        message.set_content(row[3])
        message.add_alternative(row[4], subtype="html")
        return recipients, message

    built = [(r[0], *build(r)) for r in rows] if prebuilt else None
    if built:
        built = [
            (pk, recipients, message.as_bytes(policy=email.policy.SMTP))
            for pk, recipients, message in built
        ]
    started = time.perf_counter()
    for first in range(0, len(rows), batch):
        chunk = rows[first : first + batch]
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for index, row in enumerate(chunk):
                if built:
                    _, recipients, raw = built[first + index]
                    smtp.sendmail(settings.DEFAULT_FROM_EMAIL, recipients, raw)
                else:
                    recipients, message = build(row)
                    smtp.send_message(message)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = now() WHERE id = ANY(%s)",
                [status.SENT, [row[0] for row in chunk]],
            )
    return time.perf_counter() - started


# --- the run -----------------------------------------------------------------------------------

SECTIONS = [
    "pages",
    "reads",
    "engine",
    "prescribing",
    "dispense_one",
    "dispense_threads",
    "ingest",
    "worker",
    "mail",
]


def _vacuum() -> None:
    """VACUUM ANALYZE before measuring. The bench's writes are rolled back or deleted, and the
    dead rows they leave (a run's 1,000 prescribed courses, 10,000 e-mails) slowed the next
    run's reads until autovacuum came by: the shortage counter read 34 ms after a VACUUM and
    51–63 ms right after another run. Not inside a transaction (a test's), where it cannot run."""
    from django.db import connection

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def run(
    *,
    size: str,
    seed: int,
    runs: int = 5,
    timeout: float = 60,
    only: set[str] | None = None,
    scale: float = 1.0,
) -> list[Figure]:
    """Every figure, in order; `scale` shrinks the fixed workloads (the tiny smoke run)."""
    _vacuum()
    lm = landmarks()
    sys.stderr.write(
        f"bench: size {size}, seed {seed}, {runs} runs; busiest day {lm.day} "
        f"({lm.day_doses} doses), ward {lm.ward_code} ({lm.ward_doses}), {lm.lots:,} lots\n"
    )
    rss: list = []
    figures: list[Figure] = []

    def section(name, function):
        if only and name not in only:
            return
        started = time.monotonic()
        sys.stderr.write(f"  {name} …\n")
        figures.extend(function())
        sys.stderr.write(f"  {name}: {time.monotonic() - started:.0f} s\n")

    n = lambda count: max(int(count * scale), 1)  # noqa: E731
    section("pages", lambda: figures_pages(lm, runs=runs, timeout=timeout, rss=rss))
    section("reads", lambda: figures_reads(lm, runs=runs))
    section("engine", lambda: figures_engine(lm, runs=runs, courses=n(10_000)))
    section("prescribing", lambda: figures_prescribing(lm, runs=runs, courses=n(1_000)))
    section("dispense_one", lambda: figures_dispense_one(lm, runs=runs))
    section(
        "dispense_threads",
        lambda: figures_dispense_threads(
            # Fewer rounds: each is THREADS × per_thread commits, three ways.
            lm,
            runs=min(runs, 3),
            per_thread=n(20),
            seconds=max(10 * scale, 1),
        ),
    )
    section("ingest", lambda: figures_ingest(lm, runs=runs, timeout=timeout, readings=n(10_000)))
    section("excursion", lambda: figures_excursion(lm, runs=min(runs, 3)))
    section("worker", lambda: figures_worker(lm, runs=min(runs, 3), timeout=timeout * 5))
    mail = int(os.environ.get("BENCH_MAIL", "10000"))
    section("mail", lambda: figures_mail(lm, runs=min(runs, 3), due=n(mail)))
    if rss:
        peak = max(r for r in rss if r is not None)
        figures.append(
            Figure(
                "rss_web",
                "Peak RSS of a web process after these pages",
                peak,
                "MB",
                target="≤ 250 MB",
                met=peak <= 250,
                runs=1,
                note="one fresh process per page; the largest high-water mark (VmHWM)",
            )
        )
    return figures


def table(figures: list[Figure], *, size: str, seed: int) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Bench: size {size}, seed {seed}, {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"load average at the end {load} on {os.cpu_count()} CPUs",
        "",
        "| figure | value | floor | ratio | target | met | runs | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        floor = f"{_fmt(f.floor)} {f.unit}" if f.floor is not None else ""
        met = "✓" if f.met else ("✗" if f.met is not None else "")
        lines.append(
            f"| {f.figure} | {f.display_value()} | {floor} | {f.display_ratio()} | {f.target} "
            f"| {met} | {f.runs} | {f.note} |"
        )
    return "\n".join(lines) + "\n"


def write_results(figures: list[Figure], *, size: str, seed: int, directory=RESULTS_DIR) -> str:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    text = table(figures, size=size, seed=seed)
    (directory / "latest.md").write_text(text)
    rows = []
    for f in figures:
        row = asdict(f)
        row.pop("extra")
        row["size"], row["seed"] = size, seed
        rows.append(row)
    (directory / "latest.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    sys.stdout.write(text)
    return text
