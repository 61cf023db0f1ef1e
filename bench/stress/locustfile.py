"""The stress run's load (locust): nurses and pharmacists on two web processes.

Nurses read the ward's pages and today's doses and record due doses as given; pharmacists read
the stock pages and API, dispense from a short supply and post sensor readings (some out of
range, which opens an excursion and e-mails its alert). Several nurses may pick the same dose and
the supply runs dry: those refusals (400 in the error shape) are the intended answers, counted
apart from errors. Every request is written to STRESS_RECORDS for bench/stress/run.py, which
computes the figures and runs the checks.

Configured by bench/stress/run.py through the environment: STRESS_SEED (the seed's JSON),
STRESS_HOSTS (comma-separated base URLs), STRESS_RECORDS (output path).
"""

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

from locust import HttpUser, between, events, task

SEED = json.loads(Path(os.environ["STRESS_SEED"]).read_text())
HOSTS = os.environ["STRESS_HOSTS"].split(",")
RECORDS: list[dict] = []
_numbers = itertools.count()

# The refusals the domain promises under contention, by the field its error names.
INTENDED = {
    "administer": {"status", "dose", "stock", "quantity", "non_field_errors"},
    "dispense": {"quantity", "stock", "presentation_id", "non_field_errors"},
}


@events.request.add_listener
def _record(request_type, name, response_time, response, context, exception, **_):
    RECORDS.append(
        {
            "type": f"{request_type} {name}",
            "ms": response_time,
            "status": getattr(response, "status_code", 0),
            "intended": context.get("intended", ""),
            "error": "" if exception is None else str(exception)[:300],
        }
    )


@events.test_stop.add_listener
def _write(**_):
    with open(os.environ["STRESS_RECORDS"], "w") as handle:
        json.dump(RECORDS, handle)


def _intended(response, action: str, context: dict) -> bool:
    """A 400 in the error shape naming a field the action may refuse on under contention."""
    if response.status_code != 400:
        return False
    try:
        fields = set(response.json()["error"].get("fields", {}))
    except (ValueError, KeyError, AttributeError):
        return False
    named = fields & INTENDED[action]
    if not named:
        return False
    context["intended"] = f"{action}: {','.join(sorted(named))}"
    return True


class Staff(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        number = next(_numbers)
        account = SEED["accounts"][number % len(SEED["accounts"])]
        self.role = account["role"]
        self.client.base_url = HOSTS[number % len(HOSTS)]
        # What the TLS-terminating proxy in front of gunicorn says (FORWARDED_ALLOW_IPS).
        self.client.headers["X-Forwarded-Proto"] = "https"
        self.api = {"Authorization": f"Token {account['token']}"}
        self.page = {"Cookie": f"sessionid={account['session']}"}
        self.doses = list(SEED["doses"])
        random.shuffle(self.doses)

    def _page(self, path: str, name: str):
        with self.client.get(path, headers=self.page, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    def _api_get(self, path: str, name: str):
        with self.client.get(path, headers=self.api, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    def _post(self, path: str, body, name: str, action: str | None = None):
        context: dict = {}
        with self.client.post(
            path, json=body, headers=self.api, name=name, context=context, catch_response=True
        ) as response:
            if 200 <= response.status_code < 300 or action and _intended(response, action, context):
                response.success()
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")
            return response

    @task(3)
    def read_pages(self):
        if self.role == "nurse":
            self._page("/", "page today")
            self._page("/patients/", "page patients")
        else:
            self._page("/stock/", "page stock")

    @task(3)
    def read_api(self):
        if self.role == "nurse":
            self._api_get("/api/v1/doses/?page_size=50", "api doses")
        else:
            self._api_get("/api/v1/stock/", "api stock")
            self._api_get("/api/v1/lots/", "api lots")

    @task(2)
    def write(self):
        if self.role == "nurse":
            if self.doses:
                dose = self.doses.pop()
                self._post(
                    f"/api/v1/doses/{dose}/administer/", {}, "api dose administer", "administer"
                )
            return
        if random.random() < 0.7:
            self._post(
                "/api/v1/stock/dispense/",
                {**SEED["dispense"], "quantity": 1, "reference": f"stress-{uuid.uuid4().hex}"},
                "api dispense",
                "dispense",
            )
        else:
            probe = random.choice(SEED["probes"])
            self._post(
                "/api/v1/readings/",
                {
                    "location": probe,
                    "sensor_id": f"probe-{probe}",
                    "taken_at": datetime.now(UTC).isoformat(),
                    "temperature_c": "9.5" if random.random() < 0.3 else "5.0",
                },
                "api reading",
            )
