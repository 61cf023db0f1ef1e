"""What the contract tests check on every response, beside schemathesis's own checks."""

import schemathesis
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

ERROR_KEYS = {"status", "code", "message", "fields", "request_id"}


def error_shape_problem(status: int, body) -> str | None:
    """None if `body` is the project's error shape for `status`, else what is wrong with it."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        return f"not {{'error': …}}: {str(body)[:200]}"
    error = body["error"]
    if not isinstance(error, dict) or set(error) != ERROR_KEYS:
        return f"error keys are not {sorted(ERROR_KEYS)}: {str(error)[:200]}"
    if error["status"] != status:
        return f"error.status {error['status']} on a {status} answer"
    if not isinstance(error["code"], str) or not error["code"]:
        return "error.code is not a non-empty string"
    if not isinstance(error["message"], str) or not error["message"]:
        return "error.message is not a non-empty string"
    if not isinstance(error["fields"], dict):
        return "error.fields is not an object"
    if not isinstance(error["request_id"], str) or not error["request_id"]:
        return "error.request_id is not a non-empty string"
    return None


@schemathesis.check
def error_shape(ctx, response, case):
    """Every 4xx answers {"error": {status, code, message, fields, request_id}} as JSON:
    `application/json`, or another JSON type the operation documents for it (FHIR's
    `application/fhir+json` to a client accepting only that; schemathesis's content-type check
    holds it to the documented ones)."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
        if not (content_type == "application/json" or content_type.endswith("+json")):
            raise AssertionError(f"a {response.status_code} answered {content_type!r}, not JSON")
        problem = error_shape_problem(response.status_code, response.json())
        if problem:
            raise AssertionError(f"a {response.status_code} not in the error shape: {problem}")
    return True


# What a failed validation raises: several failures at once, or one of our own checks.
CHECK_FAILURES = (FailureGroup, AssertionError)

CONTRACT_CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    error_shape,
]


def describe(failure: BaseException, limit: int = 12) -> str:
    """A short account of a schemathesis failure (its groups can run to pages)."""
    parts = []
    for inner in getattr(failure, "exceptions", [failure]):
        lines = [line for line in str(inner).splitlines() if line.strip()]
        parts.append("\n    ".join(lines[:limit]))
    return "\n  - ".join(parts)
