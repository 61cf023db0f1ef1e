"""A fresh process for one figure: a web process serving pages, or a worker running a scan.

`python -m bench.child <task> '<json args>'`. Prints one JSON line per timed step (flushed, so
the harness can stop waiting after its timeout and still read what came before), then a final
line with the process's peak RSS (VmHWM). The harness kills it when a step takes too long.
"""

import json
import os
import sys
import time


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM: the resident set's high-water mark, as the kernel counts it."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _emit(**values) -> None:
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()


def _datalist_options(html: bytes) -> int:
    count, start = 0, 0
    while (start := html.find(b"<datalist", start)) != -1:
        end = html.find(b"</datalist>", start)
        count += html.count(b"<option", start, end)
        start = end
    return count


def pages(args: dict) -> None:
    """GET each URL (warm-up first, then `runs` timed requests) as the given user."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=args["user"]))
    for run in range(args["runs"] + 1):
        started = time.perf_counter()
        response = client.get(args["url"])
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{args['url']} answered {response.status_code}")
        _emit(
            run=run,
            seconds=seconds,
            bytes=len(response.content),
            options=_datalist_options(response.content),
            rss_mb=peak_rss_mb(),
        )


def reminders(args: dict) -> None:
    """What a worker does each minute: the dose-reminder scan (its notifications removed after)."""
    from django.utils import timezone

    from courses.alerts import dose_reminders_enqueue
    from notifications.models import Notification

    before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    started = time.perf_counter()
    created = dose_reminders_enqueue(now=timezone.now())
    _emit(run=0, seconds=time.perf_counter() - started, created=created, rss_mb=peak_rss_mb())
    Notification.objects.filter(id__gt=before).delete()


def expiry_alerts(args: dict) -> None:
    """The daily expiry-alert task's work, `runs` + 1 times, its digest and markers removed."""
    from django.utils import timezone

    from inventory.alerts import expiry_alerts_enqueue
    from notifications.models import AlertMarker, Notification

    for run in range(args["runs"] + 1):
        before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        marker = AlertMarker.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        notification = expiry_alerts_enqueue(on=timezone.localdate())
        seconds = time.perf_counter() - started
        AlertMarker.objects.filter(id__gt=marker).delete()
        Notification.objects.filter(id__gt=before).delete()
        _emit(run=run, seconds=seconds, listed=notification is not None, rss_mb=peak_rss_mb())


def ingest(args: dict) -> None:
    """POST one gateway batch to /api/v1/readings/, `runs` + 1 times, each rolled back."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=args["user"]))
    end = dt.datetime.fromisoformat(args["end"])
    body = json.dumps(
        [
            {
                "location": args["location"],
                "sensor_id": "bench-ingest",
                "taken_at": (end - dt.timedelta(minutes=n)).isoformat(),
                "temperature_c": f"{4 + (n % 20) / 10:.2f}",
            }
            for n in range(args["readings"])
        ]
    )
    for run in range(args["runs"] + 1):
        with transaction.atomic():
            started = time.perf_counter()
            response = client.post("/api/v1/readings/", body, content_type="application/json")
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        if response.status_code != 201:
            raise RuntimeError(f"readings answered {response.status_code}")
        _emit(run=run, seconds=seconds, rss_mb=peak_rss_mb())


TASKS = {"ingest": ingest, "pages": pages, "reminders": reminders, "expiry_alerts": expiry_alerts}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    TASKS[sys.argv[1]](json.loads(sys.argv[2]))
    _emit(done=True, rss_mb=peak_rss_mb())
