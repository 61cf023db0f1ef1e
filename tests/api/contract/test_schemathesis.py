"""Schemathesis against the live schema, as a pharmacist and as a nurse.

For every operation, Hypothesis generates requests that fit the schema (positive) and requests
that do not (negative); each is sent to the real WSGI application with a real token, and the
answer must be no 5xx, a documented status and content type, a body that matches the schema, and
every 4xx in the error shape. Bounded: a few examples per operation and mode, no shrinking, a
deterministic seed (`derandomize`), so a run is repeatable and takes about a minute per role.
`CONTRACT_MAX_EXAMPLES` raises the count for a longer local run.

Signing out (`POST auth/logout/`) revokes the token it is sent with: it gets a fresh token per
request, so the role's own token lasts the whole run — checked at the end, or every operation
after the logout would only have tested the 401.
"""

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.contract.checks import CHECK_FAILURES, CONTRACT_CHECKS, describe
from tests.api.contract.conftest import api_token

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "6"))
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


def _has_input(operation) -> bool:
    return bool(operation.definition.raw.get("parameters")) or "requestBody" in (
        operation.definition.raw
    )


# Operations that revoke the token they are called with.
REVOKING = {("POST", "/api/v1/auth/logout/")}


def _run(operation, mode, headers_for, statuses: Counter, max_examples: int) -> None:
    """Send `max_examples` generated cases of one operation and mode; raise what the checks find."""

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
        headers = headers_for()
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CONTRACT_CHECKS, headers=headers)

    run()


def fuzz(schema, headers: dict, *, max_examples: int = MAX_EXAMPLES, fresh_headers=None):
    """Run every operation in both modes; return (operations, statuses seen, problems).

    `fresh_headers()` gives the headers for a revoking operation's request (a throw-away token).
    """
    statuses: Counter = Counter()
    problems: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        revoking = (operation.method.upper(), operation.path) in REVOKING
        headers_for = fresh_headers if revoking and fresh_headers else lambda: headers
        for mode in MODES:
            try:
                _run(operation, mode, headers_for, statuses, max_examples)
            except Unsatisfiable:
                # An operation with no parameters and no body (`GET me/`) has nothing to send
                # wrong: negative mode cannot generate a case. Any other operation must.
                if mode is not schemathesis.GenerationMode.NEGATIVE or _has_input(operation):
                    raise
            except CHECK_FAILURES as failure:
                problems.append(f"{operation.label} ({mode}):\n  - {describe(failure)}")
    return operations, statuses, problems


@pytest.mark.parametrize("role", ["pharmacist", "nurse"])
def test_schemathesis_finds_nothing(wsgi_app, pharmacy, role, record_property):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    user = pharmacy[role]
    headers = {"Authorization": f"Token {api_token(user.username)}"}

    def fresh_headers():
        # Minted directly: by now the fuzzed sign-ins may have locked this address out.
        return {"Authorization": f"Token {AuthToken.objects.create(user)[1]}"}

    operations, statuses, problems = fuzz(schema, headers, fresh_headers=fresh_headers)
    requests = sum(statuses.values())
    record_property("schemathesis", f"{operations} operations, {requests} requests, {statuses}")
    print(f"\n{role}: {operations} operations, {requests} requests, statuses {dict(statuses)}")
    assert not problems, "\n\n".join(problems)
    assert operations >= 80
    # The run was the role's, not an anonymous caller's: its token still works.
    assert (
        APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=headers["Authorization"]).status_code
        == 200
    )
    assert not [status for status in statuses if status >= 500]
    # Not only refusals: valid requests get through to the application.
    assert sum(n for status, n in statuses.items() if status < 300) > 0


def test_the_fuzz_catches_a_broken_contract(wsgi_app, pharmacy):
    """The same run on a schema broken the way it used to be reports each break: the checks
    above can fail."""
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
