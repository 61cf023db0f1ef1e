"""`make stress`: the production process set on loopback under load, then the checks.

Two gunicorn web processes (one port each), two Celery workers and one beat, on a scratch
PostgreSQL database made for the run (`stress_<pid>`, dropped afterwards) and a broker (the Redis
of REDIS_URL, or RabbitMQ with STRESS_BROKER=rabbitmq) on a queue of the run's own (deleted
afterwards); e-mail goes to an SMTP sink on loopback. locust (headless) drives STRESS_USERS
(50) users for STRESS_SECONDS (60). Then: zero errors (intended refusals are counted apart), zero
oversold vials (every stock level ≥ 0 and equal to its ledger; no dose dispensed twice), zero
duplicate e-mails (Message-IDs unique at the sink, every outbox row sent once), and no patient
name or MRN in any process's log. Prints p50/p95/p99 per request type and overall, writes
bench/results/stress.json, exits 1 when a check fails.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.notifications.smtp import SinkProcess  # noqa: E402
from tests.services import queue_delete  # noqa: E402

SECONDS = int(os.environ.get("STRESS_SECONDS", "60"))
USERS = int(os.environ.get("STRESS_USERS", "50"))
BROKER = os.environ.get("STRESS_BROKER", "redis")
RESULTS = ROOT / "bench" / "results" / "stress.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise SystemExit(f"stress: timed out after {timeout}s waiting for {what}")


class Processes:
    """Children in sessions of their own, each with a log file; stopped TERM, then KILL."""

    def __init__(self, logs: Path, env: dict):
        self.logs, self.env, self.children = logs, env, []

    def start(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((name, process))
        return process

    def run(self, argv: list[str]) -> None:
        started = time.monotonic()
        subprocess.run(argv, cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)
        step = " ".join(argv[2:4])
        print(f"stress: {step} {time.monotonic() - started:.1f} s", flush=True)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self, names: set[str] | None = None) -> None:
        chosen = [(n, p) for n, p in self.children if names is None or n in names]
        for _, process in chosen:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in chosen:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def database_admin(url: str):
    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    )


def checks(db_url: str, sink: dict, seed: dict, logs: str) -> dict:
    with psycopg.connect(db_url) as db:
        levels = db.execute(
            """
            SELECT l.lot_id, l.location_id, l.on_hand, l.reserved,
                   COALESCE(SUM(m.on_hand_delta), 0), COALESCE(SUM(m.reserved_delta), 0)
            FROM inventory_stocklevel l
            LEFT JOIN inventory_stockmovement m
              ON m.lot_id = l.lot_id AND m.location_id = l.location_id
            GROUP BY l.id
            """
        ).fetchall()
        negative = sum(1 for row in levels if row[2] < 0 or row[3] < 0 or row[3] > row[2])
        off_ledger = sum(1 for row in levels if (row[2], row[3]) != (row[4], row[5]))
        # Each given dose took exactly its vials once; a dose not given took none.
        doses = db.execute(
            """
            SELECT d.id, d.status, d.vials,
                   COALESCE((SELECT -SUM(m.on_hand_delta) FROM inventory_stockmovement m
                             WHERE m.reference = 'dose:' || d.id AND m.kind = 'dispense'), 0)
            FROM courses_dose d WHERE d.id = ANY(%s)
            """,
            [seed["doses"]],
        ).fetchall()
        given = sum(1 for d in doses if d[1] == "given")
        wrong_dispense = sum(
            1
            for _, status, vials, taken in doses
            if taken != (sum(line["count"] for line in vials) if status == "given" else 0)
        )
        rows = db.execute("SELECT message_id, status, attempts FROM notifications_notification")
        rows = rows.fetchall()
    received = Counter(sink["message_ids"])
    sent_ids = {r[0] for r in rows if r[1] == "sent"}
    identifiers = [p["mrn"] for p in seed["patients"]] + [p["name"] for p in seed["patients"]]
    return {
        "stock_levels": len(levels),
        "oversold_levels": negative,
        "levels_off_ledger": off_ledger,
        "doses_given": given,
        "doses_dispensed_wrongly": wrong_dispense,
        "emails_received": sum(received.values()),
        "emails_duplicated": sum(n - 1 for n in received.values() if n > 1),
        "outbox_rows": len(rows),
        "outbox_unsent": sum(1 for r in rows if r[1] != "sent"),
        "outbox_sent_not_received": len(sent_ids - set(received)),
        "received_not_in_outbox": len(set(received) - {r[0] for r in rows}),
        "log_lines_with_patient_identifiers": sum(
            1 for line in logs.splitlines() if any(i in line for i in identifiers)
        ),
    }


def main() -> int:
    # A TERM (CI's timeout, an operator) unwinds through the `finally` below: children stopped,
    # scratch database dropped, queue deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    if not base_db.startswith("postgres"):
        raise SystemExit("stress: DATABASE_URL must name a PostgreSQL server")
    db_name = f"stress_{os.getpid()}"
    db_url = base_db.rsplit("/", 1)[0] + f"/{db_name}"
    if BROKER == "rabbitmq":
        broker = os.environ.get("STRESS_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    else:
        broker = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    queue = f"stress-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="stress-"))
    smtp_port, ports = free_port(), [free_port(), free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production settings, behind a (stand-in) TLS proxy on loopback.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": f"stress-{os.urandom(16).hex()}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": db_url,
        "REDIS_URL": "",  # the cache stays in each process: the run touches no other Redis keys
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "VAR_DIR": str(work / "var"),
        "STATIC_ROOT": str(work / "static"),
        "STATIC_COMPRESS": "0",
        "LOG_FORMAT": "json",
        "NOTIFICATION_SEND_INTERVAL_SECONDS": "5",
        "HEALTH_BEAT_INTERVAL_SECONDS": "10",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "8",
        "PYTHONUNBUFFERED": "1",
    }
    py = sys.executable
    procs = Processes(work, env)
    admin = database_admin(base_db)
    admin.execute(f'CREATE DATABASE "{db_name}"')
    sink = SinkProcess(smtp_port, str(work / "sink.json"))
    started = time.monotonic()
    try:
        procs.run([py, "manage.py", "migrate", "--noinput", "-v0"])
        procs.run([py, "manage.py", "load_formulary"])
        procs.run([py, "manage.py", "collectstatic", "--noinput", "-v0"])
        seed_path = work / "seed.json"
        procs.run([py, "-m", "bench.stress.seed", str(seed_path)])
        seed = json.loads(seed_path.read_text())
        for n, port in enumerate(ports):
            procs.start(
                f"web{n}",
                [py, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi"],
                WEB_BIND=f"127.0.0.1:{port}",
            )
        for n in range(2):
            procs.start(
                f"worker{n}",
                [py, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
                 "--concurrency", "1", "--hostname", f"stress{n}-{os.getpid()}@localhost"],
            )  # fmt: skip
        procs.start("beat", [py, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"])

        def web_up() -> bool:
            for port in ports:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        pass
                except OSError:
                    return False
            return True

        wait_for(web_up, timeout=60, what="both web processes")
        wait_for(
            lambda: all(" ready." in procs.log(f"worker{n}") for n in range(2)),
            timeout=60,
            what="both workers",
        )
        startup = time.monotonic() - started
        records = work / "records.json"
        load_started = time.monotonic()
        subprocess.run(
            [py, "-m", "locust", "-f", str(ROOT / "bench/stress/locustfile.py"), "--headless",
             "--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", f"{SECONDS}s",
             "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING",
             "--host", f"http://127.0.0.1:{ports[0]}", "--exit-code-on-error", "0"],
            cwd=ROOT,
            env={
                **os.environ,
                "STRESS_SEED": str(seed_path),
                "STRESS_RECORDS": str(records),
                "STRESS_HOSTS": ",".join(f"http://127.0.0.1:{p}" for p in ports),
            },
            check=True,
        )  # fmt: skip
        load_seconds = time.monotonic() - load_started

        # The outbox drains: beat's sender ticks (every 5 s) send whatever the load queued.
        def drained() -> bool:
            with psycopg.connect(db_url) as db:
                return not db.execute(
                    "SELECT 1 FROM notifications_notification WHERE status IN ('pending','sending')"
                ).fetchone()

        wait_for(drained, timeout=60, what="the outbox to drain")
        time.sleep(6)  # one more tick: a message sent twice would arrive now
        procs.stop({"beat", "worker0", "worker1"})
        procs.stop({"web0", "web1"})
        received = sink.stop()
        sink = None
        logs = "".join(procs.log(name) for name, _ in procs.children)
        result = checks(db_url, received, seed, logs)
    finally:
        procs.stop()
        if sink is not None:
            sink.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.close()
        queue_delete(broker, queue)

    data = json.loads(records.read_text())
    by_type: dict[str, list[float]] = {}
    for record in data:
        by_type.setdefault(record["type"], []).append(record["ms"])
    errors = [r for r in data if r["error"]]
    intended = Counter(r["intended"] for r in data if r["intended"])
    summary = {
        "users": USERS,
        "seconds": SECONDS,
        "broker": BROKER,
        "web_processes": 2,
        "workers": 2,
        "startup_seconds": round(startup, 1),
        "load_seconds": round(load_seconds, 1),
        "requests": len(data),
        "requests_per_second": round(len(data) / max(load_seconds, 1), 1),
        "errors": len(errors),
        "error_samples": sorted({f"{e['type']}: {e['error']}" for e in errors})[:10],
        "intended_4xx": dict(intended),
        "latency_ms": {
            name: {
                "count": len(times),
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                "p99": percentile(times, 99),
            }
            for name, times in sorted(by_type.items()) + [("overall", [r["ms"] for r in data])]
        },
        "checks": result,
    }
    failures = [
        name
        for name, bad in [
            ("no requests were made", not data),
            ("errors", summary["errors"]),
            ("oversold stock levels", result["oversold_levels"]),
            ("stock levels off their ledger", result["levels_off_ledger"]),
            ("doses dispensed other than once", result["doses_dispensed_wrongly"]),
            ("duplicate e-mails", result["emails_duplicated"]),
            ("outbox rows not sent", result["outbox_unsent"]),
            ("sent rows the sink never received", result["outbox_sent_not_received"]),
            ("patient identifiers in logs", result["log_lines_with_patient_identifiers"]),
        ]
        if bad
    ]
    summary["failed_checks"] = failures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")

    print(f"\nstress: {USERS} users, {SECONDS} s, 2 web + 2 workers + beat, broker {BROKER}")
    print(f"{'request':<34}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, row in summary["latency_ms"].items():
        print(f"{name:<34}{row['count']:>7}{row['p50']:>9}{row['p95']:>9}{row['p99']:>9}")
    print(
        f"requests {summary['requests']} ({summary['requests_per_second']}/s), "
        f"errors {summary['errors']}, intended 4xx {dict(intended)}"
    )
    print(
        f"oversold {result['oversold_levels']}, off ledger {result['levels_off_ledger']}, "
        f"doses given {result['doses_given']} (dispensed wrongly {result['doses_dispensed_wrongly']}), "
        f"e-mails {result['emails_received']} (duplicates {result['emails_duplicated']}, "
        f"outbox rows {result['outbox_rows']}, unsent {result['outbox_unsent']}), "
        f"log lines with patient identifiers {result['log_lines_with_patient_identifiers']}"
    )
    print(f"start-up {summary['startup_seconds']} s; results in {RESULTS.relative_to(ROOT)}")
    for sample in summary["error_samples"]:
        print(f"  error: {sample}")
    if failures:
        print(f"stress: FAILED: {', '.join(failures)}")
        return 1
    print("stress: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
