"""Restore drill: prove that last night's kind of backup gives back a working database.

`pg_dump -Fc` of the configured database → `pg_restore` into a scratch database made for the
drill → `manage.py check` and `migrate --check` against it (in a process of their own, as a
restored server would run) → row counts of every table compared with the source. The scratch
database is dropped afterwards (`--keep` leaves it for inspection). Exit status 1 when any step
fails or a count differs. Run it while writes are quiet (or expect the busiest tables to differ).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

ROOT = Path(settings.BASE_DIR)


def _libpq_env(db: dict) -> dict:
    env = {
        **os.environ,
        "PGHOST": db.get("HOST") or "127.0.0.1",
        "PGPORT": str(db.get("PORT") or 5432),
    }
    if db.get("USER"):
        env["PGUSER"] = db["USER"]
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _url(db: dict, name: str) -> str:
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}"
        f":{db.get('PORT') or 5432}/{name}"
    )


def _counts(connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    return {
        table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        for table in tables
    }


class Command(BaseCommand):
    help = "pg_dump the database, restore it into a scratch database, check it, compare counts."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument("--target", help="scratch database name (default <name>_drill_<pid>)")
        parser.add_argument("--keep", action="store_true", help="leave the scratch database")

    def handle(self, *args, database, target, keep, **options):
        db = connections[database].settings_dict
        if connections[database].vendor != "postgresql":
            raise CommandError("The restore drill needs PostgreSQL (pg_dump / pg_restore).")
        source = db["NAME"]
        target = target or f"{source}_drill_{os.getpid()}"
        if target == source:
            raise CommandError("The target must be a scratch database, not the source.")
        env = _libpq_env(db)
        admin = psycopg.connect(_url(db, "postgres"), autocommit=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            dump = Path(folder) / f"{source}.dump"
            self._run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source], env)
            self.stdout.write(f"dumped {source}: {dump.stat().st_size} bytes")
            admin.execute(f'CREATE DATABASE "{target}"')
            try:
                self._run(
                    ["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], env
                )
                self.stdout.write(f"restored into {target}")
                check_env = {**os.environ, "DATABASE_URL": _url(db, target)}
                check_env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
                for argv in (["check"], ["migrate", "--check"]):
                    self._run([sys.executable, "manage.py", *argv], check_env, cwd=ROOT)
                    self.stdout.write(f"manage.py {' '.join(argv)}: ok")
                with (
                    psycopg.connect(_url(db, source)) as live,
                    psycopg.connect(_url(db, target)) as restored,
                ):
                    before, after = _counts(live), _counts(restored)
            finally:
                if not keep:
                    admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
                admin.close()
        differing = {
            table: (before.get(table), after.get(table))
            for table in sorted(set(before) | set(after))
            if before.get(table) != after.get(table)
        }
        rows = sum(before.values())
        self.stdout.write(
            f"{len(before)} tables, {rows} rows compared; {len(differing)} differ "
            f"({time.monotonic() - started:.1f} s)"
        )
        for table, (was, now) in differing.items():
            self.stdout.write(f"  {table}: source {was}, restored {now}")
        if differing:
            raise CommandError("Row counts differ between the database and its restored copy.")
        self.stdout.write(self.style.SUCCESS("restore drill passed"))

    def _run(self, argv: list[str], env: dict, cwd: Path | None = None) -> None:
        result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        if result.returncode != 0:
            raise CommandError(
                f"{argv[0] if argv[0] != sys.executable else 'manage.py'} failed "
                f"({result.returncode}): {(result.stderr or result.stdout)[-2000:]}"
            )
