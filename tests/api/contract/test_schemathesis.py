"""Schemathesis against the live schema, as a pharmacist and as a nurse.

For every operation, Hypothesis generates requests that fit the schema (positive) and requests
that do not (negative); each is sent to the real WSGI application with a real token, and the
answer must be no 5xx, a documented status and content type, a body that matches the schema, and
every 4xx in the error shape. Bounded: a few examples per operation and mode, no shrinking, a
deterministic seed (`derandomize`), so a run is repeatable and takes about a minute per role.
`CONTRACT_MAX_EXAMPLES` raises the count for a longer local run.
"""

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.api.contract.checks import CHECK_FAILURES, CONTRACT_CHECKS, describe
from tests.api.contract.conftest import api_token

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "6"))
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


def _has_input(operation) -> bool:
    return bool(operation.definition.raw.get("parameters")) or "requestBody" in (
        operation.definition.raw
    )


def fuzz(schema, headers: dict, *, max_examples: int = MAX_EXAMPLES):
    """Run every operation in both modes; return (operations, statuses seen, problems)."""
    statuses: Counter = Counter()
    problems: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in MODES:

            @settings(
                max_examples=max_examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call(headers=headers)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CONTRACT_CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                # An operation with no parameters and no body (`GET me/`) has nothing to send
                # wrong: negative mode cannot generate a case. Any other operation must.
                if mode is not schemathesis.GenerationMode.NEGATIVE or _has_input(operation):
                    raise
            except CHECK_FAILURES as failure:
                problems.append(f"{operation.label} ({mode}):\n  - {describe(failure)}")
    return operations, statuses, problems


@pytest.mark.xfail(
    strict=False,
    reason="known open findings after the FHIR merge: errors from the FHIR views are rendered as "
    "application/fhir+json instead of the JSON error shape's media type, and the FHIR searches' 404 "
    "for a patient the caller cannot see is undocumented",
)
@pytest.mark.parametrize("role", ["pharmacist", "nurse"])
def test_schemathesis_finds_nothing(wsgi_app, pharmacy, role, record_property):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Token {api_token(pharmacy[role].username)}"}
    operations, statuses, problems = fuzz(schema, headers)
    requests = sum(statuses.values())
    record_property("schemathesis", f"{operations} operations, {requests} requests, {statuses}")
    print(f"\n{role}: {operations} operations, {requests} requests, statuses {dict(statuses)}")
    assert not problems, "\n\n".join(problems)
    assert operations >= 80
    assert not [status for status in statuses if status >= 500]
    # Not only refusals: valid requests get through to the application.
    assert sum(n for status, n in statuses.items() if status < 300) > 0


def test_the_fuzz_catches_a_broken_contract(wsgi_app, pharmacy):
    """The same run on a schema broken the way it used to be reports each break: the checks
    above can fail."""
    from rest_framework.test import APIClient

    document = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = document.json()
    stock = document["paths"]["/api/v1/stock/"]["get"]["responses"]["200"]
    stock["content"]["application/json"]["schema"]["items"] = {
        "$ref": "#/components/schemas/Movement"
    }
    del document["paths"]["/api/v1/lots/{id}/"]["get"]["responses"]["404"]
    schema = schemathesis.openapi.from_dict(document).include(
        path_regex=r"^/api/v1/(stock|lots/\{id\})/$", method="GET"
    )
    schema.app = wsgi_app
    headers = {"Authorization": f"Token {api_token(pharmacy['pharmacist'].username)}"}
    operations, _, problems = fuzz(schema, headers, max_examples=4)
    assert operations == 2
    report = "\n".join(problems)
    assert "GET /api/v1/stock/" in report and "Response violates schema" in report
    assert "GET /api/v1/lots/{id}/" in report and "Undocumented status code" in report
