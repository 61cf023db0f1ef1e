"""The contract's edges: unknown URLs and methods answer the error shape, the schema is one for
every caller, every operation documents its errors and sits under its resource's tag."""

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from config.roles import Role
from tests.api.contract.checks import error_shape_problem
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

SCHEMA_ACCEPT = "application/vnd.oai.openapi+json"


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT=SCHEMA_ACCEPT)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def signed_in(roles):
    def client_for(role):
        client = APIClient()
        client.force_login(UserFactory(roles=[role]))  # session: what the Swagger UI uses
        return client

    return client_for


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nope/"),
        ("post", "/api/v1/nope/"),
        ("delete", "/api/v1/lots/1/nope/"),
        ("get", "/api/v1/lots"),  # no trailing slash
        ("get", "/api/v1/lots/1.5/"),
        ("get", "/api/v2/lots/"),
        ("put", "/api/"),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "pharmacist"])
def test_unknown_api_urls_answer_a_json_404(signed_in, method, path, who):
    client = APIClient() if who == "anonymous" else signed_in(Role.PHARMACIST)
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_shape_problem(404, response.json()) is None, response.content
    assert response.json()["error"]["code"] == "not_found"


def test_a_missing_slash_is_named_in_the_404():
    message = APIClient().get("/api/v1/lots").json()["error"]["message"]
    assert "/api/v1/lots/" in message


def test_pages_outside_the_api_keep_their_html_404(roles):
    response = Client().get("/no-such-page/")
    assert response.status_code in (302, 404)  # pages sign in first, then 404
    assert not response.get("Content-Type", "").startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/excursions/1/"),
        ("put", "/api/v1/stock/"),
        ("patch", "/api/v1/movements/1/"),
        ("get", "/api/v1/stock/dispense/"),
        ("get", "/api/v1/auth/token/"),
    ],
)
def test_a_method_an_endpoint_does_not_have_answers_a_json_405(signed_in, method, path):
    response = getattr(signed_in(Role.PHARMACIST), method)(path)
    assert response.status_code == 405
    assert error_shape_problem(405, response.json()) is None, response.content


def test_the_schema_is_the_same_whoever_asks(signed_in, roles):
    anonymous = _schema(APIClient())
    for role in (Role.PHARMACIST, Role.NURSE, Role.PHYSICIAN, Role.VIEWER):
        assert _schema(signed_in(role)) == anonymous, role
    recipient = anonymous["components"]["schemas"]["Movement"]
    assert "recipient" in recipient["properties"]  # documented, optional: nurses lack it
    assert "recipient" not in recipient["required"]


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_documents_its_errors_with_the_one_component(roles):
    schema = _schema(APIClient())
    error = {"$ref": "#/components/schemas/Error"}
    operations = list(_operations(schema))
    assert len(operations) >= 80
    for method, path, operation in operations:
        responses = operation["responses"]
        errors = {status for status in responses if status.startswith("4")}
        expected = set()
        if method in {"POST", "PUT", "PATCH"}:
            expected.add("400")
        if "security" in operation:  # credentials required
            expected |= {"401", "403"}
        if "{id}" in path:
            expected.add("404")
        if method == "DELETE":
            expected.add("409")
        assert expected <= errors, (method, path, errors)
        # FHIR operations answer an error as application/fhir+json to a client accepting only
        # that: documented, with the same component.
        fhir = path.startswith("/api/v1/fhir/") or path.endswith("/fhir/")
        media_types = (
            {"application/json", "application/fhir+json"} if fhir else {"application/json"}
        )
        for status in errors:
            content = responses[status]["content"]
            assert content == {media_type: {"schema": error} for media_type in media_types}, (
                method,
                path,
                status,
            )
        assert any(status.startswith("2") for status in responses), (method, path)
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    # Only sign-in and the calendar feed (its token in the path is the credential) are public.
    public = {(m, p) for m, p, operation in operations if "security" not in operation}
    assert public == {("POST", "/api/v1/auth/token/"), ("GET", "/api/v1/calendar/{token}/")}


def test_operations_are_tagged_by_resource(roles):
    schema = _schema(APIClient())
    for _, path, operation in _operations(schema):
        resource = path.removeprefix("/api/v1/").split("/")[0]
        assert operation["tags"] == [resource], path
    assert {tag["name"] for tag in schema["tags"]} >= {
        operation["tags"][0] for _, _, operation in _operations(schema)
    }


def test_post_actions_document_the_status_they_answer(roles):
    schema = _schema(APIClient())
    paths = schema["paths"]
    assert "201" in paths["/api/v1/lots/receive/"]["post"]["responses"]
    assert "201" in paths["/api/v1/stock/dispense/"]["post"]["responses"]
    assert "201" in paths["/api/v1/patients/{id}/weights/"]["post"]["responses"]
    weights = paths["/api/v1/patients/{id}/weights/"]["get"]["responses"]["200"]
    assert weights["content"]["application/json"]["schema"]["type"] == "array"
    ical = paths["/api/v1/doses/ical/"]["get"]
    assert "ward" in {parameter["name"] for parameter in ical["parameters"]}
    assert set(ical["responses"]["200"]["content"]) == {"text/calendar"}


def test_formulary_presentation_codes_fit_the_documented_pattern_and_the_admin_saves_a_gtin(
    formulary, roles
):
    import re

    from inventory.admin import PresentationAdmin
    from inventory.models import Presentation

    schema = _schema(APIClient())
    pattern = schema["components"]["schemas"]["Presentation"]["properties"]["code"].get("pattern")
    for code in Presentation.objects.values_list("code", flat=True):
        assert pattern is None or re.search(pattern, code), code
    presentation = Presentation.objects.get(code="betaleukin-0-05ug-ampoule-5")
    from django.contrib.admin.sites import site
    from django.forms.models import model_to_dict

    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    form_class = PresentationAdmin(Presentation, site).get_form(request, obj=presentation)
    data = {key: value for key, value in model_to_dict(presentation).items() if value is not None}
    form = form_class(data={**data, "gtin": "07032069804988"}, instance=presentation)
    assert form.is_valid(), form.errors
    form.save()
    presentation.refresh_from_db()
    assert presentation.gtin == "07032069804988"


def test_the_schema_is_valid_openapi_generated_without_warnings(tmp_path):
    from django.core.management import call_command

    # --validate checks the document against the OpenAPI 3 meta-schema; --fail-on-warn refuses
    # any view drf-spectacular had to guess about.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )


def test_a_locked_out_sign_in_answers_the_error_shape_and_is_documented(roles, settings):
    """The lockout's 429 — raised by the token view at the limit, answered by django-axes'
    handler once locked — is the error shape with its request id, like every other 4xx."""
    from tests.api.contract.conftest import PASSWORD

    user = UserFactory(username="locked-nurse", roles=[Role.NURSE])
    user.set_password(PASSWORD)
    user.save()
    client = APIClient()
    url = "/api/v1/auth/token/"
    answers = [
        client.post(url, {"username": "locked-nurse", "password": "wrong"}, format="json")
        for _ in range(settings.LOGIN_FAILURE_LIMIT)
    ]
    # Locked now: even the right password is refused, by axes before the view runs.
    answers.append(
        client.post(url, {"username": "locked-nurse", "password": PASSWORD}, format="json")
    )
    assert [a.status_code for a in answers[-2:]] == [429, 429]
    for answer in answers[-2:]:
        assert answer["Content-Type"] == "application/json"
        assert error_shape_problem(429, answer.json()) is None, answer.content
        assert answer.json()["error"]["code"] == "locked_out"
        assert answer.json()["error"]["request_id"] == answer["X-Request-ID"]
    documented = _schema(APIClient())["paths"][url]["post"]["responses"]["429"]
    assert documented["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
    }


@pytest.mark.parametrize(
    ("body", "field", "where"),
    [
        # Related fields looked up by code: without the parser's check, PostgreSQL's refusal of
        # the NUL was a 500 (schemathesis found it with 20 examples per operation).
        ({"ward": "ward-\u0000"}, "ward", ""),
        ({"drug_allergies": ["ok", "betaleukin\u0000"]}, "drug_allergies", "drug_allergies.1"),
        ({"name\u0000": "x"}, "name\u0000", ""),
        ("\u0000", "non_field_errors", ""),
    ],
)
def test_text_with_a_nul_character_is_a_400_naming_the_field(signed_in, body, field, where):
    response = signed_in(Role.PHARMACIST).post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400, response.content
    assert error_shape_problem(400, response.json()) is None
    error = response.json()["error"]
    assert error["code"] == "null_characters_not_allowed"
    assert list(error["fields"]) == [field]
    assert "NUL" in error["fields"][field][0] and where in error["fields"][field][0]
